//! Registering, password changes and the life of tokens (SPEC §2); logging
//! in is [`super::login`].

use serde::Serialize;

use crate::config::Settings;
use crate::db::{DbPool, Sql};
use crate::error::Error;
use crate::timestamp::Timestamp;
use crate::users::hashing::Hasher;
use crate::users::{service as users, User};
use crate::validation::{password, Input, Text, Validator};

use super::{failure, token, Auth};

pub const BAD_CREDENTIALS: &str = "Incorrect Credentials Passed.";
const MAX_CLIENT_LENGTH: usize = 200;

/// A token just issued to a user: what register and login answer.
#[derive(Serialize)]
pub struct Issued {
    pub user: User,
    pub token: String,
    pub expiry: Option<Timestamp>,
}

/// A live token as listed to its owner; never the token itself.
#[derive(Serialize, sqlx::FromRow)]
pub struct TokenInfo {
    pub token_key: String,
    pub client: String,
    pub created: Timestamp,
    pub last_used: Timestamp,
    pub expiry: Option<Timestamp>,
    #[sqlx(skip)]
    pub current: bool,
    #[serde(skip)]
    pub digest: String,
}

/// The label a token is listed under: given at login, or the User-Agent.
pub fn client_label(given: Option<&str>, user_agent: Option<&str>) -> String {
    let label = given
        .filter(|s| !s.trim().is_empty())
        .or(user_agent)
        .unwrap_or("");
    // Without control characters: PostgreSQL refuses NUL in text, and the
    // others are only noise in a listing.
    label
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CLIENT_LENGTH)
        .collect()
}

pub async fn register(
    db: &DbPool,
    settings: &Settings,
    hasher: &Hasher,
    input: &Input,
    client: &str,
) -> Result<Issued, Error> {
    let registration = users::validate_registration(db, hasher, input).await?;
    let mut tx = db.begin_write().await?;
    let user = users::insert(&mut tx, &registration, false).await?;
    let record = TokenRecord::new(settings, user.id, client);
    record.insert().execute_on(tx.live()).await?;
    tx.commit().await?;
    Ok(Issued {
        user,
        token: record.new.plaintext,
        expiry: record.expiry,
    })
}

/// A new token's row, about to be stored; its plaintext goes to the client once.
pub struct TokenRecord<'a> {
    pub new: token::NewToken,
    pub user_id: i64,
    pub now: Timestamp,
    pub expiry: Option<Timestamp>,
    pub client: &'a str,
}

impl<'a> TokenRecord<'a> {
    pub fn new(settings: &Settings, user_id: i64, client: &'a str) -> Self {
        let now = Timestamp::now();
        TokenRecord {
            new: token::generate(&settings.token_prefix),
            user_id,
            now,
            expiry: settings.ttl().map(|ttl| now.plus_seconds(ttl)),
            client,
        }
    }

    /// `INSERT INTO auth_tokens (…) SELECT <the row>`.
    pub fn insert(&self) -> Sql {
        let mut sql = Sql::default();
        self.push_insert(&mut sql);
        sql
    }

    /// Appends [`TokenRecord::insert`]'s statement, for a caller to go on
    /// with `FROM …` (login's one statement on PostgreSQL).
    pub fn push_insert(&self, sql: &mut Sql) {
        sql.push(
            "INSERT INTO auth_tokens (digest, token_key, user_id, created, expiry, last_used, client) SELECT ",
        );
        let now = sql.placeholder_for(self.now);
        let values = [
            sql.placeholder_for(self.new.digest.as_str()),
            sql.placeholder_for(self.new.token_key.as_str()),
            sql.placeholder_for(self.user_id),
            now.clone(),
            sql.placeholder_for(self.expiry),
            now,
            sql.placeholder_for(self.client),
        ];
        sql.push(&values.join(", "));
    }
}

/// A stored token with its user, as authentication reads it.
#[derive(sqlx::FromRow)]
struct Candidate {
    digest: String,
    created: Timestamp,
    expiry: Option<Timestamp>,
    last_used: Timestamp,
    #[sqlx(flatten)]
    user: User,
}

/// Knox's `authenticate_credentials`: the stored tokens with the presented
/// one's key, then for each: expired ones deleted, the digest compared in
/// constant time, the user active; then (at most once per
/// `token_min_refresh_interval`) the expiry extended and the use recorded.
pub async fn authenticate(
    db: &DbPool,
    settings: &Settings,
    presented: &str,
) -> Result<Auth, Error> {
    let candidates: Vec<Candidate> = Sql::new(
        "SELECT digest, created, expiry, last_used,
                id, username, email, is_staff, is_active, date_joined, last_login
         FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id
         WHERE token_key = $1",
    )
    .arg(token::token_key(presented))
    .fetch_all(db)
    .await?;

    let now = Timestamp::now();
    let digest = token::digest(presented);
    for candidate in candidates {
        if candidate.expiry.is_some_and(|expiry| expiry <= now) {
            revoke(db, &candidate.digest).await?;
            continue;
        }
        if !token::digests_match(&digest, &candidate.digest) {
            continue;
        }
        if !candidate.user.is_active {
            return Err(Error::Unauthorized(failure::USER_INACTIVE));
        }
        touch(db, settings, &candidate, now).await?;
        return Ok(Auth {
            user: candidate.user,
            token_digest: digest,
        });
    }
    Err(Error::Unauthorized(failure::INVALID_TOKEN))
}

