//! What reaches the database: digests and argon2id hashes, never a
//! plaintext token or password (SPEC §1, §2, §5).

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rocket::http::{Method, Status};
use serde_json::json;
use sha2::{Digest, Sha512};

use crate::helpers::{Backend, TestApp, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(
    tables_hold_no_plaintext_token_or_password,
    prefixed_tokens_are_not_stored_either,
    passwords_are_argon2id_phc_strings,
    connections_carry_the_pools_settings,
);

/// Every text cell of the three tables.
const TEXT_CELLS: &str = "SELECT digest FROM auth_tokens
    UNION ALL SELECT token_key FROM auth_tokens
    UNION ALL SELECT client FROM auth_tokens
    UNION ALL SELECT username FROM users
    UNION ALL SELECT email FROM users
    UNION ALL SELECT password FROM users
    UNION ALL SELECT name FROM leads
    UNION ALL SELECT email FROM leads
    UNION ALL SELECT message FROM leads";

fn sha512_hex(token: &str) -> String {
    format!("{:x}", Sha512::digest(token.as_bytes()))
}

/// Registers, logs in several times (with client labels), uses the tokens,
/// logs out and logs out everywhere; returns every token issued.
async fn issue_and_revoke_tokens(app: &TestApp) -> Vec<String> {
    let (alice, _) = app.register("alice").await;
    let mut issued = vec![alice.clone()];
    for client in ["laptop", "phone", "script"] {
        let (status, body) = app
            .post(
                "/api/auth/login",
                None,
                json!({"username": "alice", "password": PASSWORD, "client": client}),
            )
            .await;
        assert_eq!(status, Status::Ok);
        issued.push(body["token"].as_str().unwrap().to_owned());
    }
    app.create_lead(&alice, "Lead", "lead@example.com").await;
    let (status, _) = app
        .request(Method::Post, "/api/auth/logout", Some(&issued[1]), None)
        .await;
    assert_eq!(status, Status::NoContent);

    let (bob, _) = app.register("bob").await;
    let bob_again = app.login("bob").await;
    let (status, _) = app
        .request(Method::Post, "/api/auth/logoutall", Some(&bob_again), None)
        .await;
    assert_eq!(status, Status::NoContent);
    issued.extend([bob, bob_again]);
    for token in &issued {
        // Use each one, so that any write on authentication happens too.
        app.get("/api/auth/user", Some(token)).await;
    }
    issued
}

async fn assert_no_secret_stored(app: &TestApp, issued: &[String]) {
    let cells = app.texts(TEXT_CELLS).await;
    // 3 live tokens x 3 columns, 2 users x 3 columns, 1 lead x 3 columns.
    assert_eq!(cells.len(), 3 * 3 + 2 * 3 + 3, "{cells:?}");
    for token in issued {
        for cell in &cells {
            assert!(!cell.contains(token.as_str()), "token stored: {cell}");
            assert!(!cell.contains(&token[..20]), "token stored: {cell}");
        }
    }
    for cell in &cells {
        assert!(!cell.contains(PASSWORD), "password stored: {cell}");
    }

    // The live tokens are stored as their SHA-512 digest and first 15 characters.
    let live = [&issued[0], &issued[2], &issued[3]];
    for token in live {
        let digests = app
            .texts(&format!(
                "SELECT digest FROM auth_tokens WHERE token_key = '{}'",
                &token[..15]
            ))
            .await;
        assert_eq!(digests, [sha512_hex(token)]);
    }
    let digests = app.texts("SELECT digest FROM auth_tokens").await;
    assert_eq!(digests.len(), live.len());
    for digest in digests {
        assert_eq!(digest.len(), 128);
        assert!(digest
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    // SQLite: not in the database file or its write-ahead log either.
    if app.backend == Backend::Sqlite {
        let file = app.db_url.strip_prefix("sqlite://").unwrap();
        let folder = std::path::Path::new(file).parent().unwrap();
        let mut scanned = 0;
        for entry in std::fs::read_dir(folder).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            scanned += bytes.len();
            for secret in issued.iter().map(|token| &token[..20]).chain([PASSWORD]) {
                assert!(
                    !bytes
                        .windows(secret.len())
                        .any(|window| window == secret.as_bytes()),
                    "{secret} found on disk"
                );
            }
        }
        assert!(scanned > 0);
    }
}

async fn tables_hold_no_plaintext_token_or_password(backend: Backend) {
    let app = app!(backend);
    let issued = issue_and_revoke_tokens(&app).await;
    assert_no_secret_stored(&app, &issued).await;
}

async fn prefixed_tokens_are_not_stored_either(backend: Backend) {
    let app = app!(backend, |figment| figment.merge(("token_prefix", "lds_")));
    let issued = issue_and_revoke_tokens(&app).await;
    assert!(issued.iter().all(|token| token.starts_with("lds_")));
    assert_no_secret_stored(&app, &issued).await;
}

async fn passwords_are_argon2id_phc_strings(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    app.register("bob").await;
    let hashes = app.texts("SELECT password FROM users ORDER BY id").await;
    assert_eq!(hashes.len(), 2);
    for hash in &hashes {
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let parsed = PasswordHash::new(hash).expect("a PHC string");
        assert!(Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"another-Password-1", &parsed)
            .is_err());
    }
    // Same password, different salts.
    assert_ne!(hashes[0], hashes[1]);
}

/// What every pooled connection is opened with: SQLite in WAL mode with
/// foreign keys on; PostgreSQL with generic plans for prepared statements
/// (no re-planning on every run for a skewed owner) and no merge joins (no
/// index read from its start for a user newer than the statistics; see
/// `db/pool.rs`).
async fn connections_carry_the_pools_settings(backend: Backend) {
    let app = app!(backend);
    match backend {
        Backend::Sqlite => {
            assert_eq!(app.texts("PRAGMA journal_mode").await, ["wal"]);
            assert_eq!(app.scalar("PRAGMA foreign_keys").await, 1);
        }
        Backend::Postgres => {
            assert_eq!(
                app.texts("SHOW plan_cache_mode").await,
                ["force_generic_plan"]
            );
            assert_eq!(app.texts("SHOW enable_mergejoin").await, ["off"]);
        }
    }
}

/// The app's backends on the test database, seen from another connection.
async fn app_backends(app: &TestApp) -> Vec<String> {
    app.texts(
        "SELECT pid::text FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await
}

/// A PostgreSQL connection older than `databases.leads.max_lifetime` is
/// closed at its next checkout and a new one opened, so that its plans are
/// made again (see `db/pool.rs`); by default (30 minutes) it is reused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_are_replaced_after_their_lifetime() {
    for lifetime in [Some(1), None] {
        let app = app!(Backend::Postgres, |figment| match lifetime {
            Some(seconds) => figment.merge(("databases.leads.max_lifetime", seconds)),
            None => figment,
        });
        assert_eq!(app.get("/healthz", None).await.0, Status::Ok);
        let before = app_backends(&app).await;
        assert!(!before.is_empty(), "the app holds a connection");
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(app.get("/healthz", None).await.0, Status::Ok);

        // A closed backend leaves pg_stat_activity a moment later.
        let mut after = app_backends(&app).await;
        for _ in 0..50 {
            let kept = before.iter().any(|pid| after.contains(pid));
            if kept == lifetime.is_none() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            after = app_backends(&app).await;
        }
        if lifetime.is_some() {
            assert!(
                before.iter().all(|pid| !after.contains(pid)),
                "replaced: {before:?} then {after:?}"
            );
            assert!(!after.is_empty(), "a new connection serves");
        } else {
            assert!(
                before.iter().any(|pid| after.contains(pid)),
                "reused: {before:?} then {after:?}"
            );
        }
    }
}
