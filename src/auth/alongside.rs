//! Authentication riding along the read it guards.
//!
//! A request that checks its token and then reads makes two round trips.
//! Here Knox's token lookup and the read are one statement, in the form
//! that is cheapest on each backend:
//!
//! - **SQLite** renders the response itself. The read is a scalar subquery
//!   of the token lookup that returns its rows as one JSON array
//!   ([`crate::db::json`]):
//!
//!   ```sql
//!   SELECT digest, created, expiry, last_used, user_id, is_active,
//!     (SELECT '[' || COALESCE(string_agg(json_object(…), ',' ORDER BY …), '') || ']'
//!      FROM … WHERE owner_id = auth_tokens.user_id …) AS body
//!   FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id
//!   WHERE token_key = $1
//!   ```
//!
//!   One row per token candidate comes back from the connection's thread,
//!   not twenty rows whose every value is copied, then decoded and
//!   serialized again (the bench's list against two statements, alternated
//!   5 s runs: 8 of 8 won, medians 8,900 against 7,500 requests/s and 190
//!   against 230 µs of server CPU a request).
//! - **PostgreSQL**, whose server shares the cores, spends about twice as
//!   long in its executor building that JSON (`to_char`, `row_to_json`) as
//!   reading the rows, so there the rows come back alongside the token
//!   candidates:
//!
//!   ```sql
//!   SELECT <read's columns>, NULL AS digest, …      -- the read, over the rows
//!   FROM … WHERE owner_id IN (SELECT user_id        --   of every user holding a
//!     FROM auth_tokens WHERE token_key = $1) …      --   token with the presented key
//!   UNION ALL
//!   SELECT NULL, …, digest, created, …              -- the token candidates
//!   FROM auth_tokens JOIN users … WHERE token_key = $1
//!   ORDER BY …
//!   ```
//!
//! Either way the read is kept only once [`service::verify`] has passed the
//! token by exactly the checks of a guarded route (expiry, constant-time
//! digest, active user, auto-refresh), and only the verified user's. Nothing
//! about the token is cached, so revocation stays immediate on every
//! instance.

use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use crate::config::Settings;
use crate::db::{json, Backend, Bind, DbPool, Sql};
use crate::error::Error;

use super::service::{self, Refusal, TokenRow};
use super::token;

/// The token candidates, with their users' standing.
const CANDIDATES: &str = "digest, created, expiry, last_used, user_id, is_active \
     FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id WHERE token_key = $1";

/// The candidates' columns as NULLs, after the read's own: both sides of a
/// `UNION ALL` have the same columns, named by the first.
const PADDING: &str = "NULL AS digest, NULL AS created, NULL AS expiry, \
     NULL AS last_used, NULL AS user_id, NULL AS is_active";

/// What the read returns: how to select a row, render it, and order them.
pub struct Shape<'s> {
    /// Its columns, a plain comma-separated list (decoded as `T`).
    pub columns: &'s str,
    /// The row as `T`'s JSON, rendered by SQLite.
    pub sqlite_json: &'s str,
    /// The terms of its `ORDER BY`, over the columns.
    pub order: String,
}

/// The verified caller's rows: as rows, or already rendered as a JSON array.
pub enum Read<T> {
    Rows(Vec<T>),
    Json(String),
}

/// One statement under construction.
pub struct Alongside<'a> {
    presented: &'a str,
    rendered: bool,
    read: Sql,
}

impl<'a> Alongside<'a> {
    /// Starts the read with `from` (`FROM … WHERE <owner column>`), which
    /// this completes with the caller's user id.
    pub fn new(db: &DbPool, presented: &'a str, from: &str) -> Self {
        let rendered = matches!(db, Backend::Sqlite(_));
        let mut read = Sql::default();
        read.placeholder_for(Bind::Text(token::token_key(presented).to_owned()));
        read.push(" ").push(from).push(if rendered {
            " = auth_tokens.user_id"
        } else {
            " IN (SELECT user_id FROM auth_tokens WHERE token_key = $1)"
        });
        Alongside {
            presented,
            rendered,
            read,
        }
    }

    /// Where the read goes on (`AND …`), with binds from `$2`.
    pub fn read(&mut self) -> &mut Sql {
        &mut self.read
    }

    /// Runs the statement; the verified caller's id and their rows (`owner`
    /// tells whose a row is).
    pub async fn run<T>(
        self,
        db: &DbPool,
        settings: &Settings,
        shape: &Shape<'_>,
        owner: impl Fn(&T) -> i64,
    ) -> Result<(i64, Read<T>), Refusal>
    where
        T: Send
            + Unpin
            + for<'r> FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> FromRow<'r, sqlx::postgres::PgRow>,
    {
        if self.rendered {
            return self.run_rendered(db, settings, shape).await;
        }
        let nulls = vec!["NULL"; shape.columns.split(',').count()].join(", ");
        let mut sql = self
            .read
            .prefixed(&format!("SELECT {}, {PADDING}", shape.columns));
        sql.push(&format!(" UNION ALL SELECT {nulls}, {CANDIDATES}"))
            .push(" ORDER BY ")
            .push(&shape.order);
        let rows: Vec<Either<T>> = sql.fetch_all(db).await.map_err(Error::from)?;

        let (mut tokens, mut read) = (Vec::new(), Vec::new());
        for row in rows {
            match row {
                Either::Token(candidate) => tokens.push(candidate),
                Either::Read(row) => read.push(row),
            }
        }
        let (token, _) = service::verify(db, settings, self.presented, tokens).await?;
        read.retain(|row| owner(row) == token.user_id);
        Ok((token.user_id, Read::Rows(read)))
    }

    async fn run_rendered<T>(
        self,
        db: &DbPool,
        settings: &Settings,
        shape: &Shape<'_>,
    ) -> Result<(i64, Read<T>), Refusal> {
        let array = json::array(shape.sqlite_json, &shape.order);
        let mut sql = self.read.prefixed(&format!("SELECT (SELECT {array}"));
        sql.push(&format!(") AS body, {CANDIDATES}"));
        let candidates: Vec<Rendered> = sql.fetch_all(db).await.map_err(Error::from)?;
        let (found, _) = service::verify(db, settings, self.presented, candidates).await?;
        Ok((found.token.user_id, Read::Json(found.body)))
    }
}

/// A row of the union: the read's, or a token candidate (whose digest,
/// never NULL, tells them apart).
enum Either<T> {
    Read(T),
    Token(TokenRow),
}

impl<'r, R, T> FromRow<'r, R> for Either<T>
where
    R: Row,
    T: FromRow<'r, R>,
    TokenRow: FromRow<'r, R>,
    &'static str: ColumnIndex<R>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let digest: Option<String> = row.try_get("digest")?;
        Ok(match digest {
            Some(_) => Either::Token(TokenRow::from_row(row)?),
            None => Either::Read(T::from_row(row)?),
        })
    }
}

/// A token candidate with its user's rows, rendered.
#[derive(sqlx::FromRow)]
struct Rendered {
    body: String,
    #[sqlx(flatten)]
    token: TokenRow,
}

impl AsRef<TokenRow> for Rendered {
    fn as_ref(&self) -> &TokenRow {
        &self.token
    }
}
