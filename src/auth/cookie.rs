//! The browser's session cookie: the token in an HttpOnly, SameSite=Lax cookie.

use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::Request;

use crate::config::Settings;

/// With Secure cookies the `__Host-` prefix also pins the cookie to this
/// host and path `/`, so a sibling subdomain cannot plant one.
fn name(settings: &Settings, base: &'static str) -> String {
    if settings.secure_cookies {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

const SESSION: &str = "leads_session";
const CSRF_SEED: &str = "leads_csrf";

fn build(settings: &Settings, name: String, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .build()
}

/// The session token a browser sent, if any.
pub fn session_token<'r>(req: &'r Request<'_>, settings: &Settings) -> Option<&'r str> {
    req.cookies()
        .get(&name(settings, SESSION))
        .map(|c| c.value())
        .filter(|v| !v.is_empty())
}

/// Stores a freshly issued token for the browser. A session cookie: it ends
/// with the browser, and the token's own expiry bounds it server-side.
pub fn set_session(jar: &CookieJar<'_>, settings: &Settings, token: String) {
    jar.add(build(settings, name(settings, SESSION), token));
}

pub fn clear_session(jar: &CookieJar<'_>, settings: &Settings) {
    jar.remove(build(settings, name(settings, SESSION), String::new()));
}

/// The random seed that anonymous forms' CSRF tokens (login, signup) are bound to.
pub fn csrf_seed<'r>(req: &'r Request<'_>, settings: &Settings) -> Option<&'r str> {
    req.cookies()
        .get(&name(settings, CSRF_SEED))
        .map(|c| c.value())
        .filter(|v| !v.is_empty())
}

pub fn set_csrf_seed(jar: &CookieJar<'_>, settings: &Settings, seed: String) {
    jar.add(build(settings, name(settings, CSRF_SEED), seed));
}
