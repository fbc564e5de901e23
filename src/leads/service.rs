//! Lead operations for one owner; the API and the pages both call these.

use std::collections::HashMap;

use rocket::futures::future::BoxFuture;
use sqlx::{PgConnection, SqliteConnection};

use crate::auth::alongside::Alongside;
use crate::auth::service::Refusal;
use crate::config::Settings;
use crate::db::{unique_violation, Backend, Batched, Bind, DbPool, Sql};
use crate::error::{Error, FieldErrors};
use crate::listing::{page_count, page_offset};
use crate::on_db;
use crate::timestamp::Timestamp;
use crate::validation::{case_key, Input};

use super::list::{ListQuery, Paging};
use super::{Lead, LeadDraft, LeadPatch, EMAIL_TAKEN};

/// One page (or all) of a list, with what pagination links need.
pub struct Listing {
    pub leads: Vec<Lead>,
    /// Set when the list is paginated: the count of all matches.
    pub count: Option<i64>,
    /// The page number shown and the number of pages (`?page=` mode).
    pub page: Option<(u64, u64)>,
}

/// An id from a path: anything that is not one is simply not found.
pub fn parse_id(text: &str) -> Result<i64, Error> {
    text.parse().map_err(|_| Error::NotFound)
}

pub async fn list(db: &DbPool, owner: i64, query: &ListQuery) -> Result<Listing, Error> {
    let mut filter = Sql::new(" FROM leads WHERE owner_id = ");
    filter.bind(Bind::Int(owner));
    query.push_search(&mut filter);

    let count = match query.paging {
        Paging::All => None,
        _ => {
            let sql = filter.prefixed("SELECT CAST(COUNT(*) AS BIGINT)");
            Some(sql.fetch_count(db).await?)
        }
    };
    let (limit, offset, page) = match (query.paging, count) {
        (Paging::Window { limit, offset }, _) => (Some(limit), offset, None),
        (Paging::Page { page, size }, Some(count)) => {
            let pages = page_count(count, size);
            let number = page.within(pages).ok_or(Error::InvalidPage)?;
            (Some(size), page_offset(number, size), Some((number, pages)))
        }
        _ => (None, 0, None),
    };

    let mut sql = filter.prefixed(&format!("SELECT {}", Lead::COLUMNS));
    query.push_order(&mut sql);
    if let Some(limit) = limit {
        sql.push(" LIMIT ");
        sql.bind(Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        sql.push(" OFFSET ");
        sql.bind(Bind::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    }
    let leads = sql.fetch_all(db).await?;
    Ok(Listing { leads, count, page })
}

/// The bare list (no paging) for a header token verified in the same
/// statement ([`Alongside`]): one round trip where the guard and [`list`]
/// take two. The caller's id, and their leads as a JSON array.
pub async fn list_with_token(
    db: &DbPool,
    settings: &Settings,
    presented: &str,
    query: &ListQuery,
) -> Result<(i64, String), Refusal> {
    let mut statement = Alongside::new(presented, "FROM leads WHERE owner_id");
    query.push_search(statement.read());
    statement
        .run(db, settings, Lead::RENDERED, &query.order_terms())
        .await
}

/// Whose leads an operation may touch.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// The caller's own (the API and the user's pages): others' are "not found".
    Owner(i64),
    /// Anyone's (the admin pages).
    Staff,
}

impl Scope {
    /// Bound as `$n` in `($n IS NULL OR owner_id = $n)`.
    fn owner(self) -> Option<i64> {
        match self {
            Scope::Owner(id) => Some(id),
            Scope::Staff => None,
        }
    }
}

fn select_one() -> String {
    format!(
        "SELECT {} FROM leads WHERE id = $1 AND ($2 IS NULL OR owner_id = $2)",
        Lead::COLUMNS
    )
}

pub async fn get(db: &DbPool, scope: Scope, id: i64) -> Result<Lead, Error> {
    let sql = select_one();
    on_db!(db.read().await?, |c| sqlx::query_as(&sql)
        .bind(id)
        .bind(scope.owner())
        .fetch_optional(c)
        .await)?
    .ok_or(Error::NotFound)
}

pub async fn create(db: &DbPool, owner: i64, input: &Input) -> Result<Lead, Error> {
    let patch = validate(db, input, false, None).await?;
    let draft = patch.into_draft().ok_or(Error::Internal)?;
    let row = NewLead {
        draft,
        owner,
        created_at: Timestamp::now(),
    };
    match db {
        // Concurrent creates share one INSERT on SQLite's single writer.
        Backend::Sqlite(sqlite) => sqlite.batched(row).await?,
        Backend::Postgres(pool) => {
            insert(Backend::Postgres(&mut *pool.acquire().await?), row).await
        }
    }
}

/// A lead to insert: its fields, its owner, and when it was asked for.
struct NewLead {
    draft: LeadDraft,
    owner: i64,
    created_at: Timestamp,
}

impl Batched for NewLead {
    type Output = Result<Lead, Error>;
    type Conn = SqliteConnection;

    fn run(conn: &mut SqliteConnection, batch: Vec<Self>) -> BoxFuture<'_, Vec<Self::Output>> {
        Box::pin(async move {
            // One statement for all. Should it fail for a reason other than
            // a taken email, which it absorbs, each row alone, so that only
            // the row at fault reports an error.
            match insert_all(Backend::Sqlite(&mut *conn), &batch).await {
                Ok(outputs) => outputs,
                Err(_) => {
                    let mut outputs = Vec::with_capacity(batch.len());
                    for row in batch {
                        outputs.push(insert(Backend::Sqlite(&mut *conn), row).await);
                    }
                    outputs
                }
            }
        })
    }
}

