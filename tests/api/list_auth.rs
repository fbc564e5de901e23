//! The lead list, the busiest route, refuses, revokes, refreshes and scopes
//! exactly as every other authenticated route does.

use rocket::http::Status;
use serde_json::{json, Value};

use crate::helpers::{
    forged, now_micros, read, token_header, token_key, Backend, TestApp, EDGE_TIMES, INVALID_TOKEN,
    SECOND,
};
use crate::{app, on_both_backends};

on_both_backends!(
    the_list_refuses_every_token_the_guard_refuses,
    an_expired_token_is_deleted_by_the_list,
    a_token_key_shared_with_another_user_lists_only_the_callers_leads,
    a_token_key_shared_by_two_of_the_callers_tokens_lists_each_lead_once,
    the_list_refreshes_the_token_and_records_its_use,
    a_bad_token_is_a_401_before_a_bad_page_is_a_404,
    leads_serialize_exactly_bare_and_paginated_alike,
    concurrent_lists_each_get_their_callers_leads_or_their_refusal,
);

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a bare array")
        .iter()
        .map(|lead| lead["name"].as_str().unwrap())
        .collect()
}

/// GET /api/leads/ with `token`: the status, body and WWW-Authenticate.
async fn list(app: &TestApp, token: &str) -> (Status, Value, Option<String>) {
    let response = app
        .client
        .get("/api/leads/")
        .header(token_header(token))
        .dispatch()
        .await;
    let challenge = response
        .headers()
        .get_one("WWW-Authenticate")
        .map(str::to_owned);
    let (status, body) = read(response).await;
    (status, body, challenge)
}

async fn assert_refused(app: &TestApp, token: &str, detail: &str) {
    let (status, body, challenge) = list(app, token).await;
    assert_eq!(status, Status::Unauthorized, "{token}: {body}");
    assert_eq!(body, json!({ "detail": detail }));
    assert_eq!(challenge.as_deref(), Some("Token"));
}

async fn the_list_refuses_every_token_the_guard_refuses(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    app.create_lead(&alice, "Ann", "ann@example.com").await;
    app.create_lead(&bob, "Ben", "ben@example.com").await;

    // Alice's key with another secret; no such key; not even a key's length.
    let forged = forged(&alice);
    assert_refused(&app, &forged, INVALID_TOKEN).await;
    assert_refused(&app, &"f".repeat(alice.len()), INVALID_TOKEN).await;
    assert_refused(&app, "short", INVALID_TOKEN).await;

    // The real token lists her leads and only hers.
    let (status, body, _) = list(&app, &alice).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(names(&body), ["Ann"]);

    // An inactive owner is refused as Knox refuses them.
    app.execute(&format!(
        "UPDATE users SET is_active = FALSE WHERE id = {alice_id}"
    ))
    .await;
    assert_refused(&app, &alice, "User inactive or deleted.").await;

    // Revocation is immediate: logged out, the token lists nothing.
    let (status, _) = app.post("/api/auth/logout", Some(&bob), json!({})).await;
    assert_eq!(status, Status::NoContent);
    assert_refused(&app, &bob, INVALID_TOKEN).await;
}

async fn an_expired_token_is_deleted_by_the_list(backend: Backend) {
    let app = app!(backend);
    let (old, id) = app.register("alice").await;
    let fresh = app.login("alice").await;
    app.create_lead(&fresh, "Ann", "ann@example.com").await;
    app.execute(&format!(
        "UPDATE auth_tokens SET expiry = {} WHERE token_key = '{}'",
        now_micros() - SECOND,
        token_key(&old)
    ))
    .await;

    assert_refused(&app, &old, INVALID_TOKEN).await;
    let left = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens WHERE user_id = {id}");
    assert_eq!(app.scalar(&left).await, 1, "the expired token is deleted");
    let (status, body, _) = list(&app, &fresh).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(names(&body), ["Ann"]);
}

