//! JSON error bodies for everything under `/api` that no handler answered.

use rocket::http::Status;
use rocket::request::Request;
use rocket::{catch, catchers, Catcher};

use crate::auth::guard::Conclusion;
use crate::error::Error;

#[catch(401)]
fn unauthorized(req: &Request<'_>) -> Error {
    Conclusion::so_far(req).refusal()
}

#[catch(403)]
fn forbidden(req: &Request<'_>) -> Error {
    Conclusion::so_far(req).refusal()
}

#[catch(404)]
fn not_found() -> Error {
    Error::NotFound
}

#[catch(413)]
fn payload_too_large() -> Error {
    Error::PayloadTooLarge
}

#[catch(503)]
fn unavailable() -> Error {
    Error::Unavailable
}

#[catch(default)]
fn any(status: Status, _: &Request<'_>) -> (Status, rocket::serde::json::Json<serde_json::Value>) {
    let detail = match status.code {
        500..=599 => "A server error occurred.",
        _ => status.reason_lossy(),
    };
    (
        status,
        rocket::serde::json::Json(serde_json::json!({ "detail": detail })),
    )
}

pub fn json() -> Vec<Catcher> {
    catchers![
        unauthorized,
        forbidden,
        not_found,
        payload_too_large,
        unavailable,
        any
    ]
}
