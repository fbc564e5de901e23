//! Racing requests: unique keys decide, losers get the field error (never a
//! 5xx), and per-user limits hold under concurrent logins.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::{join, join_all};
use rocket::http::Status;
use rocket::tokio::time::sleep;
use serde_json::{json, Value};
use sqlx::{Connection, Executor};

use crate::helpers::{now_micros, Backend, TestApp, PASSWORD};
use crate::{app, on_both_backends};

on_both_backends!(
    a_created_lead_is_readable_at_once,
    racing_creates_of_one_lead_email_make_one_lead,
    racing_registrations_of_one_username_make_one_user,
    concurrent_logins_all_succeed_with_distinct_tokens,
    concurrent_logins_respect_the_token_limit,
);

const RACERS: usize = 50;

/// `text` with the case of its letters flipped where the bits of `n` say,
/// so that each racer sends a differently cased spelling.
fn mixed_case(text: &str, n: usize) -> String {
    let mut letter = 0;
    text.chars()
        .map(|c| {
            if !c.is_ascii_alphabetic() {
                return c;
            }
            letter += 1;
            if (n >> ((letter - 1) % usize::BITS as usize)) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn tally(results: &[(Status, Value)], winner: Status, loser: &Value) -> usize {
    let mut winners = 0;
    for (status, body) in results {
        if *status == winner {
            winners += 1;
        } else {
            assert_eq!(*status, Status::BadRequest, "{body}");
            assert_eq!(body, loser);
        }
    }
    winners
}

/// Read-your-writes: a 201 means the lead is committed. (SQLite returned
/// the RETURNING row before the INSERT committed, so the next read on
/// another connection sometimes answered 404.)
async fn a_created_lead_is_readable_at_once(backend: Backend) {
    let app = app!(backend);
    let (token, _) = app.register("alice").await;
    // Eight clients at once, so that the database's threads are busy.
    let clients = (0..8).map(|client| {
        let (app, token) = (&app, &token);
        async move {
            for n in 0..60 {
                let email = format!("c{client}-{n}@example.com");
                let lead = app.create_lead(token, "Ann", &email).await;
                let (status, body) = app
                    .get(&format!("/api/leads/{}/", lead["id"]), Some(token))
                    .await;
                assert_eq!((status, &body), (Status::Ok, &lead), "{email}");
            }
        }
    });
    join_all(clients).await;
}

async fn racing_creates_of_one_lead_email_make_one_lead(backend: Backend) {
    let app = app!(backend);
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let emails: Vec<String> = (0..RACERS)
        .map(|n| mixed_case("dup@example.com", n))
        .collect();
    assert_eq!(emails.iter().collect::<HashSet<_>>().len(), RACERS);

    let results = join_all(emails.iter().enumerate().map(|(n, email)| {
        let token = if n % 2 == 0 { &alice } else { &bob };
        app.post(
            "/api/leads/",
            Some(token),
            json!({"name": format!("Racer {n}"), "email": email, "message": "Hi"}),
        )
    }))
    .await;

    let loser = json!({"email": ["lead with this email already exists."]});
    assert_eq!(tally(&results, Status::Created, &loser), 1);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads")
            .await,
        1
    );
    let (_, created) = results
        .iter()
        .find(|(status, _)| *status == Status::Created)
        .unwrap();
    let stored = app.texts("SELECT email FROM leads").await;
    assert_eq!(stored, [created["email"].as_str().unwrap()]);
}

async fn racing_registrations_of_one_username_make_one_user(backend: Backend) {
    let app = app!(backend);
    let usernames: Vec<String> = (0..RACERS).map(|n| mixed_case("racer", n)).collect();
    let results = join_all(usernames.iter().map(|username| {
        app.post(
            "/api/auth/register",
            None,
            json!({"username": username, "email": "racer@example.com", "password": PASSWORD}),
        )
    }))
    .await;

    let loser = json!({"username": ["A user with that username already exists."]});
    assert_eq!(tally(&results, Status::Ok, &loser), 1);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
            .await,
        1
    );
    // Only the winner got a token, and it works.
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        1
    );
    let (_, winner) = results
        .iter()
        .find(|(status, _)| *status == Status::Ok)
        .unwrap();
    let (status, body) = app.get("/api/auth/user", winner["token"].as_str()).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body, winner["user"]);
}

