//! The lead list's optional features: `?search=`, `?ordering=`, and
//! `?page=` or `?limit=&offset=` pagination (DRF's filters and paginators).

use rocket::form::{self, DataField, FromForm, ValueField};

use crate::db::Sql;
use crate::error::Error;
use crate::listing::{parse_sort, Column, Page, Sort};

/// The query string as sent; [`ListQuery::parse`] interprets it.
#[derive(Debug, Default)]
pub struct ListParams {
    pub search: Option<String>,
    pub ordering: Option<String>,
    pub page: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

/// Read as Django's `QueryDict.get` does: a repeated name takes its last
/// value, and other names are ignored. (A derived `FromForm` would turn a
/// repeated name into `None`, so `?page=1&page=x` listed everything.)
#[rocket::async_trait]
impl<'r> FromForm<'r> for ListParams {
    type Context = ListParams;

    fn init(_: form::Options) -> Self::Context {
        <ListParams as Default>::default()
    }

    fn push_value(params: &mut ListParams, field: ValueField<'r>) {
        let slot = match field.name.source().as_str() {
            "search" => &mut params.search,
            "ordering" => &mut params.ordering,
            "page" => &mut params.page,
            "limit" => &mut params.limit,
            "offset" => &mut params.offset,
            _ => return,
        };
        *slot = Some(field.value.to_owned());
    }

    async fn push_data(_: &mut ListParams, _: DataField<'r, '_>) {}

    fn finalize(params: ListParams) -> form::Result<'r, Self> {
        Ok(params)
    }
}

/// The columns `?ordering=` may name, and the SQL each sorts by.
const COLUMNS: [Column; 6] = [
    ("id", "id"),
    ("name", "name"),
    ("email", "email"),
    ("message", "message"),
    ("created_at", "created_at"),
    ("owner", "owner_id"),
];

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Paging {
    /// The bare array (the default).
    All,
    /// `?page=N` with the configured page size.
    Page { page: Page, size: u64 },
    /// `?limit=&offset=`.
    Window { limit: u64, offset: u64 },
}

#[derive(Clone, Debug)]
pub struct ListQuery {
    pub terms: Vec<String>,
    pub order: Vec<Sort>,
    pub paging: Paging,
}

/// Distinct search terms that count; later ones are ignored, as search
/// engines do: each adds a condition, and SQLite refuses a query nested more
/// than 1000 deep, which a long query string would otherwise reach (a 500).
pub const MAX_SEARCH_TERMS: usize = 32;

/// DRF's SearchFilter terms: split on whitespace and commas, NULs dropped;
/// distinct, and at most [`MAX_SEARCH_TERMS`].
pub fn search_terms(search: Option<&str>) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let search = search.unwrap_or("").replace('\0', "");
    for term in search.split(|c: char| c.is_whitespace() || c == ',') {
        if terms.len() == MAX_SEARCH_TERMS {
            break;
        }
        if !term.is_empty() && !terms.iter().any(|t| t == term) {
            terms.push(term.to_owned());
        }
    }
    terms
}

impl ListQuery {
    pub fn parse(params: &ListParams, page_size: u64) -> Result<Self, Error> {
        let terms = search_terms(params.search.as_deref());

        let order = parse_sort(params.ordering.as_deref().unwrap_or(""), &COLUMNS);

        let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        let paging = if present(&params.limit) || present(&params.offset) {
            Paging::Window {
                limit: positive(params.limit.as_deref()).unwrap_or(page_size),
                offset: params
                    .offset
                    .as_deref()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            }
        } else if let Some(page) = params.page.as_deref().filter(|s| !s.is_empty()) {
            Paging::Page {
                page: Page::parse(page).ok_or(Error::InvalidPage)?,
                size: page_size,
            }
        } else {
            Paging::All
        };
        Ok(ListQuery {
            terms,
            order,
            paging,
        })
    }

    /// Appends this query's search conditions (`AND ...`) to `sql`.
    pub fn push_search(&self, sql: &mut Sql) {
        sql.push_search(&self.terms, &["search_key {like}"], super::SEARCH_KEY_MAX);
    }

    /// Appends `ORDER BY`, always ending in `id` so pages are stable.
    pub fn push_order(&self, sql: &mut Sql) {
        let mut terms: Vec<String> = self
            .order
            .iter()
            .map(|sort| {
                format!(
                    "{} {}",
                    sort.sql,
                    if sort.descending { "DESC" } else { "ASC" }
                )
            })
            .collect();
        if !self.order.iter().any(|sort| sort.name == "id") {
            terms.push("id ASC".into());
        }
        sql.push(" ORDER BY ").push(&terms.join(", "));
    }
}

fn positive(text: Option<&str>) -> Option<u64> {
    text.and_then(|s| s.parse::<u64>().ok()).filter(|n| *n > 0)
}
