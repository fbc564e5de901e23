//! The browser side of the one guard: the session cookie, CSRF, login's
//! `next`, logout. (The page journey itself runs in Chromium: tests/e2e.)

use rocket::http::{ContentType, Header, Status};
use serde_json::json;

use crate::browser::{csrf_in, Browser};
use crate::helpers::{read, Backend, PASSWORD};
use crate::leads_common::stored;
use crate::{app, on_both_backends};

on_both_backends!(
    login_sets_an_http_only_lax_session_cookie,
    forged_form_posts_are_refused_and_change_nothing,
    a_csrf_token_from_another_session_is_refused,
    api_calls_with_the_cookie_need_the_csrf_header_for_unsafe_methods,
    header_tokens_need_no_csrf_token,
    cross_site_and_foreign_origin_posts_are_refused,
    login_next_is_followed_only_to_local_paths,
    logout_revokes_the_token_server_side,
    pages_need_a_login,
    another_users_lead_is_not_found_on_every_page_and_left_untouched,
);

async fn login_sets_an_http_only_lax_session_cookie(backend: Backend) {
    let app = app!(backend);
    app.register("carol").await;
    let mut browser = Browser::default();
    let (_, page, _) = browser.get(&app, "/login").await;
    let form = format!(
        "csrf_token={}&username=carol&password={PASSWORD}",
        csrf_in(&page)
    );
    let response = app
        .client
        .post("/login")
        .cookie(rocket::http::Cookie::new(
            "leads_csrf",
            browser.cookie("leads_csrf").unwrap().to_owned(),
        ))
        .header(ContentType::Form)
        .body(form)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let set_cookie: Vec<&str> = response.headers().get("Set-Cookie").collect();
    let session = set_cookie
        .iter()
        .find(|c| c.starts_with("leads_session="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    // Debug profile: not Secure unless configured.
    assert!(!session.contains("Secure"), "{session}");
}

async fn forged_form_posts_are_refused_and_change_nothing(backend: Backend) {
    let app = app!(backend);
    let mut browser = Browser::default();
    browser.sign_up(&app, "dave").await;
    let lead = "name=Eve&email=eve%40example.com&message=hi";
    for form in [
        lead.to_owned(),
        format!("csrf_token={}&{lead}", "0".repeat(64)),
        format!("csrf_token=&{lead}"),
    ] {
        let (status, body, _) = browser.post_form(&app, "/leads/new", &form, &[]).await;
        assert_eq!(status, Status::Forbidden, "{form}");
        assert!(body.contains("Forbidden"), "an HTML error page");
    }
    // Logout without a token: still logged in afterwards.
    let (status, _, _) = browser.post_form(&app, "/logout", "", &[]).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        1
    );
    let (status, _, _) = browser.get(&app, "/leads").await;
    assert_eq!(status, Status::Ok);

    let csrf = browser.csrf(&app).await;
    let (status, _, location) = browser
        .post_form(
            &app,
            "/leads/new",
            &format!("csrf_token={csrf}&{lead}"),
            &[],
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (Status::SeeOther, Some("/leads"))
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
            .await,
        1
    );
}

async fn a_csrf_token_from_another_session_is_refused(backend: Backend) {
    let app = app!(backend);
    let mut mallory = Browser::default();
    mallory.sign_up(&app, "mallory").await;
    let foreign = mallory.csrf(&app).await;
    let mut victim = Browser::default();
    victim.sign_up(&app, "victim").await;
    let form = format!("csrf_token={foreign}&name=X&email=x%40example.com&message=m");
    let (status, _, _) = victim.post_form(&app, "/leads/new", &form, &[]).await;
    assert_eq!(status, Status::Forbidden);
    // Nor is the anonymous token of the login form accepted once logged in.
    let (_, page, _) = Browser::default().get(&app, "/login").await;
    let form = format!(
        "csrf_token={}&name=X&email=x%40example.com&message=m",
        csrf_in(&page)
    );
    let (status, _, _) = victim.post_form(&app, "/leads/new", &form, &[]).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
            .await,
        0
    );
}

