//! HTTP plumbing shared by every API module: request bodies, DRF's 405 and
//! OPTIONS, optional trailing slashes, JSON catchers, request log, headers.

pub mod access_log;
pub mod body;
pub mod catchers;
pub mod headers;
pub mod methods;
pub mod slash;
pub mod timing;
pub mod url;

pub use body::Body;

use rocket::request::{FromRequest, Outcome, Request};

/// The request's `User-Agent`, to label the tokens it is issued.
pub struct UserAgent<'r>(pub Option<&'r str>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for UserAgent<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(UserAgent(req.headers().get_one("User-Agent")))
    }
}
