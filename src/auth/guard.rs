//! The one request guard that authenticates every route, API and pages alike.

use rocket::request::{FromRequest, Outcome, Request};

use crate::config::Settings;
use crate::db::Db;
use crate::error::Error;
use crate::users::User;

use super::csrf::{self, CsrfKey};
use super::header::token_from_authorization;
use super::{cookie, failure, service};

/// An authenticated request: the user and the token they presented.
///
/// The token comes from the `Authorization` header or, failing that, from
/// the session cookie the pages set at login; a cookie-authenticated unsafe
/// request must also pass the CSRF check. Fails with 401 or 403; the
/// catchers render the reason kept in the request's [`Conclusion`].
#[derive(Clone, Debug)]
pub struct Auth {
    pub user: User,
    /// SHA-512 digest of the token this request came with.
    pub token_digest: String,
}

/// For public endpoints (register, login): anonymous is fine, but a bad
/// header token is still a 401, as DRF authenticates before it checks
/// permissions.
pub struct MaybeAuth(pub Option<Auth>);

/// What authenticating one request concluded: worked out once, and kept in
/// the request's local cache for later guards, the catchers and the log.
#[derive(Clone, Debug)]
pub struct Conclusion(pub Result<Option<Auth>, Error>);

impl Conclusion {
    /// Authenticates the request, or returns what an earlier guard concluded.
    pub async fn of<'r>(req: &'r Request<'_>) -> &'r Conclusion {
        req.local_cache_async(async { Conclusion(conclude(req).await) })
            .await
    }

    /// What was concluded, without authenticating: anonymous if no guard ran.
    pub fn so_far<'r>(req: &'r Request<'_>) -> &'r Conclusion {
        req.local_cache(|| Conclusion(Ok(None)))
    }

    /// The authenticated user's id, if any: for the access log.
    pub fn user_id(&self) -> Option<i64> {
        self.0.as_ref().ok()?.as_ref().map(|auth| auth.user.id)
    }

    /// Why the request was refused, for the 401 and 403 catchers.
    pub fn refusal(&self) -> Error {
        match &self.0 {
            Err(error) => error.clone(),
            Ok(_) => Error::Unauthorized(failure::NOT_PROVIDED),
        }
    }
}

async fn conclude(req: &Request<'_>) -> Result<Option<Auth>, Error> {
    let rocket = req.rocket();
    let (Some(db), Some(settings), Some(key)) = (
        rocket.state::<Db>(),
        rocket.state::<Settings>(),
        rocket.state::<CsrfKey>(),
    ) else {
        return Err(Error::Internal);
    };
    let header = req.headers().get_one("Authorization");
    if let Some(token) = token_from_authorization(header).map_err(Error::Unauthorized)? {
        return service::authenticate(db, settings, token).await.map(Some);
    }
    let Some(token) = cookie::session_token(req, settings) else {
        return Ok(None);
    };
    match service::authenticate(db, settings, token).await {
        Ok(auth) => {
            csrf::check(req, &key.for_session(&auth.token_digest)).map_err(Error::Forbidden)?;
            Ok(Some(auth))
        }
        // A stale cookie (logged out elsewhere, expired) is no session at all.
        Err(Error::Unauthorized(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

fn refused<T>(error: &Error) -> Outcome<T, Error> {
    Outcome::Error((error.status(), error.clone()))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Auth {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match rocket::outcome::try_outcome!(req.guard::<MaybeAuth>().await).0 {
            Some(auth) => Outcome::Success(auth),
            None => refused(&Error::Unauthorized(failure::NOT_PROVIDED)),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeAuth {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match &Conclusion::of(req).await.0 {
            Ok(found) => Outcome::Success(MaybeAuth(found.clone())),
            Err(error) => refused(error),
        }
    }
}
