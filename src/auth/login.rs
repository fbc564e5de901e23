//! Logging in (SPEC §2, §5): the throttle asked before and after the
//! password check, and the new token stored with the login's time.

use std::net::IpAddr;

use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use crate::config::Settings;
use crate::db::{Backend, DbPool, Sql, WriteTx};
use crate::error::{Error, FieldErrors};
use crate::timestamp::Timestamp;
use crate::users::hashing::Hasher;
use crate::users::service::{self as users, Credentials};
use crate::users::User;
use crate::validation::{case_key, password, Input, Text, Validator};

use super::service::{Issued, TokenRecord, BAD_CREDENTIALS};
use super::throttle::{Attempt, Check, OverLimit};

/// Checks `{username, password}` and issues a new token. Unknown users and
/// wrong passwords get the same answer after the same work (a dummy verify).
/// Past the failure limits for this username and address, the answer is 429
/// whatever the password ([`super::throttle`]).
pub async fn login(
    db: &DbPool,
    settings: &Settings,
    hasher: &Hasher,
    input: &Input,
    client: &str,
    ip: Option<IpAddr>,
) -> Result<Issued, Error> {
    let mut form = Validator::new(input);
    let username = form.required("username", Text::Trimmed, Ok);
    let password = form.required("password", Text::Exact, Ok);
    form.into_errors().into_result()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(Error::Internal);
    };

    let attempt = Attempt::new(settings, &username, ip);
    let check = attempt.check();
    let lookup = look_up(db, &check, &username).await?;
    check.verdict(lookup.over)?;
    let (user, hash) = match lookup.found {
        Some(found) => (Some(found.user), Some(found.password)),
        None => (None, None),
    };
    let matches = if password.len() > password::MAX_BYTES {
        // Never hash an oversized input; spend the same time failing.
        hasher.verify(String::new(), None).await?
    } else {
        hasher.verify(password, hash).await?
    };
    // Again after the hash: a burst of parallel guesses all passed the first
    // check, and once the limit is reached none may learn its result.
    let check = attempt.check();
    let user = match user {
        Some(user) if matches && user.is_active => user,
        _ => {
            check.run(db).await?;
            attempt.record_failure(db).await?;
            return Err(Error::Invalid(FieldErrors::single(
                FieldErrors::NON_FIELD,
                BAD_CREDENTIALS,
            )));
        }
    };

    let record = TokenRecord::new(settings, user.id, client);
    store(db, settings, &record, &check).await?;
    Ok(Issued {
        user: User {
            last_login: Some(record.now),
            ..user
        },
        token: record.new.plaintext,
        expiry: record.expiry,
    })
}

/// The throttle's first answer and the user's credentials, in one round
/// trip. A LEFT JOIN, so that an unknown username costs the same query and
/// still gets the throttle's answer.
async fn look_up(db: &DbPool, check: &Check<'_>, username: &str) -> Result<Lookup, Error> {
    let mut sql = Sql::new("SELECT ");
    check.push_columns(&mut sql);
    sql.push(&format!(
        ", {}, password FROM (SELECT 1) AS one LEFT JOIN users ON users.username_key = ",
        User::COLUMNS
    ));
    sql.bind(case_key(username));
    Ok(sql.fetch_one(db).await?)
}

/// A row of [`look_up`]: the throttle's columns, and the user's unless the
/// username is unknown (the LEFT JOIN's NULLs).
struct Lookup {
    over: OverLimit,
    found: Option<Credentials>,
}

impl<'r, R: Row> FromRow<'r, R> for Lookup
where
    OverLimit: FromRow<'r, R>,
    Credentials: FromRow<'r, R>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: ColumnIndex<R>,
{
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        let known = row.try_get::<Option<i64>, _>("id")?.is_some();
        Ok(Lookup {
            over: OverLimit::from_row(row)?,
            found: known.then(|| Credentials::from_row(row)).transpose()?,
        })
    }
}

/// Stores the token and records the login, as one atomic write, unless the
/// throttle (asked again after the hash) refuses.
///
/// The commit does not wait for the WAL flush, on either backend: a crash in
/// the next moment can lose the new token (its holder logs in again), never
/// corrupt anything or bring a revoked token back.
async fn store(
    db: &DbPool,
    settings: &Settings,
    record: &TokenRecord<'_>,
    check: &Check<'_>,
) -> Result<(), Error> {
    let limit = settings.token_limit();
    if let (Backend::Postgres(_), None) = (db, limit) {
        // Nothing to count: the throttle's question and both writes go as
        // one statement, atomic by itself. (SQLite has no writing CTEs.)
        let mut sql = Sql::new("WITH over AS (SELECT ");
        check.push_columns(&mut sql);
        sql.push(
            " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed), \
             issued AS (",
        );
        record.push_insert(&mut sql);
        sql.push(
            " FROM over WHERE by_user IS NULL AND by_ip IS NULL RETURNING user_id), \
             login AS (UPDATE users SET last_login = ",
        );
        sql.bind(record.now);
        sql.push(" WHERE id IN (SELECT user_id FROM issued)) SELECT by_user, by_ip FROM over");
        let over = sql.fetch_one_on(db.writer().await?.live()).await?;
        return check.verdict(over);
    }
    check.run(db).await?;
    let mut tx = db.begin_write().await?;
    tx.skip_flush_on_commit().await?;
    if let Some(limit) = limit {
        // Parallel logins of one user count and insert one at a time.
        tx.lock_row("users", record.user_id).await?;
        if live_token_count(&mut tx, record.user_id).await? >= limit {
            return Err(Error::TokenLimitExceeded);
        }
    }
    record.insert().execute_on(tx.live()).await?;
    users::record_login(&mut tx, record.user_id, record.now).await?;
    tx.commit().await?;
    Ok(())
}

async fn live_token_count(tx: &mut WriteTx, user_id: i64) -> Result<i64, Error> {
    let count: (i64,) = Sql::new(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens
         WHERE user_id = $1 AND (expiry IS NULL OR expiry > $2)",
    )
    .arg(user_id)
    .arg(Timestamp::now())
    .fetch_one_on(tx.live())
    .await?;
    Ok(count.0)
}
