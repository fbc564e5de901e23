//! Queries over every lead and user, for staff.

use rocket::FromForm;
use serde::Serialize;
use time::macros::format_description;
use time::{Date, PrimitiveDateTime, Time};

use crate::db::{Bind, DbPool, Sql, WriteTx};
use crate::error::Error;
use crate::leads::list::search_terms;
use crate::leads::SEARCH_KEY_MAX;
use crate::listing::{page_count, page_offset, single_sort, Column, Page, Sort};
use crate::on_db;
use crate::timestamp::Timestamp;

/// The lead list's query string; every part optional, nothing an error.
#[derive(Clone, Debug, Default, FromForm)]
pub struct LeadFilters {
    pub q: Option<String>,
    pub owner: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub ordering: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

pub const PAGE_SIZES: [u64; 4] = [25, 50, 100, 200];
pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// Sortable columns: (query name, SQL).
pub const LEAD_COLUMNS: [Column; 6] = [
    ("id", "leads.id"),
    ("name", "leads.name"),
    ("email", "leads.email"),
    ("message", "leads.message"),
    ("owner", "leads.owner_id"),
    ("created", "leads.created_at"),
];

/// A lead with its owner's username.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct AdminLead {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub message: String,
    pub created_at: Timestamp,
    pub owner_id: i64,
    pub owner_username: String,
}

const LEAD_SELECT: &str =
    "SELECT leads.id, leads.name, leads.email, leads.message, leads.created_at, \
                           leads.owner_id, users.username AS owner_username";

fn parse_date(text: Option<&str>) -> Option<Date> {
    let format = format_description!("[year]-[month]-[day]");
    text.and_then(|t| Date::parse(t.trim(), &format).ok())
}

fn start_of(date: Date) -> Timestamp {
    let at = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc();
    Timestamp((at.unix_timestamp_nanos() / 1_000) as i64)
}

impl LeadFilters {
    pub fn owner_id(&self) -> Option<i64> {
        self.owner.as_deref().and_then(|o| o.parse().ok())
    }

    pub fn per_page(&self) -> u64 {
        let asked = self.per_page.as_deref().and_then(|p| p.parse().ok());
        asked
            .filter(|p| PAGE_SIZES.contains(p))
            .unwrap_or(DEFAULT_PAGE_SIZE)
    }

    pub fn page(&self) -> Page {
        Page::or_first(self.page.as_deref())
    }

    /// The sort column; newest first by default.
    pub fn order(&self) -> Sort {
        single_sort(self.ordering.as_deref(), &LEAD_COLUMNS, "-id")
    }

    /// Appends `FROM … WHERE …` for these filters (shared by the count, the
    /// page and the export). Owners are joined only to be shown; an owner's
    /// username is searched through the thousand-fold smaller users table.
    fn push_filters(&self, sql: &mut Sql, show_owner: bool) {
        let terms = search_terms(self.q.as_deref());
        sql.push(" FROM leads");
        if show_owner {
            sql.push(" JOIN users ON users.id = leads.owner_id");
        }
        sql.push(" WHERE 1 = 1");
        if let Some(owner) = self.owner_id() {
            sql.push(" AND leads.owner_id = ");
            sql.bind(Bind::Int(owner));
        }
        if let Some(from) = parse_date(self.created_from.as_deref()) {
            sql.push(" AND leads.created_at >= ");
            sql.bind(Bind::Int(start_of(from).0));
        }
        if let Some(to) = parse_date(self.created_to.as_deref()).and_then(|d| d.next_day()) {
            sql.push(" AND leads.created_at < ");
            sql.bind(Bind::Int(start_of(to).0));
        }
        let fields = [
            "leads.search_key {like}",
            "leads.owner_id IN (SELECT users.id FROM users WHERE users.username_key {like})",
        ];
        sql.push_search(&terms, &fields, SEARCH_KEY_MAX);
    }

    fn ordered(&self, sql: &mut Sql) {
        let sort = self.order();
        push_order(sql, sort.sql, sort.descending);
    }

    /// The same order through expressions no index matches, so that the
    /// database filters first and then sorts only the matches, instead of
    /// walking a whole index in order and testing every row it reaches.
    fn ordered_after_filtering(&self, sql: &mut Sql) {
        let sort = self.order();
        let expression = match sort.name {
            "name" | "email" | "message" => format!("({} || '')", sort.sql),
            _ => format!("({} + 0)", sort.sql),
        };
        push_order(sql, &expression, sort.descending);
    }

