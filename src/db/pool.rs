//! The pool enum, the connections it hands out, and its rocket_db_pools
//! integration.

use std::ops::DerefMut;
use std::time::Duration;

use rocket::figment::Figment;
use rocket::tokio::sync::OwnedMutexGuard;
use rocket_db_pools::{Config, Error};
use sqlx::postgres::PgConnection;
use sqlx::SqliteConnection;

use super::conns::PooledConn;
use super::postgres::{self, PgDb, MAX_LIFETIME};
use super::sqlite::SqliteDb;
use super::Backend;

/// A pool on whichever backend the configured URL names.
pub type DbPool = Backend<SqliteDb, PgDb>;

pub type PgConn = PooledConn<PgConnection>;

/// A connection of either backend, borrowed for one statement or more.
pub type LiveConn<'c> = Backend<&'c mut SqliteConnection, &'c mut PgConnection>;

/// A reader, checked out: `on_db!(db.read().await?, |c| …)`.
pub type Reader = Backend<PooledConn<SqliteConnection>, PgConn>;

/// The writer, held: `on_db!(db.writer().await?, |c| …)`. On PostgreSQL
/// any connection writes.
pub type Writer = Backend<OwnedMutexGuard<SqliteConnection>, PgConn>;

impl<S: DerefMut<Target = SqliteConnection>> Backend<S, PgConn> {
    /// Borrows the connection for [`on_db!`](crate::on_db).
    pub fn live(&mut self) -> LiveConn<'_> {
        match self {
            Backend::Sqlite(conn) => Backend::Sqlite(&mut **conn),
            Backend::Postgres(conn) => Backend::Postgres(&mut **conn),
        }
    }
}

impl<'c> LiveConn<'c> {
    /// Already a borrowed connection, for [`on_db!`](crate::on_db).
    pub fn live(self) -> Self {
        self
    }

    /// The same connection for a shorter while, to run several statements.
    pub fn reborrow(&mut self) -> LiveConn<'_> {
        match self {
            Backend::Sqlite(conn) => Backend::Sqlite(&mut **conn),
            Backend::Postgres(conn) => Backend::Postgres(&mut **conn),
        }
    }
}

impl DbPool {
    /// Connects according to rocket_db_pools' `Config` (url, pool size,
    /// connect timeout), with PostgreSQL connections replaced after
    /// `max_lifetime` (`None`: never).
    pub async fn connect(
        config: &Config,
        max_lifetime: Option<Duration>,
    ) -> Result<Self, sqlx::Error> {
        let connect_timeout = Duration::from_secs(config.connect_timeout);
        let max = u32::try_from(config.max_connections)
            .unwrap_or(u32::MAX)
            .max(1);
        let url = config.url.as_str();
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            postgres::connect(url, max, connect_timeout, max_lifetime).map(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite(
                SqliteDb::connect(url, max, connect_timeout).await?,
            ))
        } else {
            Err(sqlx::Error::Configuration(
                format!("unsupported database URL (expected sqlite: or postgres:): {url}").into(),
            ))
        }
    }

    /// What to read through: `on_db!(db.read().await?, …)`.
    pub async fn read(&self) -> Result<Reader, sqlx::Error> {
        Ok(match self {
            Backend::Sqlite(db) => Backend::Sqlite(db.readers.acquire().await?),
            Backend::Postgres(pool) => Backend::Postgres(pool.acquire().await?),
        })
    }

    /// What to write through outside a transaction, once it is free:
    /// `on_db!(db.writer().await?, …)`.
    pub async fn writer(&self) -> Result<Writer, sqlx::Error> {
        Ok(match self {
            Backend::Sqlite(db) => Backend::Sqlite(db.writer().await),
            Backend::Postgres(pool) => Backend::Postgres(pool.acquire().await?),
        })
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        let Ok(mut reader) = self.read().await else {
            return false;
        };
        let answer = crate::on_db!(reader, |c| sqlx::query("SELECT 1")
            .execute(c)
            .await
            .map(drop));
        answer.is_ok()
    }

    /// Records that a request failed, possibly for want of a working
    /// connection: every pooled connection is checked before its next use.
    pub fn note_failure(&self) {
        match self {
            Backend::Sqlite(db) => db.readers.note_failure(),
            Backend::Postgres(pool) => pool.note_failure(),
        }
    }
}

/// `databases.leads.max_lifetime`, in seconds (0: for ever), beside
/// rocket_db_pools' own keys.
#[derive(serde::Deserialize)]
struct Lifetime {
    max_lifetime: Option<u64>,
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for DbPool {
    type Connection = Reader;
    type Error = Error<sqlx::Error>;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: Config = figment.extract()?;
        let lifetime: Lifetime = figment.extract()?;
        let max_lifetime = match lifetime.max_lifetime {
            None => Some(MAX_LIFETIME),
            Some(0) => None,
            Some(seconds) => Some(Duration::from_secs(seconds)),
        };
        DbPool::connect(&config, max_lifetime)
            .await
            .map_err(Error::Init)
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        self.read().await.map_err(Error::Get)
    }

    async fn close(&self) {
        match self {
            Backend::Sqlite(db) => db.readers.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
