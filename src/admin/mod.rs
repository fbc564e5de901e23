//! Staff pages over every lead and user (SPEC §4), the Django admin's
//! changelist as the floor.

mod leads;
pub mod service;
mod users;

use rocket::request::{FromRequest, Outcome, Request};
use rocket::Route;

use crate::auth::Auth;
use crate::error::Error;

pub fn routes() -> Vec<Route> {
    let mut all = leads::routes();
    all.extend(users::routes());
    all
}

/// A staff member's request: anonymous visitors get 401 (the pages send
/// them to the login page), other users 403.
pub struct Staff(pub Auth);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Staff {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        match req.guard::<Auth>().await {
            Outcome::Success(auth) if auth.user.is_staff => Outcome::Success(Staff(auth)),
            Outcome::Success(_) => {
                let error = Error::Forbidden("Staff only.".into());
                Outcome::Error((error.status(), error))
            }
            Outcome::Error(failure) => Outcome::Error(failure),
            Outcome::Forward(status) => Outcome::Forward(status),
        }
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
