//! The maintenance commands do what `leads --help` says they do:
//! `migrate`, `cleartokens`, `grant-staff` and `revoke-staff`.
//! (`createsuperuser` is in admin.rs, `backup` in backup.rs.)

use std::process::Output;

use rocket::http::{Method, Status};
use sqlx::Connection;

use crate::helpers::{leads_command, now_micros, Backend, FreshDatabase, TestApp, SECOND};
use crate::{app, on_both_backends};

on_both_backends!(
    migrate_creates_the_schema_and_is_idempotent,
    cleartokens_deletes_expired_tokens_and_old_failures_only,
    grant_and_revoke_staff_set_the_flag_and_name_unknown_users,
);

fn run(command: &mut std::process::Command) -> Output {
    command.output().expect("run the leads binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_describes_each_command() {
    let help = run(std::process::Command::new(env!("CARGO_BIN_EXE_leads")).arg("--help"));
    assert!(help.status.success());
    let help = stdout(&help);
    for (command, what) in [
        ("migrate", "Apply database migrations and exit"),
        (
            "cleartokens",
            "Delete expired tokens and login failures past the throttle window",
        ),
        ("grant-staff", "Give a user staff rights (the admin pages)"),
        ("revoke-staff", "Take a user's staff rights away"),
    ] {
        let line = help
            .lines()
            .find(|line| line.trim_start().starts_with(command))
            .unwrap_or_else(|| panic!("{command} not in\n{help}"));
        assert!(line.ends_with(what), "{line}");
    }
}

/// Migrations recorded as applied, read without starting the app (which
/// would migrate by itself).
async fn applied_migrations(database: &FreshDatabase) -> i64 {
    let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM _sqlx_migrations WHERE success";
    match database.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&database.url)
                .await
                .expect("the database file exists");
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&database.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
    }
}

async fn migrate_creates_the_schema_and_is_idempotent(backend: Backend) {
    let Some(database) = FreshDatabase::create(backend).await else {
        return;
    };
    let folder = match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let migrations = std::fs::read_dir(folder).unwrap().count() as i64;
    for _ in 0..2 {
        let migrated = run(&mut leads_command(&database.url, &["migrate"]));
        assert!(migrated.status.success(), "{}", stderr(&migrated));
        assert_eq!(stdout(&migrated), "Migrations applied.\n");
        assert_eq!(applied_migrations(&database).await, migrations);
    }
    // The schema is the app's: it starts on it and works.
    let app = TestApp::start(database, |figment| figment).await;
    let (token, _) = app.register("alice").await;
    app.create_lead(&token, "Lead", "lead@example.com").await;
}

async fn token_keys(app: &TestApp) -> Vec<String> {
    app.texts("SELECT token_key FROM auth_tokens ORDER BY token_key")
        .await
}

async fn cleartokens_deletes_expired_tokens_and_old_failures_only(backend: Backend) {
    let app = app!(backend);
    let (live, alice) = app.register("alice").await;
    let now = now_micros();
    app.insert_token("a", "expired00000001", alice, now - SECOND)
        .await;
    app.insert_token("b", "forever00000001", alice, now).await;
    app.execute("UPDATE auth_tokens SET expiry = NULL WHERE token_key = 'forever00000001'")
        .await;
    // The throttle window is 15 minutes by default.
    for (key, age) in [("old", 16 * 60), ("recent", 60)] {
        app.execute(&format!(
            "INSERT INTO login_failures (client_ip, username_key, failed_at)
             VALUES ('192.0.2.1', '{key}', {})",
            now - age * SECOND
        ))
        .await;
    }

    let cleared = run(&mut app.leads_command(&["cleartokens"]));
    assert!(cleared.status.success(), "{}", stderr(&cleared));
    assert_eq!(
        stdout(&cleared),
        "Deleted 1 expired token(s) and 1 old login failure(s).\n"
    );
    let mut kept = vec![live[..15].to_owned(), "forever00000001".to_owned()];
    kept.sort();
    assert_eq!(token_keys(&app).await, kept);
    let failures = app.texts("SELECT username_key FROM login_failures").await;
    assert_eq!(failures, ["recent"]);
    let (status, _) = app.get("/api/auth/user", Some(&live)).await;
    assert_eq!(status, Status::Ok);

    let again = run(&mut app.leads_command(&["cleartokens"]));
    assert_eq!(
        stdout(&again),
        "Deleted 0 expired token(s) and 0 old login failure(s).\n"
    );
    assert_eq!(token_keys(&app).await, kept);
}

async fn admin_status(app: &TestApp, token: &str) -> Status {
    let authorization = format!("Token {token}");
    app.send(
        Method::Get,
        "/admin/leads",
        &[("Authorization", &authorization)],
        None,
    )
    .await
    .status
}

async fn staff(app: &TestApp) -> Vec<String> {
    app.texts("SELECT username FROM users WHERE is_staff ORDER BY username")
        .await
}

async fn grant_and_revoke_staff_set_the_flag_and_name_unknown_users(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    app.register("bob").await;
    assert_eq!(admin_status(&app, &alice).await, Status::Forbidden);

    // Usernames are matched in any case, as at login.
    let granted = run(&mut app.leads_command(&["grant-staff", "ALICE"]));
    assert!(granted.status.success(), "{}", stderr(&granted));
    assert_eq!(stdout(&granted), "ALICE is now staff.\n");
    assert_eq!(staff(&app).await, ["alice"]);
    assert_eq!(admin_status(&app, &alice).await, Status::Ok);

    let revoked = run(&mut app.leads_command(&["revoke-staff", "alice"]));
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(stdout(&revoked), "alice is no longer staff.\n");
    assert!(staff(&app).await.is_empty());
    // Taken away at once, from the sessions already open too.
    assert_eq!(admin_status(&app, &alice).await, Status::Forbidden);

    for command in ["grant-staff", "revoke-staff"] {
        let unknown = run(&mut app.leads_command(&[command, "nobody"]));
        assert_eq!(unknown.status.code(), Some(1), "{command}");
        assert_eq!(stderr(&unknown), "leads: no such user\n", "{command}");
        assert_eq!(stdout(&unknown), "", "{command}");
    }
    assert!(staff(&app).await.is_empty());
}
