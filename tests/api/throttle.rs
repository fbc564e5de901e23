//! Login throttling (SPEC §5): failures counted per (username, address) and
//! per address in the database; 429 with Retry-After past a limit, for the
//! right password too, until the window passes.

use std::net::SocketAddr;

use futures::future::join_all;
use rocket::http::{ContentType, Status};
use serde_json::json;

use crate::browser::{csrf_in, Browser};
use crate::helpers::{Backend, Reply, TestApp, PASSWORD, SECOND};
use crate::{app, on_both_backends};

on_both_backends!(
    sixth_attempt_after_five_failures_is_429_even_with_the_right_password,
    another_address_still_logs_in_while_one_is_throttled,
    login_works_again_once_the_failures_leave_the_window,
    an_address_failing_on_many_usernames_is_throttled_for_all,
    limits_are_configurable_and_zero_disables_them,
    a_burst_of_parallel_guesses_learns_nothing_past_the_limit,
    the_login_page_says_to_wait_with_429,
);

const HOME: &str = "198.51.100.7:40000";
const ELSEWHERE: &str = "203.0.113.9:50000";

/// POST /api/auth/login from `address`.
async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> Reply {
    let response = app
        .client
        .post("/api/auth/login")
        .remote(address.parse::<SocketAddr>().unwrap())
        .header(ContentType::JSON)
        .body(json!({"username": username, "password": password}).to_string())
        .dispatch()
        .await;
    let status = response.status();
    let retry_after = response
        .headers()
        .get_one("Retry-After")
        .map(|v| ("Retry-After".to_owned(), v.to_owned()));
    let text = response.into_string().await.unwrap_or_default();
    Reply {
        status,
        headers: retry_after.into_iter().collect(),
        body: serde_json::from_str(&text).unwrap_or_default(),
    }
}

async fn fail_times(app: &TestApp, address: &str, username: &str, times: usize) {
    for attempt in 1..=times {
        let reply = login_from(app, address, username, "wrong-password-1").await;
        assert_eq!(
            reply.status,
            Status::BadRequest,
            "failure {attempt}: {}",
            reply.body
        );
        assert_eq!(
            reply.body,
            json!({"non_field_errors": ["Incorrect Credentials Passed."]})
        );
    }
}

/// Asserts a DRF throttle answer; returns its Retry-After seconds.
fn assert_throttled(reply: &Reply) -> u64 {
    assert_eq!(reply.status, Status::TooManyRequests, "{}", reply.body);
    let wait: u64 = reply
        .header("Retry-After")
        .expect("a Retry-After header")
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        reply.body,
        json!({"detail": format!("Request was throttled. Expected available in {wait} seconds.")})
    );
    wait
}

async fn failures(app: &TestApp) -> i64 {
    app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM login_failures")
        .await
}

async fn sixth_attempt_after_five_failures_is_429_even_with_the_right_password(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    fail_times(&app, HOME, "alice", 5).await;

    let wait = assert_throttled(&login_from(&app, HOME, "alice", PASSWORD).await);
    assert!(wait > 890, "the window is 15 minutes: {wait}");
    // The username is matched case-insensitively, like login itself.
    assert_throttled(&login_from(&app, HOME, "ALICE", PASSWORD).await);
    // Throttled attempts are not counted, and no token was issued.
    assert_eq!(failures(&app).await, 5);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        1,
        "only the registration's token"
    );
    // Unknown usernames are counted and throttled the same way.
    fail_times(&app, HOME, "nobody", 5).await;
    assert_throttled(&login_from(&app, HOME, "nobody", PASSWORD).await);
}

async fn another_address_still_logs_in_while_one_is_throttled(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    fail_times(&app, HOME, "alice", 5).await;
    assert_throttled(&login_from(&app, HOME, "alice", PASSWORD).await);

    let reply = login_from(&app, ELSEWHERE, "alice", PASSWORD).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.body);
    assert!(reply.body["token"].is_string());
    // A stranger failing from elsewhere uses up only that address's allowance.
    assert_throttled(&login_from(&app, HOME, "alice", PASSWORD).await);
}

async fn login_works_again_once_the_failures_leave_the_window(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    fail_times(&app, HOME, "alice", 5).await;
    assert_throttled(&login_from(&app, HOME, "alice", PASSWORD).await);

    // Age the oldest failure just past 15 minutes: one slot frees up.
    app.execute(&format!(
        "UPDATE login_failures SET failed_at = failed_at - {} \
         WHERE failed_at = (SELECT MIN(failed_at) FROM login_failures)",
        901 * SECOND
    ))
    .await;
    let reply = login_from(&app, HOME, "alice", PASSWORD).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.body);
    // The four recent failures still count: one more and it is locked again.
    fail_times(&app, HOME, "alice", 1).await;
    assert_throttled(&login_from(&app, HOME, "alice", PASSWORD).await);
}

