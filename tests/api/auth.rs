//! Register, login, logout, logoutall, the current user, and token listing.

use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::helpers::{now_micros, Backend, TestApp, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(
    register_answers_user_token_and_expiry,
    login_issues_a_new_token_and_keeps_the_old_one,
    register_reports_every_failing_field_at_once,
    register_checks_username_length_charset_and_case_insensitive_uniqueness,
    register_email_is_optional_but_must_be_valid,
    register_applies_djangos_password_validators,
    login_failure_is_the_same_for_unknown_user_and_wrong_password,
    login_requires_username_and_password,
    login_is_case_insensitive_and_answers_the_stored_user,
    inactive_user_cannot_log_in_and_their_token_is_refused,
    login_records_last_login,
    current_user_answers_on_both_paths,
    an_invalid_token_is_refused_even_on_register_and_login,
    logout_revokes_only_the_token_it_was_sent_with,
    logoutall_revokes_every_token_of_the_caller_only,
    usernames_are_unique_and_found_in_any_unicode_case,
    user_email_domains_are_stored_in_lower_case,
);

async fn register_answers_user_token_and_expiry(backend: Backend) {
    let app = app!(backend);
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["user", "token", "expiry"]);
    assert_eq!(
        body["user"],
        json!({"id": body["user"]["id"], "username": "alice", "email": "alice@example.com"})
    );
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(token
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let expiry = body["expiry"].as_str().unwrap();
    assert_eq!(expiry.len(), "2026-11-29T11:03:18.736308Z".len());
    assert!(expiry.ends_with('Z'));
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        1
    );
}

async fn login_issues_a_new_token_and_keeps_the_old_one(backend: Backend) {
    let app = app!(backend);
    let (first, _) = app.register("bob").await;
    let second = app.login("BOB").await;
    assert_ne!(first, second);
    for token in [&first, &second] {
        let (status, body) = app.get("/api/auth/user", Some(token)).await;
        assert_eq!(status, Status::Ok);
        assert_eq!(body["username"], "bob");
    }
}

const INVALID_USERNAME: &str = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
const USERNAME_TAKEN: &str = "A user with that username already exists.";
const INVALID_EMAIL: &str = "Enter a valid email address.";
const TOO_SHORT: &str = "This password is too short. It must contain at least 8 characters.";
const TOO_COMMON: &str = "This password is too common.";
const ENTIRELY_NUMERIC: &str = "This password is entirely numeric.";
const BAD_CREDENTIALS: &str = "Incorrect Credentials Passed.";

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar(&format!("SELECT CAST(COUNT(*) AS BIGINT) {sql}"))
        .await
}

async fn register_with(app: &TestApp, body: Value) -> (Status, Value) {
    app.post("/api/auth/register", None, body).await
}

async fn register_reports_every_failing_field_at_once(backend: Backend) {
    let app = app!(backend);
    let (status, body) = register_with(
        &app,
        json!({"username": "bad name!", "email": "not-an-email", "password": "1234567"}),
    )
    .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({
            "username": [INVALID_USERNAME],
            "email": [INVALID_EMAIL],
            "password": [TOO_SHORT, TOO_COMMON, ENTIRELY_NUMERIC],
        })
    );

    // A taken username (in another case) is reported along with the rest.
    app.register("Alice").await;
    let (status, body) = register_with(
        &app,
        json!({"username": "ALICE", "email": "alice@", "password": "zq"}),
    )
    .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"username": [USERNAME_TAKEN], "email": [INVALID_EMAIL], "password": [TOO_SHORT]})
    );

    // Required fields, all missing at once.
    let (status, body) = register_with(&app, json!({})).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"username": ["This field is required."], "password": ["This field is required."]})
    );
    assert_eq!(count(&app, "FROM users").await, 1);
}

async fn register_checks_username_length_charset_and_case_insensitive_uniqueness(backend: Backend) {
    let app = app!(backend);
    let register = |username: String| {
        let app = &app;
        async move {
            register_with(
                app,
                json!({"username": username, "email": "", "password": PASSWORD}),
            )
            .await
        }
    };

    let (status, body) = register("a".repeat(151)).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"username": ["Ensure this field has no more than 150 characters."]})
    );
    for bad in ["with space", "semi;colon", "slash/name", "quote'name"] {
        let (status, body) = register(bad.to_owned()).await;
        assert_eq!(status, Status::BadRequest, "{bad}");
        assert_eq!(body, json!({"username": [INVALID_USERNAME]}), "{bad}");
    }
    assert_eq!(count(&app, "FROM users").await, 0);

    // 150 characters of letters, digits and @.+-_ (Unicode letters too) are fine.
    let longest = format!("José.o+n-l_@9{}", "x".repeat(137));
    assert_eq!(longest.chars().count(), 150);
    let (status, body) = register(longest.clone()).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["user"]["username"], longest.as_str());

    let (status, body) = register(longest.replace('x', "X")).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"username": [USERNAME_TAKEN]}));
    assert_eq!(count(&app, "FROM users").await, 1);
}

