//! The error catalogue: 401s and the Authorization header, 405 with `Allow`,
//! DRF's order of checks, malformed, oversized and odd bodies, odd ids and
//! paths, wrong types everywhere: always DRF-shaped JSON, never a 5xx.

use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::helpers::{forged, Backend, Reply, TestApp, INVALID_TOKEN, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(
    token_endpoints_without_credentials_are_401_with_www_authenticate,
    an_invalid_token_is_401_everywhere_even_on_register_and_login,
    authorization_header_is_parsed_as_knox_does,
    unsupported_methods_are_405_with_allow,
    authentication_comes_before_the_method_check,
    object_lookup_comes_before_the_body_and_the_body_before_validation,
    malformed_json_is_a_parse_error,
    non_object_json_bodies_are_rejected,
    empty_or_untyped_bodies_carry_no_data,
    oversized_bodies_are_413,
    the_configured_json_limit_is_honoured,
    unsupported_media_types_are_415,
    invalid_utf8_bodies_are_400,
    deeply_nested_json_is_400,
    odd_lead_ids_are_not_found,
    unknown_api_paths_are_json_404,
    wrong_types_are_field_errors_on_every_endpoint,
    null_characters_are_field_errors_on_register_and_login,
    malformed_multipart_is_a_parse_error,
    nasty_inputs_never_cause_a_server_error,
);

const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
const NO_CREDENTIALS: &str = "Invalid token header. No credentials provided.";
const CONTAINS_SPACES: &str = "Invalid token header. Token string should not contain spaces.";
const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const NOT_A_STRING: &str = "Not a valid string.";
const NULL_CHARACTERS: &str = "Null characters are not allowed.";
const JSON: &str = "application/json";
const MIB: usize = 1024 * 1024;

fn not_found() -> Value {
    json!({"detail": "Not found."})
}

/// Sends `body` as JSON, with `Authorization: Token <token>` when given.
async fn call_json(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: impl AsRef<[u8]>,
) -> Reply {
    let auth = token.map(|t| format!("Token {t}"));
    let mut headers = vec![("Content-Type", JSON)];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth));
    }
    app.send(method, path, &headers, Some(body.as_ref())).await
}

fn assert_unauthorized(reply: &Reply, detail: &str, context: &str) {
    assert_eq!(
        reply.status,
        Status::Unauthorized,
        "{context}: {}",
        reply.body
    );
    assert_eq!(reply.body, json!({ "detail": detail }), "{context}");
    assert_eq!(reply.header("WWW-Authenticate"), Some("Token"), "{context}");
}

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

async fn count(app: &TestApp, table: &str) -> i64 {
    app.scalar(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
        .await
}

/// The stored lead as `name | email | message`.
async fn stored(app: &TestApp, id: &Value) -> Vec<String> {
    app.texts(&format!(
        "SELECT name || ' | ' || email || ' | ' || message FROM leads WHERE id = {id}"
    ))
    .await
}

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

/// A request: method, path, extra headers, content type and body.
type Case<'a> = (
    Method,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<&'a str>,
    Vec<u8>,
);