    fn is_search(&self) -> bool {
        !search_terms(self.q.as_deref()).is_empty()
    }

    /// Every matching lead in order, for the CSV export.
    pub fn export_sql(&self) -> Sql {
        let mut sql = Sql::new(LEAD_SELECT);
        self.push_filters(&mut sql, true);
        self.ordered(&mut sql);
        sql
    }
}

/// `ORDER BY expression, id` in one direction (ids break ties).
fn push_order(sql: &mut Sql, expression: &str, descending: bool) {
    let direction = if descending { "DESC" } else { "ASC" };
    if expression == "leads.id" {
        sql.push(&format!(" ORDER BY leads.id {direction}"));
    } else {
        sql.push(&format!(
            " ORDER BY {expression} {direction}, leads.id {direction}"
        ));
    }
}

/// One page of the admin lead list.
pub struct LeadPage {
    pub leads: Vec<AdminLead>,
    /// Matches for the filters, and leads in all.
    pub count: i64,
    pub total: i64,
    pub page: u64,
    pub pages: u64,
}

pub async fn list_leads(db: &DbPool, filters: &LeadFilters) -> Result<LeadPage, Error> {
    // "M total" does not depend on the rest: counted alongside, on another connection.
    let everything = Sql::new("SELECT CAST(COUNT(*) AS BIGINT) FROM leads");
    let (total, page) = rocket::futures::future::try_join(
        async { everything.fetch_count(db).await.map_err(Error::from) },
        matching_page(db, filters),
    )
    .await?;
    Ok(LeadPage { total, ..page })
}

/// The page of matches and their count (`total` left for the caller).
async fn matching_page(db: &DbPool, filters: &LeadFilters) -> Result<LeadPage, Error> {
    if filters.is_search() {
        if let Some(page) = searched_page(db, filters).await? {
            return Ok(page);
        }
    }
    let mut counting = Sql::new("SELECT CAST(COUNT(*) AS BIGINT)");
    filters.push_filters(&mut counting, false);
    let count = counting.fetch_count(db).await?;
    let per_page = filters.per_page();
    let pages = page_count(count, per_page);
    let page = filters.page().clamped(pages);

    // A deferred join: the page's ids come from the leads table and its
    // indexes alone (deep offsets walk an index, not a join); only those
    // rows are then joined to their owners.
    let mut sql = Sql::new(LEAD_SELECT);
    sql.push(
        " FROM leads JOIN users ON users.id = leads.owner_id WHERE leads.id IN (SELECT leads.id",
    );
    filters.push_filters(&mut sql, false);
    filters.ordered(&mut sql);
    sql.push(" LIMIT ");
    sql.bind(Bind::Int(per_page as i64));
    sql.push(" OFFSET ");
    sql.bind(Bind::Int(page_offset(page, per_page) as i64));
    sql.push(")");
    filters.ordered(&mut sql);
    let leads = sql.fetch_all(db).await?;
    Ok(LeadPage {
        leads,
        count,
        total: 0,
        page,
        pages,
    })
}

/// A lead with the number of matches of the query that found it.
#[derive(sqlx::FromRow)]
struct Counted {
    #[sqlx(flatten)]
    lead: AdminLead,
    matches: i64,
}

