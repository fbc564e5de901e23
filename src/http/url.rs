//! The request's absolute URL, for DRF's `next`/`previous` links.

use rocket::request::{FromRequest, Outcome, Request};

use crate::listing::Query;

pub struct RequestUrl {
    base: String,
    query: Query,
}

impl RequestUrl {
    /// This URL with `change` made to its query and the parameters sorted
    /// by name, as DRF's `replace_query_param` writes them.
    pub fn with(&self, change: impl FnOnce(Query) -> Query) -> String {
        change(self.query.clone()).sorted().url(&self.base)
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
            .map(|q| Query::from_pairs(q.segments()))
            .unwrap_or_default();
        Outcome::Success(RequestUrl { base, query })
    }
}
