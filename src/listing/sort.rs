//! `?ordering=` specs: which columns a list is sorted by.

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
    for field in spec.split(',').map(str::trim) {
        let (name, descending) = field
            .strip_prefix('-')
            .map_or((field, false), |n| (n, true));
        let known = columns.iter().find(|(n, _)| *n == name);
        if let Some(&(name, sql)) = known.filter(|_| order.iter().all(|s| s.name != name)) {
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
}