/// A search scans every lead; this does it once, counting the matches with
/// a window over the same query that picks the page. `None` when the page
/// is past the end (or `last`): the caller then counts first and clamps.
async fn searched_page(db: &DbPool, filters: &LeadFilters) -> Result<Option<LeadPage>, Error> {
    let per_page = filters.per_page();
    let Page::Number(page) = filters.page() else {
        return Ok(None);
    };
    let Ok(offset) = i64::try_from(page_offset(page, per_page)) else {
        return Ok(None);
    };
    let mut sql = Sql::new(LEAD_SELECT);
    sql.push(", found.matches FROM (SELECT leads.id, CAST(COUNT(*) OVER () AS BIGINT) AS matches");
    filters.push_filters(&mut sql, false);
    filters.ordered_after_filtering(&mut sql);
    sql.push(" LIMIT ");
    sql.bind(Bind::Int(per_page as i64));
    sql.push(" OFFSET ");
    sql.bind(Bind::Int(offset));
    sql.push(
        ") AS found JOIN leads ON leads.id = found.id JOIN users ON users.id = leads.owner_id",
    );
    // Sorting the page's few rows again; an indexable order here would make
    // the planner walk all leads in that order and probe the page for each.
    filters.ordered_after_filtering(&mut sql);
    let rows: Vec<Counted> = sql.fetch_all(db).await?;
    let count = match rows.first() {
        Some(row) => row.matches,
        // Nothing on the first page: nothing at all.
        None if page == 1 => 0,
        None => return Ok(None),
    };
    let pages = page_count(count, per_page);
    let leads = rows.into_iter().map(|row| row.lead).collect();
    Ok(Some(LeadPage {
        leads,
        count,
        total: 0,
        page,
        pages,
    }))
}

/// `column IN ($a, $b, …)` over `ids`.
fn in_list(sql: &mut Sql, column: &str, ids: &[i64]) {
    sql.push(&format!(" {column} IN ("));
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Bind::Int(*id));
    }
    sql.push(")");
}

pub async fn leads_by_id(db: &DbPool, ids: &[i64]) -> Result<Vec<AdminLead>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(LEAD_SELECT);
    sql.push(" FROM leads JOIN users ON users.id = leads.owner_id WHERE");
    in_list(&mut sql, "leads.id", ids);
    sql.push(" ORDER BY leads.id");
    Ok(sql.fetch_all(db).await?)
}

pub async fn delete_leads(db: &DbPool, ids: &[i64]) -> Result<u64, Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut sql = Sql::new("DELETE FROM leads WHERE");
    in_list(&mut sql, "id", ids);
    Ok(sql.execute(db).await?)
}

/// Gives the leads to `owner`; `NotFound` if no such user.
pub async fn reassign_leads(db: &DbPool, ids: &[i64], owner: i64) -> Result<u64, Error> {
    if user_by_id(db, owner).await?.is_none() {
        return Err(Error::NotFound);
    }
    if ids.is_empty() {
        return Ok(0);
    }
    let mut sql = Sql::new("UPDATE leads SET owner_id = ");
    sql.bind(Bind::Int(owner));
    sql.push(" WHERE");
    in_list(&mut sql, "id", ids);
    // A user deleted meanwhile fails the foreign key: "not found", not a 500.
    sql.execute(db)
        .await
        .map_err(|e| match e.as_database_error() {
            Some(db_err) if db_err.is_foreign_key_violation() => Error::NotFound,
            _ => e.into(),
        })
}

/// (id, username) of every user, for owner pickers.
pub async fn owner_choices(db: &DbPool) -> Result<Vec<(i64, String)>, Error> {
    Ok(on_db!(db.read().await?, |c| sqlx::query_as(
        "SELECT id, username FROM users ORDER BY username_key"
    )
    .fetch_all(c)
    .await)?)
}

/// A user as the admin list shows them.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct AdminUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub is_staff: bool,
    pub is_active: bool,
    pub date_joined: Timestamp,
    pub last_login: Option<Timestamp>,
    pub lead_count: i64,
    pub token_count: i64,
}

#[derive(Clone, Debug, Default, FromForm)]
pub struct UserFilters {
    pub q: Option<String>,
    pub ordering: Option<String>,
    pub page: Option<String>,
}

pub const USER_COLUMNS: [Column; 8] = [
    ("username", "users.username_key"),
    ("email", "users.email"),
    ("leads", "lead_count"),
    ("tokens", "token_count"),
    ("last_login", "users.last_login"),
    ("joined", "users.date_joined"),
    ("staff", "users.is_staff"),
    ("active", "users.is_active"),
];
pub const USERS_PER_PAGE: u64 = 50;

impl UserFilters {
    pub fn order(&self) -> Sort {
        single_sort(self.ordering.as_deref(), &USER_COLUMNS, "username")
    }

    pub fn page(&self) -> Page {
        Page::or_first(self.page.as_deref())
    }
}

pub struct UserPage {
    pub users: Vec<AdminUser>,
    pub count: i64,
    pub total: i64,
    pub page: u64,
    pub pages: u64,
}

