//! Helpers shared by the `errors_*` tests: Knox's 401 details, requests with
//! raw JSON bodies, and the tables read back to show that nothing changed.

use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

pub const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
pub const NO_CREDENTIALS: &str = "Invalid token header. No credentials provided.";
pub const JSON: &str = "application/json";
pub const MIB: usize = 1024 * 1024;

/// Sends `body` as JSON, with `Authorization: Token <token>` when given.
pub async fn call_json(
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

/// Asserts a 401 with this `detail` and `WWW-Authenticate: Token`.
pub fn assert_unauthorized(reply: &Reply, detail: &str, context: &str) {
    assert_eq!(
        reply.status,
        Status::Unauthorized,
        "{context}: {}",
        reply.body
    );
    assert_eq!(reply.body, json!({ "detail": detail }), "{context}");
    assert_eq!(reply.header("WWW-Authenticate"), Some("Token"), "{context}");
}

/// How many rows `table` holds.
pub async fn count(app: &TestApp, table: &str) -> i64 {
    app.scalar(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
        .await
}

/// The stored lead as `name | email | message`.
pub async fn stored(app: &TestApp, id: &Value) -> Vec<String> {
    app.texts(&format!(
        "SELECT name || ' | ' || email || ' | ' || message FROM leads WHERE id = {id}"
    ))
    .await
}
