//! Upgrading a database made by an earlier version: every user, token and
//! lead survives the migrations since, and reads back through the API.

use std::path::Path;

use argon2::password_hash::{PasswordHasher, SaltString};
use rocket::http::Status;
use serde_json::json;
use sha2::{Digest, Sha512};
use sqlx::migrate::Migrator;
use sqlx::Connection;

use crate::helpers::{now_micros, Backend, FreshDatabase, TestApp, EDGE_TIMES, PASSWORD};
use crate::on_both_backends;

on_both_backends!(a_database_of_8d261b9_upgrades_with_every_user_token_and_lead);

/// The first migration after 8d261b9, the last release that stored each
/// lead's JSON in the database.
const AFTER_8D261B9: &str = "20261207000005";

/// A copy of this backend's migrations up to 8d261b9, in a folder of its own.
fn migrations_of_8d261b9(backend: Backend) -> std::path::PathBuf {
    let source = match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let folder = std::env::temp_dir().join(format!(
        "leads-migrations-{backend:?}-{}",
        leads::auth::token::random_hex(6)
    ));
    std::fs::create_dir_all(&folder).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < AFTER_8D261B9 {
            std::fs::copy(&path, folder.join(name)).unwrap();
        }
    }
    folder
}

async fn a_database_of_8d261b9_upgrades_with_every_user_token_and_lead(backend: Backend) {
    let Some(database) = FreshDatabase::create(backend).await else {
        return;
    };
    let folder = migrations_of_8d261b9(backend);
    let old = Migrator::new(Path::new(&folder)).await.unwrap();
    // The migrator holds them now.
    std::fs::remove_dir_all(&folder).unwrap();
    let hash = argon2::Argon2::default()
        .hash_password(
            PASSWORD.as_bytes(),
            &SaltString::generate(&mut rand::rngs::OsRng),
        )
        .unwrap()
        .to_string();
    let token = "ab".repeat(32);
    let digest = format!("{:x}", Sha512::digest(token.as_bytes()));
    let now = now_micros();
    let statements: Vec<String> = [
        format!(
            "INSERT INTO users (id, username, username_key, email, password, is_staff, date_joined, last_login)
             VALUES (7, 'Zoë', 'zoë', 'zoe@example.com', '{hash}', TRUE, {now}, {now})"
        ),
        format!(
            "INSERT INTO auth_tokens (digest, token_key, user_id, created, expiry, last_used, client)
             VALUES ('{digest}', '{}', 7, {now}, {}, {now}, 'curl/8.5')",
            &token[..15],
            now + 3_600_000_000
        ),
    ]
    .into_iter()
    .chain(EDGE_TIMES.iter().enumerate().map(|(i, created_at)| {
        format!(
            "INSERT INTO leads (id, name, email, email_key, message, search_key, owner_id, created_at)
             VALUES ({id}, 'Lead “{i}”', 'L{i}@Example.com', 'l{i}@example.com', 'Line\nbreak {i}',
                     'lead “{i}” l{i}@example.com line\nbreak {i}', 7, {created_at})",
            id = i + 1
        )
    }))
    .chain(["DELETE FROM leads WHERE id = 4".to_owned()])
    .collect();
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&format!("{}?mode=rwc", database.url))
                .await
                .unwrap();
            old.run(&mut conn).await.unwrap();
            for statement in &statements {
                sqlx::query(statement).execute(&mut conn).await.unwrap();
            }
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&database.url).await.unwrap();
            old.run(&mut conn).await.unwrap();
            for statement in &statements {
                sqlx::query(statement).execute(&mut conn).await.unwrap();
            }
            // An identity column goes on from the largest id it gave, not
            // from ids given explicitly: as an old server would have left it.
            sqlx::query("SELECT setval(pg_get_serial_sequence('leads', 'id'), 4)")
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
    }

    let app = TestApp::start(database, |figment| figment).await;
    let (status, user) = app.get("/api/auth/user", Some(&token)).await;
    assert_eq!(status, Status::Ok, "{user}");
    assert_eq!(
        user,
        json!({"id": 7, "username": "Zoë", "email": "zoe@example.com"})
    );
    let (status, tokens) = app.get("/api/auth/tokens", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(tokens[0]["token_key"], &token[..15]);
    assert_eq!(tokens[0]["client"], "curl/8.5");

    let (status, leads) = app.get("/api/leads/", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        leads,
        json!([
            {"id": 1, "name": "Lead “0”", "email": "L0@Example.com", "message": "Line\nbreak 0",
             "created_at": "0001-01-01T00:00:00.000000Z", "owner": 7},
            {"id": 2, "name": "Lead “1”", "email": "L1@Example.com", "message": "Line\nbreak 1",
             "created_at": "1969-12-31T23:59:59.999999Z", "owner": 7},
            {"id": 3, "name": "Lead “2”", "email": "L2@Example.com", "message": "Line\nbreak 2",
             "created_at": "1970-01-01T00:00:00.000000Z", "owner": 7},
        ])
    );
    // The password still logs in; new leads and edits work on the new schema.
    let fresh = app.login("Zoë").await;
    let lead = app.create_lead(&fresh, "New", "new@example.com").await;
    assert_eq!(lead["id"], 5, "id 4 was given before the upgrade");
    // Search still finds the old leads, and their emails are still taken.
    let (_, found) = app
        .get(
            "/api/leads/?search=LINE%20%E2%80%9C1%E2%80%9D",
            Some(&token),
        )
        .await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let (status, body) = app
        .post(
            "/api/leads/",
            Some(&token),
            json!({"name": "Again", "email": "l0@EXAMPLE.com", "message": "m"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest, "{body}");
    let (status, edited) = app
        .patch("/api/leads/2/", Some(&fresh), json!({"name": "Renamed"}))
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(edited["name"], "Renamed");

    let leftovers = match backend {
        Backend::Sqlite => {
            app.scalar("SELECT COUNT(*) FROM pragma_table_xinfo('leads') WHERE name = 'rendered'")
                .await
        }
        Backend::Postgres => {
            app.scalar(
                "SELECT COUNT(*) FROM information_schema.columns
                 WHERE table_name = 'leads' AND column_name = 'rendered'",
            )
            .await
                + app
                    .scalar("SELECT COUNT(*) FROM pg_proc WHERE proname = 'leads_render'")
                    .await
        }
    };
    assert_eq!(leftovers, 0, "the stored JSON and its function are gone");
}