pub async fn list_users(db: &DbPool, filters: &UserFilters) -> Result<UserPage, Error> {
    let terms = search_terms(filters.q.as_deref());
    let searched = |sql: &mut Sql| {
        sql.push(" WHERE 1 = 1");
        // Emails are ASCII but for the domain, which registration lower-cases.
        let fields = ["users.username_key {like}", "lower(users.email) {like}"];
        sql.push_search(&terms, &fields, 254);
    };
    let mut counting = Sql::new("SELECT CAST(COUNT(*) AS BIGINT) FROM users");
    searched(&mut counting);
    let count = counting.fetch_count(db).await?;
    let total = Sql::new("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
        .fetch_count(db)
        .await?;
    let pages = page_count(count, USERS_PER_PAGE);
    let page = filters.page().clamped(pages);

    let mut sql = Sql::new(
        "SELECT users.id, users.username, users.email, users.is_staff, users.is_active, \
         users.date_joined, users.last_login, \
         COALESCE(lead_counts.n, 0) AS lead_count, COALESCE(token_counts.n, 0) AS token_count \
         FROM users \
         LEFT JOIN (SELECT owner_id, CAST(COUNT(*) AS BIGINT) AS n FROM leads GROUP BY owner_id) \
           AS lead_counts ON lead_counts.owner_id = users.id \
         LEFT JOIN (SELECT user_id, CAST(COUNT(*) AS BIGINT) AS n FROM auth_tokens \
           WHERE expiry IS NULL OR expiry > ",
    );
    // Counted once per page for every user (one pass over each table's
    // index), so that sorting by the counts costs no more than showing them.
    sql.bind(Bind::Int(Timestamp::now().0));
    sql.push(" GROUP BY user_id) AS token_counts ON token_counts.user_id = users.id");
    searched(&mut sql);
    let sort = filters.order();
    let direction = if sort.descending { "DESC" } else { "ASC" };
    sql.push(&format!(
        " ORDER BY {} {direction}, users.id {direction} LIMIT ",
        sort.sql
    ));
    sql.bind(Bind::Int(USERS_PER_PAGE as i64));
    sql.push(" OFFSET ");
    sql.bind(Bind::Int(page_offset(page, USERS_PER_PAGE) as i64));
    let users = sql.fetch_all(db).await?;
    Ok(UserPage {
        users,
        count,
        total,
        page,
        pages,
    })
}

pub async fn user_by_id(db: &DbPool, id: i64) -> Result<Option<(i64, String)>, Error> {
    Ok(on_db!(db.read().await?, |c| sqlx::query_as(
        "SELECT id, username FROM users WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// What staff can do to a user account.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UserAction {
    Deactivate,
    Activate,
    GrantStaff,
    RevokeStaff,
}

impl UserAction {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "deactivate" => UserAction::Deactivate,
            "activate" => UserAction::Activate,
            "grant-staff" => UserAction::GrantStaff,
            "revoke-staff" => UserAction::RevokeStaff,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            UserAction::Deactivate => "deactivate",
            UserAction::Activate => "activate",
            UserAction::GrantStaff => "grant-staff",
            UserAction::RevokeStaff => "revoke-staff",
        }
    }
}

/// Applies `action` to the user; deactivation revokes all their tokens in
/// the same transaction, so no request of theirs succeeds afterwards.
pub async fn apply_user_action(db: &DbPool, user_id: i64, action: UserAction) -> Result<(), Error> {
    let (column, value) = match action {
        UserAction::Deactivate => ("is_active", false),
        UserAction::Activate => ("is_active", true),
        UserAction::GrantStaff => ("is_staff", true),
        UserAction::RevokeStaff => ("is_staff", false),
    };
    let mut tx: WriteTx = db.begin_write().await?;
    let sql = format!("UPDATE users SET {column} = $1 WHERE id = $2");
    let changed = on_db!(tx, |c| sqlx::query(&sql)
        .bind(value)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if changed == 0 {
        return Err(Error::NotFound);
    }
    if action == UserAction::Deactivate {
        on_db!(tx, |c| sqlx::query(
            "DELETE FROM auth_tokens WHERE user_id = $1"
        )
        .bind(user_id)
        .execute(c)
        .await
        .map(drop))?;
    }
    tx.commit().await?;
    Ok(())
}
