//! JSON rendered by SQLite, for reads whose rows become a response body as
//! they are (see `auth::alongside`). The expressions give the bytes
//! serde_json writes for the same values: compact, keys in the order given,
//! strings escaped alike (`json_object` and serde_json both escape `"`, `\`
//! and the control characters, `\n` style where there is one, else `\u00XX`
//! in lower case). The tests compare the two byte for byte.
//!
//! A read of leads does not even call `json_object`: each row's JSON is
//! stored with it (`leads.rendered`, a generated column: see its migration).

/// Rows rendered as one JSON array: each row by `element` (an expression
/// over the rows' columns), in the order of `order` (the terms of an
/// `ORDER BY`); `[]` when there are none. `string_agg` rather than
/// `json_group_array`: SQLite 3.44 drops `json_object`'s JSON subtype under
/// an aggregate's `ORDER BY`, which would quote every element as a string.
pub fn array(element: &str, order: &str) -> String {
    format!("'[' || COALESCE(string_agg({element}, ',' ORDER BY {order}), '') || ']'")
}
