//! Batches: concurrent statements of one kind share one statement.
//!
//! Group commit on SQLite's single writer: each write there is a serial trip
//! to its worker thread and a commit, and under load that serial path is the
//! ceiling (creates ran at 15-20% of the framework's request rate). Writes
//! that arrive while the writer is busy queue up here; the first of them to
//! get the writer takes the whole queue and runs it as one statement, and
//! the others find their result waiting: creates went to about 45%.
//!
//! The same on PostgreSQL for the token-authenticated list, whose cost there
//! is mostly per statement (a round trip to another process on the same
//! cores, and the executor's start and end): with a few statements in flight
//! at once ([`super::PgDb`]'s lanes), lookups that arrive meanwhile go
//! together in the next one.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::ops::DerefMut;
use std::sync::{Mutex, PoisonError};

use rocket::futures::future::BoxFuture;
use rocket::tokio::sync::oneshot;

use crate::error::Error;

/// A statement that can run in a batch of its kind.
pub trait Batched: Send + 'static {
    type Output: Send + 'static;
    /// The connection a batch runs on.
    type Conn: Send + 'static;

    /// Runs `batch` (never empty): one output per item, in order.
    fn run(conn: &mut Self::Conn, batch: Vec<Self>) -> BoxFuture<'_, Vec<Self::Output>>
    where
        Self: Sized;
}

/// The most items one batch takes (and so the most binds one statement has).
const MAX_BATCH: usize = 64;

/// The queues, one per kind of write (`Vec<Queued<J>>` under `TypeId::of::<J>()`).
#[derive(Default)]
pub(super) struct Queues(Mutex<HashMap<TypeId, Box<dyn Any + Send>>>);

type Queued<J> = (J, oneshot::Sender<<J as Batched>::Output>);

impl Queues {
    fn push<J: Batched>(&self, item: Queued<J>) {
        let mut queues = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let queue = queues
            .entry(TypeId::of::<J>())
            .or_insert_with(|| Box::new(Vec::<Queued<J>>::new()));
        queue
            .downcast_mut::<Vec<Queued<J>>>()
            .expect("one type per key")
            .push(item);
    }

    fn take<J: Batched>(&self) -> Vec<Queued<J>> {
        let mut queues = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(queue) = queues.get_mut(&TypeId::of::<J>()) else {
            return Vec::new();
        };
        let queue = queue
            .downcast_mut::<Vec<Queued<J>>>()
            .expect("one type per key");
        let n = queue.len().min(MAX_BATCH);
        queue.drain(..n).collect()
    }
}

impl Queues {
    /// Runs `job` in a batch with whatever jobs of its kind are waiting:
    /// the first caller to get a lane (the connection a batch runs on, from
    /// `lane()`) takes the queue. An error if no lane could be had, or if
    /// the batch that took the job failed to report.
    pub(super) async fn run<J, L, Lane>(
        &self,
        job: J,
        lane: impl Fn() -> Lane,
    ) -> Result<J::Output, Error>
    where
        J: Batched,
        L: DerefMut<Target = J::Conn> + Send + 'static,
        Lane: Future<Output = Result<L, sqlx::Error>>,
    {
        let (reply, mut result) = oneshot::channel();
        self.push((job, reply));
        loop {
            let mut conn = rocket::tokio::select! {
                // An earlier caller's batch took this job and has run it.
                biased;
                done = &mut result => return done.map_err(|_| Error::Internal),
                conn = lane() => conn?,
            };
            let batch = self.take::<J>();
            if batch.is_empty() {
                // Taken by a batch that has not replied yet: wait for it.
                drop(conn);
                return result.await.map_err(|_| Error::Internal);
            }
            // In a task of its own, so that the batch runs to its end and
            // answers every caller in it even if this one is cancelled.
            rocket::tokio::spawn(async move {
                let (jobs, replies): (Vec<J>, Vec<_>) = batch.into_iter().unzip();
                let outputs = J::run(&mut conn, jobs).await;
                for (reply, output) in replies.into_iter().zip(outputs) {
                    reply.send(output).ok();
                }
            });
        }
    }
}
