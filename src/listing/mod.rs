//! What every list shares — `/leads`, `/admin/leads`, `/admin/users` and
//! the API: page numbers, `?ordering=` specs, the query strings of their
//! links, and the sortable headers and page links their templates show.

mod nav;
mod pages;
mod query;
mod sort;

pub use nav::{ListNav, SortHeader};
pub use pages::{page_count, page_links, page_offset, Page};
pub use query::Query;
pub use sort::{parse_sort, single_sort, Column, Sort};