async fn concurrent_logins_all_succeed_with_distinct_tokens(backend: Backend) {
    let app = app!(backend);
    let (_, id) = app.register("alice").await;
    let results = join_all((0..RACERS).map(|n| {
        app.post(
            "/api/auth/login",
            None,
            json!({"username": mixed_case("alice", n), "password": PASSWORD}),
        )
    }))
    .await;

    let mut tokens = HashSet::new();
    for (status, body) in &results {
        assert_eq!(*status, Status::Ok, "{body}");
        assert_eq!(body["user"]["id"], id);
        tokens.insert(body["token"].as_str().unwrap().to_owned());
    }
    assert_eq!(tokens.len(), RACERS);
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        RACERS as i64 + 1
    );
    let checks = join_all(
        tokens
            .iter()
            .map(|token| app.get("/api/auth/user", Some(token))),
    )
    .await;
    assert!(checks.iter().all(|(status, _)| *status == Status::Ok));
}

/// A transaction on a connection of the test's own that blocks every insert
/// of a token until it is released, so that racing logins pile up behind it
/// and then run at once: without a per-user lock, each would count the same
/// tokens and all would be let in.
enum TokenInsertBlocker {
    Sqlite(sqlx::SqliteConnection),
    Postgres(Box<sqlx::PgConnection>),
}

impl TokenInsertBlocker {
    async fn hold(app: &TestApp) -> Self {
        match app.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
                conn.execute("BEGIN IMMEDIATE").await.unwrap();
                TokenInsertBlocker::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
                conn.execute("BEGIN").await.unwrap();
                conn.execute("LOCK TABLE auth_tokens IN SHARE MODE")
                    .await
                    .unwrap();
                TokenInsertBlocker::Postgres(Box::new(conn))
            }
        }
    }

    /// Releases the lock once `requests` are waiting behind it, none of
    /// them `finished`; returns when (unix µs). PostgreSQL shows its
    /// waiters. SQLite's cannot be seen (the first waits in the app's one
    /// writer, the others queue for it): a pause for their hashes to end
    /// stands in, and the caller checks that the tokens were made before.
    async fn release_when_waited_on(
        self,
        app: &TestApp,
        requests: i64,
        finished: &AtomicUsize,
    ) -> i64 {
        match &self {
            TokenInsertBlocker::Sqlite(_) => sleep(Duration::from_secs(1)).await,
            TokenInsertBlocker::Postgres(_) => {
                let waiting = "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock'";
                let mut seen = 0;
                for _ in 0..500 {
                    seen = app.scalar(waiting).await;
                    if seen >= requests {
                        break;
                    }
                    sleep(Duration::from_millis(20)).await;
                }
                assert!(
                    seen >= requests,
                    "the race was not set up: {seen} of {requests} logins waited"
                );
            }
        }
        let done = finished.load(Ordering::SeqCst);
        assert_eq!(
            done, 0,
            "the race was not set up: {done} logins did not wait"
        );
        let released = now_micros();
        match self {
            TokenInsertBlocker::Sqlite(mut conn) => conn.execute("COMMIT").await.map(drop),
            TokenInsertBlocker::Postgres(mut conn) => conn.execute("COMMIT").await.map(drop),
        }
        .unwrap();
        released
    }
}

async fn concurrent_logins_respect_the_token_limit(backend: Backend) {
    const USERS: usize = 3;
    let app = app!(backend, |figment| figment
        .merge(("token_limit_per_user", 2)));
    let usernames: Vec<String> = (0..USERS).map(|n| format!("user{n}")).collect();
    join_all(usernames.iter().map(|username| app.register(username))).await;

    // Each user has one token and room for one more; two logins each race for it.
    let blocker = TokenInsertBlocker::hold(&app).await;
    let finished = AtomicUsize::new(0);
    let logins = join_all(usernames.iter().flat_map(|username| {
        let (app, finished) = (&app, &finished);
        let login = move || async move {
            let body = json!({"username": username, "password": PASSWORD});
            let reply = app.post("/api/auth/login", None, body).await;
            finished.fetch_add(1, Ordering::SeqCst);
            reply
        };
        [login(), login()]
    }));
    let release = blocker.release_when_waited_on(&app, 2 * USERS as i64, &finished);
    let (results, released) = join(logins, release).await;

    let limit = json!({"error": "Maximum amount of tokens allowed per user exceeded."});
    for (pair, username) in results.chunks(2).zip(&usernames) {
        let statuses: HashSet<Status> = pair.iter().map(|(status, _)| *status).collect();
        assert_eq!(
            statuses,
            HashSet::from([Status::Ok, Status::Forbidden]),
            "{username}: {pair:?}"
        );
        let (_, refused) = pair
            .iter()
            .find(|(status, _)| *status == Status::Forbidden)
            .unwrap();
        assert_eq!(refused, &limit);
    }
    assert_eq!(
        app.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens")
            .await,
        2 * USERS as i64
    );
    // The winners made their tokens (after their hashes) before the lock
    // was released: they were waiting at their writes, not late to the race.
    assert_eq!(
        app.scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM auth_tokens WHERE created >= {released}"
        ))
        .await,
        0,
        "tokens made after the release: the race was not set up"
    );
}
