//! Upgrading a database made by an earlier version: its data survives the
//! migrations that reshape tables.

use std::path::Path;
use std::str::FromStr;

use rocket::http::Status;
use serde_json::json;
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use leads::leads::Lead;
use leads::timestamp::Timestamp;

use crate::helpers::{Backend, TestApp, EDGE_TIMES};

/// The first migration that rebuilds the SQLite leads table.
const REBUILD: &str = "20261130000004";

/// SQLite's leads table is rebuilt to store each lead's JSON (`rendered`):
/// the rows keep their ids and fields, the stored JSON is serde's, and a
/// deleted lead's id is still never given again (AUTOINCREMENT).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_leads_rebuild_keeps_rows_ids_and_the_id_high_water_mark() {
    let dir = std::env::temp_dir().join(format!("leads-upgrade-{}", std::process::id()));
    let earlier = dir.join("migrations");
    std::fs::create_dir_all(&earlier).unwrap();
    for entry in std::fs::read_dir("migrations/sqlite").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < REBUILD {
            std::fs::copy(&path, earlier.join(name)).unwrap();
        }
    }
    let url = format!("sqlite://{}", dir.join("leads.db").display());
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let mut conn = options.connect().await.unwrap();
    Migrator::new(Path::new(&earlier))
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO users (id, username, username_key, password, date_joined)
         VALUES (1, 'old', 'old', '!', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for (i, created_at) in EDGE_TIMES.iter().enumerate() {
        sqlx::query(
            "INSERT INTO leads (name, email, email_key, message, search_key, owner_id, created_at)
             VALUES ($1, $2, $2, 'm', 'k', 1, $3)",
        )
        .bind(format!("Lead {i}"))
        .bind(format!("l{i}@example.com"))
        .bind(created_at)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM leads WHERE id = 4")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let app = TestApp::spawn_with(Backend::Sqlite, |figment| {
        figment.merge(("databases.leads.url", &url))
    })
    .await
    .unwrap();
    let mut conn = options.connect().await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar("SELECT rendered FROM leads ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let expected: Vec<String> = (0..3)
        .map(|i| {
            let lead = Lead {
                id: i as i64 + 1,
                name: format!("Lead {i}"),
                email: format!("l{i}@example.com"),
                message: "m".into(),
                created_at: Timestamp(EDGE_TIMES[i]),
                owner: 1,
            };
            serde_json::to_string(&lead).unwrap()
        })
        .collect();
    assert_eq!(rows, expected);
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads'
         AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [
            "leads_created_idx",
            "leads_email_idx",
            "leads_email_key_uq",
            "leads_message_idx",
            "leads_name_idx",
            "leads_owner_idx"
        ]
    );

    let (token, _) = app.register("alice").await;
    let lead = app.create_lead(&token, "New", "new@example.com").await;
    assert_eq!(lead["id"], 5, "id 4 was taken before the upgrade");
    let (status, list) = app.get("/api/leads/", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(list, json!([lead]));
    conn.close().await.unwrap();
    drop(app);
    std::fs::remove_dir_all(&dir).unwrap();
}
