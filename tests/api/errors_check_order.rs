//! 405 with `Allow`, and DRF's order of checks: authentication, then the
//! method, then the object lookup, then the body, then validation.

use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::errors_common::{
    assert_unauthorized, call_json, count, stored, JSON, MIB, NOT_PROVIDED, NO_CREDENTIALS,
};
use crate::helpers::{not_found, Backend, INVALID_TOKEN};
use crate::{app, on_both_backends};

on_both_backends!(
    unsupported_methods_are_405_with_allow,
    authentication_comes_before_the_method_check,
    object_lookup_comes_before_the_body_and_the_body_before_validation,
);

async fn unsupported_methods_are_405_with_allow(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}", lead["id"]);
    let leads_allow = "GET, POST, HEAD, OPTIONS";
    let item_allow = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS";
    let cases: Vec<(Method, String, &str)> = vec![
        (Method::Put, "/api/leads".into(), leads_allow),
        (Method::Patch, "/api/leads/".into(), leads_allow),
        (Method::Delete, "/api/leads".into(), leads_allow),
        (Method::Trace, "/api/leads".into(), leads_allow),
        (Method::Post, item.clone(), item_allow),
        (Method::Post, format!("{item}/"), item_allow),
        // The method is checked before the object is looked up.
        (Method::Post, "/api/leads/999999".into(), item_allow),
        (Method::Post, "/api/leads/abc".into(), item_allow),
        (Method::Get, "/api/auth/login".into(), "POST, OPTIONS"),
        (Method::Put, "/api/auth/login/".into(), "POST, OPTIONS"),
        (Method::Get, "/api/auth/register".into(), "POST, OPTIONS"),
        (Method::Delete, "/api/auth/register".into(), "POST, OPTIONS"),
        (Method::Post, "/api/auth/user".into(), "GET, HEAD, OPTIONS"),
        (Method::Delete, "/api/user".into(), "GET, HEAD, OPTIONS"),
        (Method::Get, "/api/auth/logout".into(), "POST, OPTIONS"),
        (Method::Get, "/api/auth/logoutall".into(), "POST, OPTIONS"),
        (
            Method::Post,
            "/api/auth/tokens".into(),
            "GET, HEAD, OPTIONS",
        ),
        (
            Method::Get,
            "/api/auth/tokens/0123456789abcde".into(),
            "DELETE, OPTIONS",
        ),
    ];
    for (method, path, allow) in &cases {
        // A malformed body too: the method comes before the body.
        let reply = call_json(&app, *method, path, Some(&alice), "{").await;
        let context = format!("{method} {path}");
        assert_eq!(
            reply.status,
            Status::MethodNotAllowed,
            "{context}: {}",
            reply.body
        );
        assert_eq!(
            reply.body,
            json!({ "detail": format!("Method \"{}\" not allowed.", method.as_str()) }),
            "{context}"
        );
        assert_eq!(reply.header("Allow"), Some(*allow), "{context}");
    }
    // HEAD where there is no GET: 405 too, without a body.
    let reply = app.send(Method::Head, "/api/auth/login", &[], None).await;
    assert_eq!(reply.status, Status::MethodNotAllowed);
    assert_eq!(reply.header("Allow"), Some("POST, OPTIONS"));

    // OPTIONS answers with the same Allow.
    for (path, token, allow) in [
        ("/api/leads/", Some(&alice), leads_allow),
        (item.as_str(), Some(&alice), item_allow),
        ("/api/auth/login", None, "POST, OPTIONS"),
    ] {
        let auth = token.map(|t| format!("Token {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let reply = app.send(Method::Options, path, &headers, None).await;
        assert_eq!(reply.status, Status::Ok, "OPTIONS {path}");
        assert_eq!(reply.header("Allow"), Some(allow), "OPTIONS {path}");
    }

    // Nothing happened: no lead changed, no token revoked.
    assert_eq!(
        stored(&app, &lead["id"]).await,
        ["Ann | ann@example.com | Hello"]
    );
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(count(&app, "auth_tokens").await, 1);
    assert_eq!(app.get("/api/auth/user", Some(&alice)).await.0, Status::Ok);
}

async fn authentication_comes_before_the_method_check(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}", lead["id"]);
    for (method, path) in [
        (Method::Put, "/api/leads"),
        (Method::Delete, "/api/leads/"),
        (Method::Post, item.as_str()),
        (Method::Post, "/api/auth/user"),
        (Method::Get, "/api/auth/logout"),
        (Method::Options, "/api/leads"),
    ] {
        let context = format!("{method} {path}");
        let reply = call_json(&app, method, path, None, "{").await;
        assert_unauthorized(&reply, NOT_PROVIDED, &context);
        let reply = call_json(&app, method, path, Some("0123456789abcdef"), "{").await;
        assert_unauthorized(&reply, INVALID_TOKEN, &context);
    }
    // Public endpoints: anonymous gets the 405, a bad token the 401.
    let reply = app.send(Method::Get, "/api/auth/login", &[], None).await;
    assert_eq!(reply.status, Status::MethodNotAllowed);
    let reply = app
        .send(
            Method::Get,
            "/api/auth/login",
            &[("Authorization", "Token nope")],
            None,
        )
        .await;
    assert_unauthorized(&reply, INVALID_TOKEN, "GET /api/auth/login");
    let reply = app
        .send(
            Method::Get,
            "/api/auth/register",
            &[("Authorization", "Token")],
            None,
        )
        .await;
    assert_unauthorized(&reply, NO_CREDENTIALS, "GET /api/auth/register");
}

async fn object_lookup_comes_before_the_body_and_the_body_before_validation(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let theirs = app.create_lead(&bob, "Bob", "bob@example.com").await;
    let mine = format!("/api/leads/{}/", lead["id"]);
    let missing = [
        "/api/leads/999999/".to_owned(),
        "/api/leads/abc/".to_owned(),
        format!("/api/leads/{}/", theirs["id"]),
    ];
    let big = vec![b' '; 2 * MIB];
    let bodies: [(&str, &[u8]); 3] = [(JSON, b"{"), ("text/plain", b"hello"), (JSON, &big)];
    let auth = format!("Token {alice}");
    for method in [Method::Put, Method::Patch] {
        for (content_type, body) in bodies {
            let headers = [
                ("Authorization", auth.as_str()),
                ("Content-Type", content_type),
            ];
            for path in &missing {
                let reply = app.send(method, path, &headers, Some(body)).await;
                assert_eq!(
                    (reply.status, reply.body),
                    (Status::NotFound, not_found()),
                    "{method} {path} {content_type}"
                );
            }
            let reply = app.send(method, &mine, &headers, Some(body)).await;
            let expected = match (content_type, body.len()) {
                (JSON, 1) => Status::BadRequest,
                (JSON, _) => Status::PayloadTooLarge,
                _ => Status::UnsupportedMediaType,
            };
            assert_eq!(
                reply.status, expected,
                "{method} {content_type}: {}",
                reply.body
            );
        }
        // A parsed body, then validation.
        let reply = call_json(&app, method, &mine, Some(&alice), r#"{"name": ""}"#).await;
        assert_eq!(reply.status, Status::BadRequest);
        assert_eq!(reply.body["name"], json!(["This field may not be blank."]));
    }
    // DELETE does not read the body at all.
    let reply = call_json(&app, Method::Delete, &mine, Some(&alice), "{").await;
    assert_eq!((reply.status, reply.body), (Status::NoContent, Value::Null));
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(
        stored(&app, &theirs["id"]).await,
        ["Bob | bob@example.com | Hello"]
    );
}
