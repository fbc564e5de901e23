//! What every list shares — `/leads`, `/admin/leads`, `/admin/users` and
//! the API: page numbers, `?ordering=` specs, the query strings of their
//! links, and the sortable column headers that write those links.

mod pages;
mod query;
mod sort;

pub use pages::{page_count, page_links, page_offset, Page};
pub use query::Query;
pub use sort::{parse_sort, single_sort, sort_headers, Column, Sort, SortHeader};
