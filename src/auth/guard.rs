//! The one request guard that authenticates every route.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::config::Settings;
use crate::db::Db;
use crate::error::Error;
use crate::users::User;

use super::failure;
use super::header::token_from_authorization;
use super::service::{self, Authenticated, Refusal};

/// An authenticated request: the user and the token they presented.
///
/// Fails with 401 (the JSON catcher renders the reason kept in the request's
/// cache) when no credentials or bad ones were sent.
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
/// token is still a 401, as DRF authenticates before it checks permissions.
pub struct MaybeAuth(pub Option<Auth>);

/// What authenticating this request concluded; computed once per request
/// and kept in its local cache for later guards and the 401 catcher.
pub type Conclusion = Result<Option<Authenticated>, Refusal>;

async fn conclude(req: &Request<'_>) -> Conclusion {
    let header = req.headers().get_one("Authorization");
    let Some(token) = token_from_authorization(header).map_err(Refusal::Unauthorized)? else {
        return Ok(None);
    };
    let (Some(db), Some(settings)) = (req.rocket().state::<Db>(), req.rocket().state::<Settings>())
    else {
        return Err(Refusal::Internal);
    };
    service::authenticate(db, settings, token).await.map(Some)
}

pub async fn conclusion<'r>(req: &'r Request<'_>) -> &'r Conclusion {
    req.local_cache_async(conclude(req)).await
}

/// The reason to render in a 401 for this request.
pub fn unauthorized_detail(req: &Request<'_>) -> &'static str {
    match req.local_cache(|| -> Conclusion { Ok(None) }) {
        Err(Refusal::Unauthorized(detail)) => detail,
        _ => failure::NOT_PROVIDED,
    }
}

fn refused<T>(refusal: &Refusal) -> Outcome<T, Error> {
    let error = match refusal {
        Refusal::Unauthorized(detail) => Error::Unauthorized(detail),
        Refusal::Unavailable => Error::Unavailable,
        Refusal::Internal => Error::Internal,
    };
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
