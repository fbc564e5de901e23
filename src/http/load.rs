//! What the server is doing besides hashing passwords: the signal the
//! password-hashing threads yield to (see `users::hashing`).
//!
//! Every request holds a ticket from the moment it arrives until it is
//! dropped, whatever happens to it (a response, an error, a client that went
//! away). Routes that hash a password hand theirs in with the [`Hashes`]
//! guard, so that logins alone do not hold their own hashing back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::request::{FromRequest, Outcome};
use rocket::{Data, Request};

static SERVING: AtomicUsize = AtomicUsize::new(0);
static SERVED: AtomicUsize = AtomicUsize::new(0);

/// Requests in flight and requests served so far, counting neither those of
/// routes that hash a password.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Activity {
    pub serving: usize,
    served: usize,
}

pub fn activity() -> Activity {
    Activity {
        serving: SERVING.load(Ordering::Relaxed),
        served: SERVED.load(Ordering::Relaxed),
    }
}

impl Activity {
    /// Whether no request has been in flight since `earlier`, as far as two
    /// looks tell: none now, and none finished in between. (With 64
    /// connections listing, the count alone fell to zero often enough
    /// between one response and the client's next request.)
    pub fn idle_since(self, earlier: Activity) -> bool {
        self.serving == 0 && self.served == earlier.served
    }
}

/// One request's place in the [`activity`] count. It leaves the count once:
/// when handed in, or else when dropped (and then counts as served).
pub struct Ticket {
    counted: AtomicBool,
}

impl Ticket {
    pub fn enter() -> Self {
        SERVING.fetch_add(1, Ordering::Relaxed);
        Ticket {
            counted: AtomicBool::new(true),
        }
    }

    /// Takes the request out of the count; whether it was still in it.
    fn leave(&self) -> bool {
        let counted = self.counted.swap(false, Ordering::Relaxed);
        if counted {
            SERVING.fetch_sub(1, Ordering::Relaxed);
        }
        counted
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.leave() {
            SERVED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Gives every request its ticket, in its local cache: the cache is dropped
/// with the request, so no path through Rocket leaves a count behind.
pub struct Load;

#[rocket::async_trait]
impl Fairing for Load {
    fn info(&self) -> Info {
        Info {
            name: "Load",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(Ticket::enter);
    }
}

/// A guard for routes that hash a password (logins, sign-ups, password
/// changes): the request leaves the [`activity`] count, since it waits on
/// the hashing threads rather than competing with them.
pub struct Hashes;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Hashes {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        // A request that came without the fairing (none here) takes and
        // hands in a ticket at once.
        req.local_cache(Ticket::enter).leave();
        Outcome::Success(Hashes)
    }
}

/// Tests that count requests or hold tickets take turns: the counts are
/// the process's.
#[cfg(test)]
pub(crate) static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::http::Status;
    use rocket::local::blocking::Client;
    use rocket::{get, routes};

    #[get("/counted")]
    fn counted() -> String {
        activity().serving.to_string()
    }

    #[get("/hashes")]
    fn hashes(_hashes: Hashes) -> String {
        activity().serving.to_string()
    }

    #[get("/refused")]
    fn refused() -> Status {
        Status::UnprocessableEntity
    }

    /// A request is counted while it is served, a route that hashes is not,
    /// and every request leaves the count, whatever it was answered.
    #[test]
    fn requests_are_counted_while_served_and_leave_the_count() {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let rocket = rocket::build()
            .attach(Load)
            .mount("/", routes![counted, hashes, refused]);
        let client = Client::untracked(rocket).expect("a rocket");
        let before = activity();

        let inside = client.get("/counted").dispatch().into_string();
        assert_eq!(inside, Some((before.serving + 1).to_string()));
        let inside = client.get("/hashes").dispatch().into_string();
        assert_eq!(inside, Some(before.serving.to_string()));
        assert_eq!(client.get("/refused").dispatch().status().code, 422);
        assert_eq!(client.get("/missing").dispatch().status().code, 404);

        let after = activity();
        assert_eq!(after.serving, before.serving);
        assert_eq!(after.served, before.served + 3, "all but /hashes");
        assert!(!after.idle_since(before));
        assert!(activity().idle_since(after));
    }
}
