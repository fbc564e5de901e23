//! SQL assembled at run time (filters, sorting, paging) with `$n` binds.

use sqlx::FromRow;

use super::DbPool;
use crate::on_db;

/// A value to bind. Integers are always `i64` (PostgreSQL caches the
/// parameter types of a statement text; SPEC §1).
#[derive(Clone, Debug)]
pub enum Bind {
    Int(i64),
    Text(String),
}

/// SQL text with its binds, numbered as they are pushed.
#[derive(Clone, Debug, Default)]
pub struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            binds: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value` and returns its `$n`, for reuse.
    pub fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        let placeholder = format!("${}", self.binds.len());
        self.text.push_str(&placeholder);
        placeholder
    }

    /// `head` followed by this SQL, with its binds (`head` must have none).
    pub fn prefixed(&self, head: &str) -> Sql {
        Sql {
            text: format!("{head}{}", self.text),
            binds: self.binds.clone(),
        }
    }

    pub async fn fetch_all<T>(&self, db: &DbPool) -> Result<Vec<T>, sqlx::Error>
    where
        T: Send
            + Unpin
            + for<'r> FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> FromRow<'r, sqlx::postgres::PgRow>,
    {
        on_db!(db, |c| {
            let mut query = sqlx::query_as::<_, T>(&self.text);
            for bind in &self.binds {
                query = match bind {
                    Bind::Int(v) => query.bind(*v),
                    Bind::Text(v) => query.bind(v.as_str()),
                };
            }
            query.fetch_all(c).await
        })
    }

    pub async fn fetch_count(&self, db: &DbPool) -> Result<i64, sqlx::Error> {
        on_db!(db, |c| {
            let mut query = sqlx::query_scalar::<_, i64>(&self.text);
            for bind in &self.binds {
                query = match bind {
                    Bind::Int(v) => query.bind(*v),
                    Bind::Text(v) => query.bind(v.as_str()),
                };
            }
            query.fetch_one(c).await
        })
    }
}

/// A `LIKE` pattern matching `term` anywhere, with `%`, `_` and `\` escaped
/// (use with `ESCAPE '\'`).
pub fn contains_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
