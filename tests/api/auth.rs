//! Register, login, logout, logoutall, the current user, and token listing.

use rocket::http::Status;
use serde_json::json;

use crate::helpers::{Backend, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(
    register_answers_user_token_and_expiry,
    login_issues_a_new_token_and_keeps_the_old_one,
);

async fn register_answers_user_token_and_expiry(backend: Backend) {
    let app = app!(backend);
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["user", "token", "expiry"]);
    assert_eq!(
        body["user"],
        json!({"id": body["user"]["id"], "username": "alice", "email": "alice@example.com"})
    );
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(token
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let expiry = body["expiry"].as_str().unwrap();
    assert_eq!(expiry.len(), "2026-11-29T11:03:18.736308Z".len());
    assert!(expiry.ends_with('Z'));
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        1
    );
}

async fn login_issues_a_new_token_and_keeps_the_old_one(backend: Backend) {
    let app = app!(backend);
    let (first, _) = app.register("bob").await;
    let second = app.login("BOB").await;
    assert_ne!(first, second);
    for token in [&first, &second] {
        let (status, body) = app.get("/api/auth/user", Some(token)).await;
        assert_eq!(status, Status::Ok);
        assert_eq!(body["username"], "bob");
    }
}