async fn an_address_failing_on_many_usernames_is_throttled_for_all(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    for n in 0..50 {
        fail_times(&app, HOME, &format!("guess{n}"), 1).await;
    }
    assert_throttled(&login_from(&app, HOME, "alice", PASSWORD).await);
    assert_throttled(&login_from(&app, HOME, "guess99", "whatever-1").await);
    let reply = login_from(&app, ELSEWHERE, "alice", PASSWORD).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.body);
}

async fn limits_are_configurable_and_zero_disables_them(backend: Backend) {
    let app = app!(backend, |figment: rocket::figment::Figment| figment
        .merge(("login_limit_per_user", 2))
        .merge(("login_throttle_window", 60)));
    app.register("alice").await;
    fail_times(&app, HOME, "alice", 2).await;
    let wait = assert_throttled(&login_from(&app, HOME, "alice", PASSWORD).await);
    assert!((55..=60).contains(&wait), "a 60 s window: {wait}");

    let app = app!(backend, |figment: rocket::figment::Figment| figment
        .merge(("login_limit_per_user", 0))
        .merge(("login_limit_per_ip", 0)));
    app.register("alice").await;
    fail_times(&app, HOME, "alice", 8).await;
    let reply = login_from(&app, HOME, "alice", PASSWORD).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.body);
    assert_eq!(failures(&app).await, 0, "nothing is recorded when disabled");
}

/// The default `login_limit_per_user`.
const LIMIT: usize = 5;

/// How many of a burst of wrong guesses may get their answer (400) rather
/// than 429, with `hashing` hashing threads.
///
/// Every guess of a burst passes the check before the hash (nothing is
/// recorded yet); the one after the hash refuses it once `LIMIT` failures
/// are recorded. That check and the recording are two statements, so a guess
/// whose check runs while the `LIMIT`-th failure is between its own check and
/// record still gets its answer. Guesses reach that check as their hashes
/// end, one per hashing thread at a time, and a check and a record take far
/// less than a hash: one round of the threads, two for a slow moment. (So
/// the bound grows with the cores: the design allows that many to slip.)
fn most_answered(hashing: usize) -> usize {
    LIMIT + 2 * hashing
}

async fn a_burst_of_parallel_guesses_learns_nothing_past_the_limit(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    // The hasher runs one thread per core (users::hashing).
    let hashing = std::thread::available_parallelism().map_or(2, |n| n.get());
    let most = most_answered(hashing);
    // Twice what may be answered, so that at least as many are refused.
    let mut guesses: Vec<String> = (0..2 * most).map(|n| format!("guess-{n}-x")).collect();
    guesses.push(PASSWORD.to_owned());
    let replies = join_all(
        guesses
            .iter()
            .map(|password| login_from(&app, HOME, "alice", password)),
    )
    .await;
    let (guessed, right) = replies.split_at(guesses.len() - 1);
    let wrong = guessed
        .iter()
        .filter(|r| r.status == Status::BadRequest)
        .count();
    // None is throttled before LIMIT failures are recorded, and every
    // answer is a recorded failure.
    assert!(
        (LIMIT..=most).contains(&wrong),
        "{wrong} of {} guesses answered, {hashing} hashing threads",
        guessed.len()
    );
    assert_eq!(failures(&app).await, wrong as i64);
    for reply in guessed.iter().filter(|r| r.status != Status::BadRequest) {
        assert_throttled(reply);
    }
    // The right password queued for its hash behind the guesses, whose
    // failures were counted meanwhile: the check after its hash refuses it,
    // and nothing of a login is written (on PostgreSQL that check and the
    // writes are one statement).
    assert_throttled(&right[0]);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        1,
        "only the registration's token"
    );
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE last_login IS NOT NULL")
            .await,
        0
    );
}

async fn the_login_page_says_to_wait_with_429(backend: Backend) {
    let app = app!(backend);
    app.register("alice").await;
    let mut browser = Browser::default();
    let mut last = (Status::Ok, String::new());
    for _ in 0..6 {
        let (_, page, _) = browser.get(&app, "/login").await;
        let form = format!(
            "csrf_token={}&username=alice&password={PASSWORD}-nope",
            csrf_in(&page)
        );
        let (status, body, _) = browser.post_form(&app, "/login", &form, &[]).await;
        last = (status, body);
    }
    assert_eq!(last.0, Status::TooManyRequests);
    assert!(
        last.1
            .contains("Too many failed attempts. Try again in 15 minutes."),
        "{}",
        last.1
    );
    assert!(last.1.contains("value=\"alice\""), "the username is kept");
    // The right password is refused too, with the same message.
    let (_, page, _) = browser.get(&app, "/login").await;
    let form = format!(
        "csrf_token={}&username=alice&password={PASSWORD}",
        csrf_in(&page)
    );
    let (status, body, location) = browser.post_form(&app, "/login", &form, &[]).await;
    assert_eq!((status, location), (Status::TooManyRequests, None));
    assert!(body.contains("Too many failed attempts"));
    assert!(browser.cookie("leads_session").is_none());
}
