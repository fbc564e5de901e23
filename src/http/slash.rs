//! Every path answers with and without a trailing slash, without a redirect.

use rocket::fairing::AdHoc;
use rocket::http::uri::Origin;

/// Strips one trailing slash before routing, as routes are declared without
/// it: Django's URLs end in a slash, most clients' do not.
pub fn fairing() -> AdHoc {
    AdHoc::on_request("Optional trailing slash", |req, _| {
        Box::pin(async move {
            let uri = req.uri();
            let path = uri.path().as_str();
            if path.len() > 1 && path.ends_with('/') {
                let trimmed = &path[..path.len() - 1];
                let target = match uri.query() {
                    Some(query) => format!("{trimmed}?{query}"),
                    None => trimmed.to_owned(),
                };
                if let Ok(origin) = Origin::parse_owned(target) {
                    req.set_uri(origin);
                }
            }
        })
    })
}
