//! Our connection pool: a checkout costs no database round trip.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rocket::tokio::sync::{OwnedSemaphorePermit, Semaphore};
use rocket::tokio::time::timeout_at;
use sqlx::{ConnectOptions, Connection};

/// Up to `max` open connections, handed out one user at a time.
///
/// sqlx's own pool pings every connection as it comes back: a second round
/// trip for every query. Here a connection is pinged only when it may have
/// gone stale: after `verify_after` idle, or when a request failed (see
/// [`ConnPool::note_failure`]) since it was last checked out. A dead one is
/// dropped and replaced, and so is one older than `max_lifetime`.
pub struct ConnPool<C: Connection> {
    inner: Arc<Inner<C>>,
}

/// When a pooled connection is checked, or replaced, before its next use.
/// `None` for either: never (a SQLite file cannot go away under a
/// connection, and its planner does not go by table sizes).
#[derive(Clone, Copy, Debug, Default)]
pub struct Recycle {
    /// Ping a connection idle this long.
    pub verify_after: Option<Duration>,
    /// Close a connection this old and open a new one.
    pub max_lifetime: Option<Duration>,
}

struct Inner<C: Connection> {
    idle: Mutex<Vec<Idle<C>>>,
    permits: Arc<Semaphore>,
    options: C::Options,
    acquire_timeout: Duration,
    recycle: Recycle,
    /// How many failures were noted ([`ConnPool::note_failure`]).
    failures: AtomicU64,
}

struct Idle<C> {
    conn: C,
    opened: Instant,
    since: Instant,
    /// The pool's failure count when it was last checked out.
    failures: u64,
}

/// A checked-out connection; it goes back to the pool when dropped.
pub struct PooledConn<C: Connection> {
    conn: Option<C>,
    opened: Instant,
    failures: u64,
    inner: Arc<Inner<C>>,
    // Released after `drop` has put the connection back.
    _permit: OwnedSemaphorePermit,
}

impl<C: Connection> Clone for ConnPool<C> {
    fn clone(&self) -> Self {
        ConnPool {
            inner: self.inner.clone(),
        }
    }
}

impl<C: Connection> ConnPool<C> {
    /// A pool that connects on first need.
    pub fn new(options: C::Options, max: u32, acquire_timeout: Duration, recycle: Recycle) -> Self {
        let max = usize::try_from(max).unwrap_or(usize::MAX).max(1);
        ConnPool {
            inner: Arc::new(Inner {
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(max)),
                options,
                acquire_timeout,
                recycle,
                failures: AtomicU64::new(0),
            }),
        }
    }

    /// An idle connection (verified if it may be stale), or a new one if
    /// fewer than `max` are open; `PoolTimedOut` after the acquire timeout.
    pub async fn acquire(&self) -> Result<PooledConn<C>, sqlx::Error> {
        let inner = &self.inner;
        let deadline = (Instant::now() + inner.acquire_timeout).into();
        let permit = timeout_at(deadline, inner.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let failures = inner.failures.load(Ordering::Relaxed);
            let idle = inner
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let (conn, opened) = match idle {
                Some(idle) if self.has_outlived(&idle) => {
                    // Closed politely (a Terminate message) off this
                    // request's path, and the next one tried.
                    rocket::tokio::spawn(idle.conn.close());
                    continue;
                }
                Some(idle) if !self.may_be_stale(&idle, failures) => (idle.conn, idle.opened),
                Some(mut idle) => match timeout_at(deadline, idle.conn.ping()).await {
                    Ok(Ok(())) => (idle.conn, idle.opened),
                    // Dead: dropped (closing its socket), and the next tried.
                    Ok(Err(_)) => continue,
                    Err(_) => return Err(sqlx::Error::PoolTimedOut),
                },
                None => {
                    let conn = timeout_at(deadline, inner.options.connect())
                        .await
                        .map_err(|_| sqlx::Error::PoolTimedOut)??;
                    (conn, Instant::now())
                }
            };
            return Ok(PooledConn {
                conn: Some(conn),
                opened,
                failures,
                inner: inner.clone(),
                _permit: permit,
            });
        }
    }

    fn may_be_stale(&self, idle: &Idle<C>, failures: u64) -> bool {
        self.inner
            .recycle
            .verify_after
            .is_some_and(|after| idle.since.elapsed() >= after || idle.failures != failures)
    }

    fn has_outlived(&self, idle: &Idle<C>) -> bool {
        self.inner
            .recycle
            .max_lifetime
            .is_some_and(|lifetime| idle.opened.elapsed() >= lifetime)
    }

    /// Records that a request failed, maybe for want of a working connection
    /// (a database restart kills them all at once): every idle connection is
    /// pinged before its next use.
    pub fn note_failure(&self) {
        self.inner.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection of its own, outside the pool (background tasks).
    pub async fn connect_one(&self) -> Result<C, sqlx::Error> {
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
        for idle in idle {
            idle.conn.close().await.ok();
        }
    }
}

impl<C: Connection> PooledConn<C> {
    /// Drops the connection instead of returning it (it is in a state that
    /// the next user must not inherit).
    pub fn discard(mut self) {
        self.conn.take();
    }
}

impl<C: Connection> Drop for PooledConn<C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !self.inner.permits.is_closed() {
                let mut idle = self
                    .inner
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                idle.push(Idle {
                    conn,
                    opened: self.opened,
                    since: Instant::now(),
                    failures: self.failures,
                });
            }
        }
    }
}

impl<C: Connection> Deref for PooledConn<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.conn.as_ref().expect("a checked-out connection")
    }
}

impl<C: Connection> DerefMut for PooledConn<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn.as_mut().expect("a checked-out connection")
    }
}
