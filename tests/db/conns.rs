//! Our connection pool against a real PostgreSQL: reuse without a check,
//! the stale ping, the failure epoch, the lifetime, the checkout timeout.

use std::str::FromStr;
use std::time::Duration;

use leads::db::{ConnPool, Recycle};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use crate::suite_env::{pg_admin_url, pg_unreachable, require_postgres_selected};

/// The PostgreSQL server the tests use, or `None` (a skip) when it is
/// unreachable outside CI.
async fn pg_options() -> Option<PgConnectOptions> {
    require_postgres_selected();
    let options = PgConnectOptions::from_str(&pg_admin_url()).expect("a PostgreSQL URL");
    match options.connect().await {
        Ok(conn) => {
            conn.close().await.ok();
            Some(options)
        }
        Err(e) => {
            pg_unreachable(e);
            None
        }
    }
}

fn pool(options: PgConnectOptions, recycle: Recycle) -> ConnPool<PgConnection> {
    ConnPool::new(options, 1, Duration::from_secs(5), recycle)
}

async fn backend_pid(pool: &ConnPool<PgConnection>) -> Result<i32, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
}

/// Ends the server process behind a connection, as a restart would.
async fn kill(options: &PgConnectOptions, pid: i32) {
    let mut admin = options.connect().await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.ok();
    // The backend is gone once it no longer shows.
    for _ in 0..100 {
        let mut admin = options.connect().await.unwrap();
        let alive: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                .bind(pid)
                .fetch_one(&mut admin)
                .await
                .unwrap();
        admin.close().await.ok();
        if !alive {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("backend {pid} did not end");
}

#[tokio::test]
async fn a_connection_is_reused_without_a_check_until_it_may_be_stale() {
    let Some(options) = pg_options().await else {
        return;
    };
    let pool = pool(options.clone(), Recycle::default());
    let first = backend_pid(&pool).await.unwrap();
    assert_eq!(
        backend_pid(&pool).await.unwrap(),
        first,
        "the same connection"
    );
    // Never checked: a dead connection is handed out as it is.
    kill(&options, first).await;
    assert!(backend_pid(&pool).await.is_err());
}

#[tokio::test]
async fn an_idle_connection_is_pinged_and_a_dead_one_replaced() {
    let Some(options) = pg_options().await else {
        return;
    };
    let recycle = Recycle {
        verify_after: Some(Duration::ZERO),
        max_lifetime: None,
    };
    let pool = pool(options.clone(), recycle);
    let first = backend_pid(&pool).await.unwrap();
    assert_eq!(backend_pid(&pool).await.unwrap(), first, "alive: kept");
    kill(&options, first).await;
    let second = backend_pid(&pool).await.expect("a new connection");
    assert_ne!(second, first);
}

#[tokio::test]
async fn a_noted_failure_gets_every_idle_connection_checked() {
    let Some(options) = pg_options().await else {
        return;
    };
    let recycle = Recycle {
        verify_after: Some(Duration::from_secs(3600)),
        max_lifetime: None,
    };
    let pool = pool(options.clone(), recycle);
    let first = backend_pid(&pool).await.unwrap();
    kill(&options, first).await;
    pool.note_failure();
    let second = backend_pid(&pool).await.expect("a new connection");
    assert_ne!(second, first);
    // Checked once per failure: the next checkout takes it unchecked.
    kill(&options, second).await;
    assert!(backend_pid(&pool).await.is_err());
}

#[tokio::test]
async fn a_connection_past_its_lifetime_is_replaced() {
    let Some(options) = pg_options().await else {
        return;
    };
    let recycle = Recycle {
        verify_after: None,
        max_lifetime: Some(Duration::from_millis(50)),
    };
    let pool = pool(options, recycle);
    let first = backend_pid(&pool).await.unwrap();
    assert_eq!(backend_pid(&pool).await.unwrap(), first, "young: kept");
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_ne!(backend_pid(&pool).await.unwrap(), first);
}

#[tokio::test]
async fn checkouts_wait_for_a_free_connection_up_to_the_timeout() {
    let Some(options) = pg_options().await else {
        return;
    };
    let pool =
        ConnPool::<PgConnection>::new(options, 1, Duration::from_millis(100), Recycle::default());
    let held = pool.acquire().await.unwrap();
    assert!(matches!(
        pool.acquire().await.err(),
        Some(sqlx::Error::PoolTimedOut)
    ));
    drop(held);
    assert!(pool.acquire().await.is_ok());
    pool.close().await;
    assert!(matches!(
        pool.acquire().await.err(),
        Some(sqlx::Error::PoolClosed)
    ));
}
