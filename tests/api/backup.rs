//! `leads backup PATH`: a consistent snapshot of a live SQLite database.

use std::process::Output;

use sqlx::{Connection, SqliteConnection};

use crate::helpers::{Backend, TestApp};

fn run_leads(app: &TestApp, args: &[&str]) -> Output {
    app.leads_command(args)
        .output()
        .expect("run the leads binary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_snapshots_a_live_sqlite_database() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (token, _) = app.register("alice").await;
    for n in 0..20 {
        app.create_lead(&token, "Ann", &format!("before{n}@example.com"))
            .await;
    }
    let dir = tempdir();
    let target = dir.join("snapshot.db");
    let target_arg = target.to_str().unwrap().to_owned();

    // Writes go on while the backup runs.
    let writer = async {
        for n in 0..40 {
            app.create_lead(&token, "Bob", &format!("during{n}@example.com"))
                .await;
        }
    };
    let backup = {
        let app = &app;
        let target_arg = target_arg.clone();
        async move {
            let args = ["backup", target_arg.as_str()];
            tokio::task::block_in_place(|| run_leads(app, &args))
        }
    };
    let (_, output) = tokio::join!(writer, backup);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Wrote a snapshot"));

    let mut copy = SqliteConnection::connect(&format!("sqlite://{}?mode=ro", target_arg))
        .await
        .expect("open the snapshot");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let lead_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leads")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert!(
        (20..=60).contains(&lead_count),
        "{lead_count} leads in the snapshot"
    );
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(users, 1);
    assert!(
        !dir.join("snapshot.db-wal").exists(),
        "a self-contained file"
    );

    // An existing file is never overwritten.
    let again = run_leads(&app, &["backup", &target_arg]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_refuses_postgresql_and_points_to_pg_dump() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let dir = tempdir();
    let target = dir.join("snapshot.db");
    let output = run_leads(&app, &["backup", target.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
    assert!(!target.exists());
    let _ = std::fs::remove_dir_all(dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "leads-backup-{}",
        leads::auth::token::random_hex(8)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
