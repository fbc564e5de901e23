//! `/`, `/signup`, `/login`, `/logout`: the browser's session cookie.

use std::net::IpAddr;

use rocket::http::{CookieJar, Status};
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::auth::csrf;
use crate::auth::{cookie, service, Auth, MaybeAuth};
use crate::config::Settings;
use crate::db::Db;
use crate::error::{Error, FieldErrors};
use crate::http::{Body, UserAgent};
use crate::users::hashing::Hasher;

use super::view::{kept, page_state, redirect_with_flash, FormOutcome, PageError, View};

pub fn routes() -> Vec<Route> {
    routes![home, signup_form, signup, login_form, login, logout]
}

const AFTER_LOGIN: &str = "/leads";

#[get("/")]
fn home(auth: MaybeAuth) -> Redirect {
    Redirect::to(auth.0.map_or("/login", |_| AFTER_LOGIN))
}

/// The anonymous forms' CSRF check: the token must be bound to this
/// browser's seed cookie, and the request must not come from another site.
pub struct AnonymousCsrf;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AnonymousCsrf {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let (settings, key) = try_outcome!(page_state(req));
        let checked = match cookie::csrf_seed(req, settings) {
            Some(seed) => csrf::check(req, &key.for_seed(seed)),
            None => Err("CSRF Failed: CSRF cookie not set.".to_owned()),
        };
        match checked {
            Ok(()) => Outcome::Success(AnonymousCsrf),
            Err(detail) => Outcome::Error((Status::Forbidden, Error::Forbidden(detail))),
        }
    }
}

/// Only same-site paths: `/leads?page=2` yes, `//evil.example` or
/// `https://evil.example` no.
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|path| {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.starts_with("/\\")
            && !path.contains(['\r', '\n'])
    })
    .unwrap_or(AFTER_LOGIN)
}

#[get("/signup")]
fn signup_form(view: View) -> Either<Template, Redirect> {
    if view.user.is_some() {
        return Either::Right(Redirect::to(AFTER_LOGIN));
    }
    Either::Left(view.render("signup", "signup", json!({ "form": {}, "errors": {} })))
}

#[post("/signup", data = "<body>")]
#[allow(clippy::too_many_arguments)]
async fn signup(
    _csrf: AnonymousCsrf,
    view: View,
    db: &Db,
    settings: &State<Settings>,
    hasher: &State<Hasher>,
    jar: &CookieJar<'_>,
    agent: UserAgent<'_>,
    body: Body,
) -> Result<FormOutcome, PageError> {
    let input = body.input()?;
    let client = service::client_label(None, agent.0);
    let result = service::register(db, settings, hasher, &input, &client).await;
    Ok(FormOutcome::from_result(
        result,
        |issued| {
            cookie::set_session(jar, settings, issued.token);
            redirect_with_flash(AFTER_LOGIN, format!("Welcome, {}!", issued.user.username))
        },
        |errors| {
            let form = kept(&input, &["username", "email"]);
            let context = json!({ "form": form, "errors": errors });
            view.render("signup", "signup", context)
        },
    ))
}

#[get("/login?<next>")]
fn login_form(view: View, next: Option<&str>) -> Either<Template, Redirect> {
    if view.user.is_some() {
        return Either::Right(Redirect::to(safe_next(next).to_owned()));
    }
    let context = json!({ "form": {}, "errors": {}, "next": next });
    Either::Left(view.render("login", "login", context))
}

#[post("/login?<next>", data = "<body>")]
#[allow(clippy::too_many_arguments)]
async fn login(
    _csrf: AnonymousCsrf,
    view: View,
    db: &Db,
    settings: &State<Settings>,
    hasher: &State<Hasher>,
    jar: &CookieJar<'_>,
    agent: UserAgent<'_>,
    ip: Option<IpAddr>,
    next: Option<&str>,
    body: Body,
) -> Result<FormOutcome, PageError> {
    let input = body.input()?;
    let client = service::client_label(None, agent.0);
    let result = match crate::auth::login::login(db, settings, hasher, &input, &client, ip).await {
        // On a page the token limit is a message on the form, not a bare 403.
        Err(Error::TokenLimitExceeded) => Err(Error::Invalid(FieldErrors::single(
            FieldErrors::NON_FIELD,
            "Maximum amount of tokens allowed per user exceeded. Log out elsewhere first.",
        ))),
        other => other,
    };
    Ok(FormOutcome::from_result(
        result,
        |issued| {
            cookie::set_session(jar, settings, issued.token);
            let welcome = format!("Welcome back, {}.", issued.user.username);
            redirect_with_flash(safe_next(next), welcome)
        },
        |errors| {
            let form = kept(&input, &["username"]);
            let context = json!({ "form": form, "errors": errors, "next": next });
            view.render("login", "login", context)
        },
    ))
}

/// Revokes this browser's token server-side, then forgets the cookie.
#[post("/logout")]
async fn logout(
    auth: Auth,
    db: &Db,
    settings: &State<Settings>,
    jar: &CookieJar<'_>,
) -> Result<Flash<Redirect>, PageError> {
    service::revoke(db, &auth.token_digest).await?;
    cookie::clear_session(jar, settings);
    Ok(redirect_with_flash("/login", "You have been logged out."))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/leads?page=2")), "/leads?page=2");
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/leads", "{evil}");
        }
        assert_eq!(safe_next(None), "/leads");
    }
}
