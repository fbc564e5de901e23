//! Knox token semantics: expiry, auto-refresh, the per-user limit,
//! prefixes, the caller's token list and revoking one token by its key.

use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::helpers::{
    now_micros, read, token_key, Backend, TestApp, INVALID_TOKEN, PASSWORD, SECOND,
};
use crate::{app, on_both_backends};

on_both_backends!(
    expiry_is_created_plus_the_configured_ttl,
    expired_token_is_refused_and_deleted,
    ttl_zero_means_tokens_never_expire,
    auto_refresh_extends_an_aged_token,
    auto_refresh_skips_writes_within_the_min_interval,
    without_auto_refresh_expiry_never_moves,
    max_ttl_caps_the_refreshed_expiry,
    per_user_limit_refuses_logins_past_it,
    prefixed_tokens_carry_the_prefix_and_authenticate,
    authorization_header_forms,
    token_list_shows_the_callers_live_tokens,
    revoke_token_by_key,
    last_used_is_written_only_when_stale,
    min_refresh_interval_is_configurable,
);

/// A timestamp as the API renders it (DRF: microseconds and `Z`).
fn iso(micros: i64) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .unwrap()
        .format(format)
        .unwrap()
}

/// One BIGINT column of the token's row.
async fn column(app: &TestApp, token: &str, column: &str) -> i64 {
    app.scalar(&format!(
        "SELECT {column} FROM auth_tokens WHERE token_key = '{}'",
        token_key(token)
    ))
    .await
}

async fn set_column(app: &TestApp, token: &str, column: &str, value: i64) {
    app.execute(&format!(
        "UPDATE auth_tokens SET {column} = {value} WHERE token_key = '{}'",
        token_key(token)
    ))
    .await;
}

async fn rows(app: &TestApp, filter: &str) -> i64 {
    app.scalar(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens {filter}"
    ))
    .await
}

/// GET /api/auth/user with the token; its status and body.
async fn use_token(app: &TestApp, token: &str) -> (Status, Value) {
    app.get("/api/auth/user", Some(token)).await
}

/// Logs in with optional User-Agent and `client` field; the whole answer.
async fn login_from(
    app: &TestApp,
    username: &str,
    user_agent: Option<&str>,
    client: Option<&str>,
) -> (Status, Value) {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let Some(client) = client {
        body["client"] = json!(client);
    }
    let mut request = app
        .client
        .post("/api/auth/login")
        .header(ContentType::JSON)
        .body(body.to_string());
    if let Some(agent) = user_agent {
        request.add_header(Header::new("User-Agent", agent.to_owned()));
    }
    read(request.dispatch().await).await
}

async fn expiry_is_created_plus_the_configured_ttl(backend: Backend) {
    let app = app!(backend, |figment| figment.merge(("token_ttl", 120)));
    let before = now_micros();
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "alice", "email": "", "password": PASSWORD}),
        )
        .await;
    let after = now_micros();
    assert_eq!(status, Status::Ok);
    let token = body["token"].as_str().unwrap();
    let created = column(&app, token, "created").await;
    let expiry = column(&app, token, "expiry").await;
    assert!((before..=after).contains(&created));
    assert_eq!(expiry - created, 120 * SECOND);
    assert_eq!(column(&app, token, "last_used").await, created);
    assert_eq!(body["expiry"], iso(expiry));

    // The default is ten hours.
    let app = app!(backend);
    let (token, _) = app.register("bob").await;
    assert_eq!(
        column(&app, &token, "expiry").await - column(&app, &token, "created").await,
        10 * 3600 * SECOND
    );
}

async fn expired_token_is_refused_and_deleted(backend: Backend) {
    let app = app!(backend);
    let (old, _) = app.register("alice").await;
    let fresh = app.login("alice").await;
    set_column(&app, &old, "expiry", now_micros() - SECOND).await;

    let response = app
        .client
        .get("/api/auth/user")
        .header(Header::new("Authorization", format!("Token {old}")))
        .dispatch()
        .await;
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some("Token")
    );
    let (status, body) = read(response).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body, json!({"detail": INVALID_TOKEN}));
    assert_eq!(
        rows(&app, &format!("WHERE token_key = '{}'", token_key(&old))).await,
        0
    );

    // Still refused once gone; the user's other token is unaffected.
    let (status, body) = use_token(&app, &old).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body, json!({"detail": INVALID_TOKEN}));
    let (status, _) = use_token(&app, &fresh).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(rows(&app, "").await, 1);
}

