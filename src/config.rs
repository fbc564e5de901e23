//! Application settings, read from Rocket's figment (Rocket.toml, `ROCKET_*`).

use rocket::figment::Figment;
use serde::Deserialize;

/// Knox-style token and API settings. Every key is top-level in Rocket.toml
/// so that a `ROCKET_<KEY>` environment variable overrides it.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Token lifetime in seconds; 0 means tokens never expire.
    pub token_ttl: u64,
    /// Prepended to every new token (at most 10 characters).
    pub token_prefix: String,
    /// Extend a token's expiry each time it is used.
    pub token_auto_refresh: bool,
    /// Seconds between two writes of a token's expiry or last-used time.
    pub token_min_refresh_interval: u64,
    /// Cap on a token's total lifetime under auto-refresh, in seconds; 0 = none.
    pub token_max_ttl: u64,
    /// Live tokens a user may hold; a login past it is refused. 0 = no limit.
    pub token_limit_per_user: u64,
    /// Failed logins one username may have from one client address within
    /// `login_throttle_window` before login answers 429; 0 = no limit.
    pub login_limit_per_user: u64,
    /// Failed logins one client address may have within the window, over
    /// all usernames; 0 = no limit.
    pub login_limit_per_ip: u64,
    /// The sliding window failed logins are counted over, in seconds.
    pub login_throttle_window: u64,
    /// Page size of the API's `?page=` pagination.
    pub page_size: u64,
    /// One JSON line per request on standard output.
    pub request_log: bool,
    /// Mark cookies Secure (and name them `__Host-…`); unset means "in the
    /// release profile".
    pub cookie_secure: Option<bool>,
    /// `cookie_secure` resolved against the profile.
    #[serde(skip)]
    pub secure_cookies: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_ttl: 10 * 60 * 60,
            token_prefix: String::new(),
            token_auto_refresh: false,
            token_min_refresh_interval: 60,
            token_max_ttl: 0,
            token_limit_per_user: 0,
            login_limit_per_user: 5,
            login_limit_per_ip: 50,
            login_throttle_window: 15 * 60,
            page_size: 25,
            request_log: true,
            cookie_secure: None,
            secure_cookies: false,
        }
    }
}

impl Settings {
    pub fn from_figment(figment: &Figment) -> Result<Self, String> {
        let mut settings: Settings = figment.extract().map_err(|e| e.to_string())?;
        settings.secure_cookies = settings
            .cookie_secure
            .unwrap_or(figment.profile() == rocket::Config::RELEASE_PROFILE);
        if settings.token_prefix.chars().count() > 10 {
            return Err("token_prefix may have at most 10 characters".into());
        }
        if settings.login_throttle_window == 0 {
            return Err("login_throttle_window must be at least 1 second".into());
        }
        if settings.page_size == 0 {
            return Err("page_size must be at least 1".into());
        }
        Ok(settings)
    }

    pub fn ttl(&self) -> Option<u64> {
        (self.token_ttl > 0).then_some(self.token_ttl)
    }

    pub fn max_ttl(&self) -> Option<u64> {
        (self.token_max_ttl > 0).then_some(self.token_max_ttl)
    }

    pub fn token_limit(&self) -> Option<i64> {
        (self.token_limit_per_user > 0).then_some(self.token_limit_per_user as i64)
    }
}

/// Rocket's configuration sources with our defaults underneath: port 8080,
/// a SQLite database `leads.db` in the working directory, and the client
/// address taken from the connection. Rocket would otherwise believe any
/// client's `X-Real-IP` header, and login throttling counts per address:
/// behind a proxy, set `ip_header` to the header that proxy overwrites.
pub fn figment() -> Figment {
    use rocket::figment::providers::{Env, Format, Serialized, Toml};
    use rocket::figment::Profile;

    let defaults = serde_json::json!({
        "address": "127.0.0.1",
        "port": 8080,
        "ip_header": false,
        "databases": { "leads": {
            "url": "sqlite://leads.db",
            "max_connections": default_pool_size(),
            "connect_timeout": 5,
        } },
    });
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(defaults))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

/// Four connections per core: each is a thread of ours (SQLite) or a backend
/// process (PostgreSQL), and more than that only take turns.
fn default_pool_size() -> usize {
    4 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Adds a secret key when none is configured: the one in `secret_key_file`
/// (default `leads.secret`), created with 256 random bits on first start, so
/// that signed values survive restarts without any configuration.
pub fn with_persisted_secret(figment: Figment) -> std::io::Result<Figment> {
    let configured = figment
        .extract_inner::<rocket::config::SecretKey>("secret_key")
        .is_ok_and(|key| !key.is_zero());
    if configured {
        return Ok(figment);
    }
    let path: String = figment
        .extract_inner("secret_key_file")
        .unwrap_or_else(|_| "leads.secret".into());
    let key = match std::fs::read_to_string(&path) {
        Ok(key) => key.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = crate::auth::token::random_hex(32);
            write_private(&path, &key)?;
            key
        }
        Err(e) => return Err(e),
    };
    Ok(figment.merge(("secret_key", key)))
}

fn write_private(path: &str, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    create_private(std::path::Path::new(path))?.write_all(contents.as_bytes())
}

/// Creates `path`, which must not exist, readable and writable by its owner
/// only: the secret key, the SQLite database (its `-wal` and `-shm` files
/// take the database's mode) and backups hold secrets and data.
pub fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use rocket::figment::providers::Serialized;

    fn pool_size(figment: &rocket::figment::Figment) -> usize {
        figment
            .extract_inner("databases.leads.max_connections")
            .expect("a pool size")
    }

    #[test]
    fn the_pool_defaults_to_four_connections_per_core() {
        let cores = std::thread::available_parallelism().unwrap().get();
        // The shipped Rocket.toml leaves the size to the default...
        assert_eq!(pool_size(&super::figment()), 4 * cores);
        // ...which survives a database given by URL alone, as
        // ROCKET_DATABASES='{leads={url="…"}}' does.
        let url_only = super::figment().merge(Serialized::global(
            "databases",
            serde_json::json!({ "leads": { "url": "sqlite://elsewhere.db" } }),
        ));
        assert_eq!(pool_size(&url_only), 4 * cores);
        let url: String = url_only.extract_inner("databases.leads.url").unwrap();
        assert_eq!(url, "sqlite://elsewhere.db");
    }
}
