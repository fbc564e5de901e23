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

use crate::config::Settings;
use crate::db::{json, Bind, DbPool, Sql};
use crate::error::Error;

use super::service::{self, Refusal, TokenRow};
use super::token;

/// The token candidates, with their users' standing.
const CANDIDATES: &str = "digest, created, expiry, last_used, user_id, is_active \
     FROM auth_tokens JOIN users ON users.id = auth_tokens.user_id WHERE token_key = $1";

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
        let mut sql = self.read.prefixed(&format!("SELECT (SELECT {array}"));
        sql.push(&format!(") AS body, {CANDIDATES}"));
        let candidates: Vec<Rendered> = sql.fetch_all(db).await.map_err(Error::from)?;
        let (found, _) = service::verify(db, settings, self.presented, candidates).await?;
        Ok((found.token.user_id, found.body))
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
