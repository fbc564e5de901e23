//! The staff pages: who may see them, CSRF on their actions, bulk delete and
//! reassign, deactivation, the CSV export, and the createsuperuser command.

use rocket::http::{ContentType, Method, Status};
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{Backend, TestApp, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(
    non_staff_get_403_and_anonymous_visitors_the_login_page,
    forged_admin_posts_change_nothing,
    the_list_searches_filters_sorts_and_counts,
    bulk_delete_asks_first_and_then_deletes,
    reassign_moves_leads_to_another_owner,
    editing_a_lead_saves_fields_and_owner_together_or_not_at_all,
    deactivation_revokes_tokens_and_blocks_login_until_reactivated,
    staff_cannot_lock_themselves_out,
    csv_export_round_trips_the_filtered_list,
    createsuperuser_makes_a_staff_account_with_validated_password,
);

/// Registers `username` and makes them staff; returns their token.
async fn staff(app: &TestApp, username: &str) -> String {
    let (token, _) = app.register(username).await;
    app.execute(&format!(
        "UPDATE users SET is_staff = TRUE WHERE username = '{username}'"
    ))
    .await;
    token
}

/// A staff member's browser: logged in through the form.
async fn staff_browser(app: &TestApp, username: &str) -> Browser {
    let mut browser = Browser::default();
    browser.sign_up(app, username).await;
    app.execute(&format!(
        "UPDATE users SET is_staff = TRUE WHERE username = '{username}'"
    ))
    .await;
    browser
}

async fn page(app: &TestApp, token: &str, path: &str) -> (Status, String) {
    let reply = app
        .send(
            Method::Get,
            path,
            &[("Authorization", &format!("Token {token}"))],
            None,
        )
        .await;
    let body = reply
        .body
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| reply.body.to_string());
    (reply.status, body)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {sql}"))
        .await
}

async fn non_staff_get_403_and_anonymous_visitors_the_login_page(backend: Backend) {
    let app = app!(backend);
    let (token, user_id) = app.register("plain").await;
    let lead = app.create_lead(&token, "Mine", "mine@example.com").await;
    let gets = [
        "/admin/leads".to_owned(),
        "/admin/leads?q=x&ordering=-name".to_owned(),
        "/admin/leads/export.csv".to_owned(),
        format!("/admin/leads/{}", lead["id"]),
        "/admin/users".to_owned(),
    ];
    let posts = [
        (
            "/admin/leads/action".to_owned(),
            format!("action=delete&ids={}", lead["id"]),
        ),
        (
            "/admin/leads/delete".to_owned(),
            format!("ids={}", lead["id"]),
        ),
        (
            format!("/admin/leads/{}", lead["id"]),
            "name=X&email=x%40example.com&message=m".to_owned(),
        ),
        (format!("/admin/users/{user_id}/grant-staff"), String::new()),
        (format!("/admin/users/{user_id}/deactivate"), String::new()),
    ];
    let auth = format!("Token {token}");
    for path in &gets {
        let reply = app
            .send(Method::Get, path, &[("Authorization", &auth)], None)
            .await;
        assert_eq!(reply.status, Status::Forbidden, "GET {path}");
        let reply = app.send(Method::Get, path, &[], None).await;
        assert_eq!(reply.status, Status::SeeOther, "anonymous GET {path}");
        assert!(
            reply
                .header("Location")
                .unwrap()
                .starts_with("/login?next=%2Fadmin"),
            "{path}"
        );
    }
    for (path, form) in &posts {
        let headers = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let reply = app
            .send(Method::Post, path, &headers, Some(form.as_bytes()))
            .await;
        assert_eq!(reply.status, Status::Forbidden, "POST {path}");
        let anonymous = [("Content-Type", "application/x-www-form-urlencoded")];
        let reply = app
            .send(Method::Post, path, &anonymous, Some(form.as_bytes()))
            .await;
        assert_eq!(reply.status, Status::SeeOther, "anonymous POST {path}");
    }
    assert_eq!(count(&app, "leads").await, 1);
    assert_eq!(
        count(&app, "users WHERE is_staff OR NOT is_active").await,
        0
    );
    let (_, body) = app
        .get(&format!("/api/leads/{}/", lead["id"]), Some(&token))
        .await;
    assert_eq!(body["name"], "Mine");
}

