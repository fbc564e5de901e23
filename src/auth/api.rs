//! `/api/auth/*`: Knox's register, login, logout and logoutall, the current
//! user, and the caller's tokens.

use std::net::IpAddr;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route, State};

use crate::config::Settings;
use crate::db::Db;
use crate::error::Error;
use crate::http::methods::{with_fallbacks, Access};
use crate::http::{Body, UserAgent};
use crate::users::hashing::Hasher;
use crate::users::User;

use super::service::{self, Issued, TokenInfo};
use super::{Auth, MaybeAuth};

pub fn routes() -> Vec<Route> {
    let mut all = with_fallbacks(routes![register, login], Access::Public);
    all.extend(with_fallbacks(
        routes![user, user_alias, logout, logout_all, tokens, revoke_token],
        Access::Token,
    ));
    all
}

#[post("/auth/register", data = "<body>")]
async fn register(
    _anonymous: MaybeAuth,
    db: &Db,
    settings: &State<Settings>,
    hasher: &State<Hasher>,
    agent: UserAgent<'_>,
    body: Body,
) -> Result<Json<Issued>, Error> {
    let input = body.input()?;
    let client = service::client_label(None, agent.0);
    let issued = service::register(db, settings, hasher, &input, &client).await?;
    Ok(Json(issued))
}

#[post("/auth/login", data = "<body>")]
async fn login(
    _anonymous: MaybeAuth,
    db: &Db,
    settings: &State<Settings>,
    hasher: &State<Hasher>,
    agent: UserAgent<'_>,
    ip: Option<IpAddr>,
    body: Body,
) -> Result<Json<Issued>, Error> {
    let input = body.input()?;
    let client = service::client_label(input.str("client"), agent.0);
    let issued = super::login::login(db, settings, hasher, &input, &client, ip).await?;
    Ok(Json(issued))
}

#[get("/auth/user")]
fn user(auth: Auth) -> Json<User> {
    Json(auth.user)
}

#[get("/user")]
fn user_alias(auth: Auth) -> Json<User> {
    user(auth)
}

#[post("/auth/logout")]
async fn logout(auth: Auth, db: &Db) -> Result<Status, Error> {
    service::revoke(db, &auth.token_digest).await?;
    Ok(Status::NoContent)
}

#[post("/auth/logoutall")]
async fn logout_all(auth: Auth, db: &Db) -> Result<Status, Error> {
    service::revoke_all(db, auth.user.id).await?;
    Ok(Status::NoContent)
}

#[get("/auth/tokens")]
async fn tokens(auth: Auth, db: &Db) -> Result<Json<Vec<TokenInfo>>, Error> {
    Ok(Json(
        service::live_tokens(db, auth.user.id, &auth.token_digest).await?,
    ))
}

#[delete("/auth/tokens/<token_key>")]
async fn revoke_token(auth: Auth, db: &Db, token_key: &str) -> Result<Status, Error> {
    service::revoke_by_key(db, auth.user.id, token_key).await?;
    Ok(Status::NoContent)
}
