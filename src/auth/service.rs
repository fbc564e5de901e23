//! Registering and the life of tokens (SPEC §2); logging in is [`super::login`].

use serde::Serialize;

use crate::config::Settings;
use crate::db::{DbPool, LiveConn, WriteTx};
use crate::error::Error;
use crate::on_db;
use crate::timestamp::Timestamp;
use crate::users::{hashing, service as users, User};
use crate::validation::{password, Input, Text, Validator};

use super::{failure, token};

pub const BAD_CREDENTIALS: &str = "Incorrect Credentials Passed.";
const MAX_CLIENT_LENGTH: usize = 200;

/// A user with a token just issued to them (register and login answer this).
pub struct Session {
    pub user: User,
    pub token: String,
    pub expiry: Option<Timestamp>,
}

/// Who made an authenticated request, and with which token.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub user: User,
    pub digest: String,
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
    input: &Input,
    client: &str,
) -> Result<Session, Error> {
    let registration = users::validate_registration(db, input).await?;
    let mut tx = db.begin_write().await?;
    let user = users::insert(&mut tx, &registration, false).await?;
    let (token, expiry) = issue(&mut tx, settings, user.id, client).await?;
    tx.commit().await?;
    Ok(Session {
        user,
        token,
        expiry,
    })
}

/// The head of a token row's insert; the row's values are `$1`-`$7`, bound
/// by [`bind_issue!`].
macro_rules! insert_token_into {
    () => {
        "INSERT INTO auth_tokens (digest, token_key, user_id, created, expiry, last_used, client)"
    };
}
pub(super) use insert_token_into;

const INSERT_TOKEN: &str = concat!(insert_token_into!(), " VALUES ($1, $2, $3, $4, $5, $6, $7)");

/// A new token for a user, about to be stored; its plaintext goes to the
/// client once.
pub(super) struct Issue<'a> {
    pub new: token::NewToken,
    pub user_id: i64,
    pub now: Timestamp,
    pub expiry: Option<Timestamp>,
    pub client: &'a str,
}

/// Binds an [`Issue`]'s row as `$1`-`$7`, in [`INSERT_TOKEN`]'s order.
macro_rules! bind_issue {
    ($query:expr, $issue:expr) => {{
        let issue: &$crate::auth::service::Issue = $issue;
        $query
            .bind(&issue.new.digest)
            .bind(&issue.new.token_key)
            .bind(issue.user_id)
            .bind(issue.now)
            .bind(issue.expiry)
            .bind(issue.now)
            .bind(issue.client)
    }};
}
pub(super) use bind_issue;

impl<'a> Issue<'a> {
    pub fn new(settings: &Settings, user_id: i64, client: &'a str) -> Self {
        let now = Timestamp::now();
        Issue {
            new: token::generate(&settings.token_prefix),
            user_id,
            now,
            expiry: settings.ttl().map(|ttl| now.plus_seconds(ttl)),
            client,
        }
    }

    /// Inserts the token's row.
    pub async fn store(&self, conn: LiveConn<'_>) -> Result<(), sqlx::Error> {
        on_db!(conn, |c| bind_issue!(sqlx::query(INSERT_TOKEN), self)
            .execute(c)
            .await
            .map(drop))
    }
}

/// Creates a token for the user; returns its plaintext and expiry.
async fn issue(
    tx: &mut WriteTx,
    settings: &Settings,
    user_id: i64,
    client: &str,
) -> Result<(String, Option<Timestamp>), Error> {
    let issue = Issue::new(settings, user_id, client);
    issue.store(tx.live()).await?;
    Ok((issue.new.plaintext, issue.expiry))
}

/// A stored token as authentication reads it, with its user's standing.
#[derive(Clone, sqlx::FromRow)]
pub struct TokenRow {
    digest: String,
    created: Timestamp,
    expiry: Option<Timestamp>,
    last_used: Timestamp,
    pub user_id: i64,
    is_active: bool,
}

impl AsRef<TokenRow> for TokenRow {
    fn as_ref(&self) -> &TokenRow {
        self
    }
}

#[derive(sqlx::FromRow)]
struct Candidate {
    #[sqlx(flatten)]
    token: TokenRow,
    #[sqlx(flatten)]
    user: User,
}

impl AsRef<TokenRow> for Candidate {
    fn as_ref(&self) -> &TokenRow {
        &self.token
    }
}

