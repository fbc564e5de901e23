//! Request bodies that cannot be used: malformed or non-object JSON, empty or
//! untyped bodies, 413 for oversized ones, 415 for other media types, invalid
//! UTF-8, deep nesting and malformed multipart.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::errors_common::{
    assert_unauthorized, call_json, count, stored, JSON, MIB, NOT_PROVIDED,
};
use crate::helpers::{Backend, Reply, NOT_A_STRING, REQUIRED};
use crate::{app, on_both_backends};

on_both_backends!(
    malformed_json_is_a_parse_error,
    non_object_json_bodies_are_rejected,
    empty_or_untyped_bodies_carry_no_data,
    oversized_bodies_are_413,
    the_configured_json_limit_is_honoured,
    unsupported_media_types_are_415,
    invalid_utf8_bodies_are_400,
    deeply_nested_json_is_400,
    malformed_multipart_is_a_parse_error,
);

fn assert_parse_error(reply: &Reply, context: &str) {
    assert_eq!(
        reply.status,
        Status::BadRequest,
        "{context}: {}",
        reply.body
    );
    let detail = reply.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("JSON parse error - "),
        "{context}: {}",
        reply.body
    );
    assert_eq!(
        reply.body.as_object().map(|o| o.len()),
        Some(1),
        "{context}"
    );
}

async fn malformed_json_is_a_parse_error(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}/", lead["id"]);
    for body in [
        "{",
        r#"{"name": "#,
        "{name: 1}",
        "{'name': 'x'}",
        "{} x",
        "[1,]",
        r#"{"a": 1,}"#,
        r#""unterminated"#,
        "NaN",
        "nul",
        "   ",
        r#"{"name": "\x"}"#,
        r#"{"name": "\ud800"}"#,
        r#"{"name": 1e400}"#,
    ] {
        for (method, path, token) in [
            (Method::Post, "/api/leads/", Some(&alice)),
            (Method::Put, item.as_str(), Some(&alice)),
            (Method::Patch, item.as_str(), Some(&alice)),
            (Method::Post, "/api/auth/register", None),
            (Method::Post, "/api/auth/login", None),
        ] {
            let reply = call_json(&app, method, path, token.map(String::as_str), body).await;
            assert_parse_error(&reply, &format!("{method} {path} {body:?}"));
        }
    }
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "auth_tokens").await, 1);
    assert_eq!(
        stored(&app, &lead["id"]).await,
        ["Ann | ann@example.com | Hello"]
    );
}

async fn non_object_json_bodies_are_rejected(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}/", lead["id"]);
    let invalid = |got: &str| json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {got}.")]});
    for (body, expected) in [
        ("[]", invalid("list")),
        (r#"[{"name": "x"}]"#, invalid("list")),
        (r#""text""#, invalid("str")),
        ("1", invalid("int")),
        ("-5", invalid("int")),
        ("true", invalid("bool")),
        ("false", invalid("bool")),
        ("1.5", invalid("float")),
        ("null", json!({"non_field_errors": ["No data provided"]})),
    ] {
        for (method, path, token) in [
            (Method::Post, "/api/leads/", Some(&alice)),
            (Method::Put, item.as_str(), Some(&alice)),
            (Method::Patch, item.as_str(), Some(&alice)),
            (Method::Post, "/api/auth/register", None),
            (Method::Post, "/api/auth/login", None),
        ] {
            let reply = call_json(&app, method, path, token.map(String::as_str), body).await;
            assert_eq!(reply.status, Status::BadRequest, "{method} {path} {body}");
            assert_eq!(reply.body, expected, "{method} {path} {body}");
        }
    }
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "auth_tokens").await, 1);
}

