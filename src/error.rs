//! The one error type of the service layer, rendered as DRF-shaped JSON.
//!
//! Services return [`Error`]; the JSON API responds with it as is, and the
//! browser pages turn the same values into HTML (form errors, error pages).

use std::collections::BTreeMap;

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use serde::Serialize;
use serde_json::json;

/// Validation errors by field, every failing field at once:
/// `{"email": ["Enter a valid email address."], "name": ["This field is required."]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub const NON_FIELD: &'static str = "non_field_errors";

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing failed, else the errors as a 400.
    pub fn into_result(self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self))
        }
    }
}

#[derive(Clone, Debug)]
pub enum Error {
    /// 401 with one of the `detail` texts in [`crate::auth::failure`].
    Unauthorized(&'static str),
    /// 400 field errors.
    Invalid(FieldErrors),
    /// 400 with a `detail` (malformed JSON).
    BadRequest(String),
    /// 403 with a `detail`.
    Forbidden(String),
    /// 403 `{"error": ...}`: Knox's per-user token limit.
    TokenLimitExceeded,
    /// 404 `Not found.`
    NotFound,
    /// 404 `Invalid page.` (DRF's pagination).
    InvalidPage,
    /// 405 with `Allow`.
    MethodNotAllowed { method: String, allow: String },
    /// 413: the body is over the configured limit.
    PayloadTooLarge,
    /// 415 for a body in a media type the API does not parse.
    UnsupportedMediaType(String),
    /// 429 with `Retry-After`.
    Throttled { wait_seconds: u64 },
    /// 503: the database does not answer.
    Unavailable,
    /// 500: a bug or an unexpected database error; details are logged, never sent.
    Internal,
}

impl Error {
    pub fn status(&self) -> Status {
        match self {
            Error::Unauthorized(_) => Status::Unauthorized,
            Error::Invalid(_) | Error::BadRequest(_) => Status::BadRequest,
            Error::Forbidden(_) | Error::TokenLimitExceeded => Status::Forbidden,
            Error::NotFound | Error::InvalidPage => Status::NotFound,
            Error::MethodNotAllowed { .. } => Status::MethodNotAllowed,
            Error::PayloadTooLarge => Status::PayloadTooLarge,
            Error::UnsupportedMediaType(_) => Status::UnsupportedMediaType,
            Error::Throttled { .. } => Status::TooManyRequests,
            Error::Unavailable => Status::ServiceUnavailable,
            Error::Internal => Status::InternalServerError,
        }
    }

    /// The JSON body DRF would send for this error.
    pub fn body(&self) -> serde_json::Value {
        match self {
            Error::Invalid(fields) => json!(fields),
            Error::TokenLimitExceeded => json!({ "error": self.to_string() }),
            _ => json!({ "detail": self.to_string() }),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &err {
            // The database is down, restarting or saturated: the client may retry.
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                rocket::warn!("database unavailable: {err}");
                Error::Unavailable
            }
            E::Database(db) if is_busy(db.code().as_deref()) => {
                rocket::warn!("database busy: {err}");
                Error::Unavailable
            }
            _ => {
                rocket::error!("database error: {err}");
                Error::Internal
            }
        }
    }
}

/// The `detail` (or Knox's `error`) a client sees, or one line per field
/// error; also what logs and the command line print.
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Invalid(fields) => {
                let lines: Vec<String> = fields
                    .0
                    .iter()
                    .flat_map(|(field, messages)| {
                        messages.iter().map(move |m| format!("{field}: {m}"))
                    })
                    .collect();
                f.write_str(&lines.join("\n"))
            }
            Error::Unauthorized(detail) => f.write_str(detail),
            Error::BadRequest(detail) | Error::Forbidden(detail) => f.write_str(detail),
            Error::TokenLimitExceeded => {
                f.write_str("Maximum amount of tokens allowed per user exceeded.")
            }
            Error::NotFound => f.write_str("Not found."),
            Error::InvalidPage => f.write_str("Invalid page."),
            Error::MethodNotAllowed { method, .. } => write!(f, "Method \"{method}\" not allowed."),
            Error::PayloadTooLarge => f.write_str("Request body is too large."),
            Error::UnsupportedMediaType(media) => {
                write!(f, "Unsupported media type \"{media}\" in request.")
            }
            Error::Throttled { wait_seconds } => write!(
                f,
                "Request was throttled. Expected available in {wait_seconds} seconds."
            ),
            Error::Unavailable => f.write_str("Service temporarily unavailable, try again later."),
            Error::Internal => f.write_str("A server error occurred."),
        }
    }
}

impl std::error::Error for Error {}

/// SQLite's SQLITE_BUSY family, PostgreSQL's admin shutdown / cannot-connect classes.
fn is_busy(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("5" | "517" | "261" | "6" | "57P01" | "57P02" | "57P03")
    ) || code.is_some_and(|c| c.starts_with("08"))
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = (self.status(), Json(self.body())).respond_to(req)?;
        let header = match self {
            Error::Unauthorized(_) => Header::new("WWW-Authenticate", "Token"),
            Error::MethodNotAllowed { allow, .. } => Header::new("Allow", allow),
            Error::Throttled { wait_seconds } => {
                Header::new("Retry-After", wait_seconds.to_string())
            }
            _ => return Ok(response),
        };
        response.set_header(header);
        Ok(response)
    }
}
