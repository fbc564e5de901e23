//! `/admin/users`: every user with their lead and token counts; deactivate,
//! reactivate, grant and revoke staff.

use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use crate::db::Db;
use crate::error::Error;
use crate::listing::{ListNav, Query};
use crate::pages::{PageError, View};

use super::service::{self, AdminUser, UserAction, UserFilters};
use super::{audit, Staff};

pub fn routes() -> Vec<Route> {
    routes![list, act]
}

const HEADERS: [(&str, &str); 8] = [
    ("username", "Username"),
    ("email", "Email"),
    ("leads", "Leads"),
    ("tokens", "Live tokens"),
    ("last_login", "Last login"),
    ("joined", "Joined"),
    ("staff", "Staff"),
    ("active", "Active"),
];

fn row(user: &AdminUser, me: i64) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "lead_count": user.lead_count,
        "token_count": user.token_count,
        "last_login": user.last_login.map(|t| t.html()),
        "last_login_display": user.last_login.map(|t| t.short()),
        "joined": user.date_joined.html(),
        "joined_display": user.date_joined.short(),
        "is_me": user.id == me,
    })
}

#[get("/admin/users?<filters..>")]
async fn list(
    staff: Staff,
    view: View,
    db: &Db,
    filters: UserFilters,
) -> Result<Template, PageError> {
    let page = service::list_users(db, &filters).await?;
    let links = Query::default()
        .set("q", filters.q.as_deref())
        .set("ordering", filters.ordering.as_deref());
    let (shown, sort) = ((page.page, page.pages), Some(filters.order()));
    let nav = ListNav::new("/admin/users", &links, shown, &HEADERS, sort);
    Ok(view.render(
        "admin/users",
        "admin",
        json!({
            "users": page.rows.iter().map(|u| row(u, staff.0.user.id)).collect::<Vec<_>>(),
            "count": page.count,
            "total": page.total,
            "nav": nav,
            "q": filters.q.as_deref().unwrap_or_default(),
        }),
    ))
}

/// Deactivate, activate, grant-staff, revoke-staff. Staff cannot lock
/// themselves out: no deactivating or un-staffing one's own account.
#[post("/admin/users/<id>/<name>")]
async fn act(staff: Staff, db: &Db, id: i64, name: &str) -> Result<Flash<Redirect>, PageError> {
    let action = UserAction::parse(name).ok_or(PageError(Error::NotFound))?;
    let user = service::user_by_id(db, id).await?;
    let (_, username) = user.ok_or(PageError(Error::NotFound))?;
    let back = Redirect::to("/admin/users");
    if id == staff.0.user.id && matches!(action, UserAction::Deactivate | UserAction::RevokeStaff) {
        return Ok(Flash::error(
            back,
            "You cannot deactivate yourself or remove your own staff status.",
        ));
    }
    service::apply_user_action(db, id, action).await?;
    audit(&staff.0, name, &format!("user_id={id} username={username}"));
    let done = match action {
        UserAction::Deactivate => format!("Deactivated {username}; their sessions were revoked."),
        UserAction::Activate => format!("Reactivated {username}."),
        UserAction::GrantStaff => format!("{username} is now staff."),
        UserAction::RevokeStaff => format!("{username} is no longer staff."),
    };
    Ok(Flash::success(back, done))
}
