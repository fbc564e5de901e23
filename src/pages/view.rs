//! What every page needs: the user, a CSRF token for its forms, the flash
//! message; and the HTML error and form responders.

use rocket::http::{Header, Status};
use rocket::outcome::try_outcome;
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket::response::{self, Flash, Redirect, Responder};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use crate::auth::cookie;
use crate::auth::csrf::CsrfKey;
use crate::auth::MaybeAuth;
use crate::config::Settings;
use crate::error::{Error, FieldErrors};
use crate::users::User;
use crate::validation::Input;

/// A page's shared context, gathered from the request. The default is a
/// reader with no session, for pages that render even when the request's
/// credentials were refused.
#[derive(Default)]
pub struct View {
    pub user: Option<User>,
    pub csrf_token: String,
    flash: Option<(String, String)>,
}

impl View {
    /// Renders `template` with the page's own `context` (an object) merged
    /// over the shared keys: `user`, `csrf_token`, `flash`, `section`.
    pub fn render(self, template: &'static str, section: &str, context: Value) -> Template {
        let mut all = json!({
            "user": self.user.as_ref().map(|u| json!({ "username": u.username, "is_staff": u.is_staff })),
            "csrf_token": self.csrf_token,
            "flash": self.flash.map(|(kind, message)| json!({ "kind": kind, "message": message })),
            "section": section,
        });
        if let (Some(all), Value::Object(own)) = (all.as_object_mut(), context) {
            all.extend(own);
        }
        Template::render(template, all)
    }
}

/// The settings and CSRF key that the page guards need.
pub(super) fn page_state<'r>(req: &'r Request<'_>) -> Outcome<(&'r Settings, &'r CsrfKey), Error> {
    let rocket = req.rocket();
    match (rocket.state::<Settings>(), rocket.state::<CsrfKey>()) {
        (Some(settings), Some(key)) => Outcome::Success((settings, key)),
        _ => Outcome::Error((Status::InternalServerError, Error::Internal)),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for View {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Error> {
        let (settings, key) = try_outcome!(page_state(req));
        let found = try_outcome!(req.guard::<MaybeAuth>().await).0;
        let csrf_token = match &found {
            Some(auth) => key.for_session(&auth.token_digest),
            None => key.for_seed(&cookie::csrf_seed_or_new(req, settings)),
        };
        let flash = req
            .guard::<Option<FlashMessage<'_>>>()
            .await
            .succeeded()
            .flatten()
            .map(|flash| flash.into_inner());
        Outcome::Success(View {
            user: found.map(|found| found.user),
            csrf_token,
            flash,
        })
    }
}

/// A service error on a page: answered by the HTML catcher for its status
/// (an error page, or the login page for 401).
#[derive(Debug)]
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(error: Error) -> Self {
        PageError(error)
    }
}

impl<'r> Responder<'r, 'static> for PageError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Err(self.0.status())
    }
}

/// A redirect after an action that worked, with its flash message.
pub fn redirect_with_flash(path: &str, message: impl Into<String>) -> Flash<Redirect> {
    Flash::success(Redirect::to(path.to_owned()), message)
}

/// A form POST's outcome: a redirect with a flash message when it worked;
/// the form again with its errors and the input kept when it did not (422)
/// or was throttled (429, with `Retry-After`); or an error page.
#[derive(rocket::Responder)]
pub enum FormOutcome {
    Done(Flash<Redirect>),
    #[response(status = 422)]
    Invalid(Template),
    #[response(status = 429)]
    Throttled(Template, Header<'static>),
    Failed(PageError),
}

impl FormOutcome {
    /// Maps a service result: field errors re-render the form via `form`.
    pub fn from_result<T>(
        result: Result<T, Error>,
        done: impl FnOnce(T) -> Flash<Redirect>,
        form: impl FnOnce(FieldErrors) -> Template,
    ) -> FormOutcome {
        match result {
            Ok(value) => FormOutcome::Done(done(value)),
            Err(Error::Invalid(errors)) => FormOutcome::Invalid(form(errors)),
            Err(Error::Throttled { wait_seconds }) => {
                let message = format!(
                    "Too many failed attempts. Try again in {}.",
                    human_wait(wait_seconds)
                );
                FormOutcome::Throttled(
                    form(FieldErrors::single(FieldErrors::NON_FIELD, message)),
                    Header::new("Retry-After", wait_seconds.to_string()),
                )
            }
            Err(error) => FormOutcome::Failed(PageError(error)),
        }
    }
}

/// "45 seconds", "1 minute", "15 minutes": a wait, rounded up.
fn human_wait(seconds: u64) -> String {
    match seconds {
        0..=1 => "1 second".into(),
        2..=59 => format!("{seconds} seconds"),
        60 => "1 minute".into(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// The submitted values to show again in a form (never passwords).
pub fn kept(input: &Input, fields: &[&str]) -> Value {
    fields
        .iter()
        .map(|f| (f.to_string(), json!(input.str(f).unwrap_or(""))))
        .collect::<serde_json::Map<_, _>>()
        .into()
}
