//! Lead operations for one owner; the API and the pages both call these.

use crate::db::{unique_violation, DbPool, Sql};
use crate::error::{Error, FieldErrors};
use crate::listing::{page_count, page_offset};
use crate::timestamp::Timestamp;
use crate::validation::{case_key, Input};

use super::create::{CreateQueue, NewLead};
use super::list::{ListQuery, Paging};
use super::{Lead, LeadPatch, EMAIL_TAKEN};

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
    filter.bind(owner);
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
        sql.push_limit(limit, offset);
    }
    let leads = sql.fetch_all(db).await?;
    Ok(Listing { leads, count, page })
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

/// The lead `id`, if `scope` may see it.
fn select_one(scope: Scope, id: i64) -> Sql {
    Sql::new(&format!(
        "SELECT {} FROM leads WHERE id = $1 AND ($2 IS NULL OR owner_id = $2)",
        Lead::COLUMNS
    ))
    .arg(id)
    .arg(scope.owner())
}

pub async fn get(db: &DbPool, scope: Scope, id: i64) -> Result<Lead, Error> {
    let found = select_one(scope, id).fetch_optional(db).await?;
    found.ok_or(Error::NotFound)
}

pub async fn create(
    db: &DbPool,
    queue: &CreateQueue,
    owner: i64,
    input: &Input,
) -> Result<Lead, Error> {
    let patch = validate(db, input, false, None).await?;
    let lead = NewLead {
        draft: patch.into_draft().ok_or(Error::Internal)?,
        owner,
        created_at: Timestamp::now(),
    };
    queue.insert(db, lead).await
}

/// PUT (`partial == false`, every field required) or PATCH, and for staff
/// a new owner. The patch is merged over the current row inside one write
/// transaction (the row locked on PostgreSQL), so the search key always
/// matches the fields and a change of owner is saved with them or not at all.
pub async fn update(
    db: &DbPool,
    scope: Scope,
    id: i64,
    input: &Input,
    partial: bool,
    new_owner: Option<i64>,
) -> Result<Lead, Error> {
    let patch = validate(db, input, partial, Some(id)).await?;
    let mut tx = db.begin_write().await?;
    tx.lock_row("leads", id).await?;
    let current: Lead = select_one(scope, id)
        .fetch_optional_on(tx.live())
        .await?
        .ok_or(Error::NotFound)?;
    let owner = new_owner.unwrap_or(current.owner);
    let draft = patch.over(&current);
    let sql = format!(
        "UPDATE leads SET name = $1, email = $2, email_key = $3, message = $4, search_key = $5,
                          owner_id = $6
         WHERE id = $7 RETURNING {}",
        Lead::COLUMNS
    );
    let updated: Lead = Sql::new(&sql)
        .arg(draft.name.as_str())
        .arg(draft.email.as_str())
        .arg(case_key(&draft.email))
        .arg(draft.message.as_str())
        .arg(draft.search_key())
        .arg(owner)
        .arg(id)
        .fetch_one_on(tx.live())
        .await
        .map_err(field_error)?;
    tx.commit().await?;
    Ok(updated)
}

pub async fn delete(db: &DbPool, owner: i64, id: i64) -> Result<(), Error> {
    let deleted = Sql::new("DELETE FROM leads WHERE id = $1 AND owner_id = $2")
        .arg(id)
        .arg(owner)
        .execute(db)
        .await?;
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
    let found: Option<(i64,)> = Sql::new("SELECT id FROM leads WHERE email_key = $1 AND id <> $2")
        .arg(case_key(email))
        .arg(except.unwrap_or(0))
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}

pub const NO_SUCH_OWNER: &str = "There is no such user.";

/// A write refused by the unique email index, or by the owner's foreign key
/// (a user deleted meanwhile), as the field error it is.
fn field_error(err: sqlx::Error) -> Error {
    let owner_gone = err
        .as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation());
    match unique_violation(&err) {
        Some("leads_email_key_uq") => Error::Invalid(FieldErrors::single("email", EMAIL_TAKEN)),
        _ if owner_gone => Error::Invalid(FieldErrors::single("owner", NO_SUCH_OWNER)),
        _ => err.into(),
    }
}
