//! Security headers on every kind of response (SPEC §5).

use rocket::http::Method;

use crate::helpers::{Backend, TestApp};

/// One of each: JSON, a JSON error, an HTML page, a redirect, a catcher
/// page, a static file, the probes.
const PATHS: [&str; 8] = [
    "/api/auth/user",
    "/api/nowhere",
    "/login",
    "/leads",
    "/nowhere",
    "/static/style.css",
    "/healthz",
    "/livez",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for path in PATHS {
        let reply = app.send(Method::Get, path, &[], None).await;
        let csp = reply.header("Content-Security-Policy").unwrap_or_default();
        assert!(csp.starts_with("default-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("script-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(reply.header("X-Frame-Options"), Some("DENY"), "{path}");
        assert_eq!(
            reply.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            reply.header("Referrer-Policy"),
            Some("same-origin"),
            "{path}"
        );
        // Plain-HTTP cookies: no HSTS, which would pin a dev server to HTTPS.
        assert_eq!(reply.header("Strict-Transport-Security"), None, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_bring_hsts() {
    let app = TestApp::spawn_with(Backend::Sqlite, |figment| {
        figment.merge(("cookie_secure", true))
    })
    .await
    .unwrap();
    for path in PATHS {
        let reply = app.send(Method::Get, path, &[], None).await;
        let hsts = reply
            .header("Strict-Transport-Security")
            .unwrap_or_default();
        let max_age: u64 = hsts
            .strip_prefix("max-age=")
            .and_then(|rest| rest.split(';').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{path}: HSTS {hsts:?}"));
        assert!(max_age >= 365 * 24 * 3600, "{path}: {hsts}");
        assert_eq!(reply.header("X-Frame-Options"), Some("DENY"), "{path}");
    }
}
