//! 401s with `WWW-Authenticate`: every token endpoint without credentials or
//! with an invalid token (register and login too), and the Authorization
//! header parsed as Knox does.

use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::errors_common::{
    assert_unauthorized, call_json, count, stored, JSON, NOT_PROVIDED, NO_CREDENTIALS,
};
use crate::helpers::{forged, Backend, INVALID_TOKEN, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(
    token_endpoints_without_credentials_are_401_with_www_authenticate,
    an_invalid_token_is_401_everywhere_even_on_register_and_login,
    authorization_header_is_parsed_as_knox_does,
);

const CONTAINS_SPACES: &str = "Invalid token header. Token string should not contain spaces.";

/// Every endpoint that needs a token, `lead` being an existing lead's id.
fn token_endpoints(lead: &Value) -> Vec<(Method, String)> {
    let item = format!("/api/leads/{lead}");
    vec![
        (Method::Get, "/api/leads".into()),
        (Method::Post, "/api/leads".into()),
        (Method::Options, "/api/leads".into()),
        (Method::Get, item.clone()),
        (Method::Put, item.clone()),
        (Method::Patch, item.clone()),
        (Method::Delete, item),
        (Method::Get, "/api/auth/user".into()),
        (Method::Get, "/api/user".into()),
        (Method::Post, "/api/auth/logout".into()),
        (Method::Post, "/api/auth/logoutall".into()),
        (Method::Get, "/api/auth/tokens".into()),
        (Method::Delete, "/api/auth/tokens/0123456789abcde".into()),
    ]
}

async fn token_endpoints_without_credentials_are_401_with_www_authenticate(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let body = br#"{"name": "Zed", "email": "zed@example.com", "message": "x"}"#;
    for (method, path) in token_endpoints(&lead["id"]) {
        for path in [path.clone(), format!("{path}/")] {
            let context = format!("{method} {path}");
            let reply = app.send(method, &path, &[], None).await;
            assert_unauthorized(&reply, NOT_PROVIDED, &context);
            let reply = call_json(&app, method, &path, None, body).await;
            assert_unauthorized(&reply, NOT_PROVIDED, &context);
        }
    }
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(count(&app, "auth_tokens").await, 1);
    assert_eq!(
        stored(&app, &lead["id"]).await,
        ["Ann | ann@example.com | Hello"]
    );
}

async fn an_invalid_token_is_401_everywhere_even_on_register_and_login(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let mut endpoints = token_endpoints(&lead["id"]);
    endpoints.push((Method::Post, "/api/auth/register".into()));
    endpoints.push((Method::Post, "/api/auth/login".into()));
    let bad_tokens = [
        "0".repeat(64),
        // The right token_key, the wrong rest.
        forged(&alice),
        format!("{alice}0"),
        alice[..63].to_owned(),
        alice.to_uppercase(),
        "x".into(),
    ];
    let register = json!({"username": "mallory", "email": "m@example.com", "password": PASSWORD});
    let login = json!({"username": "alice", "password": PASSWORD});
    for (method, path) in &endpoints {
        let body = match path.as_str() {
            "/api/auth/register" => register.to_string(),
            "/api/auth/login" => login.to_string(),
            _ => json!({"name": "Zed", "email": "zed@example.com", "message": "x"}).to_string(),
        };
        for token in &bad_tokens {
            let reply = call_json(&app, *method, path, Some(token), &body).await;
            assert_unauthorized(&reply, INVALID_TOKEN, &format!("{method} {path} {token}"));
        }
    }
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "auth_tokens").await, 1);
    assert_eq!(count(&app, "leads").await, 1);
    // The real token is untouched.
    let (status, body) = app.get("/api/auth/user", Some(&alice)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["username"], "alice");
}

async fn authorization_header_is_parsed_as_knox_does(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    for header in [
        format!("Token {alice}"),
        format!("token {alice}"),
        format!("TOKEN {alice}"),
        format!("ToKeN {alice}"),
        format!("Bearer {alice}"),
        format!("bearer {alice}"),
        format!("BEARER {alice}"),
        format!("Token   {alice}  "),
        format!("Token\t{alice}"),
    ] {
        let reply = app
            .send(
                Method::Get,
                "/api/leads/",
                &[("Authorization", &header)],
                None,
            )
            .await;
        assert_eq!(
            (reply.status, reply.body),
            (Status::Ok, json!([])),
            "{header}"
        );
    }
    for (header, detail) in [
        ("Token".to_owned(), NO_CREDENTIALS),
        ("token   ".to_owned(), NO_CREDENTIALS),
        ("Bearer".to_owned(), NO_CREDENTIALS),
        ("Token a b".to_owned(), CONTAINS_SPACES),
        (format!("Token {alice} extra"), CONTAINS_SPACES),
        (format!("Bearer {alice} {alice}"), CONTAINS_SPACES),
        // Other schemes are not ours to judge: no credentials at all.
        ("Basic xyz".to_owned(), NOT_PROVIDED),
        (format!("Basic {alice}"), NOT_PROVIDED),
        (format!("Tokens {alice}"), NOT_PROVIDED),
        (format!("Token{alice}"), NOT_PROVIDED),
        (String::new(), NOT_PROVIDED),
        ("   ".to_owned(), NOT_PROVIDED),
    ] {
        let reply = app
            .send(
                Method::Get,
                "/api/leads/",
                &[("Authorization", &header)],
                None,
            )
            .await;
        assert_unauthorized(&reply, detail, &format!("{header:?}"));
    }

    // On the public endpoints a malformed header of our scheme is refused too,
    // while another scheme is simply anonymous.
    let register = |username: &str| {
        json!({"username": username, "email": "", "password": PASSWORD}).to_string()
    };
    for (header, detail) in [("Token", NO_CREDENTIALS), ("Token a b", CONTAINS_SPACES)] {
        for path in ["/api/auth/register", "/api/auth/login"] {
            let reply = app
                .send(
                    Method::Post,
                    path,
                    &[("Content-Type", JSON), ("Authorization", header)],
                    Some(register("bob").as_bytes()),
                )
                .await;
            assert_unauthorized(&reply, detail, &format!("{path} {header}"));
        }
    }
    assert_eq!(count(&app, "users").await, 1);
    let reply = app
        .send(
            Method::Post,
            "/api/auth/register",
            &[("Content-Type", JSON), ("Authorization", "Basic xyz")],
            Some(register("bob").as_bytes()),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.body);
    assert_eq!(reply.body["user"]["username"], "bob");
    assert_eq!(count(&app, "users").await, 2);
}
