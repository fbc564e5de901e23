//! The API described: `GET /api/openapi.json` (an OpenAPI 3 document) and
//! `GET /api/docs` (the same document as an HTML reference page).
//!
//! The document is hand-written JSON next to this file rather than derived
//! from the handlers: the wire contract (SPEC §3) is the thing promised, and
//! tests/api/openapi.rs checks it against the mounted routes.

mod docs;

use std::sync::LazyLock;

use rocket::http::ContentType;
use rocket::{get, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::Value;

use crate::http::methods::{with_fallbacks, Access};
use crate::pages::View;

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("openapi.json")).expect("src/openapi/openapi.json is JSON")
});

static DOCS_CONTEXT: LazyLock<Value> = LazyLock::new(|| docs::context(&DOCUMENT));

/// Served compact, like every other JSON answer of the API.
static COMPACT: LazyLock<String> = LazyLock::new(|| DOCUMENT.to_string());

/// Public, and under `/api` like the endpoints they describe, with the
/// same 405 answers to other methods.
pub fn routes() -> Vec<Route> {
    with_fallbacks(routes![openapi_json, api_docs], Access::Public)
}

#[get("/openapi.json")]
fn openapi_json() -> (ContentType, &'static str) {
    (ContentType::JSON, COMPACT.as_str())
}

/// A request the page guard refuses (say, a bad `Authorization` header)
/// still gets the reference, as an anonymous reader.
#[get("/docs")]
fn api_docs(view: Option<View>) -> Template {
    view.unwrap_or_default()
        .render("api/docs", "api", DOCS_CONTEXT.clone())
}
