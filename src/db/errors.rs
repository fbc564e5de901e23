//! Recognising constraint violations across backends.

/// The name of the unique index a failed write violated, if that is why it failed.
///
/// PostgreSQL names the index in `constraint()`; SQLite only in the message
/// (`UNIQUE constraint failed: index 'leads_email_lower_uq'`), which is why
/// every unique key is a named index whose name tells the field.
pub fn unique_violation(err: &sqlx::Error) -> Option<String> {
    let db_err = err.as_database_error()?;
    if !db_err.is_unique_violation() {
        return None;
    }
    if let Some(name) = db_err.constraint() {
        return Some(name.to_owned());
    }
    let message = db_err.message();
    let start = message.find("index '")? + "index '".len();
    let len = message[start..].find('\'')?;
    Some(message[start..start + len].to_owned())
}
