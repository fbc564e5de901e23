//! Write transactions on SQLite's single writer.

use std::time::Duration;

use leads::db::DbPool;
use leads::on_db;
use sqlx::Executor;

use crate::sqlite;

/// A row to write: any table will do.
const FAILURE: &str =
    "INSERT INTO login_failures (client_ip, username_key, failed_at) VALUES ('::1', 'x', 1)";

async fn rows(db: &DbPool) -> i64 {
    on_db!(db.read().await.unwrap(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures"
    )
    .fetch_one(c)
    .await)
    .unwrap()
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back_and_frees_the_writer() {
    let (db, dir) = sqlite("dropped").await;
    let mut tx = db.begin_write().await.unwrap();
    on_db!(tx, |c| c.execute(FAILURE).await.map(drop)).unwrap();
    drop(tx);
    // The writer is free again once the rollback has run…
    let writer = tokio::time::timeout(Duration::from_secs(5), db.writer()).await;
    let mut writer = writer.expect("the writer freed").unwrap();
    // …and it is outside any transaction: this write commits by itself.
    on_db!(writer, |c| c.execute(FAILURE).await.map(drop)).unwrap();
    drop(writer);
    assert_eq!(rows(&db).await, 1, "only the write after the rollback");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_committed_transaction_keeps_its_writes() {
    let (db, dir) = sqlite("committed").await;
    let mut tx = db.begin_write().await.unwrap();
    on_db!(tx, |c| c.execute(FAILURE).await.map(drop)).unwrap();
    assert_eq!(rows(&db).await, 0, "not visible before the commit");
    tx.commit().await.unwrap();
    assert_eq!(rows(&db).await, 1);
    std::fs::remove_dir_all(dir).ok();
}
