//! JSON rendered by the database, for reads whose rows become a response
//! body as they are (see `auth::alongside`).
//!
//! Each lead's JSON is rendered when the row is written, into a stored
//! generated column (`leads.rendered`; see its migrations): SQLite's
//! `json_object` and PostgreSQL's `to_json` escape strings as serde_json does
//! (`"`, `\`, the control characters `\n` style where there is one, else
//! `\u00XX` in lower case, nothing else), keys go in the struct's order with
//! no spaces, and times are formatted by hand. The tests compare the bytes
//! with serde's. A read then only joins the stored texts.

/// Rows rendered as one JSON array: each row by `element` (an expression
/// over the rows' columns), in the order of `order` (the terms of an
/// `ORDER BY`); `[]` when there are none. `string_agg` has the same form on
/// both backends (SQLite's `json_group_array` would also quote stored JSON
/// as strings).
pub fn array(element: &str, order: &str) -> String {
    format!("'[' || COALESCE(string_agg({element}, ',' ORDER BY {order}), '') || ']'")
}
