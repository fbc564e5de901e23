//! What a list template shows around its rows: sortable column headers and
//! links to the other pages.

use serde::Serialize;

use super::sort::sort_headers;
use super::{page_links, Query, Sort, SortHeader};

/// A list page's navigation, as `macros::sort_headers` and
/// `macros::pagination` read it.
#[derive(Debug, Serialize)]
pub struct ListNav {
    pub columns: Vec<SortHeader>,
    pub page: u64,
    pub pages: u64,
    pub first_url: Option<String>,
    pub previous_url: Option<String>,
    pub next_url: Option<String>,
    pub last_url: Option<String>,
}

impl ListNav {
    /// Page `page` of `pages` of the list at `path` with `links`'
    /// parameters, sorted by `current` among `columns` (ordering name, label).
    pub fn new(
        path: &str,
        links: &Query,
        (page, pages): (u64, u64),
        columns: &[(&'static str, &'static str)],
        current: Option<Sort>,
    ) -> Self {
        let url = |n: u64| links.clone().page(n).url(path);
        let [previous_url, next_url] = page_links(page, pages, url);
        ListNav {
            columns: sort_headers(columns, current, links, path),
            page,
            pages,
            first_url: (page > 1).then(|| url(1)),
            previous_url,
            next_url,
            last_url: (page < pages).then(|| url(pages)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_every_other_page_with_the_list_parameters() {
        let links = Query::default()
            .set("q", Some("x"))
            .set("ordering", Some("-id"));
        let nav = ListNav::new("/list", &links, (2, 4), &[("id", "ID")], None);
        let urls = [nav.first_url, nav.previous_url, nav.next_url, nav.last_url];
        assert_eq!(
            urls.map(Option::unwrap_or_default),
            [
                "/list?q=x&ordering=-id",
                "/list?q=x&ordering=-id",
                "/list?q=x&ordering=-id&page=3",
                "/list?q=x&ordering=-id&page=4",
            ]
        );
        assert_eq!(nav.columns[0].url, "/list?q=x&ordering=id");
        let only = ListNav::new("/list", &links, (1, 1), &[], None);
        assert_eq!([only.first_url, only.last_url], [None, None]);
    }
}
