//! Write transactions that behave the same on both backends.

use sqlx::Executor;

use super::pool::{LiveConn, Writer};
use super::{Backend, DbPool};

/// A transaction that will write.
///
/// On SQLite it begins `IMMEDIATE`: a deferred transaction that reads before
/// it writes fails with "database is locked" under concurrency, because its
/// read lock cannot be upgraded while another writer waits (SPEC §1). sqlx 0.7
/// has no immediate `begin`, so this type issues the statements itself.
///
/// Dropped without [`WriteTx::commit`] (an error, a cancelled request), it
/// rolls back in the background, still holding the connection: SQLite's
/// writer stays locked until then, and a PostgreSQL connection that cannot
/// roll back is closed rather than returned to the pool inside a transaction.
pub struct WriteTx {
    conn: Option<Writer>,
}

impl DbPool {
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let conn = match self {
            Backend::Sqlite(db) => {
                let mut conn = db.writer().await;
                conn.execute("BEGIN IMMEDIATE").await?;
                Backend::Sqlite(conn)
            }
            Backend::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                conn.execute("BEGIN").await?;
                Backend::Postgres(conn)
            }
        };
        Ok(WriteTx { conn: Some(conn) })
    }
}

impl WriteTx {
    /// Borrows the connection for [`on_db!`](crate::on_db).
    pub fn live(&mut self) -> LiveConn<'_> {
        match self.conn.as_mut().expect("transaction already finished") {
            Backend::Sqlite(conn) => Backend::Sqlite(&mut **conn),
            Backend::Postgres(conn) => Backend::Postgres(&mut **conn),
        }
    }

    /// Serialises writers that read a row before writing what depends on
    /// it (the per-user token limit, a lead's merged update). SQLite's
    /// IMMEDIATE transaction already holds the database's write lock;
    /// PostgreSQL locks the row. `table` is one of ours, never input.
    pub async fn lock_row(&mut self, table: &'static str, id: i64) -> Result<(), sqlx::Error> {
        if let Backend::Postgres(conn) = self.live() {
            sqlx::query(&format!("SELECT id FROM {table} WHERE id = $1 FOR UPDATE"))
                .bind(id)
                .execute(conn)
                .await?;
        }
        Ok(())
    }

    /// Lets this transaction's commit return before its WAL is flushed (on
    /// PostgreSQL; SQLite's `synchronous = NORMAL` already does so for every
    /// commit). A crash right after can lose the transaction, never corrupt.
    pub async fn skip_flush_on_commit(&mut self) -> Result<(), sqlx::Error> {
        if let Backend::Postgres(conn) = self.live() {
            conn.execute("SET LOCAL synchronous_commit = off").await?;
        }
        Ok(())
    }

    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        crate::on_db!(self, |c| c.execute("COMMIT").await.map(drop))?;
        // Back to the pool, outside any transaction.
        self.conn.take();
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        rocket::tokio::spawn(async move {
            match conn {
                // The writer stays locked until it is out of the transaction.
                Backend::Sqlite(mut c) => {
                    if let Err(e) = c.execute("ROLLBACK").await {
                        rocket::error!("rolling back the SQLite writer failed: {e}");
                    }
                }
                Backend::Postgres(mut c) => {
                    if c.execute("ROLLBACK").await.is_err() {
                        c.discard();
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::on_db;

    async fn sqlite(name: &str) -> (DbPool, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "leads-tx-{name}-{}",
            crate::auth::token::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = rocket_db_pools::Config {
            url: format!("sqlite://{}", dir.join("tx.db").display()),
            min_connections: None,
            max_connections: 2,
            connect_timeout: 5,
            idle_timeout: None,
            extensions: None,
        };
        let db = DbPool::connect(&config, None).await.unwrap();
        on_db!(db.writer().await.unwrap(), |c| c
            .execute("CREATE TABLE probe (n BIGINT NOT NULL)")
            .await
            .map(drop))
        .unwrap();
        (db, dir)
    }

    async fn rows(db: &DbPool) -> i64 {
        on_db!(db.read().await.unwrap(), |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM probe"
        )
        .fetch_one(c)
        .await)
        .unwrap()
    }

    #[rocket::async_test]
    async fn a_dropped_transaction_rolls_back_and_frees_the_writer() {
        let (db, dir) = sqlite("dropped").await;
        let mut tx = db.begin_write().await.unwrap();
        on_db!(tx, |c| c
            .execute("INSERT INTO probe VALUES (1)")
            .await
            .map(drop))
        .unwrap();
        drop(tx);
        // The writer is free again once the rollback has run…
        let writer = rocket::tokio::time::timeout(Duration::from_secs(5), db.writer()).await;
        let mut writer = writer.expect("the writer freed").unwrap();
        // …and it is outside any transaction: this write commits by itself.
        on_db!(writer, |c| c
            .execute("INSERT INTO probe VALUES (2)")
            .await
            .map(drop))
        .unwrap();
        drop(writer);
        assert_eq!(rows(&db).await, 1, "only the write after the rollback");
        std::fs::remove_dir_all(dir).ok();
    }

    #[rocket::async_test]
    async fn a_committed_transaction_keeps_its_writes() {
        let (db, dir) = sqlite("committed").await;
        let mut tx = db.begin_write().await.unwrap();
        on_db!(tx, |c| c
            .execute("INSERT INTO probe VALUES (1)")
            .await
            .map(drop))
        .unwrap();
        assert_eq!(rows(&db).await, 0, "not visible before the commit");
        tx.commit().await.unwrap();
        assert_eq!(rows(&db).await, 1);
        std::fs::remove_dir_all(dir).ok();
    }
}
