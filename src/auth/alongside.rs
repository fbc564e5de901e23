//! Authentication riding along the read it guards.
//!
//! A request that checks its token and then reads makes two round trips.
//! Here Knox's token lookup and the read are one statement: the read is a
//! scalar subquery of the token lookup that returns the rows as one JSON
//! array, joined from the JSON each row stores ([`crate::db::json`]):
//!
//! ```sql
//! SELECT (SELECT '[' || COALESCE(string_agg(rendered, ',' ORDER BY …), '') || ']'
//!         FROM … WHERE owner_id = auth_tokens.user_id …) AS body,
//!        digest, created, expiry, last_used, user_id, is_active
//! FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id
//! WHERE token_key = $1
//! ```
//!
//! One row per token candidate comes back, not twenty rows whose every value
//! is decoded and then serialized again. On SQLite (against two statements,
//! alternated 5 s runs: 8 of 8 won, medians 8,900 against 7,500 requests/s)
//! the rows used to be rendered by `json_object` in the statement; they are
//! stored rendered now. PostgreSQL took the rows as columns, beside their
//! token candidates, until it stored them rendered too: pgbench ran this
//! form at 12.3-15.1k statements/s against 11.1-12.5k.
//!
//! The body is kept only once [`service::verify`] has passed its candidate
//! by exactly the checks of a guarded route (expiry, constant-time digest,
//! active user, auto-refresh). Nothing about the token is cached, so
//! revocation stays immediate on every instance.
//!
//! On PostgreSQL, where most of that statement's cost is per statement, the
//! lookups of concurrent requests go together (`WHERE token_key = ANY($1)`,
//! see [`crate::db::Batched`]): 64 clients listing over 48 tokens got 21,500
//! and 23,500 requests/s with p99s of 6.0 and 6.4 ms, against 9,600 and
//! 10,100 requests/s and 11.3 and 12.5 ms one statement each (alternated 6 s
//! runs; over one token, as in the bench, 25,900-34,500 against 11,500-
//! 13,300). A batch starts only after every lookup in it arrived, so it
//! reads what they would have read alone: a revocation that has committed
//! is seen.

use rocket::futures::future::BoxFuture;
use sqlx::PgConnection;

use crate::config::Settings;
use crate::db::{json, Backend, Batched, Bind, DbPool, Sql};
use crate::error::Error;

use super::service::{self, Refusal, TokenRow};
use super::token;

/// The token candidates, with their users' standing, for `token_key`
/// compared with `$1`.
const CANDIDATES: &str = "digest, created, expiry, last_used, user_id, is_active \
     FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id WHERE token_key";

/// One statement under construction.
pub struct Alongside<'a> {
    presented: &'a str,
    read: Sql,
}

impl<'a> Alongside<'a> {
    /// Starts the read with `from` (`FROM … WHERE <owner column>`), which
    /// this completes with the caller's user id.
    pub fn new(presented: &'a str, from: &str) -> Self {
        let mut read = Sql::default();
        read.placeholder_for(Bind::Text(token::token_key(presented).to_owned()));
        read.push(" ").push(from).push(" = auth_tokens.user_id");
        Alongside { presented, read }
    }

    /// Where the read goes on (`AND …`), with binds from `$2`.
    pub fn read(&mut self) -> &mut Sql {
        &mut self.read
    }

    /// Runs the statement: the verified caller's id and their rows as a JSON
    /// array, each row's JSON being the column `rendered`, in the order of
    /// `order` (the terms of an `ORDER BY`).
    pub async fn run(
        self,
        db: &DbPool,
        settings: &Settings,
        rendered: &str,
        order: &str,
    ) -> Result<(i64, String), Refusal> {
        let array = json::array(rendered, order);
        // `columns` before the body, and how `token_key` meets `$1`.
        let statement = |columns: &str, key: &str| {
            let mut sql = self
                .read
                .prefixed(&format!("SELECT {columns}(SELECT {array}"));
            sql.push(&format!(") AS body, {CANDIDATES} {key}"));
            sql
        };
        let candidates = match db {
            // Nothing bound but the key: the statement can take others' keys.
            Backend::Postgres(pg) if self.read.bind_count() == 1 => {
                let lookup = Lookup {
                    text: statement("token_key, ", "= ANY($1)").text().to_owned(),
                    key: token::token_key(self.presented).to_owned(),
                };
                pg.batched(lookup).await??
            }
            _ => statement("", "= $1")
                .fetch_all(db)
                .await
                .map_err(Error::from)?,
        };
        let (found, _) = service::verify(db, settings, self.presented, candidates).await?;
        Ok((found.token.user_id, found.body))
    }
}

/// A token candidate with its user's rows, rendered.
#[derive(Clone, sqlx::FromRow)]
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

/// One request's token lookup, in a batch with others on PostgreSQL.
struct Lookup {
    /// The statement, over `token_key = ANY($1)`.
    text: String,
    key: String,
}

/// A row of a batch: whose key it matched, and the candidate.
#[derive(sqlx::FromRow)]
struct Keyed {
    token_key: String,
    #[sqlx(flatten)]
    candidate: Rendered,
}

impl Batched for Lookup {
    type Output = Result<Vec<Rendered>, Error>;
    type Conn = PgConnection;

    fn run(conn: &mut PgConnection, batch: Vec<Self>) -> BoxFuture<'_, Vec<Self::Output>> {
        Box::pin(async move {
            let mut outputs = vec![Ok(Vec::new()); batch.len()];
            // One statement per text (the lists' orderings differ), each
            // key once however many requests presented it.
            let mut texts: Vec<&str> = batch.iter().map(|l| l.text.as_str()).collect();
            texts.sort_unstable();
            texts.dedup();
            for text in texts {
                let mut keys: Vec<&str> = batch
                    .iter()
                    .filter(|l| l.text == text)
                    .map(|l| l.key.as_str())
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                let rows = sqlx::query_as::<_, Keyed>(text)
                    .bind(keys)
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(Error::from);
                for (lookup, output) in batch.iter().zip(&mut outputs) {
                    if lookup.text != text {
                        continue;
                    }
                    *output = match &rows {
                        Ok(rows) => Ok(rows
                            .iter()
                            .filter(|row| row.token_key == lookup.key)
                            .map(|row| row.candidate.clone())
                            .collect()),
                        Err(e) => Err(e.clone()),
                    };
                }
            }
            outputs
        })
    }
}
