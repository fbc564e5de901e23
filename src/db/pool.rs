//! The pool enum and its rocket_db_pools integration.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rocket::figment::Figment;
use rocket::tokio::sync::{Mutex, OwnedMutexGuard};
use rocket_db_pools::{Config, Error};
use sqlx::pool::{PoolConnection, PoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor, Postgres, SqliteConnection};

use super::group::Queues;
use super::readers::{ReaderConn, Readers};
use super::Backend;

/// A pool on whichever backend the configured URL names.
pub type DbPool = Backend<SqliteDb, PgPool>;

/// SQLite's connections: a pool of readers, and one writer.
///
/// SQLite lets one writer in at a time, and writers that race for its lock
/// wait in its busy handler, which sleeps 1 to 100 ms between tries: under
/// 64 concurrent creates, 11% of the read throughput and a 170 ms p99. Every
/// write goes through the single writer connection instead ([`DbPool::writer`],
/// [`DbPool::begin_write`]): writers queue on a fair lock and each starts the
/// moment the previous one is done. It is a connection behind a lock, not a
/// pool of one, because sqlx pings a pooled connection on every return (a
/// second round trip on the one serial path; [`Readers`] skip it too).
/// Readers never wait for the writer (WAL).
#[derive(Clone)]
pub struct SqliteDb {
    pub(super) readers: Readers,
    pub(super) writer: Arc<Mutex<SqliteConnection>>,
    /// Writes waiting to share a statement ([`SqliteDb::batched`]).
    pub(super) queues: Arc<Queues>,
}

/// A reader, checked out: `on_db!(db.read().await?, |c| …)`.
pub type Reader<'a> = Backend<ReaderConn, &'a PgPool>;

impl<'a> Reader<'a> {
    pub fn live(&mut self) -> Backend<&mut SqliteConnection, &'a PgPool> {
        match self {
            Backend::Sqlite(conn) => Backend::Sqlite(&mut **conn),
            Backend::Postgres(pool) => Backend::Postgres(*pool),
        }
    }
}

/// The writer, held: `on_db!(db.writer().await, |c| …)`.
pub type Writer<'a> = Backend<OwnedMutexGuard<SqliteConnection>, &'a PgPool>;

impl<'a> Writer<'a> {
    pub fn live(&mut self) -> Backend<&mut SqliteConnection, &'a PgPool> {
        match self {
            Backend::Sqlite(conn) => Backend::Sqlite(&mut **conn),
            Backend::Postgres(pool) => Backend::Postgres(*pool),
        }
    }
}

impl DbPool {
    /// Connects according to rocket_db_pools' `Config` (url, pool sizes, timeouts).
    pub async fn connect(config: &Config) -> Result<Self, sqlx::Error> {
        let connect_timeout = Duration::from_secs(config.connect_timeout);
        let max = u32::try_from(config.max_connections)
            .unwrap_or(u32::MAX)
            .max(1);
        let min = config.min_connections.unwrap_or(0).min(max);
        let idle = config.idle_timeout.map(Duration::from_secs);
        let url = config.url.as_str();

        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = pool_options(max, min, connect_timeout, idle)
                .test_before_acquire(false)
                .before_acquire(|conn: &mut sqlx::PgConnection, meta| {
                    Box::pin(async move {
                        // A connection that died with its server (a
                        // PostgreSQL restart) is noticed on checkout, not by
                        // the request that draws it. One used moments ago
                        // is alive: sqlx pings every connection as it comes
                        // back, so that costs no round trip on a busy server.
                        if meta.idle_for < Duration::from_secs(1) {
                            return Ok(true);
                        }
                        conn.ping().await.map(|()| true)
                    })
                })
                .connect_lazy_with(options);
            Ok(Backend::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                // Other processes (a backup, a second server) still take
                // turns on SQLite's lock: wait for it rather than fail.
                .busy_timeout(Duration::from_secs(5))
                .pragma("cache_size", "-16000")
                // No memory-mapped I/O: as the file grows SQLite remaps it,
                // and each remap stalls every thread (TLB shootdowns; creates
                // ran 10% faster without), and mapped pages would count in
                // the server's resident memory as the database grows.
                .pragma("mmap_size", "0")
                .pragma("temp_store", "memory")
                // No `journal_size_limit`: the WAL keeps its high-water mark
                // on disk, because cutting a large WAL back happens in the
                // writer, under the write lock (200-300 ms stalls, p99 of
                // creates 17 -> 200+ ms).
                // Checkpoints run beside the writer, not inside its commits
                // (see `checkpoint_in_background`).
                .pragma("wal_autocheckpoint", "0");
            let writer = SqliteConnection::connect_with(&options).await?;
            let readers = Readers::connect(options, max, connect_timeout).await?;
            checkpoint_in_background(readers.clone());
            let writer = Arc::new(Mutex::new(writer));
            Ok(Backend::Sqlite(SqliteDb {
                readers,
                writer,
                queues: Arc::default(),
            }))
        } else {
            Err(sqlx::Error::Configuration(
                format!("unsupported database URL (expected sqlite: or postgres:): {url}").into(),
            ))
        }
    }

