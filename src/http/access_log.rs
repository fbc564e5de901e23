//! Structured request logs: one JSON line per request on standard output,
//! e.g. `{"time":"…","method":"GET","path":"/api/leads/","status":200,
//! "ms":0.84,"user":7}`.
//!
//! Only what identifies the request is logged — never a header, a cookie, a
//! query string or a body, so no token, password or session can leak. Paths
//! whose route has a token segment (`/api/auth/tokens/<token_key>`) are
//! logged as the route's pattern.

use std::io::{BufWriter, Write};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Request, Response};
use serde::Serialize;

use crate::auth::guard::Conclusion;
use crate::timestamp::Timestamp;

/// Lines go through a channel to a writer thread, so a slow reader of
/// standard output never stalls an async worker; the thread writes what
/// has queued, then sleeps, so a busy server pays no wake-up per request.
pub struct AccessLog {
    lines: Option<mpsc::Sender<String>>,
    writer: Option<JoinHandle<()>>,
}

impl AccessLog {
    /// Starts the writer thread; it ends when the fairing is dropped.
    pub fn to_stdout() -> Self {
        let (lines, queued) = mpsc::channel::<String>();
        let writer = thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                while let Ok(first) = queued.recv() {
                    // Locked per batch, not for good: Rocket prints to stdout too.
                    let mut out = BufWriter::new(std::io::stdout().lock());
                    for line in std::iter::once(first).chain(queued.try_iter()) {
                        let _ = writeln!(out, "{line}");
                    }
                    drop(out); // flushes
                    thread::sleep(Duration::from_millis(10));
                }
            })
            .expect("spawn the access-log thread");
        AccessLog {
            lines: Some(lines),
            writer: Some(writer),
        }
    }
}

/// At shutdown, the lines still queued are written before the process ends.
impl Drop for AccessLog {
    fn drop(&mut self) {
        drop(self.lines.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// One line, serialized straight from borrowed fields.
#[derive(Serialize)]
struct Line<'a> {
    time: Timestamp,
    method: &'a str,
    path: &'a str,
    status: u16,
    ms: f64,
    user: Option<i64>,
}

/// The path as logged: a route with a secret-looking segment gives its
/// pattern instead of the value.
fn logged_path<'a>(req: &'a Request<'_>) -> &'a str {
    match req.route() {
        Some(route) if route.uri.path().contains("token") && route.uri.path().contains('<') => {
            route.uri.path()
        }
        _ => req.uri().path().as_str(),
    }
}

#[rocket::async_trait]
impl Fairing for AccessLog {
    fn info(&self) -> Info {
        Info {
            name: "Access log",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, response: &mut Response<'r>) {
        let line = Line {
            time: Timestamp::now(),
            method: req.method().as_str(),
            path: logged_path(req),
            status: response.status().code,
            ms: (super::timing::elapsed(req).as_secs_f64() * 1e5).round() / 100.0,
            user: Conclusion::so_far(req).user_id(),
        };
        if let (Some(lines), Ok(line)) = (&self.lines, serde_json::to_string(&line)) {
            let _ = lines.send(line);
        }
    }
}
