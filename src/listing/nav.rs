//! What a list template shows around its rows: sortable column headers and
//! links to the other pages.

use serde::Serialize;

use super::{page_links, Query, Sort};

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

/// A sortable column's header.
#[derive(Debug, PartialEq, Serialize)]
pub struct SortHeader {
    pub label: &'static str,
    /// `aria-sort`'s value, on the column the list is sorted by.
    pub direction: Option<&'static str>,
    /// Sorts by this column: ascending, or descending if it already is.
    pub url: String,
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
        // Each header links to the list sorted by its column, from the first page.
        let header = |&(name, label): &(&'static str, &'static str)| {
            let descending = current.filter(|s| s.name == name).map(|s| s.descending);
            let ordering = match descending {
                Some(false) => format!("-{name}"),
                _ => name.to_owned(),
            };
            let link = links.clone().set("ordering", Some(ordering)).remove("page");
            SortHeader {
                label,
                direction: descending.map(|d| if d { "descending" } else { "ascending" }),
                url: link.url(path),
            }
        };
        ListNav {
            columns: columns.iter().map(header).collect(),
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
    use crate::listing::parse_sort;

    #[test]
    fn links_other_pages_and_sorts_with_the_list_parameters() {
        let links = Query::default().set("q", Some("x")).page(2);
        let columns = [("id", "ID"), ("name", "Name")];
        let sorted = |spec| {
            parse_sort(spec, &[("id", ""), ("name", "")])
                .first()
                .copied()
        };
        let nav = ListNav::new("/l", &links, (2, 4), &columns, sorted("-id"));
        let urls = [nav.first_url, nav.previous_url, nav.next_url, nav.last_url];
        let urls = urls.map(Option::unwrap_or_default);
        assert_eq!(urls, ["/l?q=x", "/l?q=x", "/l?q=x&page=3", "/l?q=x&page=4"]);
        let headers: Vec<_> = nav
            .columns
            .iter()
            .map(|h| (h.label, h.direction, &*h.url))
            .collect();
        assert_eq!(
            headers,
            [
                ("ID", Some("descending"), "/l?q=x&ordering=id"),
                ("Name", None, "/l?q=x&ordering=name"),
            ]
        );

        let only = ListNav::new("/l", &links, (1, 1), &columns, sorted("name"));
        let urls = [
            only.first_url,
            only.previous_url,
            only.next_url,
            only.last_url,
        ];
        assert_eq!(urls, [None, None, None, None]);
        assert_eq!(only.columns[1].direction, Some("ascending"));
        assert_eq!(only.columns[1].url, "/l?q=x&ordering=-name");
    }
}
