//! SQL assembled at run time (filters, sorting, paging) with `$n` binds.

use rocket::futures::stream::BoxStream;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;

use super::{DbPool, LiveConn, Reader};
use crate::on_db;
use crate::timestamp::Timestamp;

/// `query` with every bind applied; expanded per backend inside `on_db!`.
macro_rules! bound {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                Bind::Int(v) => query.bind(*v),
                Bind::MaybeInt(v) => query.bind(*v),
                Bind::Bool(v) => query.bind(*v),
                Bind::Text(v) => query.bind(v.as_str()),
            };
        }
        query
    }};
}

/// A value to bind. Integers are always `i64` (PostgreSQL caches the
/// parameter types of a statement text; SPEC §1).
#[derive(Clone, Debug)]
pub enum Bind {
    Int(i64),
    /// A nullable integer column (a token's expiry).
    MaybeInt(Option<i64>),
    Bool(bool),
    Text(String),
}

/// `Bind` from the Rust values we store.
macro_rules! bind_from {
    ($($type:ty => |$value:ident| $bind:expr),* $(,)?) => {
        $(impl From<$type> for Bind {
            fn from($value: $type) -> Self {
                $bind
            }
        })*
    };
}

bind_from! {
    i64 => |v| Bind::Int(v),
    Option<i64> => |v| Bind::MaybeInt(v),
    Timestamp => |v| Bind::Int(v.0),
    Option<Timestamp> => |v| Bind::MaybeInt(v.map(|t| t.0)),
    bool => |v| Bind::Bool(v),
    &str => |v| Bind::Text(v.to_owned()),
    String => |v| Bind::Text(v),
}

/// A row type that reads from either backend's rows.
pub trait FromEitherRow:
    Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{
}

impl<T> FromEitherRow for T where
    T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{
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

    /// The next `$n` of a statement written out whole: `Sql::new("… $1 …").arg(v)`.
    pub fn arg(mut self, value: impl Into<Bind>) -> Self {
        self.binds.push(value.into());
        self
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value` and returns its `$n`, for reuse.
    pub fn bind(&mut self, value: impl Into<Bind>) -> String {
        let placeholder = self.placeholder_for(value);
        self.text.push_str(&placeholder);
        placeholder
    }

    /// Registers `value` and returns its `$n` without writing it, for
    /// clauses that use it several times.
    pub fn placeholder_for(&mut self, value: impl Into<Bind>) -> String {
        self.binds.push(value.into());
        format!("${}", self.binds.len())
    }

    /// Appends ` AND (…)` for each term: the term appears in one of
    /// `fields`, templates in which `{like}` stands for `LIKE $n`. Fields
    /// are case-folded columns (`search_key`, `username_key`) and the term is
    /// folded the same way, so a plain LIKE matches case-insensitively, the
    /// same on both backends, at a fraction of ILIKE's cost. A term longer
    /// than `longest` (the widest field) matches nothing, which also spares
    /// SQLite a LIKE pattern past its limit.
    pub fn push_search(&mut self, terms: &[String], fields: &[&str], longest: usize) -> &mut Self {
        for term in terms {
            if term.chars().count() > longest {
                self.push(" AND 1 = 0");
                continue;
            }
            let folded = crate::validation::case_key(term);
            let pattern = self.placeholder_for(Bind::Text(contains_pattern(&folded)));
            let like = format!("LIKE {pattern} ESCAPE '\\'");
            let conditions: Vec<String> = fields
                .iter()
                .map(|field| field.replace("{like}", &like))
                .collect();
            self.push(&format!(" AND ({})", conditions.join(" OR ")));
        }
        self
    }

    /// Appends ` LIMIT … OFFSET …` (values past `i64` read as "past any end").
    pub fn push_limit(&mut self, limit: u64, offset: u64) -> &mut Self {
        let [limit, offset] = [limit, offset].map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.push(" LIMIT ").bind(limit);
        self.push(" OFFSET ").bind(offset);
        self
    }

    /// `head` followed by this SQL, with its binds (`head` must have none).
    pub fn prefixed(&self, head: &str) -> Sql {
        Sql {
            text: format!("{head}{}", self.text),
            binds: self.binds.clone(),
        }
    }

    pub async fn fetch_all<T: FromEitherRow>(&self, db: &DbPool) -> Result<Vec<T>, sqlx::Error> {
        self.fetch_all_on(db.read().await?.live()).await
    }

    /// Runs on a given connection (a writer's), all rows drained.
    pub async fn fetch_all_on<T: FromEitherRow>(
        &self,
        conn: LiveConn<'_>,
    ) -> Result<Vec<T>, sqlx::Error> {
        on_db!(conn, |c| bound!(
            sqlx::query_as::<_, T>(&self.text),
            &self.binds
        )
        .fetch_all(c)
        .await)
    }

    pub async fn fetch_one<T: FromEitherRow>(&self, db: &DbPool) -> Result<T, sqlx::Error> {
        self.fetch_one_on(db.read().await?.live()).await
    }

    /// Runs on a given connection (a writer's or a transaction's).
    pub async fn fetch_one_on<T: FromEitherRow>(
        &self,
        conn: LiveConn<'_>,
    ) -> Result<T, sqlx::Error> {
        on_db!(conn, |c| bound!(
            sqlx::query_as::<_, T>(&self.text),
            &self.binds
        )
        .fetch_one(c)
        .await)
    }

    pub async fn fetch_optional<T: FromEitherRow>(
        &self,
        db: &DbPool,
    ) -> Result<Option<T>, sqlx::Error> {
        self.fetch_optional_on(db.read().await?.live()).await
    }

    pub async fn fetch_optional_on<T: FromEitherRow>(
        &self,
        conn: LiveConn<'_>,
    ) -> Result<Option<T>, sqlx::Error> {
        on_db!(conn, |c| bound!(
            sqlx::query_as::<_, T>(&self.text),
            &self.binds
        )
        .fetch_optional(c)
        .await)
    }

    /// The one number a `SELECT CAST(COUNT(*) AS BIGINT) …` answers.
    pub async fn fetch_count(&self, db: &DbPool) -> Result<i64, sqlx::Error> {
        Ok(self.fetch_one::<(i64,)>(db).await?.0)
    }

    /// Runs a write (through the writer, see [`DbPool::writer`]); how many
    /// rows it changed.
    pub async fn execute(&self, db: &DbPool) -> Result<u64, sqlx::Error> {
        self.execute_on(db.writer().await?.live()).await
    }

    /// Runs a write on a given connection (a transaction's).
    pub async fn execute_on(&self, conn: LiveConn<'_>) -> Result<u64, sqlx::Error> {
        on_db!(conn, |c| bound!(sqlx::query(&self.text), &self.binds)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))
    }

    /// The rows one at a time, for answers too large to hold (CSV exports).
    pub fn fetch_stream<'a, T>(
        &'a self,
        reader: &'a mut Reader,
    ) -> BoxStream<'a, Result<T, sqlx::Error>>
    where
        T: FromEitherRow + 'a,
    {
        on_db!(reader, |c| bound!(
            sqlx::query_as::<_, T>(&self.text),
            &self.binds
        )
        .fetch(c))
    }
}

/// A `LIKE` pattern matching `term` anywhere, with `%`, `_` and `\` escaped
/// (use with `ESCAPE '\'`).
fn contains_pattern(term: &str) -> String {
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