async fn register_email_is_optional_but_must_be_valid(backend: Backend) {
    let app = app!(backend);
    for (username, email) in [("nomail", None), ("blankmail", Some(""))] {
        let mut body = json!({"username": username, "password": PASSWORD});
        if let Some(email) = email {
            body["email"] = json!(email);
        }
        let (status, body) = register_with(&app, body).await;
        assert_eq!(status, Status::Ok, "{body}");
        assert_eq!(
            body["user"],
            json!({"id": body["user"]["id"], "username": username, "email": ""})
        );
    }
    for bad in ["plain", "a@b", "two@@example.com", "a b@example.com"] {
        let (status, body) = register_with(
            &app,
            json!({"username": "carol", "email": bad, "password": PASSWORD}),
        )
        .await;
        assert_eq!(status, Status::BadRequest, "{bad}");
        assert_eq!(body, json!({"email": [INVALID_EMAIL]}), "{bad}");
    }
    assert_eq!(count(&app, "FROM users WHERE email = ''").await, 2);
    assert_eq!(count(&app, "FROM users").await, 2);
}

async fn register_applies_djangos_password_validators(backend: Backend) {
    let app = app!(backend);
    let too_long = "This password is too long. It must contain at most 4096 bytes.";
    let cases = [
        ("dave", "dave@example.com", "Xy7#kqZ", vec![TOO_SHORT]),
        ("dave", "dave@example.com", "iloveyou", vec![TOO_COMMON]),
        ("dave", "dave@example.com", "ILoveYou", vec![TOO_COMMON]),
        (
            "dave",
            "dave@example.com",
            "84736291057",
            vec![ENTIRELY_NUMERIC],
        ),
        (
            "marvellous",
            "",
            "marvellous1",
            vec!["The password is too similar to the username."],
        ),
        (
            "zed",
            "zebrafish99@example.com",
            "zebrafish99",
            vec!["The password is too similar to the email address."],
        ),
        // The limit is in bytes: 2,049 two-byte characters are too many.
        ("dave", "", &"é".repeat(2049), vec![too_long]),
        ("dave", "", &"x".repeat(4097), vec![too_long]),
    ];
    for (username, email, password, expected) in cases {
        let (status, body) = register_with(
            &app,
            json!({"username": username, "email": email, "password": password}),
        )
        .await;
        assert_eq!(status, Status::BadRequest, "{password:.20}");
        assert_eq!(body, json!({ "password": expected }), "{password:.20}");
    }
    assert_eq!(count(&app, "FROM users").await, 0);

    // Exactly 4096 bytes is accepted, and logs in.
    let longest = format!("{}z", "ab1é".repeat(819));
    assert_eq!(longest.len(), 4096);
    let (status, body) = register_with(
        &app,
        json!({"username": "dave", "email": "", "password": longest}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{body}");
    let (status, _) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "dave", "password": longest}),
        )
        .await;
    assert_eq!(status, Status::Ok);
}

async fn login_failure_is_the_same_for_unknown_user_and_wrong_password(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    let failure = json!({"non_field_errors": [BAD_CREDENTIALS]});
    for (username, password) in [
        ("alice", "wrong-Password-42".to_owned()),
        ("ALICE", "wrong-Password-42".to_owned()),
        ("alice", PASSWORD.to_uppercase()),
        ("nobody", PASSWORD.to_owned()),
        ("alice", "x".repeat(5000)),
    ] {
        let (status, body) = app
            .post(
                "/api/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, Status::BadRequest, "{username}");
        assert_eq!(body, failure, "{username}");
    }
    assert_eq!(count(&app, "FROM auth_tokens").await, 1);
    assert_eq!(count(&app, "FROM users WHERE last_login IS NULL").await, 1);
}

async fn login_requires_username_and_password(backend: Backend) {
    let app = app!(backend);
    let (status, body) = app.post("/api/auth/login", None, json!({})).await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"username": ["This field is required."], "password": ["This field is required."]})
    );
    let (status, body) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "", "password": ""}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"username": ["This field may not be blank."], "password": ["This field may not be blank."]})
    );
    let (status, body) = app
        .post("/api/auth/login", None, json!({"username": "alice"}))
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"password": ["This field is required."]}));
}

async fn login_is_case_insensitive_and_answers_the_stored_user(backend: Backend) {
    let app = app!(backend);
    let (_, id) = app.register("MixedCase").await;
    for username in ["mixedcase", "MIXEDCASE", " MixedCase "] {
        let (status, body) = app
            .post(
                "/api/auth/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, Status::Ok, "{username}: {body}");
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["user", "token", "expiry"]);
        assert_eq!(
            body["user"],
            json!({"id": id, "username": "MixedCase", "email": "MixedCase@example.com"})
        );
    }
    assert_eq!(count(&app, "FROM auth_tokens").await, 4);
}

