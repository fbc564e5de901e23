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
        if path.exists() {
            return Err(format!("{} already exists", path.display()));
        }
        let target = path
            .to_str()
            .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
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
}
