//! Queries over every lead and user, for staff.

use std::future::Future;

use rocket::FromForm;
use serde::Serialize;
use time::macros::format_description;
use time::Date;

use crate::db::{DbPool, Sql};
use crate::error::Error;
use crate::leads::list::search_terms;
use crate::leads::SEARCH_KEY_MAX;
use crate::listing::{page_count, page_offset, single_sort, Column, Page, Sort};
use crate::timestamp::Timestamp;

/// One page of an admin list: its rows, how many match the filters, how
/// many there are in all, and which page of how many it is.
pub struct ListPage<T> {
    pub rows: Vec<T>,
    pub count: i64,
    pub total: i64,
    pub page: u64,
    pub pages: u64,
}

impl<T> ListPage<T> {
    /// No rows yet: the page `asked` comes to among `count` matches.
    fn of(count: i64, asked: Page, per_page: u64) -> Self {
        let pages = page_count(count, per_page);
        ListPage {
            rows: Vec::new(),
            count,
            total: 0,
            page: asked.clamped(pages),
            pages,
        }
    }
}

/// `page` with `total` set to the rows of `table`, counted alongside on
/// another connection (it does not depend on the filters).
async fn with_total<T>(
    db: &DbPool,
    table: &str,
    page: impl Future<Output = Result<ListPage<T>, Error>>,
) -> Result<ListPage<T>, Error> {
    let everything = Sql::new(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"));
    let total = async { everything.fetch_count(db).await.map_err(Error::from) };
    let (total, page) = rocket::futures::future::try_join(total, page).await?;
    Ok(ListPage { total, ..page })
}

/// `ORDER BY expression, id` in one direction (ids break ties).
fn push_order(sql: &mut Sql, expression: &str, descending: bool, id: &str) {
    let direction = if descending { "DESC" } else { "ASC" };
    sql.push(&format!(" ORDER BY {expression} {direction}"));
    if expression != id {
        sql.push(&format!(", {id} {direction}"));
    }
}

/// The lead list's query string; every part optional, nothing an error.
#[derive(Clone, Debug, Default, FromForm, Serialize)]
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

/// The start of `date` (UTC), as stored.
fn midnight(date: Date) -> i64 {
    (date.midnight().assume_utc().unix_timestamp_nanos() / 1_000) as i64
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

    /// The sort column; newest first by default.
    pub fn order(&self) -> Sort {
        single_sort(self.ordering.as_deref(), &LEAD_COLUMNS, "-id")
    }

    /// Appends `FROM … WHERE …` for these filters (shared by the count, the
    /// page and the export). Owners are joined only to be shown; a search
    /// reaches their usernames through the much smaller users table.
    fn push_filters(&self, sql: &mut Sql, show_owner: bool) {
        sql.push(" FROM leads");
        if show_owner {
            sql.push(" JOIN users ON users.id = leads.owner_id");
        }
        sql.push(" WHERE 1 = 1");
        if let Some(owner) = self.owner_id() {
            sql.push(" AND leads.owner_id = ");
            sql.bind(owner);
        }
        if let Some(from) = parse_date(self.created_from.as_deref()) {
            sql.push(" AND leads.created_at >= ");
            sql.bind(midnight(from));
        }
        if let Some(to) = parse_date(self.created_to.as_deref()).and_then(|d| d.next_day()) {
            sql.push(" AND leads.created_at < ");
            sql.bind(midnight(to));
        }
        let fields = [
            "leads.search_key {like}",
            "leads.owner_id IN (SELECT users.id FROM users WHERE users.username_key {like})",
        ];
        sql.push_search(&search_terms(self.q.as_deref()), &fields, SEARCH_KEY_MAX);
    }

    /// `ORDER BY` the sort column; `after_filtering`, through an expression
    /// no index matches, so that the database sorts only the matches instead
    /// of walking a whole index in order and testing every row it reaches.
    fn ordered(&self, sql: &mut Sql, after_filtering: bool) {
        let sort = self.order();
        let expression = match sort.name {
            _ if !after_filtering => sort.sql.to_owned(),
            "name" | "email" | "message" => format!("({} || '')", sort.sql),
            _ => format!("({} + 0)", sort.sql),
        };
        push_order(sql, &expression, sort.descending, "leads.id");
    }

    fn is_search(&self) -> bool {
        !search_terms(self.q.as_deref()).is_empty()
    }

    /// A page of matches. Its ids come from the leads table and its indexes
    /// alone (deep offsets walk an index, not a join); only those rows are
    /// then joined to their owners. A search scans every lead anyway: it
    /// counts the matches in the same query, and sorts after filtering.
    fn page_sql(&self, page: u64, per_page: u64, search: bool) -> Sql {
        let (ids, join) = if search {
            (
                ", found.matches FROM (SELECT leads.id, CAST(COUNT(*) OVER () AS BIGINT) AS matches",
                ") AS found JOIN leads ON leads.id = found.id JOIN users ON users.id = leads.owner_id",
            )
        } else {
            (
                " FROM leads JOIN users ON users.id = leads.owner_id WHERE leads.id IN (SELECT leads.id",
                ")",
            )
        };
        let mut sql = Sql::new(LEAD_SELECT);
        sql.push(ids);
        self.push_filters(&mut sql, false);
        self.ordered(&mut sql, search);
        sql.push_limit(per_page, page_offset(page, per_page));
        sql.push(join);
        self.ordered(&mut sql, search);
        sql
    }

    /// Every matching lead in order, for the CSV export.
    pub fn export_sql(&self) -> Sql {
        let mut sql = Sql::new(LEAD_SELECT);
        self.push_filters(&mut sql, true);
        self.ordered(&mut sql, false);
        sql
    }
}

pub async fn list_leads(db: &DbPool, filters: &LeadFilters) -> Result<ListPage<AdminLead>, Error> {
    with_total(db, "leads", matching_leads(db, filters)).await
}

async fn matching_leads(db: &DbPool, filters: &LeadFilters) -> Result<ListPage<AdminLead>, Error> {
    let per_page = filters.per_page();
    let asked = Page::or_first(filters.page.as_deref());
    // A search's page counts the matches too, unless it is `last` or past
    // the end: then the count comes first, to pick the page.
    if let (true, Page::Number(number)) = (filters.is_search(), asked) {
        let sql = filters.page_sql(number, per_page, true);
        let rows: Vec<Counted> = sql.fetch_all(db).await?;
        // No row on the first page: no match at all; on another: past the end.
        let count = rows.first().map(|row| row.matches);
        if let Some(count) = count.or((number == 1).then_some(0)) {
            let mut page = ListPage::of(count, asked, per_page);
            page.rows = rows.into_iter().map(|row| row.lead).collect();
            return Ok(page);
        }
    }
    let mut counting = Sql::new("SELECT CAST(COUNT(*) AS BIGINT)");
    filters.push_filters(&mut counting, false);
    let mut page = ListPage::of(counting.fetch_count(db).await?, asked, per_page);
    let sql = filters.page_sql(page.page, per_page, false);
    page.rows = sql.fetch_all(db).await?;
    Ok(page)
}

/// A lead with the number of matches of the query that found it.
#[derive(sqlx::FromRow)]
struct Counted {
    #[sqlx(flatten)]
    lead: AdminLead,
    matches: i64,
}

/// ` column IN ($a, $b, …)` over `ids`.
fn in_list(sql: &mut Sql, column: &str, ids: &[i64]) {
    let binds: Vec<_> = ids.iter().map(|id| sql.placeholder_for(*id)).collect();
    sql.push(&format!(" {column} IN ({})", binds.join(", ")));
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
    let mut sql = Sql::new("UPDATE leads SET owner_id = $1 WHERE").arg(owner);
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
    let sql = Sql::new("SELECT id, username FROM users ORDER BY username_key");
    Ok(sql.fetch_all(db).await?)
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

    /// ` WHERE …` for the search.
    fn push_filters(&self, sql: &mut Sql) {
        sql.push(" WHERE 1 = 1");
        // Emails are ASCII but for the domain, which registration lower-cases.
        let fields = ["users.username_key {like}", "lower(users.email) {like}"];
        sql.push_search(&search_terms(self.q.as_deref()), &fields, 254);
    }
}

pub async fn list_users(db: &DbPool, filters: &UserFilters) -> Result<ListPage<AdminUser>, Error> {
    with_total(db, "users", matching_users(db, filters)).await
}

async fn matching_users(db: &DbPool, filters: &UserFilters) -> Result<ListPage<AdminUser>, Error> {
    let mut counting = Sql::new("SELECT CAST(COUNT(*) AS BIGINT) FROM users");
    filters.push_filters(&mut counting);
    let asked = Page::or_first(filters.page.as_deref());
    let mut page = ListPage::of(counting.fetch_count(db).await?, asked, USERS_PER_PAGE);

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
    sql.bind(Timestamp::now());
    sql.push(" GROUP BY user_id) AS token_counts ON token_counts.user_id = users.id");
    filters.push_filters(&mut sql);
    let sort = filters.order();
    push_order(&mut sql, sort.sql, sort.descending, "users.id");
    sql.push_limit(USERS_PER_PAGE, page_offset(page.page, USERS_PER_PAGE));
    page.rows = sql.fetch_all(db).await?;
    Ok(page)
}

pub async fn user_by_id(db: &DbPool, id: i64) -> Result<Option<(i64, String)>, Error> {
    let sql = Sql::new("SELECT id, username FROM users WHERE id = $1").arg(id);
    Ok(sql.fetch_optional(db).await?)
}

/// What staff can do to a user account, by its name in the URL.
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
}

/// Applies `action` to the user; deactivation revokes all their tokens in
/// the same transaction, so no request of theirs succeeds afterwards.
pub async fn apply_user_action(db: &DbPool, user_id: i64, action: UserAction) -> Result<(), Error> {
    let change = match action {
        UserAction::Deactivate => "is_active = FALSE",
        UserAction::Activate => "is_active = TRUE",
        UserAction::GrantStaff => "is_staff = TRUE",
        UserAction::RevokeStaff => "is_staff = FALSE",
    };
    let mut tx = db.begin_write().await?;
    let update = Sql::new(&format!("UPDATE users SET {change} WHERE id = $1")).arg(user_id);
    if update.execute_on(tx.live()).await? == 0 {
        return Err(Error::NotFound);
    }
    if action == UserAction::Deactivate {
        let revoke = Sql::new("DELETE FROM auth_tokens WHERE user_id = $1").arg(user_id);
        revoke.execute_on(tx.live()).await?;
    }
    tx.commit().await?;
    Ok(())
}