async fn inactive_user_cannot_log_in_and_their_token_is_refused(backend: Backend) {
    let app = app!(backend);
    let (token, id) = app.register("alice").await;
    let (other, _) = app.register("bob").await;
    app.execute(&format!(
        "UPDATE users SET is_active = FALSE WHERE id = {id}"
    ))
    .await;

    let (status, body) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body, json!({"non_field_errors": [BAD_CREDENTIALS]}));

    let (status, body) = app.get("/api/auth/user", Some(&token)).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body, json!({"detail": "User inactive or deleted."}));
    let (status, _) = app.get("/api/auth/user", Some(&other)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        count(&app, &format!("FROM auth_tokens WHERE user_id = {id}")).await,
        1
    );
}

async fn login_records_last_login(backend: Backend) {
    let app = app!(backend);
    let (_, id) = app.register("alice").await;
    // Registering is not logging in (Django's create_user leaves it empty).
    assert_eq!(count(&app, "FROM users WHERE last_login IS NULL").await, 1);
    let before = now_micros();
    app.login("alice").await;
    let after = now_micros();
    let last_login = app
        .scalar(&format!("SELECT last_login FROM users WHERE id = {id}"))
        .await;
    assert!(
        (before..=after).contains(&last_login),
        "{before} <= {last_login} <= {after}"
    );
}

async fn current_user_answers_on_both_paths(backend: Backend) {
    let app = app!(backend);
    let (token, id) = app.register("alice").await;
    let expected = json!({"id": id, "username": "alice", "email": "alice@example.com"});
    for path in [
        "/api/auth/user",
        "/api/auth/user/",
        "/api/user",
        "/api/user/",
    ] {
        let (status, body) = app.get(path, Some(&token)).await;
        assert_eq!(status, Status::Ok, "{path}");
        assert_eq!(body, expected, "{path}");
        let (status, body) = app.get(path, None).await;
        assert_eq!(status, Status::Unauthorized, "{path}");
        assert_eq!(
            body,
            json!({"detail": "Authentication credentials were not provided."}),
            "{path}"
        );
    }
}

async fn an_invalid_token_is_refused_even_on_register_and_login(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    let bogus = "0".repeat(64);
    let (status, body) = app
        .post(
            "/api/auth/register",
            Some(&bogus),
            json!({"username": "bob", "email": "", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body, json!({"detail": "Invalid token."}));
    let (status, body) = app
        .post(
            "/api/auth/login",
            Some(&bogus),
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body, json!({"detail": "Invalid token."}));
    assert_eq!(count(&app, "FROM users").await, 1);
    assert_eq!(count(&app, "FROM auth_tokens").await, 1);
}

async fn logout_revokes_only_the_token_it_was_sent_with(backend: Backend) {
    let app = app!(backend);
    let (first, _) = app.register("alice").await;
    let second = app.login("alice").await;
    let (status, body) = app
        .request(Method::Post, "/api/auth/logout", None, None)
        .await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );

    let (status, body) = app
        .request(Method::Post, "/api/auth/logout/", Some(&first), None)
        .await;
    assert_eq!(status, Status::NoContent);
    assert_eq!(body, Value::Null);
    let (status, body) = app.get("/api/auth/user", Some(&first)).await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body, json!({"detail": "Invalid token."}));
    let (status, _) = app.get("/api/auth/user", Some(&second)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(count(&app, "FROM auth_tokens").await, 1);

    // Logging out again with the revoked token is itself unauthorised.
    let (status, _) = app
        .request(Method::Post, "/api/auth/logout", Some(&first), None)
        .await;
    assert_eq!(status, Status::Unauthorized);
}

async fn logoutall_revokes_every_token_of_the_caller_only(backend: Backend) {
    let app = app!(backend);
    let (first, alice) = app.register("alice").await;
    let second = app.login("alice").await;
    let third = app.login("alice").await;
    let (bobs, bob) = app.register("bob").await;

    let (status, body) = app
        .request(Method::Post, "/api/auth/logoutall", Some(&second), None)
        .await;
    assert_eq!(status, Status::NoContent);
    assert_eq!(body, Value::Null);
    for token in [&first, &second, &third] {
        let (status, body) = app.get("/api/auth/user", Some(token)).await;
        assert_eq!(status, Status::Unauthorized);
        assert_eq!(body, json!({"detail": "Invalid token."}));
    }
    let (status, _) = app.get("/api/auth/user", Some(&bobs)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        count(&app, &format!("FROM auth_tokens WHERE user_id = {alice}")).await,
        0
    );
    assert_eq!(
        count(&app, &format!("FROM auth_tokens WHERE user_id = {bob}")).await,
        1
    );
    // The account itself stays; logging in again works.
    app.login("alice").await;
}

async fn usernames_are_unique_and_found_in_any_unicode_case(backend: Backend) {
    let app = app!(backend);
    let (status, _) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "Jörg", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "JÖRG", "email": "", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::BadRequest);
    assert_eq!(
        body,
        json!({"username": ["A user with that username already exists."]})
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
            .await,
        1
    );
    let (status, body) = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "jÖRG", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["user"]["username"], "Jörg");
}

async fn user_email_domains_are_stored_in_lower_case(backend: Backend) {
    let app = app!(backend);
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"username": "weird", "email": "Weird.Name@Example.COM", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["user"]["email"], "Weird.Name@example.com");
}
