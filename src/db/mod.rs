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
mod group;
pub mod json;
mod migrate;
mod pool;
mod sql;
mod sqlite_config;
mod tx;

pub use conns::note_failure;
pub use errors::unique_violation;
pub use group::Batched;
pub use migrate::Migrations;
pub use pool::{DbPool, LiveConn, Reader, SqliteDb, Writer};
pub use sql::{contains_pattern, Bind, Sql};
pub use tx::WriteTx;

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