async fn ttl_zero_means_tokens_never_expire(backend: Backend) {
    let app = app!(backend, |figment| figment
        .merge(("token_ttl", 0))
        .merge(("token_auto_refresh", true)));
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "alice", "email": "", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["expiry"], Value::Null);
    let (status, body) = login_from(&app, "alice", None, None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["expiry"], Value::Null);
    let token = body["token"].as_str().unwrap();
    assert_eq!(rows(&app, "WHERE expiry IS NULL").await, 2);

    // Auto-refresh does not give a never-expiring token an expiry.
    set_column(&app, token, "last_used", now_micros() - 3600 * SECOND).await;
    let (status, _) = use_token(&app, token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(rows(&app, "WHERE expiry IS NULL").await, 2);
    let (status, body) = app.get("/api/auth/tokens", Some(token)).await;
    assert_eq!(status, Status::Ok);
    let listed = body.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t["expiry"].is_null()), "{body}");
}

async fn auto_refresh_extends_an_aged_token(backend: Backend) {
    let app = app!(backend, |figment| figment
        .merge(("token_auto_refresh", true)));
    let (token, _) = app.register("alice").await;
    // As if issued 9 h 40 min ago: 20 minutes left.
    set_column(&app, &token, "expiry", now_micros() + 1200 * SECOND).await;
    set_column(&app, &token, "last_used", now_micros() - 34800 * SECOND).await;

    let before = now_micros();
    let (status, _) = use_token(&app, &token).await;
    let after = now_micros();
    assert_eq!(status, Status::Ok);
    let expiry = column(&app, &token, "expiry").await;
    let ttl = 36000 * SECOND;
    assert!(
        (before + ttl..=after + ttl).contains(&expiry),
        "{expiry} not ten hours after the request"
    );
    let last_used = column(&app, &token, "last_used").await;
    assert!((before..=after).contains(&last_used));

    let (status, body) = app.get("/api/auth/tokens", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body[0]["expiry"], iso(expiry));
}