async fn forged_admin_posts_change_nothing(backend: Backend) {
    let app = app!(backend);
    let mut boss = staff_browser(&app, "boss").await;
    let (token, victim) = app.register("victim").await;
    let lead = app.create_lead(&token, "Victim's", "v@example.com").await;
    let id = lead["id"].as_i64().unwrap();
    for (path, form) in [
        ("/admin/leads/delete".to_owned(), format!("ids={id}")),
        (
            "/admin/leads/action".to_owned(),
            format!("action=reassign&ids={id}&owner=1"),
        ),
        (format!("/admin/users/{victim}/deactivate"), String::new()),
        (format!("/admin/users/{victim}/grant-staff"), String::new()),
    ] {
        let (status, _, _) = boss.post_form(&app, &path, &form, &[]).await;
        assert_eq!(status, Status::Forbidden, "{path} without a token");
        let forged = format!("csrf_token={}&{form}", "a".repeat(64));
        let (status, _, _) = boss.post_form(&app, &path, &forged, &[]).await;
        assert_eq!(status, Status::Forbidden, "{path} with a wrong token");
    }
    assert_eq!(
        count(&app, &format!("leads WHERE owner_id = {victim}")).await,
        1
    );
    assert_eq!(
        count(&app, "users WHERE is_active AND NOT is_staff").await,
        1
    );
}

async fn the_list_searches_filters_sorts_and_counts(backend: Backend) {
    let app = app!(backend);
    let boss = staff(&app, "boss").await;
    let (ann, _) = app.register("ann").await;
    let (bob, bob_id) = app.register("bob").await;
    app.create_lead(&ann, "Alpha", "alpha@example.com").await;
    app.create_lead(&ann, "Bravo", "bravo@example.com").await;
    app.create_lead(&bob, "Charlie", "charlie@example.com")
        .await;

    let (status, html) = page(&app, &boss, "/admin/leads").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("3 results (3 total)"), "{html}");
    let (_, html) = page(&app, &boss, "/admin/leads?q=ann").await;
    assert!(
        html.contains("2 results (3 total)"),
        "search matches the owner's username"
    );
    let (_, html) = page(&app, &boss, &format!("/admin/leads?owner={bob_id}")).await;
    assert!(
        html.contains("1 result (3 total)") && html.contains("Charlie") && !html.contains("Alpha")
    );
    let (_, html) = page(
        &app,
        &boss,
        "/admin/leads?created_from=2000-01-01&created_to=2000-12-31",
    )
    .await;
    assert!(html.contains("0 results (3 total)"));
    let (_, html) = page(&app, &boss, "/admin/leads?ordering=name").await;
    let (a, c) = (html.find("Alpha").unwrap(), html.find("Charlie").unwrap());
    assert!(a < c, "ascending by name");
    assert!(html.contains("aria-sort=\"ascending\""));
    let (_, html) = page(&app, &boss, "/admin/leads?ordering=-name").await;
    assert!(
        html.find("Charlie").unwrap() < html.find("Alpha").unwrap(),
        "descending by name"
    );
    let (_, html) = page(&app, &boss, "/admin/leads?per_page=25&page=9").await;
    assert!(
        html.contains("Page 1 of 1"),
        "a page past the end shows the last one"
    );
}

async fn bulk_delete_asks_first_and_then_deletes(backend: Backend) {
    let app = app!(backend);
    let mut boss = staff_browser(&app, "boss").await;
    let (token, _) = app.register("owner").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(
            app.create_lead(&token, &format!("Lead {n}"), &format!("l{n}@example.com"))
                .await["id"]
                .clone(),
        );
    }
    let csrf = boss.csrf(&app).await;
    let form = format!(
        "csrf_token={csrf}&back=%2Fadmin%2Fleads&action=delete&ids={}&ids={}&ids={}",
        ids[0], ids[1], ids[2]
    );
    let (status, html, _) = boss
        .post_form(&app, "/admin/leads/action", &form, &[])
        .await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("Are you sure?")
            && html.contains("Lead 0")
            && html.contains("Lead 2")
            && !html.contains("Lead 3")
    );
    assert_eq!(
        count(&app, "leads").await,
        4,
        "nothing deleted before confirming"
    );
    let confirm = crate::browser::csrf_in(&html);
    let form = format!(
        "csrf_token={confirm}&action=delete&back=%2Fadmin%2Fleads&ids={}&ids={}&ids={}",
        ids[0], ids[1], ids[2]
    );
    let (status, _, location) = boss
        .post_form(&app, "/admin/leads/delete", &form, &[])
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (Status::SeeOther, Some("/admin/leads"))
    );
    assert_eq!(count(&app, "leads").await, 1);
    let (_, html, _) = boss.get(&app, "/admin/leads").await;
    assert!(html.contains("Deleted 3 leads."));
}

