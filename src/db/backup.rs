//! `leads backup PATH`: a consistent copy of a live SQLite database.

use std::path::Path;

use super::{Backend, DbPool};

impl DbPool {
    /// Writes a snapshot of the database to `path`, which must not exist.
    ///
    /// SQLite's `VACUUM INTO` copies the database as of one read
    /// transaction: writers carry on meanwhile (WAL), and the copy is
    /// compacted and needs no `-wal` file beside it. A PostgreSQL database
    /// is backed up with its own tools.
    pub async fn backup_to(&self, path: &Path) -> Result<(), String> {
        let Backend::Sqlite(db) = self else {
            return Err("backup copies SQLite databases; for PostgreSQL use pg_dump".into());
        };
        let target = path
            .to_str()
            .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
        // Created empty and private first (VACUUM INTO fills an empty file);
        // create_new also refuses a path that exists.
        crate::config::create_private(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!("{} already exists", path.display()),
            _ => format!("cannot create {}: {e}", path.display()),
        })?;
        let result = vacuum_into(db, target).await;
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
        result
    }
}

async fn vacuum_into(db: &super::SqliteDb, target: &str) -> Result<(), String> {
    let mut conn = db
        .readers
        .acquire()
        .await
        .map_err(|e| format!("backup failed: {e}"))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(|e| format!("backup failed: {e}"))
}
