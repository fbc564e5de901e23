//! `Server-Timing: app;dur=…` on every response: how long the application
//! took, so that page and API timings can be measured from outside.

use std::time::{Duration, Instant};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Data, Request, Response};

pub struct ServerTiming;

/// When the request reached the application.
struct Started(Instant);

#[rocket::async_trait]
impl Fairing for ServerTiming {
    fn info(&self) -> Info {
        Info {
            name: "Server-Timing",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Started(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, response: &mut Response<'r>) {
        let millis = elapsed(req).as_secs_f64() * 1000.0;
        response.set_header(Header::new("Server-Timing", format!("app;dur={millis:.2}")));
    }
}

/// How long the application has spent on this request so far.
pub fn elapsed(req: &Request<'_>) -> Duration {
    req.local_cache(|| Started(Instant::now())).0.elapsed()
}