async fn auto_refresh_skips_writes_within_the_min_interval(backend: Backend) {
    let app = app!(backend, |figment| figment
        .merge(("token_auto_refresh", true)));
    let (token, _) = app.register("alice").await;
    let expiry = column(&app, &token, "expiry").await;
    let last_used = column(&app, &token, "last_used").await;
    for _ in 0..3 {
        let (status, _) = use_token(&app, &token).await;
        assert_eq!(status, Status::Ok);
    }
    assert_eq!(column(&app, &token, "expiry").await, expiry);
    assert_eq!(column(&app, &token, "last_used").await, last_used);

    // Renewal would move the expiry by only ~30 s (< 60 s): not written.
    let aged = now_micros() + 36000 * SECOND - 30 * SECOND;
    set_column(&app, &token, "expiry", aged).await;
    let (status, _) = use_token(&app, &token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(column(&app, &token, "expiry").await, aged);
    assert_eq!(column(&app, &token, "last_used").await, last_used);
}

async fn without_auto_refresh_expiry_never_moves(backend: Backend) {
    let app = app!(backend);
    let (token, _) = app.register("alice").await;
    let aged = now_micros() + 1200 * SECOND;
    set_column(&app, &token, "expiry", aged).await;
    set_column(&app, &token, "last_used", now_micros() - 3600 * SECOND).await;
    let (status, _) = use_token(&app, &token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(column(&app, &token, "expiry").await, aged);
}

async fn max_ttl_caps_the_refreshed_expiry(backend: Backend) {
    let app = app!(backend, |figment| figment
        .merge(("token_ttl", 3600))
        .merge(("token_auto_refresh", true))
        .merge(("token_max_ttl", 7200)));
    let (old, _) = app.register("alice").await;
    // Issued 7,000 s ago and refreshed since: 200 s of its lifetime remain.
    let created = now_micros() - 7000 * SECOND;
    set_column(&app, &old, "created", created).await;
    set_column(&app, &old, "expiry", now_micros() + 100 * SECOND).await;
    let (status, _) = use_token(&app, &old).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(column(&app, &old, "expiry").await, created + 7200 * SECOND);
    let (status, _) = use_token(&app, &old).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(column(&app, &old, "expiry").await, created + 7200 * SECOND);

    // A young token is refreshed by the full TTL, the cap being further away.
    let young = app.login("alice").await;
    set_column(&app, &young, "expiry", now_micros() + 100 * SECOND).await;
    let before = now_micros();
    let (status, _) = use_token(&app, &young).await;
    let after = now_micros();
    assert_eq!(status, Status::Ok);
    let expiry = column(&app, &young, "expiry").await;
    assert!((before + 3600 * SECOND..=after + 3600 * SECOND).contains(&expiry));
}

async fn per_user_limit_refuses_logins_past_it(backend: Backend) {
    let app = app!(backend, |figment| figment
        .merge(("token_limit_per_user", 2)));
    let limit = json!({"error": "Maximum amount of tokens allowed per user exceeded."});
    let (first, alice) = app.register("alice").await;
    let second = app.login("alice").await;

    let (status, body) = login_from(&app, "alice", None, None).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body, limit);
    assert_eq!(rows(&app, "").await, 2);
    // Credentials are checked first: a wrong password is still a 400.
    let (status, body) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": "wrong-Password-42"}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"non_field_errors": ["Incorrect Credentials Passed."]})
    );
    // Another user has a limit of their own.
    app.register("bob").await;
    app.login("bob").await;

    // Logging out frees a place.
    let (status, _) = app
        .request(
            rocket::http::Method::Post,
            "/api/auth/logout",
            Some(&first),
            None,
        )
        .await;
    assert_eq!(status, Status::NoContent);
    let third = app.login("alice").await;
    let (status, body) = login_from(&app, "alice", None, None).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body, limit);

    // An expired token (not yet purged) does not count.
    set_column(&app, &second, "expiry", now_micros() - SECOND).await;
    app.login("alice").await;
    assert_eq!(
        rows(&app, &format!("WHERE user_id = {alice}")).await,
        3,
        "two live tokens and the expired one"
    );
    let (status, _) = use_token(&app, &third).await;
    assert_eq!(status, Status::Ok);
    let (status, body) = login_from(&app, "alice", None, None).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body, limit);
}