/// One user's two tokens can share a key too (a configured prefix leaves
/// few random characters in it): the leads are read for each candidate, and
/// must come back once, in order, whichever token is presented.
async fn a_token_key_shared_by_two_of_the_callers_tokens_lists_each_lead_once(backend: Backend) {
    let app = app!(backend);
    let (alice, alice_id) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    app.create_lead(&alice, "Ann", "ann@example.com").await;
    app.create_lead(&bob, "Ben", "ben@example.com").await;
    app.create_lead(&alice, "Amy", "amy@example.com").await;
    app.insert_token(
        "c",
        token_key(&alice),
        alice_id,
        now_micros() + 3600 * SECOND,
    )
    .await;

    let (status, body, _) = list(&app, &alice).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(names(&body), ["Ann", "Amy"]);
    let (status, body, _) = list(&app, &forged(&alice)).await;
    assert_eq!(status, Status::Unauthorized, "{body}");
}

/// Keys are 15 characters, so two tokens can share one: the statement then
/// reads both users' leads, and only the verified caller's may come back.
async fn a_token_key_shared_with_another_user_lists_only_the_callers_leads(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (bob, bob_id) = app.register("bob").await;
    app.create_lead(&alice, "Ann", "ann@example.com").await;
    app.create_lead(&bob, "Ben", "ben@example.com").await;
    app.create_lead(&bob, "Bea", "bea@example.com").await;
    let now = now_micros();
    for (digest, expiry) in [("a", now + 3600 * SECOND), ("b", now - SECOND)] {
        app.insert_token(digest, token_key(&alice), bob_id, expiry)
            .await;
    }

    let (status, body, _) = list(&app, &alice).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(names(&body), ["Ann"]);
    let (status, body, _) = list(&app, &bob).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(names(&body), ["Ben", "Bea"]);
    // A forged secret under the shared key matches no candidate, so every
    // one is checked, and Bob's expired twin is deleted on the way.
    let forged = forged(&alice);
    assert_refused(&app, &forged, INVALID_TOKEN).await;
    let twins = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens WHERE token_key = '{}'",
        token_key(&alice)
    );
    assert_eq!(app.scalar(&twins).await, 2);
}

async fn the_list_refreshes_the_token_and_records_its_use(backend: Backend) {
    let app = app!(backend, |figment| figment
        .merge(("token_ttl", 3600))
        .merge(("token_auto_refresh", true)));
    let (token, _) = app.register("alice").await;
    let aged = now_micros() - 600 * SECOND;
    app.execute(&format!(
        "UPDATE auth_tokens SET expiry = {}, last_used = {aged} WHERE token_key = '{}'",
        aged + 3600 * SECOND,
        token_key(&token)
    ))
    .await;

    let before = now_micros();
    let (status, body, _) = list(&app, &token).await;
    assert_eq!((status, body), (Status::Ok, json!([])));
    let column = |name: &str| {
        format!(
            "SELECT {name} FROM auth_tokens WHERE token_key = '{}'",
            token_key(&token)
        )
    };
    assert!(app.scalar(&column("last_used")).await >= before);
    assert!(app.scalar(&column("expiry")).await >= before + 3600 * SECOND);
}

/// DRF authenticates before it paginates; the paged list is not checked in
/// one statement, but the order of the answers must not change.
async fn a_bad_token_is_a_401_before_a_bad_page_is_a_404(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let forged = forged(&alice);
    for path in [
        "/api/leads/?page=9",
        "/api/leads/?page=x",
        "/api/leads/?limit=2",
    ] {
        let (status, body) = app.get(path, Some(&forged)).await;
        assert_eq!(status, Status::Unauthorized, "{path}");
        assert_eq!(body, json!({ "detail": INVALID_TOKEN }), "{path}");
    }
    let (status, _) = app.get("/api/leads/?page=9", Some(&alice)).await;
    assert_eq!(status, Status::NotFound);
    let (status, body) = app.get("/api/leads/?limit=2", Some(&alice)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["count"], 0);
}

