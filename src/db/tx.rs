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
        let mut conn = self.writer().await?;
        let begin = match conn {
            Backend::Sqlite(_) => "BEGIN IMMEDIATE",
            Backend::Postgres(_) => "BEGIN",
        };
        crate::on_db!(conn, |c| c.execute(begin).await.map(drop))?;
        Ok(WriteTx { conn: Some(conn) })
    }
}

impl WriteTx {
    /// Borrows the connection for [`on_db!`](crate::on_db).
    pub fn live(&mut self) -> LiveConn<'_> {
        let conn = self.conn.as_mut().expect("transaction already finished");
        conn.live()
    }

    /// Serialises writers that read a row before writing what depends on it:
    /// PostgreSQL locks the row (SQLite's IMMEDIATE transaction holds the
    /// write lock already). `table` is one of ours, never input.
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
