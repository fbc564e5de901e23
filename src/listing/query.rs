//! Query strings for links: a list's parameters with some of them changed.

use std::fmt::Display;

/// A query string's parameters, in order. A parameter keeps the place it
/// was first given even while removed, so that all of a list's links name
/// their parameters in one order, whichever are set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query(Vec<(String, Option<String>)>);

impl Query {
    /// The parameters as a request sent them, repeated names and blank
    /// values included (DRF's links keep both).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let pairs = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v.to_owned())));
        Query(pairs.collect())
    }

    /// `key` set to `value` in place of all its values; `None` or a blank
    /// value removes it (an empty `?search=` is no search).
    pub fn set(mut self, key: &str, value: Option<impl Display>) -> Self {
        let value = value.map(|v| v.to_string()).filter(|v| !v.is_empty());
        // Every other value of `key` comes after its first, so `at` stays put.
        let at = self.0.iter().position(|(k, _)| k == key);
        let at = at.unwrap_or(self.0.len());
        self.0.retain(|(k, _)| k != key);
        self.0.insert(at, (key.to_owned(), value));
        self
    }

    /// `key` removed, its place kept for a later [`Query::set`].
    pub fn remove(self, key: &str) -> Self {
        self.set(key, None::<&str>)
    }

    /// `page=n`, left out for the first page: a list's default, as in DRF's
    /// links.
    pub fn page(self, n: u64) -> Self {
        self.set("page", (n > 1).then_some(n))
    }

    /// Sorted by name (repeated names in their order), as DRF's
    /// `replace_query_param` writes the API's links.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|(a, _), (b, _)| a.cmp(b));
        self
    }

    /// `path`, then `?` and the parameters percent-encoded if any is set.
    pub fn url(&self, path: &str) -> String {
        let set = self.0.iter().filter_map(|(k, v)| Some((k, v.as_deref()?)));
        let pairs: Vec<String> = set
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        if pairs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", pairs.join("&"))
        }
    }
}

/// Percent-encodes a query component: everything but `A-Z a-z 0-9 - . _ ~`.
fn encode(text: &str) -> String {
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
    use super::*;

    #[test]
    fn encodes_all_but_unreserved_characters() {
        assert_eq!(encode("a b&c=d/é+-._~"), "a%20b%26c%3Dd%2F%C3%A9%2B-._~");
    }

    #[test]
    fn blank_values_are_left_out_and_changed_ones_keep_their_place() {
        let query = Query::default()
            .set("q", Some("x"))
            .set("search", Some(""))
            .set("ordering", None::<&str>)
            .set("per_page", Some(25))
            .set("page", Some("3"));
        assert_eq!(query.url("/l"), "/l?q=x&per_page=25&page=3");
        let sorted = query.clone().set("ordering", Some("-id")).remove("page");
        assert_eq!(sorted.url(""), "?q=x&ordering=-id&per_page=25");
        assert_eq!(query.clone().page(2).url(""), "?q=x&per_page=25&page=2");
        assert_eq!(query.page(1).url(""), "?q=x&per_page=25");
        assert_eq!(Query::default().set("q", Some("")).url("/l"), "/l");
    }

    #[test]
    fn api_links_sort_by_name_and_keep_the_request_as_sent() {
        let sent = Query::from_pairs([("search", "ann"), ("page", "2"), ("b", ""), ("b", "x")]);
        let next = sent.clone().set("page", Some(3)).sorted();
        assert_eq!(
            next.url("http://h/api/leads/"),
            "http://h/api/leads/?b=&b=x&page=3&search=ann"
        );
        let first = sent.set("page", None::<u64>).set("limit", Some(2)).sorted();
        assert_eq!(first.url("/"), "/?b=&b=x&limit=2&search=ann");
    }

    #[test]
    fn setting_a_repeated_name_leaves_one_value() {
        let sent = Query::from_pairs([("a", "1"), ("page", "1"), ("z", "0"), ("page", "2")]);
        assert_eq!(sent.set("page", Some(5)).url(""), "?a=1&page=5&z=0");
    }
}