async fn api_calls_with_the_cookie_need_the_csrf_header_for_unsafe_methods(backend: Backend) {
    let app = app!(backend);
    let mut browser = Browser::default();
    browser.sign_up(&app, "erin").await;
    let session = rocket::http::Cookie::new(
        "leads_session",
        browser.cookie("leads_session").unwrap().to_owned(),
    );
    let body = json!({"name": "Lead", "email": "lead@example.com", "message": "m"}).to_string();

    let response = app
        .client
        .get("/api/leads/")
        .cookie(session.clone())
        .dispatch()
        .await;
    assert_eq!(read(response).await, (Status::Ok, json!([])));

    let response = app
        .client
        .post("/api/leads/")
        .cookie(session.clone())
        .header(ContentType::JSON)
        .body(body.clone())
        .dispatch()
        .await;
    assert_eq!(
        read(response).await,
        (
            Status::Forbidden,
            json!({"detail": "CSRF Failed: CSRF token missing."})
        )
    );
    let response = app
        .client
        .post("/api/leads/")
        .cookie(session.clone())
        .header(ContentType::JSON)
        .header(Header::new("X-CSRFToken", "f".repeat(64)))
        .body(body.clone())
        .dispatch()
        .await;
    assert_eq!(
        read(response).await,
        (
            Status::Forbidden,
            json!({"detail": "CSRF Failed: CSRF token incorrect."})
        )
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
            .await,
        0
    );

    let csrf = browser.csrf(&app).await;
    let response = app
        .client
        .post("/api/leads/")
        .cookie(session)
        .header(ContentType::JSON)
        .header(Header::new("X-CSRFToken", csrf))
        .body(body)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Created);
}

async fn header_tokens_need_no_csrf_token(backend: Backend) {
    let app = app!(backend);
    let (token, _) = app.register("frank").await;
    let (status, _) = app
        .post(
            "/api/leads/",
            Some(&token),
            json!({"name": "A", "email": "a@example.com", "message": "m"}),
        )
        .await;
    assert_eq!(status, Status::Created);
    // Even alongside a (foreign) session cookie, the header decides.
    let mut browser = Browser::default();
    browser.sign_up(&app, "grace").await;
    let response = app
        .client
        .delete("/api/leads/1/")
        .cookie(rocket::http::Cookie::new(
            "leads_session",
            browser.cookie("leads_session").unwrap().to_owned(),
        ))
        .header(Header::new("Authorization", format!("Token {token}")))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::NoContent);
}

async fn cross_site_and_foreign_origin_posts_are_refused(backend: Backend) {
    let app = app!(backend);
    let mut browser = Browser::default();
    browser.sign_up(&app, "heidi").await;
    let csrf = browser.csrf(&app).await;
    let form = format!("csrf_token={csrf}&name=X&email=x%40example.com&message=m");
    let (status, _, _) = browser
        .post_form(
            &app,
            "/leads/new",
            &form,
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .await;
    assert_eq!(status, Status::Forbidden);
    let (status, _, _) = browser
        .post_form(
            &app,
            "/leads/new",
            &form,
            &[
                ("Origin", "https://evil.example"),
                ("Host", "leads.example"),
            ],
        )
        .await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
            .await,
        0
    );
    let (status, _, _) = browser
        .post_form(
            &app,
            "/leads/new",
            &form,
            &[
                ("Origin", "http://leads.example"),
                ("Host", "leads.example"),
                ("Sec-Fetch-Site", "same-origin"),
            ],
        )
        .await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
            .await,
        1
    );
}

