//! The request's absolute URL, for DRF's `next`/`previous` links.

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
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
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

/// Percent-encodes a query component: everything but `A-Z a-z 0-9 - . _ ~`.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn encodes_separators_and_unicode() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("-created_at"), "-created_at");
    }
}
