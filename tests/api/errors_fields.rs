//! Field errors on every endpoint that takes a body: values of the wrong JSON
//! type, and NUL characters in registration and login.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::errors_common::{call_json, count, stored};
use crate::helpers::{Backend, NOT_A_STRING, NULL, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(
    wrong_types_are_field_errors_on_every_endpoint,
    null_characters_are_field_errors_on_register_and_login,
);

const NULL_CHARACTERS: &str = "Null characters are not allowed.";

async fn wrong_types_are_field_errors_on_every_endpoint(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}/", lead["id"]);
    let endpoints = [
        (
            Method::Post,
            "/api/auth/register",
            None,
            json!({"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}),
        ),
        (
            Method::Post,
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": PASSWORD}),
        ),
        (
            Method::Post,
            "/api/leads/",
            Some(alice.as_str()),
            json!({"name": "Zed", "email": "zed@example.com", "message": "x"}),
        ),
        (
            Method::Put,
            item.as_str(),
            Some(alice.as_str()),
            json!({"name": "Zed", "email": "zed@example.com", "message": "x"}),
        ),
        (
            Method::Patch,
            item.as_str(),
            Some(alice.as_str()),
            json!({"name": "Zed", "email": "zed@example.com", "message": "x"}),
        ),
    ];
    for (method, path, token, valid) in &endpoints {
        for field in valid.as_object().unwrap().keys() {
            for (value, message) in [
                (json!(true), NOT_A_STRING),
                (json!(false), NOT_A_STRING),
                (json!([]), NOT_A_STRING),
                (json!(["alice"]), NOT_A_STRING),
                (json!({}), NOT_A_STRING),
                (json!({"k": "v"}), NOT_A_STRING),
                (json!(null), NULL),
            ] {
                let mut body = valid.clone();
                body[field] = value;
                let reply = call_json(&app, *method, path, *token, body.to_string()).await;
                let context = format!("{method} {path} {body}");
                assert_eq!(
                    reply.status,
                    Status::BadRequest,
                    "{context}: {}",
                    reply.body
                );
                assert_eq!(reply.body, json!({ field: [message] }), "{context}");
            }
        }
    }
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "auth_tokens").await, 1);
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(
        stored(&app, &lead["id"]).await,
        ["Ann | ann@example.com | Hello"]
    );
}

async fn null_characters_are_field_errors_on_register_and_login(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "bob", "email": "bob@example.com", "password": "correct-Horse\u{0}battery-9"}),
        )
        .await;
    assert_eq!(
        (status, body),
        (Status::BadRequest, json!({"password": [NULL_CHARACTERS]}))
    );
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "b\u{0}b", "email": "bob@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert!(
        body["username"]
            .as_array()
            .is_some_and(|errors| errors.contains(&json!(NULL_CHARACTERS))),
        "{body}"
    );
    for login in [
        json!({"username": "alice\u{0}", "password": PASSWORD}),
        json!({"username": "\u{0}", "password": "\u{0}"}),
    ] {
        let (status, body) = app.post("/api/auth/login", None, login.clone()).await;
        assert_eq!(status, Status::BadRequest, "{login}");
        let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert!(!fields.is_empty(), "{body}");
        for field in fields {
            assert_eq!(body[field], json!([NULL_CHARACTERS]), "{login}");
        }
    }
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "auth_tokens").await, 1);

    // The client label is free text: control characters are dropped from it.
    let (status, body) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": PASSWORD, "client": "my\u{0}phone\u{7}"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(
        app.texts("SELECT client FROM auth_tokens ORDER BY created DESC")
            .await[0],
        "myphone"
    );
}
