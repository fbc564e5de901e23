//! Security headers on every response (SPEC §5).

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::shield::{Frame, Hsts, NoSniff, Permission, Referrer, Shield, XssFilter};
use rocket::{Request, Response};

/// Rocket's Shield with a stricter frame and referrer policy, HSTS when
/// cookies are Secure (the site is served over HTTPS then).
pub fn shield(hsts: bool) -> Shield {
    let shield = Shield::new()
        .enable(NoSniff::Enable)
        .enable(Frame::Deny)
        .enable(Referrer::SameOrigin)
        .enable(XssFilter::Disable)
        .enable(Permission::default());
    if hsts {
        shield.enable(Hsts::default())
    } else {
        shield
    }
}

/// The Content-Security-Policy, which Shield does not provide: only our own
/// stylesheet; no script at all, no framing, forms only to ourselves.
pub struct ContentSecurityPolicy;

const CSP: &str = "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

#[rocket::async_trait]
impl Fairing for ContentSecurityPolicy {
    fn info(&self) -> Info {
        Info {
            name: "Content-Security-Policy",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _: &'r Request<'_>, response: &mut Response<'r>) {
        response.set_header(Header::new("Content-Security-Policy", CSP));
    }
}