/// Inserts one lead.
async fn insert(
    conn: Backend<&mut SqliteConnection, &mut PgConnection>,
    row: NewLead,
) -> Result<Lead, Error> {
    insert_all(conn, &[row]).await?.remove(0)
}

/// Inserts `rows` in one statement: one result per row, in order.
async fn insert_all(
    conn: Backend<&mut SqliteConnection, &mut PgConnection>,
    rows: &[NewLead],
) -> Result<Vec<Result<Lead, Error>>, sqlx::Error> {
    // `fetch_all` (in `fetch_all_on`), not `fetch_one`: SQLite hands out a
    // RETURNING row before the statement has run to its end, and an
    // autocommit INSERT commits only then. Answering at the first row let a
    // client's next read, on another connection, miss the lead it had just
    // been told was created.
    let inserted = insert_sql(rows).fetch_all_on(conn).await?;
    Ok(assign(rows, inserted))
}

/// `INSERT … ON CONFLICT (email_key) DO NOTHING RETURNING …`: a row whose
/// email is taken, by the table or by an earlier row of the same
/// statement, is skipped rather than failing the others.
fn insert_sql(rows: &[NewLead]) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO leads (name, email, email_key, message, search_key, owner_id, created_at) VALUES ",
    );
    for (i, row) in rows.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        let values = [
            Bind::Text(row.draft.name.clone()),
            Bind::Text(row.draft.email.clone()),
            Bind::Text(case_key(&row.draft.email)),
            Bind::Text(row.draft.message.clone()),
            Bind::Text(row.draft.search_key()),
            Bind::Int(row.owner),
            Bind::Int(row.created_at.0),
        ];
        for (j, value) in values.into_iter().enumerate() {
            if j > 0 {
                sql.push(", ");
            }
            sql.bind(value);
        }
        sql.push(")");
    }
    sql.push(" ON CONFLICT (email_key) DO NOTHING RETURNING ");
    sql.push(Lead::COLUMNS);
    sql
}

/// Matches inserted leads to the rows asked for, by email key (RETURNING
/// order is unspecified); a row without one had its email taken. Of rows
/// sharing an email, the first was inserted.
fn assign(rows: &[NewLead], inserted: Vec<Lead>) -> Vec<Result<Lead, Error>> {
    let mut by_key: HashMap<String, Lead> = inserted
        .into_iter()
        .map(|lead| (case_key(&lead.email), lead))
        .collect();
    rows.iter()
        .map(|row| {
            by_key
                .remove(&case_key(&row.draft.email))
                .ok_or_else(|| Error::Invalid(FieldErrors::single("email", EMAIL_TAKEN)))
        })
        .collect()
}

/// PUT (`partial == false`, every field required) or PATCH. The patch is
/// merged over the current row inside one write transaction (the row
/// locked on PostgreSQL), so the search key always matches the fields.
pub async fn update(
    db: &DbPool,
    scope: Scope,
    id: i64,
    input: &Input,
    partial: bool,
) -> Result<Lead, Error> {
    let patch = validate(db, input, partial, Some(id)).await?;
    let mut tx = db.begin_write().await?;
    tx.lock_row("leads", id).await?;
    let current: Lead = {
        let sql = select_one();
        on_db!(tx, |c| sqlx::query_as(&sql)
            .bind(id)
            .bind(scope.owner())
            .fetch_optional(c)
            .await)?
        .ok_or(Error::NotFound)?
    };
    let draft = patch.over(&current);
    let sql = format!(
        "UPDATE leads SET name = $1, email = $2, email_key = $3, message = $4, search_key = $5
         WHERE id = $6 RETURNING {}",
        Lead::COLUMNS
    );
    let updated: Lead = on_db!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(&draft.name)
            .bind(&draft.email)
            .bind(case_key(&draft.email))
            .bind(&draft.message)
            .bind(draft.search_key())
            .bind(id)
            .fetch_one(c)
            .await
    })
    .map_err(email_taken)?;
    tx.commit().await?;
    Ok(updated)
}

