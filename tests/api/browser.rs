//! Helpers for tests that act as a browser: cookies and CSRF tokens by hand.

use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::asynchronous::LocalResponse;

use crate::helpers::{TestApp, PASSWORD};

/// A browser's cookies (name=value) for one app.
#[derive(Clone, Default)]
pub struct Browser {
    pub cookies: Vec<(String, String)>,
}

/// The value of the first `name="csrf_token"` field in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a CSRF field in the page") + marker.len();
    html[start..start + 64].to_owned()
}

impl Browser {
    fn remember(&mut self, response: &LocalResponse<'_>) {
        for cookie in response.cookies().iter() {
            self.cookies.retain(|(name, _)| name != cookie.name());
            if !cookie.value().is_empty() {
                self.cookies
                    .push((cookie.name().to_owned(), cookie.value().to_owned()));
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn cookies(&self) -> Vec<Cookie<'static>> {
        self.cookies
            .iter()
            .map(|(n, v)| Cookie::new(n.clone(), v.clone()))
            .collect()
    }

    /// GET a page: (status, body, Location header).
    pub async fn get(&mut self, app: &TestApp, path: &str) -> (Status, String, Option<String>) {
        let response = app
            .client
            .get(path.to_owned())
            .cookies(self.cookies())
            .dispatch()
            .await;
        self.remember(&response);
        let location = response.headers().get_one("Location").map(str::to_owned);
        (
            response.status(),
            response.into_string().await.unwrap_or_default(),
            location,
        )
    }

    /// POST a form (fields already encoded): (status, body, Location header).
    pub async fn post_form(
        &mut self,
        app: &TestApp,
        path: &str,
        form: &str,
        headers: &[(&'static str, &str)],
    ) -> (Status, String, Option<String>) {
        let mut request = app
            .client
            .post(path.to_owned())
            .cookies(self.cookies())
            .header(ContentType::Form)
            .body(form);
        for (name, value) in headers {
            request.add_header(Header::new(*name, value.to_string()));
        }
        let response = request.dispatch().await;
        self.remember(&response);
        let location = response.headers().get_one("Location").map(str::to_owned);
        (
            response.status(),
            response.into_string().await.unwrap_or_default(),
            location,
        )
    }

    /// Signs up through the form; the browser then holds a session cookie.
    pub async fn sign_up(&mut self, app: &TestApp, username: &str) {
        let (_, page, _) = self.get(app, "/signup").await;
        let form = format!(
            "csrf_token={}&username={username}&email={username}%40example.com&password={PASSWORD}",
            csrf_in(&page)
        );
        let (status, _, location) = self.post_form(app, "/signup", &form, &[]).await;
        assert_eq!(
            (status, location.as_deref()),
            (Status::SeeOther, Some("/leads"))
        );
    }

    /// The CSRF token the pages give this session.
    pub async fn csrf(&mut self, app: &TestApp) -> String {
        let (status, page, _) = self.get(app, "/leads/new").await;
        assert_eq!(status, Status::Ok);
        csrf_in(&page)
    }
}
