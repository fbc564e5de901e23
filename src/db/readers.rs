//! SQLite's reader connections: a pool that costs nothing per checkout.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rocket::tokio::sync::{OwnedSemaphorePermit, Semaphore};
use rocket::tokio::time::timeout;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

/// Up to `max` open connections, handed out one request at a time.
///
/// sqlx's pool pings every connection as it comes back: on SQLite that is a
/// second trip to the connection's worker thread for every query, on a path
/// whose cost is mostly such trips. A connection to a file in this process
/// cannot go stale, and sqlx's SQLite worker finishes or resets a statement
/// whose reader went away, so a checkout here is a semaphore permit and a
/// pop from a vector. Connections open on first need and stay open.
#[derive(Clone)]
pub struct Readers {
    inner: Arc<Inner>,
}

struct Inner {
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Arc<Semaphore>,
    options: SqliteConnectOptions,
    acquire_timeout: Duration,
}

/// A checked-out reader; it goes back to the pool when dropped.
pub struct ReaderConn {
    conn: Option<SqliteConnection>,
    inner: Arc<Inner>,
    // Released after `drop` has put the connection back.
    _permit: OwnedSemaphorePermit,
}

impl Readers {
    /// Opens the first connection, so a bad URL or file fails at start-up.
    pub async fn connect(
        options: SqliteConnectOptions,
        max: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, sqlx::Error> {
        let first = options.connect().await?;
        let max = usize::try_from(max).unwrap_or(usize::MAX).max(1);
        Ok(Readers {
            inner: Arc::new(Inner {
                idle: Mutex::new(vec![first]),
                permits: Arc::new(Semaphore::new(max)),
                options,
                acquire_timeout,
            }),
        })
    }

    /// An idle connection, a new one if none is idle and fewer than `max`
    /// are open, or `PoolTimedOut` after the acquire timeout.
    pub async fn acquire(&self) -> Result<ReaderConn, sqlx::Error> {
        let inner = &self.inner;
        let permit = timeout(inner.acquire_timeout, inner.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => inner.options.connect().await?,
        };
        Ok(ReaderConn {
            conn: Some(conn),
            inner: inner.clone(),
            _permit: permit,
        })
    }

    /// A connection of its own, outside the pool (background tasks).
    pub async fn connect_one(&self) -> Result<SqliteConnection, sqlx::Error> {
        self.inner.options.connect().await
    }

    pub fn is_closed(&self) -> bool {
        self.inner.permits.is_closed()
    }

    /// Refuses new checkouts and closes the idle connections; one still
    /// checked out is closed when it comes back.
    pub async fn close(&self) {
        self.inner.permits.close();
        let idle = std::mem::take(
            &mut *self
                .inner
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for conn in idle {
            conn.close().await.ok();
        }
    }
}

impl Drop for ReaderConn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !self.inner.permits.is_closed() {
                let mut idle = self
                    .inner
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                idle.push(conn);
            }
        }
    }
}

impl Deref for ReaderConn {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.conn.as_ref().expect("a checked-out connection")
    }
}

impl DerefMut for ReaderConn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("a checked-out connection")
    }
}
