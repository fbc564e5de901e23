//! JSON rendered by SQLite, for reads whose rows become a response body as
//! they are (see `auth::alongside`). The expressions give the bytes
//! serde_json writes for the same values: compact, keys in the order given,
//! strings escaped alike (`json_object` and serde_json both escape `"`, `\`
//! and the control characters, `\n` style where there is one, else `\u00XX`
//! in lower case). The tests compare the two byte for byte.

/// A [`Timestamp`](crate::timestamp::Timestamp) column (unix microseconds)
/// as the API shows it, `2026-11-29T11:03:18.736308Z`: the whole seconds
/// through `datetime` (its space made a `T`), the microseconds as the last
/// six digits of 1000000 + µs, both floored so that times before 1970 read
/// as the `time` crate formats them. (A fractional `unixepoch` argument
/// would round to milliseconds; `strftime` and `printf` cost the list about
/// 12% more server CPU, medians of 8 alternated runs.)
macro_rules! sqlite_timestamp {
    ($column:literal) => {
        concat!(
            "replace(datetime((",
            $column,
            " - ((",
            $column,
            " % 1000000) + 1000000) % 1000000) / 1000000, 'unixepoch'), ' ', 'T') || '.' || substr(((",
            $column,
            " % 1000000) + 1000000) % 1000000 + 1000000, 2) || 'Z'"
        )
    };
}
pub(crate) use sqlite_timestamp;

/// Rows rendered as one JSON array: each row by `element` (an expression
/// over the rows' columns), in the order of `order` (the terms of an
/// `ORDER BY`); `[]` when there are none. `string_agg` rather than
/// `json_group_array`: SQLite 3.44 drops `json_object`'s JSON subtype under
/// an aggregate's `ORDER BY`, which would quote every element as a string.
pub fn array(element: &str, order: &str) -> String {
    format!("'[' || COALESCE(string_agg({element}, ',' ORDER BY {order}), '') || ']'")
}