pub async fn delete(db: &DbPool, owner: i64, id: i64) -> Result<(), Error> {
    let deleted = on_db!(db.writer().await?, |c| {
        sqlx::query("DELETE FROM leads WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })?;
    if deleted == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

/// Field validation, completed (when something else failed already) by the
/// duplicate-email check, so that one answer reports every field. When all
/// else passes, the unique index alone decides, race-free.
async fn validate(
    db: &DbPool,
    input: &Input,
    partial: bool,
    id: Option<i64>,
) -> Result<LeadPatch, Error> {
    let (patch, mut errors) = LeadPatch::from_input(input, partial);
    if !errors.is_empty() {
        if let Some(email) = &patch.email {
            if email_in_use(db, email, id).await? {
                errors.add("email", EMAIL_TAKEN);
            }
        }
    }
    errors.into_result()?;
    Ok(patch)
}

async fn email_in_use(db: &DbPool, email: &str, except: Option<i64>) -> Result<bool, Error> {
    let found: Option<i64> = on_db!(db.read().await?, |c| {
        sqlx::query_scalar("SELECT id FROM leads WHERE email_key = $1 AND id <> $2")
            .bind(case_key(email))
            .bind(except.unwrap_or(0))
            .fetch_optional(c)
            .await
    })?;
    Ok(found.is_some())
}

fn email_taken(err: sqlx::Error) -> Error {
    match unique_violation(&err) {
        Some("leads_email_key_uq") => Error::Invalid(FieldErrors::single("email", EMAIL_TAKEN)),
        _ => err.into(),
    }
}

#[cfg(test)]
mod tests {
    use rocket::futures::future::join_all;

    use super::*;

    async fn sqlite_db(name: &str) -> DbPool {
        let path = std::env::temp_dir().join(format!("leads-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
        let config = rocket_db_pools::Config {
            url: format!("sqlite://{}", path.display()),
            min_connections: None,
            max_connections: 4,
            connect_timeout: 5,
            idle_timeout: None,
            extensions: None,
        };
        let db = DbPool::connect(&config).await.expect("a SQLite database");
        db.migrate().await.expect("migrations");
        on_db!(db.writer().await.unwrap(), |c| sqlx::query(
            "INSERT INTO users (id, username, username_key, password, date_joined)
             VALUES (1, 'owner', 'owner', '!', 0)"
        )
        .execute(c)
        .await
        .map(drop))
        .expect("a user");
        db
    }

    fn row(owner: i64, email: &str) -> NewLead {
        NewLead {
            draft: LeadDraft {
                name: "N".into(),
                email: email.into(),
                message: String::new(),
            },
            owner,
            created_at: Timestamp::now(),
        }
    }

    fn outcome(result: &Result<Lead, Error>) -> &'static str {
        match result {
            Ok(_) => "created",
            Err(Error::Invalid(_)) => "email taken",
            Err(_) => "failed",
        }
    }

    #[rocket::async_test]
    async fn a_row_that_fails_fails_alone_in_its_batch() {
        let db = sqlite_db("batch-fallback").await;
        let Ok(Backend::Sqlite(mut writer)) = db.writer().await else {
            unreachable!("a SQLite pool")
        };
        // Owner 2 does not exist: that row breaks the foreign key, which
        // ON CONFLICT does not absorb, so the batch falls back to one by one.
        let batch = vec![
            row(1, "a@example.com"),
            row(2, "b@example.com"),
            row(1, "A@EXAMPLE.COM"),
            row(1, "c@example.com"),
        ];
        let results = NewLead::run(&mut writer, batch).await;
        let outcomes: Vec<_> = results.iter().map(outcome).collect();
        assert_eq!(outcomes, ["created", "failed", "email taken", "created"]);
        assert_eq!(results[0].as_ref().unwrap().email, "a@example.com");
        assert_eq!(results[3].as_ref().unwrap().email, "c@example.com");
        drop(writer);
        let count: i64 = on_db!(db.read().await.unwrap(), |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM leads"
        )
        .fetch_one(c)
        .await)
        .unwrap();
        assert_eq!(count, 2);
    }

    #[rocket::async_test]
    async fn concurrent_creates_share_batches_and_each_gets_its_own_answer() {
        let db = sqlite_db("batch-concurrent").await;
        let Backend::Sqlite(sqlite) = &db else {
            unreachable!("a SQLite pool")
        };
        // 60 distinct emails, each sent twice in two spellings.
        let emails: Vec<String> = (0..120)
            .map(|i| match i % 2 {
                0 => format!("lead{}@example.com", i / 2),
                _ => format!("LEAD{}@example.com", i / 2),
            })
            .collect();
        let results = join_all(emails.iter().map(|e| sqlite.batched(row(1, e)))).await;
        let results: Vec<_> = results.into_iter().map(|r| r.expect("an answer")).collect();
        let created: Vec<&Lead> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(created.len(), 60);
        assert_eq!(
            results
                .iter()
                .filter(|r| outcome(r) == "email taken")
                .count(),
            60
        );
        for (email, result) in emails.iter().zip(&results) {
            if let Ok(lead) = result {
                assert_eq!(&lead.email, email, "each caller gets its own lead back");
            }
        }
        let ids: std::collections::HashSet<i64> = created.iter().map(|l| l.id).collect();
        assert_eq!(ids.len(), 60);
    }
}
