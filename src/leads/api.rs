//! `/api/leads`: DRF's ModelViewSet over the caller's own leads.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, put, routes, Route, State};
use serde::Serialize;

use crate::auth::Auth;
use crate::config::Settings;
use crate::db::Db;
use crate::error::Error;
use crate::http::methods::{with_fallbacks, Access};
use crate::http::url::RequestUrl;
use crate::http::Body;
use crate::listing::page_links;

use super::list::{ListParams, ListQuery, Paging};
use super::service::{self, parse_id, Listing, Scope};
use super::{CreateQueue, Lead};

pub fn routes() -> Vec<Route> {
    with_fallbacks(
        routes![list, create, retrieve, update, partial_update, destroy],
        Access::Token,
    )
}

#[get("/leads?<params..>")]
async fn list(
    auth: Auth,
    db: &Db,
    settings: &State<Settings>,
    params: ListParams,
    url: RequestUrl,
) -> Result<Json<ListBody>, Error> {
    let query = ListQuery::parse(&params, settings.page_size)?;
    let listing = service::list(db, auth.user.id, &query).await?;
    Ok(Json(render_listing(listing, &query.paging, &url)))
}

/// The bare array, or DRF's `{"count", "next", "previous", "results"}`;
/// serialized straight from the leads, with no JSON tree in between.
#[derive(Serialize)]
#[serde(untagged)]
enum ListBody {
    Bare(Vec<Lead>),
    Page {
        count: i64,
        next: Option<String>,
        previous: Option<String>,
        results: Vec<Lead>,
    },
}

fn render_listing(listing: Listing, paging: &Paging, url: &RequestUrl) -> ListBody {
    let Some(count) = listing.count else {
        return ListBody::Bare(listing.leads);
    };
    let [previous, next] = match (*paging, listing.page) {
        (Paging::Page { .. }, Some((number, pages))) => {
            page_links(number, pages, |n| url.with(|query| query.page(n)))
        }
        (Paging::Window { limit, offset }, _) => {
            let window = |offset: u64| {
                url.with(|query| {
                    let offset = (offset > 0).then_some(offset);
                    query.set("limit", Some(limit)).set("offset", offset)
                })
            };
            let more = offset.saturating_add(limit) < u64::try_from(count).unwrap_or(0);
            [
                (offset > 0).then(|| window(offset.saturating_sub(limit))),
                more.then(|| window(offset + limit)),
            ]
        }
        _ => [None, None],
    };
    ListBody::Page {
        count,
        next,
        previous,
        results: listing.leads,
    }
}

#[post("/leads", data = "<body>")]
async fn create(
    auth: Auth,
    db: &Db,
    queue: &State<CreateQueue>,
    body: Body,
) -> Result<(Status, Json<Lead>), Error> {
    let input = body.input()?;
    let lead = service::create(db, queue, auth.user.id, &input).await?;
    Ok((Status::Created, Json(lead)))
}

#[get("/leads/<id>")]
async fn retrieve(auth: Auth, db: &Db, id: &str) -> Result<Json<Lead>, Error> {
    Ok(Json(
        service::get(db, Scope::Owner(auth.user.id), parse_id(id)?).await?,
    ))
}

#[put("/leads/<id>", data = "<body>")]
async fn update(auth: Auth, db: &Db, id: &str, body: Body) -> Result<Json<Lead>, Error> {
    save(auth, db, id, body, false).await
}

#[patch("/leads/<id>", data = "<body>")]
async fn partial_update(auth: Auth, db: &Db, id: &str, body: Body) -> Result<Json<Lead>, Error> {
    save(auth, db, id, body, true).await
}

/// Object lookup first, then the body: DRF's order of checks.
async fn save(
    auth: Auth,
    db: &Db,
    id: &str,
    body: Body,
    partial: bool,
) -> Result<Json<Lead>, Error> {
    let lead = service::get(db, Scope::Owner(auth.user.id), parse_id(id)?).await?;
    let input = body.input()?;
    Ok(Json(
        service::update(
            db,
            Scope::Owner(auth.user.id),
            lead.id,
            &input,
            partial,
            None,
        )
        .await?,
    ))
}

#[delete("/leads/<id>")]
async fn destroy(auth: Auth, db: &Db, id: &str) -> Result<Status, Error> {
    service::delete(db, auth.user.id, parse_id(id)?).await?;
    Ok(Status::NoContent)
}
