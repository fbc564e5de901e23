//! Nasty inputs in query strings, paths, headers and bodies: never a server
//! error, always a JSON answer, and the application healthy afterwards.

use rocket::http::{Method, Status};
use serde_json::json;

use crate::errors_common::{count, JSON};
use crate::helpers::{Backend, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(nasty_inputs_never_cause_a_server_error);

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
