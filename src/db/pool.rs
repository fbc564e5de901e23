//! The pool enum and its rocket_db_pools integration.

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rocket::figment::Figment;
use rocket::tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use rocket_db_pools::{Config, Error};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor, SqliteConnection};

use super::conns::{ConnPool, PooledConn, Recycle};
use super::group::{Batched, Queues};
use super::Backend;

/// A pool on whichever backend the configured URL names.
pub type DbPool = Backend<SqliteDb, PgDb>;

/// PostgreSQL's connections, for reads and writes alike; they dereference
/// to the pool.
#[derive(Clone)]
pub struct PgDb {
    conns: ConnPool<PgConnection>,
    /// Reads waiting to share a statement ([`PgDb::batched`]).
    queues: Arc<Queues>,
    /// How many batches may be in flight at once.
    lanes: Arc<Semaphore>,
}
pub type PgConn = PooledConn<PgConnection>;
/// A SQLite reader connection.
pub type SqliteConn = PooledConn<SqliteConnection>;

/// SQLite's connections: a pool of readers, and one writer.
///
/// SQLite lets one writer in at a time, and writers that race for its lock
/// wait in its busy handler, which sleeps 1 to 100 ms between tries: under
/// 64 concurrent creates, 11% of the read throughput and a 170 ms p99. Every
/// write goes through the single writer connection instead ([`DbPool::writer`],
/// [`DbPool::begin_write`]): writers queue on a fair lock and each starts the
/// moment the previous one is done. It is a connection behind a lock, not a
/// pool of one, because sqlx pings a pooled connection on every return (a
/// second round trip on the one serial path; [`ConnPool`] skips it too).
/// Readers never wait for the writer (WAL).
#[derive(Clone)]
pub struct SqliteDb {
    pub(super) readers: ConnPool<SqliteConnection>,
    pub(super) writer: Arc<Mutex<SqliteConnection>>,
    /// Writes waiting to share a statement ([`SqliteDb::batched`]).
    pub(super) queues: Arc<Queues>,
}

/// A connection of either backend, borrowed for one statement or more.
pub type LiveConn<'c> = Backend<&'c mut SqliteConnection, &'c mut PgConnection>;

/// A reader, checked out: `on_db!(db.read().await?, |c| …)`.
pub type Reader = Backend<SqliteConn, PgConn>;

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
}

/// How long a PostgreSQL connection serves before it is replaced, unless
/// `databases.leads.max_lifetime` says otherwise (as sqlx's own pool).
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

impl DbPool {
    /// Connects according to rocket_db_pools' `Config` (url, pool sizes,
    /// timeouts), with PostgreSQL connections living [`MAX_LIFETIME`].
    pub async fn connect(config: &Config) -> Result<Self, sqlx::Error> {
        DbPool::connect_for(config, Some(MAX_LIFETIME)).await
    }

