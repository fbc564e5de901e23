//! The API described: `GET /api/openapi.json` (an OpenAPI 3 document) and
//! `GET /api/docs` (the same document as an HTML reference page).
//!
//! The document is hand-written JSON next to this file rather than derived
//! from the handlers: the wire contract (SPEC §3) is the thing promised, and
//! tests/api/openapi.rs checks it against the mounted routes.

mod docs;

use rocket::http::ContentType;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::Template;
use serde_json::Value;

use crate::http::methods::{with_fallbacks, Access};
use crate::pages::View;

/// The document compact, as every JSON answer, and as the reference page
/// shows it: worked out once, at start-up (Rocket-managed state).
pub struct ApiDocument {
    compact: String,
    docs_context: Value,
}

impl ApiDocument {
    pub fn load() -> Self {
        let document: Value = serde_json::from_str(include_str!("openapi.json"))
            .expect("src/openapi/openapi.json is JSON");
        ApiDocument {
            compact: document.to_string(),
            docs_context: docs::context(&document),
        }
    }
}

/// Public, and under `/api` like the endpoints they describe, with the
/// same 405 answers to other methods.
pub fn routes() -> Vec<Route> {
    with_fallbacks(routes![openapi_json, api_docs], Access::Public)
}

#[get("/openapi.json")]
fn openapi_json(api: &State<ApiDocument>) -> (ContentType, &str) {
    (ContentType::JSON, api.compact.as_str())
}

/// A request the page guard refuses (say, a bad `Authorization` header)
/// still gets the reference, as an anonymous reader.
#[get("/docs")]
fn api_docs(view: Option<View>, api: &State<ApiDocument>) -> Template {
    view.unwrap_or_default()
        .render("api/docs", "api", api.docs_context.clone())
}
