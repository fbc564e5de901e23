//! CSRF beyond the lead forms (those are in pages.rs): the anonymous login
//! and signup forms, and API writes of every unsafe method authenticated by
//! the session cookie.

use rocket::http::{ContentType, Cookie, Header, Method, Status};
use serde_json::json;

use crate::browser::{csrf_in, Browser};
use crate::helpers::{read, Backend, TestApp, PASSWORD};
use crate::leads_common::{lead_count, stored};
use crate::{app, on_both_backends};

on_both_backends!(
    cookie_put_patch_and_delete_need_the_csrf_header,
    login_and_signup_refuse_a_missing_or_foreign_csrf_token_or_origin,
);

async fn cookie_put_patch_and_delete_need_the_csrf_header(backend: Backend) {
    let app = app!(backend);
    let mut browser = Browser::default();
    browser.sign_up(&app, "erin").await;
    let session = Cookie::new(
        "leads_session",
        browser.cookie("leads_session").unwrap().to_owned(),
    );
    let lead = app
        .create_lead(&app.login("erin").await, "Lead", "lead@example.com")
        .await;
    let path = format!("/api/leads/{}/", lead["id"]);
    let before = stored(&app, &lead["id"]).await;
    let send = |method: Method, csrf: Option<String>| {
        let (app, path, session) = (&app, &path, session.clone());
        async move {
            let mut request = app.client.req(method, path.clone()).cookie(session);
            if method != Method::Delete {
                let fields =
                    json!({"name": "Changed", "email": "changed@example.com", "message": "m"});
                request = request.header(ContentType::JSON).body(fields.to_string());
            }
            if let Some(csrf) = csrf {
                request.add_header(Header::new("X-CSRFToken", csrf));
            }
            read(request.dispatch().await).await
        }
    };

    for method in [Method::Put, Method::Patch, Method::Delete] {
        for (csrf, detail) in [
            (None, "CSRF Failed: CSRF token missing."),
            (Some("f".repeat(64)), "CSRF Failed: CSRF token incorrect."),
        ] {
            let (status, body) = send(method, csrf).await;
            assert_eq!(status, Status::Forbidden, "{method}");
            assert_eq!(body, json!({ "detail": detail }), "{method}");
        }
    }
    assert_eq!(stored(&app, &lead["id"]).await, before);

    // With the session's token each one goes through.
    let csrf = browser.csrf(&app).await;
    let (status, body) = send(Method::Put, Some(csrf.clone())).await;
    assert_eq!((status, &body["name"]), (Status::Ok, &json!("Changed")));
    let (status, _) = send(Method::Patch, Some(csrf.clone())).await;
    assert_eq!(status, Status::Ok);
    let (status, _) = send(Method::Delete, Some(csrf)).await;
    assert_eq!(status, Status::NoContent);
    assert_eq!(lead_count(&app).await, 0);
}

type Headers = &'static [(&'static str, &'static str)];
const CROSS_SITE: Headers = &[("Sec-Fetch-Site", "cross-site")];
const FOREIGN_ORIGIN: Headers = &[
    ("Origin", "https://evil.example"),
    ("Host", "leads.example"),
];

/// A browser that has opened `path` (so holds a CSRF seed cookie), and the
/// form's token.
async fn opened(app: &TestApp, path: &str) -> (Browser, String) {
    let mut browser = Browser::default();
    let (status, page, _) = browser.get(app, path).await;
    assert_eq!(status, Status::Ok);
    (browser, csrf_in(&page))
}

async fn login_and_signup_refuse_a_missing_or_foreign_csrf_token_or_origin(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    let count = |table: &'static str| {
        let app = &app;
        async move {
            app.scalar(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
                .await
        }
    };
    let forms = [
        ("/login", format!("username=alice&password={PASSWORD}")),
        (
            "/signup",
            format!("username=newbie&email=newbie%40example.com&password={PASSWORD}"),
        ),
    ];
    for (path, fields) in &forms {
        let (browser, token) = opened(&app, path).await;
        let (_, foreign) = opened(&app, path).await;
        let cookieless = Browser::default();
        let attempts: [(&Browser, String, Headers); 6] = [
            (&browser, fields.clone(), &[]),
            (&browser, format!("csrf_token=&{fields}"), &[]),
            (&browser, format!("csrf_token={foreign}&{fields}"), &[]),
            (&cookieless, format!("csrf_token={token}&{fields}"), &[]),
            (&browser, format!("csrf_token={token}&{fields}"), CROSS_SITE),
            (
                &browser,
                format!("csrf_token={token}&{fields}"),
                FOREIGN_ORIGIN,
            ),
        ];
        for (who, form, headers) in attempts {
            let mut who = who.clone();
            let (status, page, _) = who.post_form(&app, path, &form, headers).await;
            assert_eq!(status, Status::Forbidden, "{path} {form} {headers:?}");
            assert!(page.contains("Forbidden"), "an HTML error page");
            assert_eq!(who.cookie("leads_session"), None, "{path} {form}");
        }
        assert_eq!(count("users").await, 1, "{path}");
        assert_eq!(count("auth_tokens").await, 1, "{path}");
        assert_eq!(count("users WHERE last_login IS NULL").await, 1);
    }

    // The same forms with the browser's own token, from this site, work.
    for (n, (path, fields)) in forms.iter().enumerate() {
        let (mut browser, token) = opened(&app, path).await;
        let form = format!("csrf_token={token}&{fields}");
        let same_site = [
            ("Origin", "http://leads.example"),
            ("Host", "leads.example"),
        ];
        let (status, _, location) = browser.post_form(&app, path, &form, &same_site).await;
        assert_eq!(
            (status, location.as_deref()),
            (Status::SeeOther, Some("/leads")),
            "{path}"
        );
        assert!(browser.cookie("leads_session").is_some(), "{path}");
        assert_eq!(count("auth_tokens").await, 2 + n as i64, "{path}");
    }
    assert_eq!(count("users").await, 2);
}
