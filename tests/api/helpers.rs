//! Test harness: the real application over a fresh database per test, on
//! SQLite (a file in a temporary folder) or PostgreSQL (a new database on
//! the local server), driven through Rocket's local client.

use std::path::PathBuf;

use leads::db::DbPool;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{json, Value};
use sqlx::Connection;

use crate::suite_env::{pg_admin_url, pg_unreachable, require_postgres_selected};

pub const PASSWORD: &str = "correct-Horse-battery-9";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn random_suffix() -> String {
    leads::auth::token::random_hex(8)
}

pub struct TestApp {
    pub client: Client,
    pub backend: Backend,
    pub db_url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(PathBuf),
    Database(String),
}

/// A new, empty database: a SQLite file in a temporary folder, or a new
/// database on the PostgreSQL server; removed when its app is dropped.
pub struct FreshDatabase {
    pub backend: Backend,
    pub url: String,
    cleanup: Cleanup,
}

impl FreshDatabase {
    /// `None` when PostgreSQL is not reachable outside CI (in CI that is a
    /// failure, not a skip).
    pub async fn create(backend: Backend) -> Option<FreshDatabase> {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("leads-test-{}", random_suffix()));
                std::fs::create_dir_all(&dir).expect("create a temporary folder");
                (
                    format!("sqlite://{}", dir.join("leads.db").display()),
                    Cleanup::Folder(dir),
                )
            }
            Backend::Postgres => {
                require_postgres_selected();
                let name = format!("leads_test_{}", random_suffix());
                let mut admin = match sqlx::PgConnection::connect(&pg_admin_url()).await {
                    Ok(conn) => conn,
                    Err(e) => {
                        pg_unreachable(e);
                        return None;
                    }
                };
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create a test database");
                let base = pg_admin_url();
                let server = base
                    .rsplit_once('/')
                    .map_or(base.as_str(), |(server, _)| server);
                (format!("{server}/{name}"), Cleanup::Database(name))
            }
        };
        Some(FreshDatabase {
            backend,
            url,
            cleanup,
        })
    }
}

