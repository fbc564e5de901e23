//! The one request guard that authenticates every route, API and pages alike.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder};

use crate::config::Settings;
use crate::db::Db;
use crate::error::Error;
use crate::users::User;

use super::csrf::{self, CsrfKey};
use super::header::token_from_authorization;
use super::service::{self, Authenticated, Refusal};
use super::{cookie, failure};

/// An authenticated request: the user and the token they presented.
///
/// The token comes from the `Authorization` header or, failing that, from
/// the session cookie the pages set at login; a cookie-authenticated unsafe
/// request must also pass the CSRF check. Fails with 401 or 403; the
/// catchers render the reason kept in the request's cache.
#[derive(Clone, Debug)]
pub struct Auth {
    pub user: User,
    /// SHA-512 digest of the token this request came with.
    pub token_digest: String,
}

impl From<&Authenticated> for Auth {
    fn from(found: &Authenticated) -> Self {
        Auth {
            user: found.user.clone(),
            token_digest: found.digest.clone(),
        }
    }
}

/// For public endpoints (register, login): anonymous is fine, but a bad
/// header token is still a 401, as DRF authenticates before it checks
/// permissions.
pub struct MaybeAuth(pub Option<Auth>);

/// The credentials of a route that verifies a header token along with its
/// own read ([`super::alongside`]): that token, unchecked; or, for anything
/// else (the session cookie, a malformed header, none), what [`Auth`]
/// concluded.
pub enum Credentials<'r> {
    Token(&'r str),
    Checked(Auth),
}

impl Credentials<'_> {
    /// The caller's id, verified now as [`Auth`] does, for when the read
    /// cannot carry the check.
    pub async fn check(&self, db: &Db, settings: &Settings) -> Result<i64, Error> {
        match self {
            Credentials::Token(token) => {
                Ok(service::authenticate(db, settings, token).await?.user.id)
            }
            Credentials::Checked(auth) => Ok(auth.user.id),
        }
    }
}

/// A response for a caller the route verified itself, noted for the access
/// log (which otherwise names the one the guard concluded).
pub struct ForCaller<R>(pub i64, pub R);

struct CallerId(Option<i64>);

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for ForCaller<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'o> {
        req.local_cache(|| CallerId(Some(self.0)));
        self.1.respond_to(req)
    }
}

/// Who made this request, once it has been answered: for the access log.
pub fn caller_id(req: &Request<'_>) -> Option<i64> {
    match req.local_cache(|| -> Conclusion { Ok(None) }) {
        Ok(Some(found)) => Some(found.user.id),
        _ => req.local_cache(|| CallerId(None)).0,
    }
}

/// What authenticating this request concluded; computed once per request
/// and kept in its local cache for later guards and the catchers.
pub type Conclusion = Result<Option<Authenticated>, Refusal>;

async fn conclude(req: &Request<'_>) -> Conclusion {
    let rocket = req.rocket();
    let (Some(db), Some(settings), Some(key)) = (
        rocket.state::<Db>(),
        rocket.state::<Settings>(),
        rocket.state::<CsrfKey>(),
    ) else {
        return Err(Refusal::Internal);
    };
    let header = req.headers().get_one("Authorization");
    if let Some(token) = token_from_authorization(header).map_err(Refusal::Unauthorized)? {
        return service::authenticate(db, settings, token).await.map(Some);
    }
    let Some(token) = cookie::session_token(req, settings) else {
        return Ok(None);
    };
    match service::authenticate(db, settings, token).await {
        Ok(found) => {
            csrf::check(req, &key.for_session(&found.digest)).map_err(Refusal::Forbidden)?;
            Ok(Some(found))
        }
        // A stale cookie (logged out elsewhere, expired) is no session at all.
        Err(Refusal::Unauthorized(_)) => Ok(None),
        Err(refusal) => Err(refusal),
    }
}

pub async fn conclusion<'r>(req: &'r Request<'_>) -> &'r Conclusion {
    req.local_cache_async(conclude(req)).await
}

/// Why this request was refused, for the 401 and 403 catchers.
pub fn refusal(req: &Request<'_>) -> Error {
    match req.local_cache(|| -> Conclusion { Ok(None) }) {
        Err(refusal) => refusal.clone().into(),
        Ok(_) => Error::Unauthorized(failure::NOT_PROVIDED),
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Unauthorized(detail) => Error::Unauthorized(detail),
            Refusal::Forbidden(detail) => Error::Forbidden(detail),
            Refusal::Unavailable => Error::Unavailable,
            Refusal::Internal => Error::Internal,
        }
    }
}

fn refused<T>(refusal: &Refusal) -> Outcome<T, Error> {
    let error = Error::from(refusal.clone());
    Outcome::Error((error.status(), error))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Auth {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match conclusion(req).await {
            Ok(Some(found)) => Outcome::Success(found.into()),
            Ok(None) => Outcome::Error((
                Status::Unauthorized,
                Error::Unauthorized(failure::NOT_PROVIDED),
            )),
            Err(refusal) => refused(refusal),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeAuth {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match conclusion(req).await {
            Ok(found) => Outcome::Success(MaybeAuth(found.as_ref().map(Auth::from))),
            Err(refusal) => refused(refusal),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Credentials<'r> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        if let Ok(Some(token)) = token_from_authorization(req.headers().get_one("Authorization")) {
            return Outcome::Success(Credentials::Token(token));
        }
        Auth::from_request(req).await.map(Credentials::Checked)
    }
}
