//! SQLite: a pool of readers and one writer, over WAL.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rocket::tokio::sync::Mutex;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor, SqliteConnection};

use super::conns::{ConnPool, Recycle};

/// SQLite's connections: a pool of readers, and one writer.
///
/// SQLite lets one writer in at a time, and writers that race for its lock
/// wait in its busy handler, which sleeps between tries. Every write goes
/// through the single writer connection instead ([`super::DbPool::writer`],
/// [`super::DbPool::begin_write`]): writers queue on a fair lock and each
/// starts the moment the previous one is done. Readers never wait for the
/// writer (WAL).
#[derive(Clone)]
pub struct SqliteDb {
    pub(super) readers: ConnPool<SqliteConnection>,
    pub(super) writer: Arc<Mutex<SqliteConnection>>,
}

impl SqliteDb {
    pub(super) async fn connect(
        url: &str,
        max: u32,
        connect_timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Other processes (a backup, a second server) still take turns
            // on SQLite's lock: wait for it rather than fail.
            .busy_timeout(Duration::from_secs(5))
            .pragma("cache_size", "-16000")
            // Remapping a growing file stalls every thread, and mapped pages
            // would count in the server's resident memory.
            .pragma("mmap_size", "0")
            .pragma("temp_store", "memory")
            // No `journal_size_limit`: cutting a large WAL back happens in
            // the writer, under the write lock. And checkpoints run beside
            // the writer, not inside its commits (`checkpoint_in_background`).
            .pragma("wal_autocheckpoint", "0");
        create_database_file(&options.clone().get_filename())?;
        let writer = SqliteConnection::connect_with(&options).await?;
        let readers = ConnPool::new(options, max, connect_timeout, Recycle::default());
        // A bad path or file fails at start-up, not on the first request.
        drop(readers.acquire().await?);
        checkpoint_in_background(readers.clone());
        Ok(SqliteDb {
            readers,
            writer: Arc::new(Mutex::new(writer)),
        })
    }

    /// The writer, once it is free.
    pub async fn writer(&self) -> rocket::tokio::sync::OwnedMutexGuard<SqliteConnection> {
        self.writer.clone().lock_owned().await
    }
}

/// Creates a missing database file as a private one; SQLite would create it
/// readable by everyone (and its `-wal` and `-shm` files take its mode).
fn create_database_file(path: &std::path::Path) -> Result<(), sqlx::Error> {
    // In-memory databases (`sqlite::memory:`, `?mode=memory`) have no file.
    let name = path.to_string_lossy();
    if name.is_empty() || name == ":memory:" || name.starts_with("file:") {
        return Ok(());
    }
    match crate::config::create_private(path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(sqlx::Error::Io(e)),
        _ => Ok(()),
    }
}

/// Copies the WAL back into the database file every quarter second.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses 1,000
/// WAL pages, on the one writer connection, so every write queued behind it
/// would wait. A PASSIVE checkpoint from another connection takes no write
/// lock; a busy reader only makes it copy less this time. The task has a
/// connection of its own and ends when the readers close.
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

/// Turns off SQLite's memory statistics for the whole process.
///
/// With them on (the library's default), every allocation inside SQLite
/// takes one process-wide mutex, so reader threads queue on it; nothing of
/// ours reads them. Call it once, before any connection opens (the binary's
/// `main`): SQLite accepts it only before it initializes, and the call is
/// not thread-safe while other threads use SQLite.
pub fn disable_memory_statistics() {
    // SAFETY: `sqlite3_config` takes an int for this option; made before any
    // other SQLite call, per the contract above. Refused later, it returns
    // SQLITE_MISUSE without effect, which leaves the default: correct, only
    // slower.
    let _ = unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0) };
}
