//! Staff pages over every lead and user (SPEC §4), the Django admin's
//! changelist as the floor.

mod leads;
pub mod service;
mod users;

use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::Route;

use crate::auth::Auth;
use crate::error::Error;

pub fn routes() -> Vec<Route> {
    [leads::routes(), users::routes()].concat()
}

/// A staff member's request: anonymous visitors get 401 (the pages send
/// them to the login page), other users 403.
pub struct Staff(pub Auth);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Staff {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let auth = try_outcome!(req.guard::<Auth>().await);
        if auth.user.is_staff {
            return Outcome::Success(Staff(auth));
        }
        let error = Error::Forbidden("Staff only.".into());
        Outcome::Error((error.status(), error))
    }
}

/// One line per staff action on stderr, whatever the log level: who did
/// what to how many.
pub fn audit(staff: &Auth, action: &str, detail: &str) {
    eprintln!(
        "audit: staff={} staff_id={} action={action} {detail}",
        staff.user.username, staff.user.id
    );
}