/// Records use and applies auto-refresh, skipping the write when neither
/// changed by more than the minimum interval (Knox's write throttling).
async fn touch(
    db: &DbPool,
    settings: &Settings,
    token: &Candidate,
    now: Timestamp,
) -> Result<(), Error> {
    let min_interval = i64::try_from(settings.token_min_refresh_interval).unwrap_or(i64::MAX);
    let mut expiry = token.expiry;
    if let (true, Some(current), Some(ttl)) =
        (settings.token_auto_refresh, token.expiry, settings.ttl())
    {
        let mut renewed = now.plus_seconds(ttl);
        if let Some(max_ttl) = settings.max_ttl() {
            renewed = renewed.min(token.created.plus_seconds(max_ttl));
        }
        if renewed.seconds_since(current) > min_interval {
            expiry = Some(renewed);
        }
    }
    if expiry == token.expiry && now.seconds_since(token.last_used) < min_interval {
        return Ok(());
    }
    // Only if no one has written it since it was read: concurrent requests
    // with one token all read the same `last_used`, and would otherwise each
    // write the row in turn.
    Sql::new(
        "UPDATE auth_tokens SET last_used = $1, expiry = $2 WHERE digest = $3 AND last_used = $4",
    )
    .arg(now)
    .arg(expiry)
    .arg(token.digest.as_str())
    .arg(token.last_used)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn revoke(db: &DbPool, digest: &str) -> Result<(), Error> {
    Sql::new("DELETE FROM auth_tokens WHERE digest = $1")
        .arg(digest)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn revoke_all(db: &DbPool, user_id: i64) -> Result<u64, Error> {
    let sql = Sql::new("DELETE FROM auth_tokens WHERE user_id = $1").arg(user_id);
    Ok(sql.execute(db).await?)
}

/// Revokes the caller's token(s) with this key; 404 when there is none.
pub async fn revoke_by_key(db: &DbPool, user_id: i64, token_key: &str) -> Result<(), Error> {
    // No key holds NUL, which PostgreSQL refuses in text even to compare.
    if token_key.contains('\0') {
        return Err(Error::NotFound);
    }
    let removed = Sql::new("DELETE FROM auth_tokens WHERE user_id = $1 AND token_key = $2")
        .arg(user_id)
        .arg(token_key)
        .execute(db)
        .await?;
    if removed == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

/// The user's live tokens, newest first, marking the one in use.
pub async fn live_tokens(
    db: &DbPool,
    user_id: i64,
    current_digest: &str,
) -> Result<Vec<TokenInfo>, Error> {
    let mut tokens: Vec<TokenInfo> = Sql::new(
        "SELECT token_key, client, created, last_used, expiry, digest FROM auth_tokens
         WHERE user_id = $1 AND (expiry IS NULL OR expiry > $2)
         ORDER BY created DESC, token_key",
    )
    .arg(user_id)
    .arg(Timestamp::now())
    .fetch_all(db)
    .await?;
    for token in &mut tokens {
        token.current = token::digests_match(&token.digest, current_digest);
    }
    Ok(tokens)
}

/// Deletes every expired token (the `cleartokens` command); returns how many.
pub async fn purge_expired(db: &DbPool) -> Result<u64, Error> {
    let sql = Sql::new("DELETE FROM auth_tokens WHERE expiry IS NOT NULL AND expiry <= $1")
        .arg(Timestamp::now());
    Ok(sql.execute(db).await?)
}

/// Revokes every token of the user but the one in use ("sign out everywhere else").
pub async fn revoke_others(db: &DbPool, user_id: i64, keep_digest: &str) -> Result<u64, Error> {
    Ok(others(user_id, keep_digest).execute(db).await?)
}

/// Deletes the user's tokens but one.
fn others(user_id: i64, keep_digest: &str) -> Sql {
    Sql::new("DELETE FROM auth_tokens WHERE user_id = $1 AND digest <> $2")
        .arg(user_id)
        .arg(keep_digest)
}

pub const WRONG_OLD_PASSWORD: &str =
    "Your old password was entered incorrectly. Please enter it again.";

/// Django's password change: `{old_password, new_password}`; the old one
/// must match, the new one pass the validators. Every other token of the
/// user is revoked with it, in one transaction.
pub async fn change_password(
    db: &DbPool,
    hasher: &Hasher,
    user: &User,
    keep_digest: &str,
    input: &Input,
) -> Result<(), Error> {
    let mut form = Validator::new(input);
    let old = form.required("old_password", Text::Exact, Ok);
    let new = form.required("new_password", Text::Exact, Ok);
    if let Some(new) = &new {
        for problem in password::problems(new, &user.username, &user.email) {
            form.errors_mut().add("new_password", problem);
        }
    }
    if let Some(old) = old {
        let stored = users::credentials(db, &user.username)
            .await?
            .map(|found| found.password);
        if old.len() > password::MAX_BYTES || !hasher.verify(old, stored).await? {
            form.errors_mut().add("old_password", WRONG_OLD_PASSWORD);
        }
    }
    form.into_errors().into_result()?;
    let new_hash = hasher.hash(new.ok_or(Error::Internal)?).await?;

    let mut tx = db.begin_write().await?;
    users::set_password(&mut tx, user.id, &new_hash).await?;
    others(user.id, keep_digest).execute_on(tx.live()).await?;
    tx.commit().await?;
    Ok(())
}