async fn prefixed_tokens_carry_the_prefix_and_authenticate(backend: Backend) {
    let app = app!(backend, |figment| figment.merge(("token_prefix", "lds_")));
    let (registered, id) = app.register("alice").await;
    let logged_in = app.login("alice").await;
    for token in [&registered, &logged_in] {
        assert_eq!(token.len(), 4 + 64);
        let hex = token.strip_prefix("lds_").expect("the prefix");
        assert!(hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        let (status, body) = use_token(&app, token).await;
        assert_eq!(status, Status::Ok);
        assert_eq!(body["id"], id);
        let keys = app
            .texts(&format!(
                "SELECT token_key FROM auth_tokens WHERE token_key = '{}'",
                &token[..15]
            ))
            .await;
        assert_eq!(keys, [&token[..15]]);
        assert!(keys[0].starts_with("lds_"));

        // Without its prefix the token is not the same token.
        let (status, body) = use_token(&app, hex).await;
        assert_eq!(status, Status::Unauthorized);
        assert_eq!(body, json!({"detail": INVALID_TOKEN}));
    }
    assert_eq!(
        rows(&app, "WHERE substr(token_key, 1, 4) = 'lds_'").await,
        2
    );
}

async fn authorization_header_forms(backend: Backend) {
    let app = app!(backend);
    let (token, _) = app.register("alice").await;
    let send = |header: String| {
        let app = &app;
        async move {
            read(
                app.client
                    .get("/api/auth/user")
                    .header(Header::new("Authorization", header))
                    .dispatch()
                    .await,
            )
            .await
        }
    };
    for ok in [
        format!("Token {token}"),
        format!("token {token}"),
        format!("TOKEN   {token}"),
        format!("Bearer {token}"),
        format!("bearer {token}"),
    ] {
        let (status, body) = send(ok.clone()).await;
        assert_eq!(status, Status::Ok, "{ok}");
        assert_eq!(body["username"], "alice");
    }
    for (header, detail) in [
        (
            "Token".to_owned(),
            "Invalid token header. No credentials provided.",
        ),
        (
            format!("Token {token} extra"),
            "Invalid token header. Token string should not contain spaces.",
        ),
        (
            format!("Basic {token}"),
            "Authentication credentials were not provided.",
        ),
        (format!("Token {}", &token[..63]), INVALID_TOKEN),
        (format!("Token {token}0"), INVALID_TOKEN),
        (format!("Token {}", token.to_uppercase()), INVALID_TOKEN),
    ] {
        let (status, body) = send(header.clone()).await;
        assert_eq!(status, Status::Unauthorized, "{header}");
        assert_eq!(body, json!({ "detail": detail }), "{header}");
    }
}

async fn token_list_shows_the_callers_live_tokens(backend: Backend) {
    let app = app!(backend);
    let response = app
        .client
        .post("/api/auth/register")
        .header(ContentType::JSON)
        .header(Header::new("User-Agent", "Registrar/1.0"))
        .body(json!({"username": "alice", "email": "", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    let (status, body) = read(response).await;
    assert_eq!(status, Status::Ok);
    let registered = body["token"].as_str().unwrap().to_owned();
    let login = |agent: Option<&'static str>, client: Option<&'static str>| {
        let app = &app;
        async move {
            let (status, body) = login_from(app, "alice", agent, client).await;
            assert_eq!(status, Status::Ok);
            body["token"].as_str().unwrap().to_owned()
        }
    };
    let curl = login(Some("curl/8.4.0"), None).await;
    let script = login(Some("curl/8.4.0"), Some("Deploy script")).await;
    let anonymous = login(None, None).await;
    let (bobs, _) = app.register("bob").await;

    let expected_clients = [
        (&registered, "Registrar/1.0"),
        (&curl, "curl/8.4.0"),
        (&script, "Deploy script"),
        (&anonymous, ""),
    ];
    let (status, body) = app.get("/api/auth/tokens", Some(&curl)).await;
    assert_eq!(status, Status::Ok);
    let listed = body.as_array().expect("a JSON array");
    assert_eq!(listed.len(), 4, "{body}");
    for entry in listed {
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "token_key",
                "client",
                "created",
                "last_used",
                "expiry",
                "current"
            ]
        );
    }
    for (token, client) in expected_clients {
        let entry = listed
            .iter()
            .find(|entry| entry["token_key"] == token_key(token))
            .unwrap_or_else(|| panic!("{} not listed: {body}", token_key(token)));
        assert_eq!(
            entry,
            &json!({
                "token_key": token_key(token),
                "client": client,
                "created": iso(column(&app, token, "created").await),
                "last_used": iso(column(&app, token, "last_used").await),
                "expiry": iso(column(&app, token, "expiry").await),
                "current": *token == curl,
            })
        );
    }
    assert!(!body.to_string().contains(token_key(&bobs)));
    // Neither tokens nor digests are ever listed.
    for token in [&registered, &curl, &script, &anonymous] {
        assert!(!body.to_string().contains(&token[..20]));
    }

    // An expired token is not live; `current` follows the token used.
    set_column(&app, &anonymous, "expiry", now_micros() - SECOND).await;
    let (status, body) = app.get("/api/auth/tokens/", Some(&script)).await;
    assert_eq!(status, Status::Ok);
    let listed = body.as_array().unwrap();
    assert_eq!(listed.len(), 3, "{body}");
    let current: Vec<&Value> = listed
        .iter()
        .filter(|entry| entry["current"] == true)
        .map(|entry| &entry["token_key"])
        .collect();
    assert_eq!(current, [token_key(&script)]);

    let (status, body) = app.get("/api/auth/tokens", None).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );
}

async fn revoke_token_by_key(backend: Backend) {
    let app = app!(backend);
    let (first, _) = app.register("alice").await;
    let second = app.login("alice").await;
    let third = app.login("alice").await;
    let (bobs, bob) = app.register("bob").await;

    let (status, body) = app
        .delete(
            &format!("/api/auth/tokens/{}", token_key(&first)),
            Some(&second),
        )
        .await;
    assert_eq!(status, Status::NoContent);
    assert_eq!(body, Value::Null);
    let (status, body) = use_token(&app, &first).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body, json!({"detail": INVALID_TOKEN}));
    let (status, _) = use_token(&app, &second).await;
    assert_eq!(status, Status::Ok);

    // Another user's token, an unknown key, one already revoked: not found.
    for missing in [token_key(&bobs), "0123456789abcde", token_key(&first)] {
        let (status, body) = app
            .delete(&format!("/api/auth/tokens/{missing}"), Some(&second))
            .await;
        assert_eq!(status, Status::NotFound, "{missing}");
        assert_eq!(body, json!({"detail": "Not found."}), "{missing}");
    }
    let (status, _) = use_token(&app, &bobs).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(rows(&app, &format!("WHERE user_id = {bob}")).await, 1);

    // With a trailing slash, and the token in use itself.
    let (status, _) = app
        .delete(
            &format!("/api/auth/tokens/{}/", token_key(&third)),
            Some(&third),
        )
        .await;
    assert_eq!(status, Status::NoContent);
    let (status, _) = use_token(&app, &third).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(rows(&app, "").await, 2);

    let (status, _) = app
        .delete(&format!("/api/auth/tokens/{}", token_key(&second)), None)
        .await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(rows(&app, "").await, 2);
}