async fn reassign_moves_leads_to_another_owner(backend: Backend) {
    let app = app!(backend);
    let mut boss = staff_browser(&app, "boss").await;
    let (token, _) = app.register("from").await;
    let (_, to) = app.register("to").await;
    let a = app.create_lead(&token, "A", "a@example.com").await["id"].clone();
    let b = app.create_lead(&token, "B", "b@example.com").await["id"].clone();
    app.create_lead(&token, "C", "c@example.com").await;
    let csrf = boss.csrf(&app).await;
    let form = format!("csrf_token={csrf}&action=reassign&owner={to}&ids={a}&ids={b}");
    let (status, _, _) = boss
        .post_form(&app, "/admin/leads/action", &form, &[])
        .await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        count(&app, &format!("leads WHERE owner_id = {to}")).await,
        2
    );
    // The former owner no longer sees them through the API; the new one does.
    let (_, mine) = app.get("/api/leads/", Some(&token)).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let form = format!("csrf_token={csrf}&action=reassign&owner=999999&ids={a}");
    let (status, _, _) = boss
        .post_form(&app, "/admin/leads/action", &form, &[])
        .await;
    assert_eq!(status, Status::SeeOther);
    let (_, html, _) = boss.get(&app, "/admin/leads").await;
    assert!(html.contains("That user no longer exists."));
    assert_eq!(
        count(&app, &format!("leads WHERE owner_id = {to}")).await,
        2
    );
}

/// A lead's edit page changes its fields and owner in one write: with an
/// owner that no longer exists, nothing is saved and the form says why.
async fn editing_a_lead_saves_fields_and_owner_together_or_not_at_all(backend: Backend) {
    let app = app!(backend);
    let mut boss = staff_browser(&app, "boss").await;
    let (token, from) = app.register("from").await;
    let (_, to) = app.register("to").await;
    let id = app.create_lead(&token, "Old", "old@example.com").await["id"].clone();
    let path = format!("/admin/leads/{id}");
    let csrf = boss.csrf(&app).await;
    let edit = |owner: i64| {
        format!("csrf_token={csrf}&name=New&email=new%40example.com&message=Hi&owner={owner}")
    };

    let (status, html, _) = boss.post_form(&app, &path, &edit(999_999), &[]).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("There is no such user."), "{html}");
    let stored = app
        .texts(&format!(
            "SELECT name || ' ' || CAST(owner_id AS TEXT) FROM leads WHERE id = {id}"
        ))
        .await;
    assert_eq!(stored, [format!("Old {from}")]);

    let (status, _, _) = boss.post_form(&app, &path, &edit(to), &[]).await;
    assert_eq!(status, Status::SeeOther);
    let stored = app
        .texts(&format!(
            "SELECT name || ' ' || CAST(owner_id AS TEXT) FROM leads WHERE id = {id}"
        ))
        .await;
    assert_eq!(stored, [format!("New {to}")]);
}

async fn deactivation_revokes_tokens_and_blocks_login_until_reactivated(backend: Backend) {
    let app = app!(backend);
    let mut boss = staff_browser(&app, "boss").await;
    let (token, id) = app.register("leaving").await;
    app.login("leaving").await;
    let csrf = boss.csrf(&app).await;
    let (status, _, _) = boss
        .post_form(
            &app,
            &format!("/admin/users/{id}/deactivate"),
            &format!("csrf_token={csrf}"),
            &[],
        )
        .await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        count(&app, &format!("auth_tokens WHERE user_id = {id}")).await,
        0
    );
    let (status, body) = app.get("/api/leads/", Some(&token)).await;
    assert_eq!(
        (status, body),
        (Status::Unauthorized, json!({"detail": "Invalid token."}))
    );
    let (status, body) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "leaving", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            Status::BadRequest,
            json!({"non_field_errors": ["Incorrect Credentials Passed."]})
        )
    );
    let (status, _, _) = boss
        .post_form(
            &app,
            &format!("/admin/users/{id}/activate"),
            &format!("csrf_token={csrf}"),
            &[],
        )
        .await;
    assert_eq!(status, Status::SeeOther);
    app.login("leaving").await;
}

