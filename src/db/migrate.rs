//! Schema migrations, embedded in the binary and run at start-up.

use rocket::fairing::AdHoc;
use rocket_db_pools::Database;
use sqlx::migrate::{MigrateError, Migrator};

use super::{Backend, Db, DbPool};

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

impl DbPool {
    /// Applies pending migrations; a no-op when the schema is current.
    pub async fn migrate(&self) -> Result<(), MigrateError> {
        match self {
            // At start-up, before anything writes through the writer.
            // `run_direct` is sqlx's own way around `run`'s higher-ranked
            // `Acquire` bound, which a borrowed connection cannot meet.
            // PostgreSQL's migrations take an advisory lock, so instances
            // starting together apply them once.
            Backend::Sqlite(db) => {
                let mut conn = db.readers.acquire().await?;
                SQLITE.run_direct(&mut *conn).await
            }
            Backend::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                POSTGRES.run_direct(&mut *conn).await
            }
        }
    }
}

/// The fairing that migrates the database once the pool is up.
pub struct Migrations;

impl Migrations {
    pub fn fairing() -> AdHoc {
        AdHoc::try_on_ignite("Database migrations", |rocket| async {
            match Db::fetch(&rocket) {
                Some(db) => match db.migrate().await {
                    Ok(()) => Ok(rocket),
                    Err(e) => {
                        rocket::error!("database migrations failed: {e}");
                        Err(rocket)
                    }
                },
                None => Err(rocket),
            }
        })
    }
}