    /// As [`DbPool::connect`], with PostgreSQL connections replaced after
    /// `max_lifetime` (`None`: never).
    pub async fn connect_for(
        config: &Config,
        max_lifetime: Option<Duration>,
    ) -> Result<Self, sqlx::Error> {
        let connect_timeout = Duration::from_secs(config.connect_timeout);
        let max = u32::try_from(config.max_connections)
            .unwrap_or(u32::MAX)
            .max(1);
        let url = config.url.as_str();

        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // Generic plans for our prepared statements. By default
            // PostgreSQL compares a statement's generic plan with the custom
            // plans of its first five runs and, when it looks much worse,
            // plans every later run anew: the lead list of an owner with 20
            // leads, among owners averaging 1,000, was planned on every
            // request (pgbench, same query: 18,500-20,300 runs/s against
            // 30,600-35,100 with 100,000 leads). Our statements are all
            // index lookups, whose generic plans hold for any value...
            //
            // ...as long as they are not merge joins: a merge join is costed
            // as stopping at the largest key the statistics know, so with
            // every token held by a few low user ids (as in the bench) the
            // token-to-user join and the list's owner filter were planned as
            // merge joins reading the users and leads indexes from the
            // start. For a user newer than the statistics that read 1.2
            // million index entries: 653 ms against 4.8 ms as a nested loop.
            // Our joins match a handful of rows by index, which a nested
            // loop always does best.
            let options = PgConnectOptions::from_str(url)?.options([
                ("plan_cache_mode", "force_generic_plan"),
                ("enable_mergejoin", "off"),
            ]);
            let recycle = Recycle {
                // A connection that died with its server (a PostgreSQL
                // restart) is noticed on checkout, not by the request that
                // draws it.
                verify_after: Some(Duration::from_secs(1)),
                // A generic plan is made once per connection, from the
                // statistics of the moment. One made while `auth_tokens` had
                // a single page is a sequential scan, which lasts until an
                // ANALYZE (autovacuum's, where it is on): with autovacuum
                // off, the list went from 10,200 to 6,100 requests/s (p99
                // 199 ms) as logins grew the table from 1 to 1,200 tokens,
                // every request reading all of them. A new connection plans
                // by the table's current size.
                max_lifetime,
            };
            Ok(Backend::Postgres(PgDb {
                conns: ConnPool::new(options, max, connect_timeout, recycle),
                queues: Arc::default(),
                // One batch in flight per core: with 1, 2 or 8 lanes the
                // lists ran at about the same rate (64 clients over 48
                // tokens, alternated), with p99s of 5.5-6.2, 5.1-6.0 and
                // 6.5-10.5 ms.
                lanes: Arc::new(Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get()),
                )),
            }))
        } else if url.starts_with("sqlite:") {
            super::sqlite_config::disable_memory_statistics();
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
            let readers = ConnPool::new(options, max, connect_timeout, Recycle::default());
            // A bad path or file fails at start-up, not on the first request.
            drop(readers.acquire().await?);
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
            Backend::Sqlite(db) => Backend::Sqlite(db.writer.clone().lock_owned().await),
            Backend::Postgres(pool) => Backend::Postgres(pool.acquire().await?),
        })
    }

    /// Whether a statement saved is worth a more complex one. On PostgreSQL
    /// a round trip goes to another process; on SQLite it is a hand-off to a
    /// thread of ours, cheaper than what merging statements costs there
    /// (the lead list on SQLite: 8,700-11,300 requests/s with its token
    /// check merged into its statement by a `UNION ALL`, 11,400-12,600 as
    /// two statements, alternated; on PostgreSQL the merged list won:
    /// 18,100-19,100 against 16,100-16,600 as two). The list now merges them
    /// on both backends, in a form that pays on each: one row per token
    /// candidate, the leads' stored JSON joined (`auth::alongside`).
    pub fn round_trips_are_dear(&self) -> bool {
        matches!(self, Backend::Postgres(_))
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        let answered = match self.read().await {
            Ok(mut reader) => crate::on_db!(reader, |c| sqlx::query("SELECT 1")
                .execute(c)
                .await
                .map(drop)),
            Err(e) => Err(e),
        };
        if answered.is_err() {
            super::conns::note_failure();
        }
        answered.is_ok()
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
fn checkpoint_in_background(readers: ConnPool<SqliteConnection>) {
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

impl SqliteDb {
    /// Runs `job` on the writer, in a batch with whatever jobs of its kind
    /// are waiting.
    pub async fn batched<J>(&self, job: J) -> Result<J::Output, crate::error::Error>
    where
        J: Batched<Conn = SqliteConnection>,
    {
        let writer = || async { Ok(self.writer.clone().lock_owned().await) };
        self.queues.run(job, writer).await
    }
}

impl PgDb {
    /// Runs `job` on a connection of its own lane, in a batch with whatever
    /// jobs of its kind are waiting.
    pub async fn batched<J>(&self, job: J) -> Result<J::Output, crate::error::Error>
    where
        J: Batched<Conn = PgConnection>,
    {
        let lane = || async {
            let permit = self.lanes.clone().acquire_owned().await;
            let permit = permit.map_err(|_| sqlx::Error::PoolClosed)?;
            Ok(Lane {
                conn: self.conns.acquire().await?,
                _permit: permit,
            })
        };
        self.queues.run(job, lane).await
    }
}

impl Deref for PgDb {
    type Target = ConnPool<PgConnection>;

    fn deref(&self) -> &Self::Target {
        &self.conns
    }
}

/// A PostgreSQL connection for one batch, and its lane.
struct Lane {
    conn: PgConn,
    _permit: OwnedSemaphorePermit,
}

impl Deref for Lane {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for Lane {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// A connection from either pool.
pub type DbConnection = Reader;

/// `databases.leads.max_lifetime`, in seconds (0: for ever), beside
/// rocket_db_pools' own keys.
#[derive(serde::Deserialize)]
struct Lifetime {
    max_lifetime: Option<u64>,
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for DbPool {
    type Connection = DbConnection;
    type Error = Error<sqlx::Error>;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: Config = figment.extract()?;
        let lifetime: Lifetime = figment.extract()?;
        let max_lifetime = match lifetime.max_lifetime {
            None => Some(MAX_LIFETIME),
            Some(0) => None,
            Some(seconds) => Some(Duration::from_secs(seconds)),
        };
        DbPool::connect_for(&config, max_lifetime)
            .await
            .map_err(Error::Init)
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