async fn staff_cannot_lock_themselves_out(backend: Backend) {
    let app = app!(backend);
    let mut boss = staff_browser(&app, "boss").await;
    let id = app
        .scalar("SELECT id FROM users WHERE username = 'boss'")
        .await;
    let csrf = boss.csrf(&app).await;
    for action in ["deactivate", "revoke-staff"] {
        let (status, _, _) = boss
            .post_form(
                &app,
                &format!("/admin/users/{id}/{action}"),
                &format!("csrf_token={csrf}"),
                &[],
            )
            .await;
        assert_eq!(status, Status::SeeOther);
    }
    assert_eq!(count(&app, "users WHERE is_staff AND is_active").await, 1);
    let (_, html, _) = boss.get(&app, "/admin/users").await;
    assert!(html.contains("You cannot deactivate yourself"));
}

async fn csv_export_round_trips_the_filtered_list(backend: Backend) {
    let app = app!(backend);
    let boss = staff(&app, "boss").await;
    let (token, _) = app.register("seller").await;
    let tricky = [
        ("=HYPERLINK(\"x\")", "formula@example.com", "plain"),
        ("Comma, Inc.", "comma@example.com", "line one\nline \"two\""),
        ("Zoë Ünïcode", "zoe@example.com", "+1 -2 @3"),
        ("Other", "other@example.com", "not matching"),
    ];
    for (name, email, message) in tricky {
        let (status, _) = app
            .post(
                "/api/leads/",
                Some(&token),
                json!({"name": name, "email": email, "message": message}),
            )
            .await;
        assert_eq!(status, Status::Created);
    }
    let response = app
        .client
        .get("/admin/leads/export.csv?q=example.com&ordering=name")
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Token {boss}"),
        ))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.content_type(),
        Some(ContentType::new("text", "csv").with_params(("charset", "utf-8")))
    );
    let text = response.into_string().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["id", "name", "email", "message", "owner", "created_at"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        names,
        ["'=HYPERLINK(\"x\")", "Comma, Inc.", "Other", "Zoë Ünïcode"]
    );
    assert_eq!(rows[1][3], "line one\nline \"two\"");
    assert_eq!(rows[3][3], "'+1 -2 @3");
    assert!(rows.iter().all(|r| r[4] == "seller"));
    // The same filter on the page counts the same rows.
    let (_, html) = page(&app, &boss, "/admin/leads?q=example.com&ordering=name").await;
    assert!(html.contains(&format!("{} results (4 total)", rows.len())));
}

async fn createsuperuser_makes_a_staff_account_with_validated_password(backend: Backend) {
    let app = app!(backend);
    let run = |password: &str| {
        app.leads_command(&[
            "createsuperuser",
            "--username",
            "chief",
            "--email",
            "chief@example.com",
        ])
        .env("LEADS_PASSWORD", password)
        .output()
        .expect("run the leads binary")
    };
    let weak = run("12345");
    assert!(!weak.status.success());
    let stderr = String::from_utf8_lossy(&weak.stderr);
    assert!(stderr.contains("This password is too short."), "{stderr}");
    assert!(
        stderr.contains("This password is entirely numeric."),
        "{stderr}"
    );
    assert_eq!(count(&app, "users").await, 0);

    let ok = run(PASSWORD);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        count(
            &app,
            "users WHERE username = 'chief' AND is_staff AND is_active"
        )
        .await,
        1
    );
    let token = app.login("chief").await;
    let (status, _) = page(&app, &token, "/admin/leads").await;
    assert_eq!(status, Status::Ok);
    assert!(
        !run(PASSWORD).status.success(),
        "a second one with the same name fails"
    );
}