async fn nasty_inputs_never_cause_a_server_error(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let lead = app.create_lead(&alice, "Ann", "ann@example.com").await;
    let item = format!("/api/leads/{}/", lead["id"]);
    let auth = format!("Token {alice}");
    let form = "application/x-www-form-urlencoded";
    let multipart = "multipart/form-data; boundary=XyZ";
    let many_terms: Vec<String> = (0..3000).map(|i| format!("t{i}")).collect();
    let many_terms = format!("/api/leads/?search={}", many_terms.join("+"));
    let long_term = format!("/api/leads/?search={}", "x".repeat(100_000));
    let long_ordering = format!("/api/leads/?ordering={}", "name,".repeat(10_000));
    let long_token = format!("Token {}", "a".repeat(10_000));
    let long_username = json!({"username": "u".repeat(10_000), "password": PASSWORD}).to_string();
    let long_password = json!({"username": "alice", "password": "p".repeat(500_000)}).to_string();
    let long_register =
        json!({"username": "u".repeat(10_000), "email": format!("a@{}.com", "b".repeat(300)), "password": "p".repeat(5000)})
            .to_string();

    let cases: Vec<Case> = vec![
        (Method::Get, "/api/leads/?search=%00", vec![], None, vec![]),
        (Method::Get, "/api/leads/?search=%FF%FE", vec![], None, vec![]),
        (Method::Get, "/api/leads/?search=%ZZ", vec![], None, vec![]),
        (Method::Get, "/api/leads/?search=%", vec![], None, vec![]),
        (Method::Get, "/api/leads/?search=%27%20OR%201%3D1%20--", vec![], None, vec![]),
        (Method::Get, many_terms.as_str(), vec![], None, vec![]),
        (Method::Get, long_term.as_str(), vec![], None, vec![]),
        (Method::Get, long_ordering.as_str(), vec![], None, vec![]),
        (Method::Get, "/api/leads/?ordering=%00", vec![], None, vec![]),
        (Method::Get, "/api/leads/?ordering=name;DROP%20TABLE%20leads", vec![], None, vec![]),
        (Method::Get, "/api/leads/?ordering=-", vec![], None, vec![]),
        (Method::Get, "/api/leads/?ordering=,,,--", vec![], None, vec![]),
        (Method::Get, "/api/leads/?page=%00", vec![], None, vec![]),
        (Method::Get, "/api/leads/?page=1&page=2", vec![], None, vec![]),
        (Method::Get, "/api/leads/?page=1e3", vec![], None, vec![]),
        (Method::Get, "/api/leads/?page", vec![], None, vec![]),
        (Method::Get, "/api/leads/?&&&=&==", vec![], None, vec![]),
        (Method::Get, "/api/leads/?limit=18446744073709551615", vec![], None, vec![]),
        (Method::Get, "/api/leads/?limit=18446744073709551616", vec![], None, vec![]),
        (Method::Get, "/api/leads/?offset=18446744073709551615", vec![], None, vec![]),
        (
            Method::Get,
            "/api/leads/?limit=9223372036854775807&offset=9223372036854775807",
            vec![],
            None,
            vec![],
        ),
        (
            Method::Get,
            "/api/leads/?limit=18446744073709551615&offset=18446744073709551615",
            vec![],
            None,
            vec![],
        ),
        (Method::Get, "/api/leads/?limit=-1&offset=-1", vec![], None, vec![]),
        (Method::Get, "/api/leads/%00", vec![], None, vec![]),
        (Method::Get, "/api/leads/%FF", vec![], None, vec![]),
        (Method::Get, "/api/leads/..", vec![], None, vec![]),
        (Method::Get, "/api/leads//", vec![], None, vec![]),
        (Method::Get, "/api//leads", vec![], None, vec![]),
        (Method::Get, "/api/leads/1/../2", vec![], None, vec![]),
        (Method::Get, "/api/leads/", vec![("Authorization", long_token.as_str())], None, vec![]),
        (Method::Get, "/api/leads/", vec![("Authorization", "Token ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ")], None, vec![]),
        (Method::Get, "/api/leads/", vec![("Authorization", "Token 🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀")], None, vec![]),
        (Method::Get, "/api/leads/", vec![("Authorization", "Token %00")], None, vec![]),
        (Method::Get, "/api/leads/", vec![("Authorization", "Token ' OR 1=1 --")], None, vec![]),
        (Method::Delete, "/api/auth/tokens/%00", vec![], None, vec![]),
        (Method::Delete, "/api/auth/tokens/%FF", vec![], None, vec![]),
        (Method::Post, "/api/leads/", vec![], Some(JSON), br#"{"name": 123456789012345678901234567890, "email": "big@example.com", "message": -0.0}"#.to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(JSON), br#"{"name": "a", "name": "b", "email": "dup@example.com", "message": "x"}"#.to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(JSON), "\u{FEFF}{}".as_bytes().to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(form), b"name=%00&email=%00&message=%00".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(form), b"=&&&===&%%%&name".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(form), b"name=\xff\xfe&email=raw%40example.com&message=\xc3".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some("multipart/form-data"), b"--XyZ--\r\n".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(multipart), b"garbage".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(multipart), b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ntruncated".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(multipart), b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xff\xfe\r\n--XyZ--\r\n".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some(multipart), b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\na\x00b\r\n--XyZ--\r\n".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some("garbage"), b"{}".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some("application/json; charset=\""), b"{}".to_vec()),
        (Method::Post, "/api/leads/", vec![], Some("*/*"), b"{}".to_vec()),
        (Method::Put, item.as_str(), vec![], Some(JSON), br#"{"id": "abc", "owner": {"x": 1}, "created_at": [], "name": "N", "email": "n@example.com", "message": "m"}"#.to_vec()),
        (Method::Patch, item.as_str(), vec![], Some(JSON), br#"{"id": -1, "owner": 99999999999999999999, "created_at": null}"#.to_vec()),
        (Method::Post, "/api/auth/register", vec![], Some(JSON), long_register.into_bytes()),
        (Method::Post, "/api/auth/register", vec![], Some(JSON), br#"{"username": "a\u0000", "email": "\u0000", "password": "\u0000"}"#.to_vec()),
        (Method::Post, "/api/auth/register", vec![], Some(form), b"username=%00&password=%00".to_vec()),
        (Method::Post, "/api/auth/login", vec![], Some(JSON), long_username.into_bytes()),
        (Method::Post, "/api/auth/login", vec![], Some(JSON), long_password.into_bytes()),
        (Method::Post, "/api/auth/login", vec![], Some(JSON), br#"{"username": "alice", "password": "x", "client": {"a": 1}}"#.to_vec()),
        (Method::Post, "/api/auth/login", vec![], Some(form), b"username=%00&password=%00".to_vec()),
        (Method::Post, "/api/auth/login", vec![], Some(JSON), format!(r#"{{"username": "alice", "password": "{PASSWORD}", "client": "a\u0000b"}}"#).into_bytes()),
        (Method::Post, "/api/auth/login", vec![("User-Agent", "curl/8 \u{7f}\u{1}")], Some(JSON), format!(r#"{{"username": "alice", "password": "{PASSWORD}"}}"#).into_bytes()),
    ];
    for (method, path, headers, content_type, body) in &cases {
        let mut all = vec![("Authorization", auth.as_str())];
        all.extend(content_type.map(|c| ("Content-Type", c)));
        for (name, value) in headers {
            all.retain(|(n, _)| n != name);
            all.push((name, value));
        }
        let reply = app.send(*method, path, &all, Some(body)).await;
        let context = format!("{method} {} {content_type:?}", &path[..path.len().min(80)]);
        assert!(
            reply.status.code < 500,
            "{context}: {} {}",
            reply.status,
            reply.body
        );
        assert!(
            reply.body.is_object() || reply.body.is_array() || reply.status == Status::NoContent,
            "{context}: not JSON: {}",
            reply.body
        );
    }
    // The application is still healthy and the data intact.
    let (status, body) = app.get("/api/auth/user", Some(&alice)).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(count(&app, "users").await, 1);
}
