//! `?ordering=` specs, and the sortable column headers that link to them.

use serde::Serialize;

use super::Query;

/// A column a list can be sorted by: its name in `?ordering=` and the SQL
/// that sorts by it.
pub type Column = (&'static str, &'static str);

/// One key of a list's order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sort {
    pub name: &'static str,
    pub sql: &'static str,
    pub descending: bool,
}

/// `name,-created_at` as DRF's OrderingFilter reads it: the named columns
/// in order, `-` for descending. Unknown names are ignored (a stale link
/// still lists), and a column named again keeps its first place.
pub fn parse_sort(spec: &str, columns: &[Column]) -> Vec<Sort> {
    let mut order: Vec<Sort> = Vec::new();
    for field in spec.split(',') {
        let field = field.trim();
        let (name, descending) = match field.strip_prefix('-') {
            Some(name) => (name, true),
            None => (field, false),
        };
        let Some(&(name, sql)) = columns.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        if !order.iter().any(|sort| sort.name == name) {
            order.push(Sort {
                name,
                sql,
                descending,
            });
        }
    }
    order
}

/// The one column a list page sorts by: the spec's first known column, or
/// else `default`, a spec that names one of `columns`.
pub fn single_sort(spec: Option<&str>, columns: &[Column], default: &str) -> Sort {
    [spec.unwrap_or(""), default]
        .into_iter()
        .find_map(|spec| parse_sort(spec, columns).first().copied())
        .expect("the default sort names one of the columns")
}

/// A sortable column's header, as the list templates show it.
#[derive(Debug, PartialEq, Serialize)]
pub struct SortHeader {
    pub label: &'static str,
    /// `aria-sort`'s value, on the column the list is sorted by.
    pub direction: Option<&'static str>,
    /// Sorts by this column: ascending, or descending if it already is.
    pub url: String,
}

/// The headers of `columns` (ordering name, label) for a list sorted by
/// `current`; each links to `path` with `links`' parameters, sorted by that
/// column from the first page.
pub fn sort_headers(
    columns: &[(&'static str, &'static str)],
    current: Option<Sort>,
    links: &Query,
    path: &str,
) -> Vec<SortHeader> {
    columns
        .iter()
        .map(|&(name, label)| {
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
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 3] = [
        ("id", "t.id"),
        ("name", "t.name"),
        ("created", "t.created_at"),
    ];

    /// `order` written back as a spec, with each column's SQL.
    fn spec(order: &[Sort]) -> String {
        let key = |s: &Sort| {
            let sign = if s.descending { "-" } else { "" };
            format!("{sign}{}={}", s.name, s.sql)
        };
        order.iter().map(key).collect::<Vec<_>>().join(",")
    }

    #[test]
    fn parses_drf_ordering_specs() {
        for (asked, expected) in [
            ("name,-created", "name=t.name,-created=t.created_at"),
            ("-name", "-name=t.name"),
            (" -id , name ", "-id=t.id,name=t.name"),
            // Unknown, blank and repeated fields are left out.
            ("", ""),
            ("bogus,-,,t.id", ""),
            ("bogus,-name,name,id,-id", "-name=t.name,id=t.id"),
        ] {
            assert_eq!(spec(&parse_sort(asked, &COLUMNS)), expected, "{asked:?}");
        }
    }

    #[test]
    fn single_sort_takes_the_first_known_column_or_the_default() {
        let sort = |asked| spec(&[single_sort(asked, &COLUMNS, "-id")]);
        assert_eq!(sort(Some("-name,id")), "-name=t.name");
        assert_eq!(sort(Some("bogus,created")), "created=t.created_at");
        for asked in [Some("bogus"), Some(""), None] {
            assert_eq!(sort(asked), "-id=t.id");
        }
    }

    #[test]
    fn headers_mark_the_sorted_column_and_link_to_its_reverse() {
        let labels = [("name", "Name"), ("created", "Created")];
        let links = Query::default()
            .set("q", Some("a b"))
            .set("ordering", Some("x"))
            .page(3);
        let headers = |asked: &str| -> Vec<String> {
            let current = parse_sort(asked, &COLUMNS).first().copied();
            let headers = sort_headers(&labels, current, &links, "/list");
            headers
                .iter()
                .map(|h| format!("{} {:?} {}", h.label, h.direction, h.url))
                .collect()
        };
        assert_eq!(
            headers("name"),
            [
                r#"Name Some("ascending") /list?q=a%20b&ordering=-name"#,
                "Created None /list?q=a%20b&ordering=created",
            ]
        );
        assert_eq!(
            headers("-name")[0],
            r#"Name Some("descending") /list?q=a%20b&ordering=name"#
        );
        assert_eq!(headers("bogus")[0], "Name None /list?q=a%20b&ordering=name");
    }
}
