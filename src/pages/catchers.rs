//! HTML answers for everything outside `/api` that no handler answered.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::Redirect;
use rocket::{catch, catchers, Catcher};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::auth::csrf::CsrfKey;
use crate::auth::guard::Conclusion;
use crate::listing::Query;

use super::View;

/// Anonymous visitors of a page that needs a login go to the login page,
/// and come back afterwards.
#[catch(401)]
fn login_required(req: &Request<'_>) -> Redirect {
    Redirect::to(Query::default().set("next", Some(req.uri())).url("/login"))
}

#[catch(default)]
fn error_page(status: Status, req: &Request<'_>) -> (Status, Template) {
    let (heading, message) = match status.code {
        403 => ("Forbidden", "You do not have permission to do that. If you submitted a form, reload the page and try again."),
        404 => ("Page not found", "There is nothing here. It may have been deleted, or never existed."),
        413 => ("Too large", "What you sent is larger than this site accepts."),
        400..=499 => ("Bad request", "The request could not be understood."),
        503 => ("Temporarily unavailable", "The service is temporarily unavailable. Please try again in a moment."),
        _ => ("Something went wrong", "An unexpected error occurred. Please try again."),
    };
    // The user, if authentication ran for this request; nothing is looked up anew.
    let mut view = View::default();
    let rocket = req.rocket();
    if let (Ok(Some(auth)), Some(key)) = (&Conclusion::so_far(req).0, rocket.state::<CsrfKey>()) {
        view.user = Some(auth.user.clone());
        view.csrf_token = key.for_session(&auth.token_digest);
    }
    let context = json!({ "heading": heading, "message": message });
    (status, view.render("error", "", context))
}

pub fn html() -> Vec<Catcher> {
    catchers![login_required, error_page]
}
