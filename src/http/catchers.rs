//! JSON error bodies for everything under `/api` that no handler answered.

use rocket::http::Status;
use rocket::request::Request;
use rocket::serde::json::Json;
use rocket::{catch, catchers, Catcher, Either};
use serde_json::{json, Value};

use crate::auth::guard::Conclusion;
use crate::error::Error;

/// One catcher for every status: at `/api` it outranks the pages' catchers
/// at `/`, the 401 one included.
#[catch(default)]
fn any(status: Status, req: &Request<'_>) -> Either<Error, (Status, Json<Value>)> {
    let detail = match status.code {
        401 | 403 => return Either::Left(Conclusion::so_far(req).refusal()),
        404 => return Either::Left(Error::NotFound),
        413 => return Either::Left(Error::PayloadTooLarge),
        503 => return Either::Left(Error::Unavailable),
        500..=599 => "A server error occurred.",
        _ => status.reason_lossy(),
    };
    Either::Right((status, Json(json!({ "detail": detail }))))
}

pub fn json() -> Vec<Catcher> {
    catchers![any]
}