/// Escapes and times at the edges come out exactly, in the bare list as in
/// the paginated one.
async fn leads_serialize_exactly_bare_and_paginated_alike(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let texts = [
        (
            "Quote \" and backslash \\ and slash /",
            "Tab\tnewline\nreturn\r, end",
        ),
        (
            "Ctrl \u{1}\u{8}\u{c}\u{1f}\u{7f}",
            "Fancy “quotes” – é ß 中文 😀",
        ),
        (
            "Separators \u{2028} and \u{2029} inside",
            "<script>alert('x')</script> & ' ` $1 %",
        ),
        ("Plain", "Plain"),
    ];
    for (i, (name, message)) in texts.iter().enumerate() {
        let (status, body) = app
            .post(
                "/api/leads/",
                Some(&alice),
                json!({"name": name, "email": format!("l{i}@example.com"), "message": message}),
            )
            .await;
        assert_eq!(status, Status::Created, "{body}");
    }
    // Times the API never writes, around the epoch and at the edges.
    let ids = app
        .texts("SELECT CAST(id AS TEXT) FROM leads ORDER BY id")
        .await;
    for (id, created_at) in ids.iter().zip(EDGE_TIMES) {
        app.execute(&format!(
            "UPDATE leads SET created_at = {created_at} WHERE id = {id}"
        ))
        .await;
    }

    for query in ["", "?ordering=-created_at", "?search=quote"] {
        let response = app
            .client
            .get(format!("/api/leads/{query}"))
            .header(token_header(&alice))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(
            response.content_type(),
            Some(rocket::http::ContentType::JSON)
        );
        let rendered = response.into_string().await.unwrap();

        let separator = if query.is_empty() { "?" } else { "&" };
        let paged = format!("/api/leads/{query}{separator}limit=100");
        let (status, page) = app.get(&paged, Some(&alice)).await;
        assert_eq!(status, Status::Ok);
        assert_eq!(
            rendered,
            serde_json::to_string(&page["results"]).unwrap(),
            "{query}"
        );
    }
    let (_, all) = app.get("/api/leads/", Some(&alice)).await;
    let times: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|lead| lead["created_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "0001-01-01T00:00:00.000000Z",
            "1969-12-31T23:59:59.999999Z",
            "1970-01-01T00:00:00.000000Z",
            "9999-12-31T23:59:59.999999Z"
        ]
    );
}

/// Lists sent together (on PostgreSQL their lookups share statements):
/// every caller gets their own leads, in their own order, and a forged or
/// revoked token among them its 401, whoever else presented the same key.
async fn concurrent_lists_each_get_their_callers_leads_or_their_refusal(backend: Backend) {
    let app = app!(backend);
    let mut callers = Vec::new();
    for user in 0..4 {
        let (token, _) = app.register(&format!("crowd{user}")).await;
        for lead in 0..=user {
            let name = format!("Lead {lead} of {user}");
            app.create_lead(&token, &name, &format!("c{user}l{lead}@example.com"))
                .await;
        }
        // A second token of the same user, with its own key.
        let second = app.login(&format!("crowd{user}")).await;
        callers.push((token, second, user));
    }
    let revoked = app.login("crowd0").await;
    let (status, _) = app
        .post("/api/auth/logout", Some(&revoked), json!({}))
        .await;
    assert_eq!(status, Status::NoContent);

    // (token, ordering, the names expected, or None for a 401)
    let mut requests: Vec<(String, &str, Option<Vec<String>>)> = Vec::new();
    for (token, second, user) in &callers {
        let mut mine: Vec<String> = (0..=*user).map(|l| format!("Lead {l} of {user}")).collect();
        for presented in [token, second] {
            requests.push((presented.clone(), "", Some(mine.clone())));
            requests.push((forged(presented), "", None));
        }
        mine.reverse();
        requests.push((token.clone(), "?ordering=-id", Some(mine)));
    }
    requests.push((revoked, "", None));
    let requests: Vec<_> = requests.iter().cycle().take(requests.len() * 4).collect();

    let answers = rocket::futures::future::join_all(requests.iter().map(|(token, query, _)| {
        let path = format!("/api/leads/{query}");
        let app = &app;
        async move { app.get(&path, Some(token)).await }
    }))
    .await;
    for ((token, query, expected), (status, body)) in requests.iter().zip(answers) {
        match expected {
            Some(names_expected) => {
                assert_eq!(status, Status::Ok, "{token}{query}: {body}");
                assert_eq!(names(&body), *names_expected, "{token}{query}");
            }
            None => {
                assert_eq!(status, Status::Unauthorized, "{token}: {body}");
                assert_eq!(body, json!({"detail": INVALID_TOKEN}));
            }
        }
    }
}
