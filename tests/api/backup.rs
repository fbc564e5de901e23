//! `leads backup PATH`: a consistent snapshot of a live SQLite database.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;
use std::time::Instant;

use sqlx::{Connection, SqliteConnection};

use crate::helpers::{Backend, TestApp};

fn run_leads(app: &TestApp, args: &[&str]) -> Output {
    app.leads_command(args)
        .output()
        .expect("run the leads binary")
}

/// Leads in the database before the backup: enough (20 MB) that copying
/// them takes a while, so that writes land while it runs.
const BEFORE: i64 = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_snapshots_a_live_sqlite_database() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (token, owner) = app.register("alice").await;
    app.execute(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {BEFORE}) \
         INSERT INTO leads (name, email, email_key, message, search_key, owner_id, created_at) \
         SELECT 'Ann', 'before' || i || '@example.com', 'before' || i || '@example.com', \
                printf('%.1000c', 'x'), 'ann', {owner}, 0 FROM n"
    ))
    .await;
    let dir = tempdir();
    let target = dir.join("snapshot.db");
    let target_arg = target.to_str().unwrap().to_owned();

    let mut command = app.leads_command(&["backup", &target_arg]);
    let backup = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let output = command.output().expect("run the leads binary");
        (started, output, Instant::now())
    });
    // A writer creates leads one after another until the backup is done,
    // noting when each was stored.
    let mut stored = Vec::new();
    while !backup.is_finished() {
        let email = format!("during{}@example.com", stored.len());
        app.create_lead(&token, "Bob", &email).await;
        stored.push(Instant::now());
    }
    let (started, output, ended) = backup.await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Wrote a snapshot"));
    let stored_before = stored.iter().filter(|t| **t < started).count();
    let stored_by_end = stored.iter().filter(|t| **t < ended).count();
    assert!(
        stored_by_end > stored_before,
        "no write landed while the backup ran ({stored_before} before it, {} in all)",
        stored.len()
    );
    // Nothing was lost on the live database.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM leads").await,
        BEFORE + stored.len() as i64
    );

    let mut copy = SqliteConnection::connect(&format!("sqlite://{}?mode=ro", target_arg))
        .await
        .expect("open the snapshot");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let copied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leads WHERE email LIKE 'before%'")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(copied, BEFORE);
    // The database at one moment: the writer's leads up to some point, no
    // later one without every earlier one.
    let during: Vec<String> =
        sqlx::query_scalar("SELECT email FROM leads WHERE email LIKE 'during%' ORDER BY id")
            .fetch_all(&mut copy)
            .await
            .unwrap();
    let moment = during.len();
    let prefix: Vec<String> = (0..moment)
        .map(|n| format!("during{n}@example.com"))
        .collect();
    assert_eq!(during, prefix, "the writes in the snapshot");
    assert!(
        (stored_before..=stored_by_end).contains(&moment),
        "the snapshot holds {moment} of the writes; {stored_before} were stored \
         before the backup started, {stored_by_end} before it ended"
    );
    // Writers were not held off: some writes stored before the backup
    // ended came after the moment it copied.
    assert!(
        moment < stored_by_end,
        "every write stored during the backup is in it ({moment})"
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
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the snapshot is owner-only: {mode:o}");

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
