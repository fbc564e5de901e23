//! Logging in (SPEC §2, §5): the throttle asked before and after the
//! password check, and the new token stored with the login's time.

use std::net::IpAddr;
use std::sync::LazyLock;

use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use crate::config::Settings;
use crate::db::{DbPool, WriteTx};
use crate::error::{Error, FieldErrors};
use crate::on_db;
use crate::timestamp::Timestamp;
use crate::users::service::{self as users, Credentials};
use crate::users::{hashing, User};
use crate::validation::{case_key, password, Input, Text, Validator};

use super::service::{bind_issue, insert_token_into, Issue, Session, BAD_CREDENTIALS};
use super::throttle::{bind_check, Attempt, Check, OverLimit, Throttle};

/// Checks `{username, password}` and issues a new token. Unknown users and
/// wrong passwords get the same answer after the same work (a dummy verify).
/// Past the failure limits for this username and address, the answer is 429
/// whatever the password ([`super::throttle`]).
pub async fn login(
    db: &DbPool,
    settings: &Settings,
    input: &Input,
    client: &str,
    ip: Option<IpAddr>,
) -> Result<Session, Error> {
    let mut form = Validator::new(input);
    let username = form.required("username", Text::Trimmed, Ok);
    let password = form.required("password", Text::Exact, Ok);
    form.into_errors().into_result()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(Error::Internal);
    };

    let throttle = Throttle::new(settings);
    let attempt = Attempt::new(&username, ip);
    let check = throttle.check(&attempt);
    let (over, found) = look_up(db, &check, &username).await?;
    check.verdict(over)?;
    let (user, hash) = match found {
        Some(found) => (Some(found.user), Some(found.password)),
        None => (None, None),
    };
    let matches = if password.len() > password::MAX_BYTES {
        // Never hash an oversized input; spend the same time failing.
        hashing::verify(String::new(), None).await?
    } else {
        hashing::verify(password, hash).await?
    };
    // Again after the hash: a burst of parallel guesses all passed the first
    // check, and once the limit is reached none may learn its result.
    let check = throttle.check(&attempt);
    let user = match user {
        Some(user) if matches && user.is_active => user,
        _ => {
            check.run(db).await?;
            throttle.record_failure(db, &attempt).await?;
            return Err(Error::Invalid(FieldErrors::single(
                FieldErrors::NON_FIELD,
                BAD_CREDENTIALS,
            )));
        }
    };

    let issue = Issue::new(settings, user.id, client);
    open_session(db, settings, &issue, &check).await?;
    Ok(Session {
        user: User {
            last_login: Some(issue.now),
            ..user
        },
        token: issue.new.plaintext,
        expiry: issue.expiry,
    })
}

/// The throttle's first answer and the user's credentials, in one round
/// trip. A LEFT JOIN, so that an unknown username costs the same query and
/// still gets the throttle's answer.
async fn look_up(
    db: &DbPool,
    check: &Check<'_>,
    username: &str,
) -> Result<(OverLimit, Option<Credentials>), Error> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {}, {}, password FROM (SELECT 1) AS one \
             LEFT JOIN users ON users.username_key = $1",
            Check::columns(2),
            User::COLUMNS
        )
    });
    let row: Lookup = on_db!(db.read().await?, |c| bind_check!(
        sqlx::query_as(&SQL).bind(case_key(username)),
        check
    )
    .fetch_one(c)
    .await)?;
    Ok((row.over, row.found))
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
async fn open_session(
    db: &DbPool,
    settings: &Settings,
    issue: &Issue<'_>,
    check: &Check<'_>,
) -> Result<(), Error> {
    match settings.token_limit() {
        // Nothing to count: where round trips are dear (PostgreSQL) the
        // throttle's question and both writes go as one statement, atomic by
        // itself, instead of a SELECT, BEGIN, INSERT, UPDATE and COMMIT.
        // With [`look_up`], a login makes 2 round trips instead of 4: the
        // async workers' CPU per login fell by about an eighth (8 s runs of
        // logins at 8 connections, 4 each, alternated with the old code),
        // PostgreSQL's stayed the same.
        //
        // Its commit does not wait for the WAL flush (`synchronous_commit`
        // off for this transaction only; the WAL writer flushes it within
        // 0.6 s): PostgreSQL's CPU per login fell from 715-780 µs to 440-610
        // (logins at 8 connections, 10 s samples, alternated). A database
        // crash in that window can lose the new token, and its holder logs
        // in again. It cannot corrupt anything or bring a revoked token
        // back: logouts, sign-ups and leads keep the synchronous commit (as
        // do logins under a token limit, in the arm below).
        None if db.round_trips_are_dear() => {
            static SQL: LazyLock<String> = LazyLock::new(|| {
                format!(
                    "WITH over AS (SELECT {} \
                       FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async), \
                     issued AS ({} SELECT $1, $2, $3, $4, $5, $6, $7 FROM over \
                       WHERE by_user IS NULL AND by_ip IS NULL RETURNING user_id), \
                     login AS (UPDATE users SET last_login = $4 \
                       WHERE id IN (SELECT user_id FROM issued)) \
                     SELECT by_user, by_ip FROM over",
                    Check::columns(8),
                    insert_token_into!()
                )
            });
            let over = on_db!(db.writer().await?, |c| bind_check!(
                bind_issue!(sqlx::query_as(&SQL), issue),
                check
            )
            .fetch_one(c)
            .await)?;
            check.verdict(over)
        }
        limit => {
            check.run(db).await?;
            let mut tx = db.begin_write().await?;
            if let Some(limit) = limit {
                // Parallel logins of one user count and insert one at a
                // time.
                tx.lock_row("users", issue.user_id).await?;
                if live_token_count(&mut tx, issue.user_id).await? >= limit {
                    return Err(Error::TokenLimitExceeded);
                }
            }
            issue.store(tx.live()).await?;
            users::record_login(&mut tx, issue.user_id, issue.now).await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

async fn live_token_count(tx: &mut WriteTx, user_id: i64) -> Result<i64, Error> {
    Ok(on_db!(tx, |c| {
        sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens
             WHERE user_id = $1 AND (expiry IS NULL OR expiry > $2)",
        )
        .bind(user_id)
        .bind(Timestamp::now())
        .fetch_one(c)
        .await
    })?)
}
