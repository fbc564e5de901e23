//! Storage: one pool type over sqlx's native SQLite and PostgreSQL drivers.
//!
//! Every query is written once with `$n` placeholders and run on whichever
//! backend is live through [`on_db!`]. The rules that keep one SQL text
//! correct on both backends (SPEC §1) are: bind integers as `i64`, timestamps
//! are BIGINT unix microseconds, booleans are BOOLEAN, aggregates are cast to
//! BIGINT, and every unique key is a named index (see [`unique_violation`]).

mod backup;
mod conns;
mod errors;
mod migrate;
mod pool;
mod postgres;
mod sql;
mod sqlite;
mod tx;

pub use conns::{ConnPool, Recycle};
pub use errors::unique_violation;
pub use migrate::Migrations;
pub use pool::{DbPool, LiveConn, Reader, Writer};
pub use postgres::MAX_LIFETIME;
pub use sql::{Bind, Sql};
pub use sqlite::{disable_memory_statistics, SqliteDb};
pub use tx::WriteTx;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Request, Response};
use rocket_db_pools::Database;

/// The application's database, managed by rocket_db_pools under `databases.leads`.
#[derive(Database)]
#[database("leads")]
pub struct Db(DbPool);

/// Either backend's half of a value: a pool, a connection, a transaction.
#[derive(Clone, Copy)]
pub enum Backend<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// Runs `$body` with `$conn` bound to the live backend's executor.
///
/// `$db` is anything with a `live()` method returning a [`Backend`]: a
/// [`Reader`], a [`Writer`] or a [`WriteTx`]. The body is expanded once per
/// backend, so the same query text is type-checked against both drivers.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db.live() {
            $crate::db::Backend::Sqlite($conn) => $body,
            $crate::db::Backend::Postgres($conn) => $body,
        }
    };
}

/// Tells the pool about every answer that says the server failed (500, 503):
/// a database that went away makes every request on a dead connection fail,
/// and one noted failure gets all of them checked before reuse.
pub struct FailureWatch;

#[rocket::async_trait]
impl Fairing for FailureWatch {
    fn info(&self) -> Info {
        Info {
            name: "Database failure watch",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, response: &mut Response<'r>) {
        if matches!(response.status().code, 500 | 503) {
            if let Some(db) = req.rocket().state::<Db>() {
                db.note_failure();
            }
        }
    }
}
