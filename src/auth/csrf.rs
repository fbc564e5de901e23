//! CSRF protection for requests authenticated by the session cookie.
//!
//! A token is an HMAC (under a key derived from the app's secret key) of the
//! session's token digest, or, before login, of a random seed kept in a
//! cookie. Unsafe requests must carry it in the `X-CSRFToken` header or as
//! the `csrf_token` form field; requests authenticated by the Authorization
//! header are exempt, as in DRF. `Sec-Fetch-Site: cross-site` and a foreign
//! `Origin` are refused outright.

use hmac::{Hmac, Mac};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Method, RawStr};
use rocket::request::Request;
use rocket::Data;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "X-CSRFToken";

/// The HMAC key, derived from the secret key so that tokens survive restarts
/// and are shared by every instance.
pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    pub fn derive(secret: &str) -> Self {
        CsrfKey(Sha256::digest(format!("leads csrf key\0{secret}")).into())
    }

    fn sign(&self, purpose: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{purpose}\0{value}").as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The token for forms of the session whose token has this digest.
    pub fn for_session(&self, token_digest: &str) -> String {
        self.sign("session", token_digest)
    }

    /// The token for forms shown before login, bound to the seed cookie.
    pub fn for_seed(&self, seed: &str) -> String {
        self.sign("anonymous", seed)
    }
}

fn is_safe(method: Method) -> bool {
    matches!(
        method,
        Method::Get | Method::Head | Method::Options | Method::Trace
    )
}

/// Checks an unsafe request against the expected token; `Err` is DRF's 403 detail.
pub fn check(req: &Request<'_>, expected: &str) -> Result<(), String> {
    if is_safe(req.method()) {
        return Ok(());
    }
    if req.headers().get_one("Sec-Fetch-Site") == Some("cross-site") {
        return Err("CSRF Failed: Cross-site request refused.".into());
    }
    if let Some(origin) = req.headers().get_one("Origin") {
        let host = req.headers().get_one("Host").unwrap_or("");
        let authority = origin.split_once("://").map(|(_, rest)| rest);
        if authority != Some(host) {
            return Err(format!(
                "CSRF Failed: Origin checking failed - {origin} does not match any trusted origins."
            ));
        }
    }
    // The header, else the form field.
    let captured = || req.local_cache(|| CapturedField(None)).0.as_deref();
    match req.headers().get_one(HEADER).or_else(captured) {
        None => Err("CSRF Failed: CSRF token missing.".into()),
        Some(given) if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        Some(_) => Err("CSRF Failed: CSRF token incorrect.".into()),
    }
}

/// The `csrf_token` field of a form body, read before routing.
struct CapturedField(Option<String>);

/// Reads the `csrf_token` field of unsafe form-encoded bodies so that the
/// request guard can check it before any data guard runs: our forms put it
/// first, and a peek at the first 512 bytes does not consume them.
pub struct CaptureFormField;

#[rocket::async_trait]
impl Fairing for CaptureFormField {
    fn info(&self) -> Info {
        Info {
            name: "CSRF form field",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, data: &mut Data<'_>) {
        let is_form = req.content_type().is_some_and(|ct| ct.is_form());
        if is_safe(req.method()) || !is_form {
            return;
        }
        let text = String::from_utf8_lossy(data.peek(512).await);
        let value = text.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == FIELD).then(|| RawStr::new(value).url_decode_lossy().into_owned())
        });
        req.local_cache(|| CapturedField(value));
    }
}