async fn last_used_is_written_only_when_stale(backend: Backend) {
    let app = app!(backend);
    let (token, _) = app.register("alice").await;
    let issued = column(&app, &token, "last_used").await;
    let expiry = column(&app, &token, "expiry").await;
    let (status, _) = use_token(&app, &token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(column(&app, &token, "last_used").await, issued);

    // Within the 60 s interval: left alone.
    let recent = now_micros() - 50 * SECOND;
    set_column(&app, &token, "last_used", recent).await;
    use_token(&app, &token).await;
    assert_eq!(column(&app, &token, "last_used").await, recent);

    // Older than that: recorded, and the expiry untouched (no auto-refresh).
    set_column(&app, &token, "last_used", now_micros() - 120 * SECOND).await;
    let before = now_micros();
    use_token(&app, &token).await;
    let after = now_micros();
    let last_used = column(&app, &token, "last_used").await;
    assert!((before..=after).contains(&last_used));
    assert_eq!(column(&app, &token, "expiry").await, expiry);
}

async fn min_refresh_interval_is_configurable(backend: Backend) {
    let app = app!(backend, |figment| figment
        .merge(("token_auto_refresh", true))
        .merge(("token_min_refresh_interval", 3600)));
    let (token, _) = app.register("alice").await;
    let aged_use = now_micros() - 1800 * SECOND;
    let aged_expiry = now_micros() + 34200 * SECOND;
    set_column(&app, &token, "last_used", aged_use).await;
    set_column(&app, &token, "expiry", aged_expiry).await;
    use_token(&app, &token).await;
    assert_eq!(column(&app, &token, "last_used").await, aged_use);
    assert_eq!(column(&app, &token, "expiry").await, aged_expiry);

    set_column(&app, &token, "expiry", now_micros() + 30000 * SECOND).await;
    let before = now_micros();
    use_token(&app, &token).await;
    let after = now_micros();
    let expiry = column(&app, &token, "expiry").await;
    assert!((before + 36000 * SECOND..=after + 36000 * SECOND).contains(&expiry));
    let last_used = column(&app, &token, "last_used").await;
    assert!((before..=after).contains(&last_used));
}
