//! `/leads`: the user's leads — list with search, sorting and pages; create,
//! edit, and delete with confirmation.

use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use crate::auth::Auth;
use crate::db::Db;
use crate::http::Body;
use crate::leads::list::{ListParams, ListQuery};
use crate::leads::service::{self, parse_id, Scope};
use crate::leads::{CreateQueue, Lead};
use crate::listing::{ListNav, Query};

use super::view::{kept, redirect_with_flash, FormOutcome, PageError, View};

pub fn routes() -> Vec<Route> {
    routes![
        list,
        new_form,
        create,
        edit_form,
        update,
        delete_form,
        delete
    ]
}

const PAGE_SIZE: u64 = 20;
const LEAD_FIELDS: [&str; 3] = ["name", "email", "message"];
/// The sortable columns, as (ordering field, header label).
const COLUMNS: [(&str, &str); 4] = [
    ("name", "Name"),
    ("email", "Email"),
    ("message", "Message"),
    ("created_at", "Created"),
];

fn row(lead: &Lead) -> Value {
    json!({
        "id": lead.id,
        "name": lead.name,
        "email": lead.email,
        "message": lead.message,
        "created_at": lead.created_at.html(),
        "created_display": lead.created_at.short(),
    })
}

#[get("/leads?<params..>")]
async fn list(auth: Auth, view: View, db: &Db, params: ListParams) -> Result<Template, PageError> {
    let search = params.search.clone().unwrap_or_default();
    // The pages sort by one column at a time, newest first by default.
    let ordering = params
        .ordering
        .clone()
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| "-created_at".into());
    let params = ListParams {
        ordering: Some(ordering.clone()),
        page: params.page.or_else(|| Some("1".into())),
        limit: None,
        offset: None,
        ..params
    };
    let query = ListQuery::parse(&params, PAGE_SIZE)?;
    let listing = service::list(db, auth.user.id, &query).await?;
    let (page, pages) = listing.page.unwrap_or((1, 1));

    let links = Query::default()
        .set("search", Some(&search))
        .set("ordering", Some(&ordering));
    let current = query.order.first().copied();
    let nav = ListNav::new("/leads", &links, (page, pages), &COLUMNS, current);

    Ok(view.render(
        "leads/list",
        "leads",
        json!({
            "leads": listing.leads.iter().map(row).collect::<Vec<_>>(),
            "count": listing.count.unwrap_or(0),
            "search": search,
            "ordering": ordering,
            "nav": nav,
        }),
    ))
}

fn lead_form(view: View, lead_id: Option<i64>, form: Value, errors: Value) -> Template {
    view.render(
        "leads/form",
        "leads",
        json!({ "lead_id": lead_id, "form": form, "errors": errors }),
    )
}

#[get("/leads/new")]
fn new_form(_auth: Auth, view: View) -> Template {
    lead_form(view, None, json!({}), json!({}))
}

#[post("/leads/new", data = "<body>")]
async fn create(
    auth: Auth,
    view: View,
    db: &Db,
    queue: &State<CreateQueue>,
    body: Body,
) -> Result<FormOutcome, PageError> {
    let input = body.input()?;
    Ok(FormOutcome::from_result(
        service::create(db, queue, auth.user.id, &input).await,
        |lead| redirect_with_flash("/leads", format!("Lead “{}” created.", lead.name)),
        |errors| lead_form(view, None, kept(&input, &LEAD_FIELDS), json!(errors)),
    ))
}

#[get("/leads/<id>/edit")]
async fn edit_form(auth: Auth, view: View, db: &Db, id: &str) -> Result<Template, PageError> {
    let lead = service::get(db, Scope::Owner(auth.user.id), parse_id(id)?).await?;
    Ok(lead_form(view, Some(lead.id), row(&lead), json!({})))
}

#[post("/leads/<id>/edit", data = "<body>")]
async fn update(
    auth: Auth,
    view: View,
    db: &Db,
    id: &str,
    body: Body,
) -> Result<FormOutcome, PageError> {
    let id = parse_id(id)?;
    // The lookup first, as in the API: validating first would answer for
    // another user's lead (its email's uniqueness check skips that lead).
    service::get(db, Scope::Owner(auth.user.id), id).await?;
    let input = body.input()?;
    Ok(FormOutcome::from_result(
        service::update(db, Scope::Owner(auth.user.id), id, &input, false, None).await,
        |lead| redirect_with_flash("/leads", format!("Lead “{}” saved.", lead.name)),
        |errors| lead_form(view, Some(id), kept(&input, &LEAD_FIELDS), json!(errors)),
    ))
}

#[get("/leads/<id>/delete")]
async fn delete_form(auth: Auth, view: View, db: &Db, id: &str) -> Result<Template, PageError> {
    let lead = service::get(db, Scope::Owner(auth.user.id), parse_id(id)?).await?;
    Ok(view.render("leads/delete", "leads", json!({ "lead": row(&lead) })))
}

#[post("/leads/<id>/delete")]
async fn delete(auth: Auth, db: &Db, id: &str) -> Result<Flash<Redirect>, PageError> {
    let id = parse_id(id)?;
    let lead = service::get(db, Scope::Owner(auth.user.id), id).await?;
    service::delete(db, auth.user.id, id).await?;
    let message = format!("Lead “{}” deleted.", lead.name);
    Ok(redirect_with_flash("/leads", message))
}
