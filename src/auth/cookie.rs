//! The browser's cookies, HttpOnly and SameSite=Lax: the session token, and
//! the random seed that anonymous forms' CSRF tokens (login, signup) are bound to.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::Request;

use crate::config::Settings;

const SESSION: &str = "leads_session";
const CSRF_SEED: &str = "leads_csrf";

/// With Secure cookies the `__Host-` prefix also pins the cookie to this
/// host and path `/`, so a sibling subdomain cannot plant one.
fn name(settings: &Settings, base: &str) -> String {
    if settings.secure_cookies {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

fn build(settings: &Settings, base: &str, value: String) -> Cookie<'static> {
    Cookie::build((name(settings, base), value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .build()
}

fn sent<'r>(req: &'r Request<'_>, settings: &Settings, base: &str) -> Option<&'r str> {
    req.cookies()
        .get(&name(settings, base))
        .map(|c| c.value())
        .filter(|v| !v.is_empty())
}

/// The session token a browser sent, if any.
pub fn session_token<'r>(req: &'r Request<'_>, settings: &Settings) -> Option<&'r str> {
    sent(req, settings, SESSION)
}

/// Stores a freshly issued token for the browser. A session cookie: it ends
/// with the browser, and the token's own expiry bounds it server-side.
pub fn set_session(jar: &CookieJar<'_>, settings: &Settings, token: String) {
    jar.add(build(settings, SESSION, token));
}

pub fn clear_session(jar: &CookieJar<'_>, settings: &Settings) {
    jar.remove(build(settings, SESSION, String::new()));
}

pub fn csrf_seed<'r>(req: &'r Request<'_>, settings: &Settings) -> Option<&'r str> {
    sent(req, settings, CSRF_SEED)
}

/// The browser's CSRF seed, or a new one set in its cookie.
pub fn csrf_seed_or_new(req: &Request<'_>, settings: &Settings) -> String {
    if let Some(seed) = csrf_seed(req, settings) {
        return seed.to_owned();
    }
    let seed = super::token::random_hex(32);
    req.cookies().add(build(settings, CSRF_SEED, seed.clone()));
    seed
}
