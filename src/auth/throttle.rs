//! Login throttling (SPEC §5): failed logins are counted in the database per
//! (client address, username) and per client address over a sliding window,
//! so every instance on one database throttles alike.
//!
//! Past a limit, login answers 429 whatever the password, until enough
//! failures have aged out of the window. Throttled attempts are not counted
//! (the lock-out ends when the window passes), and a success does not wipe
//! the count: an attacker sharing the user's address gains nothing from the
//! user logging in. A stranger failing from elsewhere uses up only their own
//! address's allowance, so the real user is never locked out by them.

use std::net::IpAddr;

use crate::config::Settings;
use crate::db::{DbPool, Sql};
use crate::error::Error;
use crate::timestamp::Timestamp;
use crate::validation::case_key;

/// Stored usernames are cut to this many characters: enough for any real
/// username (150), and a 64 KiB login body cannot bloat the table.
const MAX_USERNAME_CHARS: usize = 200;

/// A login attempt as the throttle counts it: who, from where, against which
/// limits (`None` does not throttle).
pub struct Attempt {
    client_ip: String,
    username_key: String,
    per_user: Option<i64>,
    per_ip: Option<i64>,
    window_seconds: u64,
}

impl Attempt {
    /// `ip` is `None` only for in-process requests (tests), which share one
    /// allowance.
    pub fn new(settings: &Settings, username: &str, ip: Option<IpAddr>) -> Self {
        let limit = |n: u64| (n > 0).then(|| i64::try_from(n).unwrap_or(i64::MAX));
        Attempt {
            client_ip: ip
                .map(|ip| ip.to_canonical().to_string())
                .unwrap_or_default(),
            username_key: case_key(username)
                .chars()
                .take(MAX_USERNAME_CHARS)
                .collect(),
            per_user: limit(settings.login_limit_per_user),
            per_ip: limit(settings.login_limit_per_ip),
            window_seconds: settings.login_throttle_window,
        }
    }

    fn throttled(&self) -> bool {
        self.per_user.is_some() || self.per_ip.is_some()
    }

    /// The attempt measured against the limits now: run it alone
    /// ([`Check::run`]) or as columns of a larger statement
    /// ([`Check::push_columns`]).
    pub fn check(&self) -> Check<'_> {
        Check {
            attempt: self,
            now: Timestamp::now(),
        }
    }

    /// Counts a failed login, and prunes the address's failures that have
    /// left the window (one indexed delete) so the table stays small.
    pub async fn record_failure(&self, db: &DbPool) -> Result<(), Error> {
        if !self.throttled() {
            return Ok(());
        }
        let now = Timestamp::now();
        let since = now.minus_seconds(self.window_seconds);
        // One hold of the writer for both statements.
        let mut writer = db.writer().await?;
        Sql::new(
            "INSERT INTO login_failures (client_ip, username_key, failed_at) VALUES ($1, $2, $3)",
        )
        .arg(self.client_ip.as_str())
        .arg(self.username_key.as_str())
        .arg(now)
        .execute_on(writer.live())
        .await?;
        Sql::new("DELETE FROM login_failures WHERE client_ip = $1 AND failed_at <= $2")
            .arg(self.client_ip.as_str())
            .arg(since)
            .execute_on(writer.live())
            .await?;
        Ok(())
    }
}

/// An attempt against the limits at one moment. Login asks twice, inside
/// statements it makes anyway (the credentials lookup, and on PostgreSQL
/// the token write), so that a successful login spends no round trip on
/// the throttle.
pub struct Check<'a> {
    attempt: &'a Attempt,
    now: Timestamp,
}

/// For each limit, the failure that must leave the window before another
/// attempt is allowed (the limit-th newest in it), if there are that many.
#[derive(sqlx::FromRow)]
pub struct OverLimit {
    by_user: Option<Timestamp>,
    by_ip: Option<Timestamp>,
}

impl Check<'_> {
    /// Appends the select-list items `by_user, by_ip` of [`OverLimit`]: two
    /// indexed lookups of the newest failures in the window.
    pub fn push_columns(&self, sql: &mut Sql) {
        // A disabled limit asks for a row past any there can be.
        let offset = |limit: Option<i64>| limit.map_or(i64::MAX, |n| n - 1);
        let since = self.now.minus_seconds(self.attempt.window_seconds);
        let ip = sql.placeholder_for(self.attempt.client_ip.as_str());
        let since = sql.placeholder_for(since);
        let username = sql.placeholder_for(self.attempt.username_key.as_str());
        let user_offset = sql.placeholder_for(offset(self.attempt.per_user));
        let ip_offset = sql.placeholder_for(offset(self.attempt.per_ip));
        sql.push(&format!(
            "(SELECT failed_at FROM login_failures \
               WHERE client_ip = {ip} AND username_key = {username} AND failed_at > {since} \
               ORDER BY failed_at DESC LIMIT 1 OFFSET {user_offset}) AS by_user, \
             (SELECT failed_at FROM login_failures \
               WHERE client_ip = {ip} AND failed_at > {since} \
               ORDER BY failed_at DESC LIMIT 1 OFFSET {ip_offset}) AS by_ip"
        ));
    }

    /// `Err(Throttled)` when the attempt is over a limit, with the seconds
    /// until it will not be.
    pub fn verdict(&self, over: OverLimit) -> Result<(), Error> {
        let Some(oldest_counted) = over.by_user.max(over.by_ip) else {
            return Ok(());
        };
        let free_at = oldest_counted.plus_seconds(self.attempt.window_seconds);
        // Rounded up, and never 0: `Retry-After: 0` invites a retry that
        // would be refused again.
        let wait = (free_at.0 - self.now.0).max(0) as u64;
        Err(Error::Throttled {
            wait_seconds: wait.div_ceil(1_000_000).max(1),
        })
    }

    /// The check as a statement of its own (none when nothing is limited).
    pub async fn run(&self, db: &DbPool) -> Result<(), Error> {
        if !self.attempt.throttled() {
            return Ok(());
        }
        let mut sql = Sql::new("SELECT ");
        self.push_columns(&mut sql);
        self.verdict(sql.fetch_one(db).await?)
    }
}

/// Deletes every failure older than the window; returns how many.
pub async fn purge(db: &DbPool, settings: &Settings) -> Result<u64, Error> {
    let since = Timestamp::now().minus_seconds(settings.login_throttle_window);
    let sql = Sql::new("DELETE FROM login_failures WHERE failed_at <= $1").arg(since);
    Ok(sql.execute(db).await?)
}
