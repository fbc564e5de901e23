//! Recognising constraint violations across backends.

/// Every unique key, by index name, with the `table.column` SQLite names
/// instead when the index is on a plain column.
const UNIQUE_KEYS: &[(&str, &str)] = &[
    ("users_username_key_uq", "users.username_key"),
    ("leads_email_key_uq", "leads.email_key"),
];

/// The name of the unique index a failed write violated, if that is why it failed.
///
/// PostgreSQL names the index in `constraint()`; SQLite only in the message,
/// as `index 'name'` for expression indexes or `table.column` for column
/// ones (`UNIQUE constraint failed: leads.email_key`).
pub fn unique_violation(err: &sqlx::Error) -> Option<&'static str> {
    let db_err = err.as_database_error()?;
    if !db_err.is_unique_violation() {
        return None;
    }
    let message = db_err.message();
    UNIQUE_KEYS.iter().find_map(|&(index, column)| {
        let named = db_err.constraint() == Some(index)
            || message.contains(&format!("index '{index}'"))
            || message.ends_with(column);
        named.then_some(index)
    })
}