impl TestApp {
    /// The app with default settings, or `None` when PostgreSQL is not
    /// reachable outside CI (in CI that is a failure, not a skip).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |figment| figment).await
    }

    /// The app with settings changed by `configure` (e.g. a short TTL).
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(Figment) -> Figment,
    ) -> Option<TestApp> {
        let database = FreshDatabase::create(backend).await?;
        Some(TestApp::start(database, configure).await)
    }

    /// The app over a database prepared beforehand (say, by older migrations).
    pub async fn start(
        database: FreshDatabase,
        configure: impl FnOnce(Figment) -> Figment,
    ) -> TestApp {
        let FreshDatabase {
            backend,
            url: db_url,
            cleanup,
        } = database;
        let figment = Figment::from(rocket::Config::debug_default())
            .merge(("log_level", "off"))
            .merge(("request_log", false))
            .merge(("secret_key", leads::auth::token::random_hex(32)))
            .merge(("databases.leads.url", &db_url))
            .merge(("databases.leads.max_connections", 8))
            .merge(("databases.leads.connect_timeout", 5));
        let rocket = leads::build(configure(figment));
        let client = Client::untracked(rocket)
            .await
            .expect("a valid rocket instance");
        TestApp {
            client,
            backend,
            db_url,
            cleanup,
        }
    }

    /// A second connection pool to the same database, to read raw tables.
    pub async fn raw_db(&self) -> DbPool {
        let config = rocket_db_pools::Config {
            url: self.db_url.clone(),
            min_connections: None,
            max_connections: 2,
            connect_timeout: 5,
            idle_timeout: None,
            extensions: None,
        };
        DbPool::connect(&config, None)
            .await
            .expect("connect to the test database")
    }

    /// Sends a request; `body` (if any) as JSON.
    pub async fn request(
        &self,
        method: rocket::http::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (Status, Value) {
        let mut request = self.client.req(method, path.to_owned());
        if let Some(token) = token {
            request.add_header(Header::new("Authorization", format!("Token {token}")));
        }
        if let Some(body) = body {
            request = request.header(ContentType::JSON).body(body.to_string());
        }
        read(request.dispatch().await).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (Status, Value) {
        self.request(rocket::http::Method::Get, path, token, None)
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (Status, Value) {
        self.request(rocket::http::Method::Post, path, token, Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (Status, Value) {
        self.request(rocket::http::Method::Put, path, token, Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> (Status, Value) {
        self.request(rocket::http::Method::Patch, path, token, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (Status, Value) {
        self.request(rocket::http::Method::Delete, path, token, None)
            .await
    }

    /// Sends a request exactly as given (these headers, these bytes), for
    /// what [`TestApp::request`] does not cover; the reply keeps the headers.
    pub async fn send(
        &self,
        method: rocket::http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut request = self.client.req(method, path.to_owned());
        for (name, value) in headers {
            request.add_header(Header::new(name.to_string(), value.to_string()));
        }
        if let Some(body) = body {
            request.set_body(body);
        }
        read_reply(request.dispatch().await).await
    }

    /// Registers `username` with [`PASSWORD`]; returns (token, user id).
    pub async fn register(&self, username: &str) -> (String, i64) {
        let (status, body) = self
            .post(
                "/api/auth/register",
                None,
                json!({"username": username, "email": format!("{username}@example.com"), "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, Status::Ok, "register {username}: {body}");
        (
            body["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_i64().unwrap(),
        )
    }

    /// Logs in with [`PASSWORD`]; returns the new token.
    pub async fn login(&self, username: &str) -> String {
        let (status, body) = self
            .post(
                "/api/auth/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, Status::Ok, "login {username}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a lead as the token's user; returns its JSON.
    pub async fn create_lead(&self, token: &str, name: &str, email: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/leads/",
                Some(token),
                json!({"name": name, "email": email, "message": "Hello"}),
            )
            .await;
        assert_eq!(status, Status::Created, "create lead: {body}");
        body
    }

    /// The `leads` binary with this app's database configured (and no
    /// Rocket.toml), for command-line tests.
    pub fn leads_command(&self, args: &[&str]) -> std::process::Command {
        leads_command(&self.db_url, args)
    }

    /// One integer from raw SQL on the test database (e.g. a count).
    pub async fn scalar(&self, sql: &str) -> i64 {
        let db = self.raw_db().await;
        let value = leads::on_db!(db.read().await.expect("a reader"), |c| {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(c).await
        })
        .expect("raw query");
        rocket_db_pools::Pool::close(&db).await;
        value
    }

    /// Every text cell of raw SQL's rows, flattened.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let db = self.raw_db().await;
        let rows: Vec<(String,)> = leads::on_db!(db.read().await.expect("a reader"), |c| {
            sqlx::query_as(sql).fetch_all(c).await
        })
        .expect("raw query");
        rocket_db_pools::Pool::close(&db).await;
        rows.into_iter().map(|(text,)| text).collect()
    }

    /// Runs a raw statement (to age a token, say).
    pub async fn execute(&self, sql: &str) {
        let db = self.raw_db().await;
        leads::on_db!(db.writer().await.expect("the writer"), |c| sqlx::query(sql)
            .execute(c)
            .await
            .map(drop))
        .expect("raw statement");
        rocket_db_pools::Pool::close(&db).await;
    }

    /// Stores a token row directly: `digest` repeated to a digest's length,
    /// under `key`, for `user_id`, expiring at `expiry` (unix µs).
    pub async fn insert_token(&self, digest: &str, key: &str, user_id: i64, expiry: i64) {
        let now = now_micros();
        self.execute(&format!(
            "INSERT INTO auth_tokens (digest, token_key, user_id, created, expiry, last_used)
             VALUES ('{}', '{key}', {user_id}, {now}, {expiry}, {now})",
            digest.repeat(128)
        ))
        .await;
    }
}

/// The `leads` binary with the database at `db_url` configured (and no
/// Rocket.toml), for command-line tests.
pub fn leads_command(db_url: &str, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_leads"));
    command
        .args(args)
        .env(
            "ROCKET_DATABASES",
            format!("{{leads={{url=\"{db_url}\"}}}}"),
        )
        .env("ROCKET_CONFIG", "/nonexistent/Rocket.toml");
    command
}

/// Microseconds in a second, the unit of every stored timestamp.
pub const SECOND: i64 = 1_000_000;

/// Times the API never writes, around the epoch and at the edges of what it
/// can show (0001-01-01 to 9999-12-31T23:59:59.999999).
pub const EDGE_TIMES: [i64; 4] = [-62_135_596_800_000_000, -1, 0, 253_402_300_799_999_999];

/// Now, in unix microseconds: the unit of the timestamp columns.
pub fn now_micros() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(since_epoch.as_micros()).expect("a clock before year 292277")
}

/// Status and JSON body (`null` when empty).
pub async fn read(response: LocalResponse<'_>) -> (Status, Value) {
    let status = response.status();
    let text = response.into_string().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// A response with its headers (see [`TestApp::send`]).
pub struct Reply {
    pub status: Status,
    pub headers: Vec<(String, String)>,
    /// JSON, `Value::String` when the body is not JSON, `null` when empty.
    pub body: Value,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn read_reply(response: LocalResponse<'_>) -> Reply {
    let headers = response
        .headers()
        .iter()
        .map(|h| (h.name().to_string(), h.value().to_string()))
        .collect();
    let (status, body) = read(response).await;
    Reply {
        status,
        headers,
        body,
    }
}

/// Knox's answer to a token it does not know.
pub const INVALID_TOKEN: &str = "Invalid token.";

/// The `token_key` a token is stored under: its first 15 characters.
pub fn token_key(token: &str) -> &str {
    &token[..15]
}

/// A token with `token`'s key and another secret: found by key, refused by
/// digest.
pub fn forged(token: &str) -> String {
    format!("{}{}", token_key(token), "0".repeat(token.len() - 15))
}

/// `Authorization: Token <token>`, for requests built on `app.client` directly.
pub fn token_header(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Token {token}"))
}

/// DRF's answer to a lookup that finds nothing (or nothing of the caller's).
pub fn not_found() -> Value {
    json!({"detail": "Not found."})
}

/// DRF's field error messages.
pub const REQUIRED: &str = "This field is required.";
pub const BLANK: &str = "This field may not be blank.";
pub const NULL: &str = "This field may not be null.";
pub const NOT_A_STRING: &str = "Not a valid string.";
pub const INVALID_EMAIL: &str = "Enter a valid email address.";

impl Drop for TestApp {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Folder(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database(name) => {
                let name = name.clone();
                // Drop runs outside async; a short-lived runtime does the cleanup.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(runtime) = runtime {
                        runtime.block_on(async {
                            if let Ok(mut admin) =
                                sqlx::PgConnection::connect(&pg_admin_url()).await
                            {
                                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                                let _ = sqlx::query(&drop).execute(&mut admin).await;
                            }
                        });
                    }
                })
                .join();
            }
        }
    }
}

/// Runs each named test on SQLite and on PostgreSQL: `fn name(backend: Backend)`
/// becomes `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// `let app = app!(backend);` — returns from the test when PostgreSQL is
/// unavailable outside CI.
#[macro_export]
macro_rules! app {
    ($backend:expr) => {
        match $crate::helpers::TestApp::spawn($backend).await {
            Some(app) => app,
            None => return,
        }
    };
    ($backend:expr, $configure:expr) => {
        match $crate::helpers::TestApp::spawn_with($backend, $configure).await {
            Some(app) => app,
            None => return,
        }
    };
}
