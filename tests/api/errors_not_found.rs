//! JSON 404s: lead ids that name no lead of the caller's, and paths under
//! `/api` that name no route, whatever the method and credentials.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::errors_common::{count, stored, JSON};
use crate::helpers::{not_found, Backend};
use crate::{app, on_both_backends};

on_both_backends!(odd_lead_ids_are_not_found, unknown_api_paths_are_json_404,);

async fn odd_lead_ids_are_not_found(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let full = json!({"name": "Zed", "email": "zed@example.com", "message": "x"});
    for id in [
        "99999999999999999999",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "-1",
        "0",
        "abc",
        "1.0",
        "1e3",
        "0x1",
        "%20",
        "1%20",
        "%00",
        "%F0%9F%9A%80",
        "%FF",
        "null",
    ] {
        let path = format!("/api/leads/{id}/");
        assert_eq!(
            app.get(&path, Some(&alice)).await,
            (Status::NotFound, not_found()),
            "GET {id}"
        );
        assert_eq!(
            app.put(&path, Some(&alice), full.clone()).await,
            (Status::NotFound, not_found()),
            "PUT {id}"
        );
        assert_eq!(
            app.patch(&path, Some(&alice), full.clone()).await,
            (Status::NotFound, not_found()),
            "PATCH {id}"
        );
        assert_eq!(
            app.delete(&path, Some(&alice)).await,
            (Status::NotFound, not_found()),
            "DELETE {id}"
        );
    }
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(
        stored(&app, &lead["id"]).await,
        ["Ann | ann@example.com | Hello"]
    );
}

async fn unknown_api_paths_are_json_404(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let good = format!("Token {alice}");
    let nested = format!("/api/leads/{}/extra", lead["id"]);
    for path in [
        "/api",
        "/api/",
        "/api/nope",
        "/api/nope/",
        "/api/auth",
        "/api/auth/nope",
        "/api/lead",
        "/api/leadsx",
        nested.as_str(),
        "/api/leads/1/2/3",
        "/api/auth/tokens/a/b",
        "/api/auth/user/extra",
    ] {
        for method in [Method::Get, Method::Post, Method::Delete] {
            for auth in [None, Some(good.as_str()), Some("Token nope"), Some("Token")] {
                let headers: Vec<(&str, &str)> =
                    auth.iter().map(|a| ("Authorization", *a)).collect();
                let reply = app.send(method, path, &headers, None).await;
                let context = format!("{method} {path} {auth:?}");
                assert_eq!(
                    (reply.status, &reply.body),
                    (Status::NotFound, &not_found()),
                    "{context}"
                );
                assert!(
                    reply
                        .header("Content-Type")
                        .unwrap_or_default()
                        .starts_with(JSON),
                    "{context}"
                );
            }
        }
    }
}
