//! The request's absolute URL, for DRF's `next`/`previous` links.

use rocket::http::RawStr;
use rocket::request::{FromRequest, Outcome, Request};

pub struct RequestUrl {
    base: String,
    query: Vec<(String, String)>,
}

impl RequestUrl {
    /// This URL with each key set to its value, or removed when `None`, and
    /// the parameters sorted by name, as DRF's `replace_query_param` does.
    pub fn with_params(&self, changes: &[(&str, Option<String>)]) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .query
            .iter()
            .filter(|(k, _)| changes.iter().all(|(key, _)| k != key))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for (key, value) in changes {
            if let Some(value) = value {
                pairs.push((key, value));
            }
        }
        pairs.sort_by_key(|(key, _)| *key);
        if pairs.is_empty() {
            return self.base.clone();
        }
        let query: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    RawStr::new(k).percent_encode(),
                    RawStr::new(v).percent_encode()
                )
            })
            .collect();
        format!("{}?{}", self.base, query.join("&"))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestUrl {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let host = req
            .host()
            .map_or_else(|| "localhost".to_owned(), |h| h.to_string());
        let base = format!("http://{host}{}/", req.uri().path());
        let query = req
            .uri()
            .query()
            .map(|q| {
                q.segments()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Outcome::Success(RequestUrl { base, query })
    }
}