async fn empty_or_untyped_bodies_carry_no_data(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}/", lead["id"]);
    let auth = format!("Token {alice}");
    let all_required = json!({"name": [REQUIRED], "email": [REQUIRED], "message": [REQUIRED]});
    let valid = br#"{"name": "Zed", "email": "zed@example.com", "message": "x"}"#;
    // An empty body of any type, or a body without a type, is no data (as in DRF).
    for (content_type, body) in [
        (Some(JSON), &b""[..]),
        (Some("application/x-www-form-urlencoded"), b""),
        (Some("multipart/form-data; boundary=XyZ"), b""),
        (Some("text/plain"), b""),
        (None, &valid[..]),
    ] {
        let mut headers = vec![("Authorization", auth.as_str())];
        headers.extend(content_type.map(|c| ("Content-Type", c)));
        let context = format!("{content_type:?}");
        let reply = app
            .send(Method::Post, "/api/leads/", &headers, Some(body))
            .await;
        assert_eq!(
            (reply.status, reply.body),
            (Status::BadRequest, all_required.clone()),
            "{context}"
        );
        let reply = app.send(Method::Put, &item, &headers, Some(body)).await;
        assert_eq!(
            (reply.status, reply.body),
            (Status::BadRequest, all_required.clone()),
            "{context}"
        );
        let reply = app.send(Method::Patch, &item, &headers, Some(body)).await;
        assert_eq!(
            (reply.status, reply.body),
            (Status::Ok, lead.clone()),
            "{context}"
        );
        let reply = app
            .send(
                Method::Post,
                "/api/auth/register",
                &headers[1..],
                Some(body),
            )
            .await;
        assert_eq!(
            (reply.status, reply.body),
            (
                Status::BadRequest,
                json!({"username": [REQUIRED], "password": [REQUIRED]})
            ),
            "{context}"
        );
        let reply = app
            .send(Method::Post, "/api/auth/login", &headers[1..], Some(body))
            .await;
        assert_eq!(
            (reply.status, reply.body),
            (
                Status::BadRequest,
                json!({"username": [REQUIRED], "password": [REQUIRED]})
            ),
            "{context}"
        );
    }
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(count(&app, "users").await, 1);
}

async fn oversized_bodies_are_413(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let auth = format!("Token {alice}");
    let huge = "a".repeat(2 * MIB);
    let lead = json!({"name": huge, "email": "big@example.com", "message": "x"}).to_string();
    let register = json!({"username": "big", "password": huge}).to_string();
    let form = format!("name={huge}&email=big%40example.com&message=x");
    let multipart = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{}\r\n--XyZ--\r\n",
        "a".repeat(3 * MIB)
    );
    for (path, content_type, body) in [
        ("/api/leads/", JSON, lead.as_str()),
        ("/api/auth/register", JSON, register.as_str()),
        ("/api/auth/login", JSON, register.as_str()),
        (
            "/api/leads/",
            "application/x-www-form-urlencoded",
            form.as_str(),
        ),
        (
            "/api/leads/",
            "multipart/form-data; boundary=XyZ",
            multipart.as_str(),
        ),
    ] {
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", content_type),
        ];
        let reply = app
            .send(Method::Post, path, &headers, Some(body.as_bytes()))
            .await;
        assert_eq!(
            reply.status,
            Status::PayloadTooLarge,
            "{path} {content_type}"
        );
        assert!(reply.body["detail"].is_string(), "{path}: {}", reply.body);
    }
    // Authentication still comes first.
    let reply = call_json(&app, Method::Post, "/api/leads/", None, &lead).await;
    assert_unauthorized(&reply, NOT_PROVIDED, "oversized and anonymous");

    // Under the limit it is the field's own maximum that answers.
    let near = json!({"name": "a".repeat(MIB - 100), "email": "big@example.com", "message": "x"});
    let (status, body) = app.post("/api/leads/", Some(&alice), near).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"name": ["Ensure this field has no more than 100 characters."]})
    );
    assert_eq!(count(&app, "leads").await, 0);
    assert_eq!(count(&app, "users").await, 1);
}

async fn the_configured_json_limit_is_honoured(backend: Backend) {
    let app = app!(backend, |figment| figment.merge(("limits.json", "1 KiB")));
    let (alice, _) = app.register("alice").await;
    let message =
        |len: usize| json!({"name": "Ann", "email": "ann@example.com", "message": "m".repeat(len)});
    let (status, _) = app.post("/api/leads/", Some(&alice), message(2000)).await;
    assert_eq!(status, Status::PayloadTooLarge);
    let (status, body) = app.post("/api/leads/", Some(&alice), message(400)).await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(count(&app, "leads").await, 1);
}