async fn login_next_is_followed_only_to_local_paths(backend: Backend) {
    let app = app!(backend);
    app.register("ivan").await;
    for (next, expected) in [
        ("https%3A%2F%2Fevil.example", "/leads"),
        ("%2F%2Fevil.example", "/leads"),
        ("%2Faccount%2Fsessions", "/account/sessions"),
    ] {
        let mut browser = Browser::default();
        let (_, page, _) = browser.get(&app, &format!("/login?next={next}")).await;
        let form = format!(
            "csrf_token={}&username=ivan&password={PASSWORD}",
            csrf_in(&page)
        );
        let (status, _, location) = browser
            .post_form(&app, &format!("/login?next={next}"), &form, &[])
            .await;
        assert_eq!(
            (status, location.as_deref()),
            (Status::SeeOther, Some(expected)),
            "{next}"
        );
    }
}

async fn logout_revokes_the_token_server_side(backend: Backend) {
    let app = app!(backend);
    let mut browser = Browser::default();
    browser.sign_up(&app, "judy").await;
    let token = browser.cookie("leads_session").unwrap().to_owned();
    let (status, _) = app.get("/api/auth/user", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    let csrf = browser.csrf(&app).await;
    let (status, _, location) = browser
        .post_form(&app, "/logout", &format!("csrf_token={csrf}"), &[])
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (Status::SeeOther, Some("/login"))
    );
    assert_eq!(
        browser.cookie("leads_session"),
        None,
        "the cookie is cleared"
    );
    let (status, body) = app.get("/api/auth/user", Some(&token)).await;
    assert_eq!(
        (status, body),
        (Status::Unauthorized, json!({"detail": "Invalid token."}))
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        0
    );
}

async fn pages_need_a_login(backend: Backend) {
    let app = app!(backend);
    let mut stranger = Browser::default();
    for path in [
        "/leads",
        "/leads/new",
        "/account/sessions",
        "/account/password",
    ] {
        let (status, _, location) = stranger.get(&app, path).await;
        assert_eq!(status, Status::SeeOther, "{path}");
        assert!(location.unwrap().starts_with("/login?next=%2F"), "{path}");
    }
}

/// Every page of another user's lead, read or write, answers exactly as for
/// a lead that does not exist, and the lead stays as it was.
async fn another_users_lead_is_not_found_on_every_page_and_left_untouched(backend: Backend) {
    let app = app!(backend);
    let (token, _) = app.register("kim").await;
    let lead = app
        .create_lead(&token, "Kim's lead", "kl@example.com")
        .await;
    let before = stored(&app, &lead["id"]).await;
    let mut stranger = Browser::default();
    stranger.sign_up(&app, "lou").await;
    let csrf = stranger.csrf(&app).await;
    let valid = format!("csrf_token={csrf}&name=Mine+now&email=lou%40example.com&message=m");
    // Invalid, with the lead's own email (in capitals, so that an echo of
    // the form is not taken for a leak): its uniqueness check must not tell
    // this lead's email from any other.
    let invalid = format!("csrf_token={csrf}&name=&email=KL%40example.com&message=m");
    let requests = [
        ("GET", "edit", String::new()),
        ("GET", "delete", String::new()),
        ("POST", "edit", valid),
        ("POST", "edit", invalid),
        ("POST", "delete", format!("csrf_token={csrf}")),
    ];
    for (method, page, form) in &requests {
        let mut answers = Vec::new();
        for id in [lead["id"].as_i64().unwrap(), 999_999] {
            let path = format!("/leads/{id}/{page}");
            let answer = if *method == "GET" {
                stranger.get(&app, &path).await
            } else {
                stranger.post_form(&app, &path, form, &[]).await
            };
            assert_eq!(answer.0, Status::NotFound, "{method} {path}");
            assert!(
                !answer.1.contains("Kim") && !answer.1.contains("kl@"),
                "{method} {path}"
            );
            answers.push(answer);
        }
        assert_eq!(
            answers[0], answers[1],
            "{method} {page}: another's lead = no lead"
        );
    }
    assert_eq!(stored(&app, &lead["id"]).await, before);
}
