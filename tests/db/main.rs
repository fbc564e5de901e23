//! The storage layer's own parts, on real databases: the connection pool on
//! PostgreSQL, write transactions and group commit on SQLite.

mod create;
/// Every test here is on PostgreSQL: `postgres` in their names keeps them
/// out of an SQLite-only run (`tests/run.sh --quick`).
#[path = "conns.rs"]
mod postgres_conns;
#[path = "../support/suite_env.rs"]
mod suite_env;
mod tx;

use leads::db::DbPool;

/// A migrated SQLite database in a temporary folder, with the folder to
/// remove afterwards.
pub async fn sqlite(name: &str) -> (DbPool, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "leads-db-{name}-{}",
        leads::auth::token::random_hex(6)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = rocket_db_pools::Config {
        url: format!("sqlite://{}", dir.join("leads.db").display()),
        min_connections: None,
        max_connections: 2,
        connect_timeout: 5,
        idle_timeout: None,
        extensions: None,
    };
    let db = DbPool::connect(&config, None).await.unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}