    /// What to read through: `on_db!(db.read().await?, …)`.
    pub async fn read(&self) -> Result<Reader<'_>, sqlx::Error> {
        Ok(match self {
            Backend::Sqlite(db) => Backend::Sqlite(db.readers.acquire().await?),
            Backend::Postgres(pool) => Backend::Postgres(pool),
        })
    }

    /// What to write through outside a transaction, once it is free:
    /// `on_db!(db.writer().await, …)`.
    pub async fn writer(&self) -> Writer<'_> {
        match self {
            Backend::Sqlite(db) => Backend::Sqlite(db.writer.clone().lock_owned().await),
            Backend::Postgres(pool) => Backend::Postgres(pool),
        }
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        let Ok(mut reader) = self.read().await else {
            return false;
        };
        crate::on_db!(reader, |c| sqlx::query("SELECT 1")
            .execute(c)
            .await
            .map(drop))
        .is_ok()
    }
}

/// Copies the WAL back into the database file every quarter second.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses 1,000
/// WAL pages, on the one writer connection, with two fsyncs: every write
/// queued behind it waits. A PASSIVE checkpoint from another connection
/// takes no write lock, so writers never wait for one; a busy reader only
/// makes it copy less this time. The task has a connection of its own and
/// ends when the readers close.
fn checkpoint_in_background(readers: Readers) {
    rocket::tokio::spawn(async move {
        let mut tick = rocket::tokio::time::interval(Duration::from_millis(250));
        let mut conn: Option<SqliteConnection> = None;
        while !readers.is_closed() {
            tick.tick().await;
            let result = match conn.as_mut() {
                Some(conn) => conn
                    .execute("PRAGMA wal_checkpoint(PASSIVE)")
                    .await
                    .map(drop),
                None => readers.connect_one().await.map(|c| conn = Some(c)),
            };
            if let Err(e) = result {
                if !readers.is_closed() {
                    rocket::warn!("WAL checkpoint failed: {e}");
                }
            }
        }
        if let Some(conn) = conn {
            conn.close().await.ok();
        }
    });
}

fn pool_options<DB: sqlx::Database>(
    max: u32,
    min: u32,
    acquire_timeout: Duration,
    idle_timeout: Option<Duration>,
) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(max)
        .min_connections(min)
        .acquire_timeout(acquire_timeout)
        .idle_timeout(idle_timeout)
}

/// A connection from either pool.
pub type DbConnection = Backend<ReaderConn, PoolConnection<Postgres>>;

#[rocket::async_trait]
impl rocket_db_pools::Pool for DbPool {
    type Connection = DbConnection;
    type Error = Error<sqlx::Error>;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: Config = figment.extract()?;
        DbPool::connect(&config).await.map_err(Error::Init)
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        match self {
            Backend::Sqlite(db) => db.readers.acquire().await.map(Backend::Sqlite),
            Backend::Postgres(pool) => pool.acquire().await.map(Backend::Postgres),
        }
        .map_err(Error::Get)
    }

    async fn close(&self) {
        match self {
            Backend::Sqlite(db) => db.readers.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}
