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
//!   reading the rows, so there the rows come back as they are, each beside
//!   the token candidate it was read for:
//!
//!   ```sql
//!   SELECT <read's columns>, digest, created, …
//!   FROM (SELECT digest, created, … FROM auth_tokens JOIN users …
//!         WHERE token_key = $1) AS candidate
//!   LEFT JOIN leads ON owner_id = candidate.user_id …
//!   ORDER BY …
//!   ```
//!
//!   The token is looked up once, and the plan is two nested loops and a
//!   sort (a user with no rows still brings their candidate, with NULLs).
//!   The form before it, the read `UNION ALL` the candidates, looked the
//!   token up twice and added a hash aggregate and an append: pgbench ran
//!   this one at 12.0-12.5k statements/s against 10.3-11.3k.
//!
//! Either way the read is kept only once [`service::verify`] has passed the
//! token by exactly the checks of a guarded route (expiry, constant-time
//! digest, active user, auto-refresh), and only the verified user's. Nothing
//! about the token is cached, so revocation stays immediate on every
//! instance.

use sqlx::{ColumnIndex, FromRow, Row, ValueRef};

use crate::config::Settings;
use crate::db::{json, Backend, Bind, DbPool, Sql};
use crate::error::Error;

use super::service::{self, Refusal, TokenRow};
use super::token;

/// A token candidate's columns: its own, and its user's standing. The
/// read's table must not have columns of these names.
const TOKEN_COLUMNS: &str = "digest, created, expiry, last_used, user_id, is_active";

/// The token candidates, with their users' standing.
const CANDIDATES: &str =
    "FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id WHERE token_key = $1";

/// What the read returns: how to select a row, render it, and order them.
pub struct Shape<'s> {
    /// Its columns, a plain comma-separated list (decoded as `T`), the
    /// first never NULL in a row that exists.
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
    /// Starts the read of `table`'s rows whose `owner` column holds the
    /// caller's user id.
    pub fn new(db: &DbPool, presented: &'a str, table: &str, owner: &str) -> Self {
        let rendered = matches!(db, Backend::Sqlite(_));
        let mut read = Sql::default();
        read.placeholder_for(Bind::Text(token::token_key(presented).to_owned()));
        read.push(&if rendered {
            format!(" FROM {table} WHERE {owner} = auth_tokens.user_id")
        } else {
            format!(
                " FROM (SELECT {TOKEN_COLUMNS} {CANDIDATES}) AS candidate \
                 LEFT JOIN {table} ON {owner} = candidate.user_id"
            )
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

    /// Runs the statement; the verified caller's id and their rows.
    pub async fn run<T>(
        self,
        db: &DbPool,
        settings: &Settings,
        shape: &Shape<'_>,
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
        let mut sql = self
            .read
            .prefixed(&format!("SELECT {}, {TOKEN_COLUMNS}", shape.columns));
        sql.push(" ORDER BY ").push(&shape.order);
        let rows: Vec<Joined<T>> = sql.fetch_all(db).await.map_err(Error::from)?;

        // Each candidate once, and each row with the candidate it came
        // beside: two tokens of one user can share a key, and then every
        // row comes twice, once for each.
        let (mut candidates, mut read) = (Vec::<Numbered>::new(), Vec::new());
        for Joined { row, token } in rows {
            let number = match candidates.iter().position(|c| c.1.same_token(&token)) {
                Some(number) => number,
                None => {
                    candidates.push(Numbered(candidates.len(), token));
                    candidates.len() - 1
                }
            };
            read.extend(row.map(|row| (number, row)));
        }
        let (Numbered(verified, token), _) =
            service::verify(db, settings, self.presented, candidates).await?;
        let rows = read
            .into_iter()
            .filter_map(|(number, row)| (number == verified).then_some(row))
            .collect();
        Ok((token.user_id, Read::Rows(rows)))
    }

    async fn run_rendered<T>(
        self,
        db: &DbPool,
        settings: &Settings,
        shape: &Shape<'_>,
    ) -> Result<(i64, Read<T>), Refusal> {
        let array = json::array(shape.sqlite_json, &shape.order);
        let mut sql = self.read.prefixed(&format!("SELECT (SELECT {array}"));
        sql.push(&format!(") AS body, {TOKEN_COLUMNS} {CANDIDATES}"));
        let candidates: Vec<Rendered> = sql.fetch_all(db).await.map_err(Error::from)?;
        let (found, _) = service::verify(db, settings, self.presented, candidates).await?;
        Ok((found.token.user_id, Read::Json(found.body)))
    }
}

/// A row of the join: a token candidate, and the read's row beside it, if
/// its user has one (the read's first column is NULL otherwise).
struct Joined<T> {
    row: Option<T>,
    token: TokenRow,
}

impl<'r, R, T> FromRow<'r, R> for Joined<T>
where
    R: Row,
    T: FromRow<'r, R>,
    TokenRow: FromRow<'r, R>,
    usize: ColumnIndex<R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let absent = row.try_get_raw(0)?.is_null();
        Ok(Joined {
            row: if absent {
                None
            } else {
                Some(T::from_row(row)?)
            },
            token: TokenRow::from_row(row)?,
        })
    }
}

/// A candidate with its place among the statement's candidates.
struct Numbered(usize, TokenRow);

impl AsRef<TokenRow> for Numbered {
    fn as_ref(&self) -> &TokenRow {
        &self.1
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
