//! Helpers shared by the `leads_*` tests: a lead's row and JSON read back,
//! and bodies sent in any media type.

use rocket::http::Status;
use serde_json::Value;

use crate::helpers::TestApp;

/// How many leads are stored, every owner's.
pub async fn lead_count(app: &TestApp) -> i64 {
    app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
        .await
}

/// The stored row as `name | email | message | owner`.
pub async fn stored(app: &TestApp, id: &Value) -> String {
    let rows = app
        .texts(&format!(
            "SELECT name || ' | ' || email || ' | ' || message || ' | ' || CAST(owner_id AS TEXT)
             FROM leads WHERE id = {id}"
        ))
        .await;
    assert_eq!(rows.len(), 1, "lead {id} should exist");
    rows.into_iter().next().unwrap()
}

/// An object's keys, in order.
pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// The ids of a list of leads, in order.
pub fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|lead| lead["id"].as_i64().expect("an id"))
        .collect()
}

/// Sends `body` in `content_type` as the token's user.
pub async fn send(
    app: &TestApp,
    method: rocket::http::Method,
    path: &str,
    token: &str,
    content_type: &str,
    body: &str,
) -> (Status, Value) {
    let auth = format!("Token {token}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", content_type),
    ];
    let reply = app
        .send(method, path, &headers, Some(body.as_bytes()))
        .await;
    (reply.status, reply.body)
}
