//! `/account/password`: a password change signs out every other session of
//! the user, server-side, and keeps the one it was made from (SPEC §4).

use rocket::http::Status;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{token_key, Backend, TestApp, INVALID_TOKEN, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(a_password_change_revokes_the_users_other_tokens);

const NEW_PASSWORD: &str = "Another-Long-Passphrase-7";

async fn tokens_of(app: &TestApp, user_id: i64) -> Vec<String> {
    app.texts(&format!(
        "SELECT token_key FROM auth_tokens WHERE user_id = {user_id} ORDER BY token_key"
    ))
    .await
}

async fn login_status(app: &TestApp, password: &str) -> Status {
    let (status, _) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": password}),
        )
        .await;
    status
}

async fn a_password_change_revokes_the_users_other_tokens(backend: Backend) {
    let app = app!(backend);
    let mut browser = Browser::default();
    browser.sign_up(&app, "alice").await;
    let session = browser.cookie("leads_session").unwrap().to_owned();
    let alice = app
        .scalar("SELECT id FROM users WHERE username = 'alice'")
        .await;
    let others = [app.login("alice").await, app.login("alice").await];
    let (bobs, bob) = app.register("bob").await;
    let csrf = browser.csrf(&app).await;

    // A wrong old password changes nothing and revokes nothing.
    let form =
        format!("csrf_token={csrf}&old_password=not-my-Password-1&new_password={NEW_PASSWORD}");
    let (status, _, _) = browser
        .post_form(&app, "/account/password", &form, &[])
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(tokens_of(&app, alice).await.len(), 3);

    let form = format!("csrf_token={csrf}&old_password={PASSWORD}&new_password={NEW_PASSWORD}");
    let (status, _, location) = browser
        .post_form(&app, "/account/password", &form, &[])
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (Status::SeeOther, Some("/account/sessions"))
    );

    for token in &others {
        let (status, body) = app.get("/api/auth/user", Some(token)).await;
        assert_eq!(
            (status, body),
            (Status::Unauthorized, json!({ "detail": INVALID_TOKEN }))
        );
    }
    // The session the change was made from stays, and so do other users'.
    for token in [&session, &bobs] {
        let (status, _) = app.get("/api/auth/user", Some(token)).await;
        assert_eq!(status, Status::Ok);
    }
    assert_eq!(tokens_of(&app, alice).await, [token_key(&session)]);
    assert_eq!(tokens_of(&app, bob).await, [token_key(&bobs)]);

    assert_eq!(login_status(&app, PASSWORD).await, Status::BadRequest);
    assert_eq!(login_status(&app, NEW_PASSWORD).await, Status::Ok);
}
