//! Authentication riding along the read it guards.
//!
//! A request that checks its token and then reads makes two round trips; on
//! PostgreSQL, a server on the same cores, the second one is dear (the
//! bench's list: 16,100-16,600 requests/s as two statements, 18,100-19,100
//! as one). Here the read and Knox's token lookup are one statement:
//!
//! ```sql
//! SELECT <read's columns>, NULL AS digest, …      -- the read, over the rows
//! FROM … WHERE owner_id IN (SELECT user_id        --   of every user holding a
//!   FROM auth_tokens WHERE token_key = $1) …      --   token with the presented key
//! UNION ALL
//! SELECT NULL, …, digest, created, …              -- the token candidates
//! FROM auth_tokens JOIN users … WHERE token_key = $1
//! ORDER BY …
//! ```
//!
//! and the rows are kept only once [`service::verify`] has passed the token
//! by exactly the checks of a guarded route (expiry, constant-time digest,
//! active user, auto-refresh), and only the verified user's. Nothing about
//! the token is cached, so revocation stays immediate on every instance.
//!
//! Only where round trips are dear ([`DbPool::round_trips_are_dear`]): on
//! SQLite the padding and the sort cost more than the hand-off they save.

use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use crate::config::Settings;
use crate::db::{Bind, DbPool, Sql};
use crate::error::Error;

use super::service::{self, Refusal, TokenRow};
use super::token;

/// The users holding a token with the presented key, for the read's filter.
pub const OWNERS: &str = "(SELECT user_id FROM auth_tokens WHERE token_key = $1)";

/// The token columns as NULLs, after the read's own: both sides of a
/// `UNION ALL` have the same columns, named by the first.
const PADDING: &str = "NULL AS digest, NULL AS created, NULL AS expiry, \
     NULL AS last_used, NULL AS user_id, NULL AS is_active";

/// One statement under construction: the read, then the token candidates.
pub struct Alongside<'a> {
    presented: &'a str,
    sql: Sql,
    columns: usize,
}

impl<'a> Alongside<'a> {
    /// Starts with `SELECT <columns>` (a plain comma-separated list).
    pub fn new(presented: &'a str, columns: &str) -> Self {
        let mut sql = Sql::new(&format!("SELECT {columns}, {PADDING}"));
        sql.placeholder_for(Bind::Text(token::token_key(presented).to_owned()));
        Alongside {
            presented,
            sql,
            columns: columns.split(',').count(),
        }
    }

    /// Where the read goes on: `FROM … WHERE owner_id IN OWNERS …`, with
    /// binds from `$2`.
    pub fn read(&mut self) -> &mut Sql {
        &mut self.sql
    }

    /// Runs the statement, rows in the order `order` appends (`ORDER BY`
    /// over the read's column names), and returns the verified caller's id
    /// with their rows; `owner` tells whose a row is.
    pub async fn run<T>(
        mut self,
        db: &DbPool,
        settings: &Settings,
        order: impl FnOnce(&mut Sql),
        owner: impl Fn(&T) -> i64,
    ) -> Result<(i64, Vec<T>), Refusal>
    where
        T: Send
            + Unpin
            + for<'r> FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> FromRow<'r, sqlx::postgres::PgRow>,
    {
        let nulls = vec!["NULL"; self.columns].join(", ");
        self.sql.push(&format!(
            " UNION ALL SELECT {nulls}, digest, created, expiry, last_used, user_id, is_active \
             FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id \
             WHERE token_key = $1"
        ));
        order(&mut self.sql);
        let rows: Vec<Either<T>> = self.sql.fetch_all(db).await.map_err(Error::from)?;

        let (mut tokens, mut read) = (Vec::new(), Vec::new());
        for row in rows {
            match row {
                Either::Token(candidate) => tokens.push(candidate),
                Either::Read(row) => read.push(row),
            }
        }
        let (token, _) = service::verify(db, settings, self.presented, tokens).await?;
        read.retain(|row| owner(row) == token.user_id);
        Ok((token.user_id, read))
    }
}

/// A row of the statement: the read's, or a token candidate (whose digest,
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