/// Why a presented token was refused.
#[derive(Clone, Debug)]
pub enum Refusal {
    /// 401 with this detail.
    Unauthorized(&'static str),
    /// 403 with this detail (a cookie-authenticated request failed CSRF).
    Forbidden(String),
    /// The database failed; 503 or 500.
    Unavailable,
    Internal,
}

impl From<Error> for Refusal {
    fn from(err: Error) -> Self {
        match err {
            Error::Unavailable => Refusal::Unavailable,
            _ => Refusal::Internal,
        }
    }
}

/// Knox's `authenticate_credentials`: candidates by `token_key` in one
/// round trip, then [`verify`].
pub async fn authenticate(
    db: &DbPool,
    settings: &Settings,
    presented: &str,
) -> Result<Authenticated, Refusal> {
    // The reader goes back to the pool before any write in `verify`.
    let candidates: Vec<Candidate> = {
        let mut reader = db.read().await.map_err(Error::from)?;
        on_db!(reader, |c| {
            sqlx::query_as(
                "SELECT digest, created, expiry, last_used, user_id,
                        id, username, email, is_staff, is_active, date_joined, last_login
                 FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id
                 WHERE token_key = $1",
            )
            .bind(token::token_key(presented))
            .fetch_all(c)
            .await
        })
        .map_err(Error::from)?
    };
    let (found, digest) = verify(db, settings, presented, candidates).await?;
    Ok(Authenticated {
        user: found.user,
        digest,
    })
}

/// Knox's checks of the candidates for `presented` (the stored tokens with
/// its key): expired ones deleted, the digest compared in constant time, the
/// user active; then (at most once per `token_min_refresh_interval`) the
/// expiry extended and the last use recorded. The match, and the digest.
pub async fn verify<T: AsRef<TokenRow>>(
    db: &DbPool,
    settings: &Settings,
    presented: &str,
    candidates: Vec<T>,
) -> Result<(T, String), Refusal> {
    let now = Timestamp::now();
    let digest = token::digest(presented);
    for candidate in candidates {
        let token = candidate.as_ref();
        if token.expiry.is_some_and(|expiry| expiry <= now) {
            revoke(db, &token.digest).await?;
            continue;
        }
        if !token::digests_match(&digest, &token.digest) {
            continue;
        }
        if !token.is_active {
            return Err(Refusal::Unauthorized(failure::USER_INACTIVE));
        }
        touch(db, settings, token, now).await?;
        return Ok((candidate, digest));
    }
    Err(Refusal::Unauthorized(failure::INVALID_TOKEN))
}

/// Records use and applies auto-refresh, skipping the write when neither
/// changed by more than the minimum interval (Knox's write throttling).
async fn touch(
    db: &DbPool,
    settings: &Settings,
    token: &TokenRow,
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
    // Only if no one has written it since it was read. Concurrent requests
    // with one token all read the same stale `last_used`, and each wrote
    // the row, one after the other on its lock: 64 clients listing with one
    // token on PostgreSQL wrote it 121-174 times in 6 s with a 1 s interval.
    // Now the first write wins and the others change nothing: 7-12 times.
    on_db!(db.writer().await?, |c| {
        sqlx::query(
            "UPDATE auth_tokens SET last_used = $1, expiry = $2 \
             WHERE digest = $3 AND last_used = $4",
        )
        .bind(now)
        .bind(expiry)
        .bind(&token.digest)
        .bind(token.last_used)
        .execute(c)
        .await
        .map(drop)
    })?;
    Ok(())
}

pub async fn revoke(db: &DbPool, digest: &str) -> Result<(), Error> {
    on_db!(db.writer().await?, |c| {
        sqlx::query("DELETE FROM auth_tokens WHERE digest = $1")
            .bind(digest)
            .execute(c)
            .await
            .map(drop)
    })?;
    Ok(())
}

pub async fn revoke_all(db: &DbPool, user_id: i64) -> Result<u64, Error> {
    let done = on_db!(db.writer().await?, |c| {
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

/// Revokes the caller's token(s) with this key; 404 when there is none.
pub async fn revoke_by_key(db: &DbPool, user_id: i64, token_key: &str) -> Result<(), Error> {
    // No key holds NUL, which PostgreSQL refuses in text even to compare.
    if token_key.contains('\0') {
        return Err(Error::NotFound);
    }
    let removed = on_db!(db.writer().await?, |c| {
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1 AND token_key = $2")
            .bind(user_id)
            .bind(token_key)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
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
    let mut tokens: Vec<TokenInfo> = on_db!(db.read().await?, |c| {
        sqlx::query_as(
            "SELECT token_key, client, created, last_used, expiry, digest FROM auth_tokens
             WHERE user_id = $1 AND (expiry IS NULL OR expiry > $2)
             ORDER BY created DESC, token_key",
        )
        .bind(user_id)
        .bind(Timestamp::now())
        .fetch_all(c)
        .await
    })?;
    for token in &mut tokens {
        token.current = token::digests_match(&token.digest, current_digest);
    }
    Ok(tokens)
}

/// Deletes every expired token (the `cleartokens` command); returns how many.
pub async fn purge_expired(db: &DbPool) -> Result<u64, Error> {
    let removed = on_db!(db.writer().await?, |c| {
        sqlx::query("DELETE FROM auth_tokens WHERE expiry IS NOT NULL AND expiry <= $1")
            .bind(Timestamp::now())
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(removed)
}

/// Revokes every token of the user but the one in use ("sign out everywhere else").
pub async fn revoke_others(db: &DbPool, user_id: i64, keep_digest: &str) -> Result<u64, Error> {
    let removed = on_db!(db.writer().await?, |c| {
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1 AND digest <> $2")
            .bind(user_id)
            .bind(keep_digest)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(removed)
}

pub const WRONG_OLD_PASSWORD: &str =
    "Your old password was entered incorrectly. Please enter it again.";

/// Django's password change: `{old_password, new_password}`; the old one
/// must match, the new one pass the validators. Every other token of the
/// user is revoked with it, in one transaction.
pub async fn change_password(
    db: &DbPool,
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
        if old.len() > password::MAX_BYTES || !hashing::verify(old, stored).await? {
            form.errors_mut().add("old_password", WRONG_OLD_PASSWORD);
        }
    }
    form.into_errors().into_result()?;
    let new_hash = hashing::hash(new.ok_or(Error::Internal)?).await?;

    let mut tx = db.begin_write().await?;
    users::set_password(&mut tx, user.id, &new_hash).await?;
    on_db!(tx, |c| {
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1 AND digest <> $2")
            .bind(user.id)
            .bind(keep_digest)
            .execute(c)
            .await
            .map(drop)
    })?;
    tx.commit().await?;
    Ok(())
}