async fn unsupported_media_types_are_415(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}/", lead["id"]);
    let auth = format!("Token {alice}");
    let valid = r#"{"name": "Zed", "email": "zed@example.com", "message": "x", "username": "zed", "password": "correct-Horse-battery-9"}"#;
    // Named exactly as sent, parameters included, as DRF does.
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/xml",
        "application/vnd.api+json",
        "text/html",
        "application/octet-stream",
    ] {
        let expected =
            json!({ "detail": format!("Unsupported media type \"{content_type}\" in request.") });
        for (method, path) in [
            (Method::Post, "/api/leads/"),
            (Method::Put, item.as_str()),
            (Method::Patch, item.as_str()),
            (Method::Post, "/api/auth/register"),
            (Method::Post, "/api/auth/login"),
        ] {
            let mut headers = vec![("Content-Type", content_type)];
            if path.starts_with("/api/leads") {
                headers.push(("Authorization", auth.as_str()));
            }
            let reply = app
                .send(method, path, &headers, Some(valid.as_bytes()))
                .await;
            assert_eq!(
                reply.status,
                Status::UnsupportedMediaType,
                "{method} {path} {content_type}"
            );
            assert_eq!(reply.body, expected, "{method} {path} {content_type}");
        }
    }
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "auth_tokens").await, 1);
    assert_eq!(
        stored(&app, &lead["id"]).await,
        ["Ann | ann@example.com | Hello"]
    );
}

async fn invalid_utf8_bodies_are_400(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}/", lead["id"]);
    let body = b"{\"name\": \"\xff\xfe\", \"email\": \"u@example.com\", \"message\": \"x\"}";
    for (method, path, token) in [
        (Method::Post, "/api/leads/", Some(&alice)),
        (Method::Put, item.as_str(), Some(&alice)),
        (Method::Patch, item.as_str(), Some(&alice)),
        (Method::Post, "/api/auth/register", None),
        (Method::Post, "/api/auth/login", None),
    ] {
        let reply = call_json(&app, method, path, token.map(String::as_str), body).await;
        assert_parse_error(&reply, &format!("{method} {path}"));
    }
    assert_eq!(count(&app, "leads").await, 1);

    // Percent-encoded bytes that are not UTF-8 decode to U+FFFD, as in Django.
    let auth = format!("Token {alice}");
    let reply = app
        .send(
            Method::Post,
            "/api/leads/",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(b"name=%FF%FEok&email=u%40example.com&message=x"),
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{}", reply.body);
    assert_eq!(reply.body["name"], "\u{FFFD}\u{FFFD}ok");
}

async fn deeply_nested_json_is_400(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let depth = 100_000;
    let open_arrays = "[".repeat(depth);
    let closed_arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let in_a_field = format!(
        r#"{{"name": {}1{}, "email": "n@example.com", "message": "x"}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    for body in [&open_arrays, &closed_arrays, &objects, &in_a_field] {
        for (path, token) in [
            ("/api/leads/", Some(alice.as_str())),
            ("/api/auth/register", None),
            ("/api/auth/login", None),
        ] {
            let reply = call_json(&app, Method::Post, path, token, body).await;
            assert_parse_error(&reply, &format!("{path} {}", &body[..20]));
        }
    }
    // Nested within what the parser takes: the field is simply not a string.
    let shallow = format!(
        r#"{{"name": {}1{}, "email": "n@example.com", "message": "x"}}"#,
        "[".repeat(50),
        "]".repeat(50)
    );
    let reply = call_json(&app, Method::Post, "/api/leads/", Some(&alice), &shallow).await;
    assert_eq!(
        (reply.status, reply.body),
        (Status::BadRequest, json!({"name": [NOT_A_STRING]}))
    );
    assert_eq!(count(&app, "leads").await, 0);
}

async fn malformed_multipart_is_a_parse_error(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let auth = format!("Token {alice}");
    let field = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAnn";
    for (content_type, body) in [
        ("multipart/form-data", format!("{field}\r\n--XyZ--\r\n")),
        ("multipart/form-data; boundary=XyZ", field.to_owned()),
        ("multipart/form-data; boundary=XyZ", "garbage".to_owned()),
    ] {
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", content_type),
        ];
        let reply = app
            .send(Method::Post, "/api/leads/", &headers, Some(body.as_bytes()))
            .await;
        assert_eq!(reply.status, Status::BadRequest, "{content_type} {body:?}");
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with("Multipart form parse error - "),
            "{content_type} {body:?}: {}",
            reply.body
        );
    }
    assert_eq!(count(&app, "leads").await, 0);
}
