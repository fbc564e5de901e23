//! Page numbers: how many pages a count makes, which one is shown, and
//! where it starts.

/// A page asked for in `?page=`: a number from 1, or `last`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Page {
    Number(u64),
    Last,
}

impl Page {
    /// A positive number or `last`, as DRF reads `?page=`; anything else
    /// is no page at all.
    pub fn parse(text: &str) -> Option<Page> {
        match text {
            "last" => Some(Page::Last),
            number => number.parse().ok().filter(|n| *n > 0).map(Page::Number),
        }
    }

    /// The browser pages' lenient reading: what is not a page is the first.
    pub fn or_first(text: Option<&str>) -> Page {
        text.and_then(Page::parse).unwrap_or(Page::Number(1))
    }

    /// This page's number if it is one of `pages` (the API's rule: a page
    /// past the end is an error).
    pub fn within(self, pages: u64) -> Option<u64> {
        match self {
            Page::Last => Some(pages),
            Page::Number(n) => (n <= pages).then_some(n),
        }
    }

    /// This page's number among `pages`, past the end meaning the last
    /// (the browser pages' rule: a stale link still shows something).
    pub fn clamped(self, pages: u64) -> u64 {
        self.within(pages).unwrap_or(pages)
    }
}

/// Pages for `count` items, `size` to a page: at least one, so that an
/// empty list still has its (empty) first page.
pub fn page_count(count: i64, size: u64) -> u64 {
    u64::try_from(count).unwrap_or(0).div_ceil(size).max(1)
}

/// The items before page `number` (from 1). Saturating: an absurd page is
/// simply past the end, never an overflow.
pub fn page_offset(number: u64, size: u64) -> u64 {
    number.saturating_sub(1).saturating_mul(size)
}

/// Links to the pages before and after `page` of `pages`, where there are
/// such pages: [previous, next].
pub fn page_links(page: u64, pages: u64, link: impl Fn(u64) -> String) -> [Option<String>; 2] {
    [
        (page > 1).then(|| link(page - 1)),
        (page < pages).then(|| link(page + 1)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pages_with_at_least_one() {
        let counts = [0, -3, 1, 20, 21, 100];
        assert_eq!(counts.map(|n| page_count(n, 20)), [1, 1, 1, 1, 2, 5]);
        assert_eq!(page_count(100, 25), 4);
    }

    #[test]
    fn parses_positive_numbers_and_last_only() {
        assert_eq!(Page::parse("1"), Some(Page::Number(1)));
        assert_eq!(Page::parse("42"), Some(Page::Number(42)));
        assert_eq!(Page::parse("last"), Some(Page::Last));
        for bad in ["", " 1", "0", "-1", "1.5", "abc", "LAST"] {
            assert_eq!(Page::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Page::parse("99999999999999999999"), None, "past u64");
        assert_eq!(Page::or_first(None), Page::Number(1));
        assert_eq!(Page::or_first(Some("x")), Page::Number(1));
        assert_eq!(Page::or_first(Some("last")), Page::Last);
    }

    #[test]
    fn chooses_the_page_within_or_clamped() {
        assert_eq!(Page::Number(3).within(3), Some(3));
        assert_eq!(Page::Number(4).within(3), None);
        assert_eq!(Page::Last.within(3), Some(3));
        assert_eq!(Page::Number(2).clamped(3), 2);
        assert_eq!(Page::Number(9).clamped(3), 3);
        assert_eq!(Page::Number(u64::MAX).clamped(1), 1);
        assert_eq!(Page::Last.clamped(1), 1);
    }

    #[test]
    fn offsets_start_at_zero_and_saturate() {
        assert_eq!(page_offset(1, 50), 0);
        assert_eq!(page_offset(3, 50), 100);
        assert_eq!(page_offset(u64::MAX, 50), u64::MAX);
    }

    #[test]
    fn links_only_to_pages_that_exist() {
        let links =
            |page, pages| page_links(page, pages, |n| n.to_string()).map(Option::unwrap_or_default);
        assert_eq!(links(1, 1), ["", ""]);
        assert_eq!(links(1, 3), ["", "2"]);
        assert_eq!(links(2, 3), ["1", "3"]);
        assert_eq!(links(3, 3), ["2", ""]);
    }
}
