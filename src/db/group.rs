//! Group commit: concurrent writes of one kind share a statement on SQLite's
//! single writer.
//!
//! Each write on the writer is a serial trip to its worker thread and a
//! commit, and under load that serial path is the ceiling (creates ran at
//! 15-20% of the framework's request rate). Writes that arrive while the
//! writer is busy queue up here; the first of them to get the writer takes
//! the whole queue and runs it as one statement, and the others find their
//! result waiting: creates went to about 45%.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rocket::futures::future::BoxFuture;
use rocket::tokio::sync::oneshot;
use sqlx::SqliteConnection;

use super::SqliteDb;

/// A write that can run in a batch of its kind.
pub trait Batched: Send + 'static {
    type Output: Send + 'static;

    /// Runs `batch` (never empty) on the writer: one output per item, in order.
    fn run(conn: &mut SqliteConnection, batch: Vec<Self>) -> BoxFuture<'_, Vec<Self::Output>>
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

impl SqliteDb {
    /// Runs `job` on the writer, in a batch with whatever jobs of its kind
    /// are waiting. `None` only if the batch it joined failed to report.
    pub async fn batched<J: Batched>(&self, job: J) -> Option<J::Output> {
        let (reply, mut result) = oneshot::channel();
        self.queues.push((job, reply));
        loop {
            let writer = rocket::tokio::select! {
                // An earlier caller's batch took this job and has run it.
                biased;
                done = &mut result => return done.ok(),
                writer = self.writer.clone().lock_owned() => writer,
            };
            let batch = self.queues.take::<J>();
            if batch.is_empty() {
                // Taken by a batch that has not replied yet: wait for it.
                drop(writer);
                return result.await.ok();
            }
            // In a task of its own, so that the batch runs to its end and
            // answers every caller in it even if this one is cancelled.
            rocket::tokio::spawn(async move {
                let mut writer = writer;
                let (jobs, replies): (Vec<J>, Vec<_>) = batch.into_iter().unzip();
                let outputs = J::run(&mut writer, jobs).await;
                for (reply, output) in replies.into_iter().zip(outputs) {
                    reply.send(output).ok();
                }
            });
        }
    }
}
