//! `/account`: the user's sessions (live tokens) and password.

use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use crate::auth::service::{self, TokenInfo};
use crate::auth::Auth;
use crate::db::Db;
use crate::http::Body;
use crate::users::hashing::Hasher;

use super::view::{redirect_with_flash, FormOutcome, PageError, View};

pub fn routes() -> Vec<Route> {
    routes![
        sessions,
        revoke,
        revoke_others,
        password_form,
        change_password
    ]
}

fn session_row(token: &TokenInfo) -> Value {
    json!({
        "token_key": token.token_key,
        "client": token.client,
        "current": token.current,
        "created": token.created.html(),
        "created_display": token.created.short(),
        "last_used": token.last_used.html(),
        "last_used_display": token.last_used.short(),
        "expiry": token.expiry.map(|e| e.html()),
        "expiry_display": token.expiry.map(|e| e.short()),
    })
}

#[get("/account/sessions")]
async fn sessions(auth: Auth, view: View, db: &Db) -> Result<Template, PageError> {
    let tokens = service::live_tokens(db, auth.user.id, &auth.token_digest).await?;
    let rows: Vec<Value> = tokens.iter().map(session_row).collect();
    Ok(view.render("account/sessions", "account", json!({ "sessions": rows })))
}

#[post("/account/sessions/<token_key>/revoke")]
async fn revoke(auth: Auth, db: &Db, token_key: &str) -> Result<Flash<Redirect>, PageError> {
    service::revoke_by_key(db, auth.user.id, token_key).await?;
    Ok(redirect_with_flash("/account/sessions", "Session revoked."))
}

#[post("/account/sessions/revoke-others")]
async fn revoke_others(auth: Auth, db: &Db) -> Result<Flash<Redirect>, PageError> {
    let removed = service::revoke_others(db, auth.user.id, &auth.token_digest).await?;
    let plural = if removed == 1 { "" } else { "s" };
    let message = format!("Revoked {removed} other session{plural}.");
    Ok(redirect_with_flash("/account/sessions", message))
}

fn password_page(view: View, errors: Value) -> Template {
    view.render("account/password", "account", json!({ "errors": errors }))
}

#[get("/account/password")]
fn password_form(_auth: Auth, view: View) -> Template {
    password_page(view, json!({}))
}

#[post("/account/password", data = "<body>")]
async fn change_password(
    auth: Auth,
    view: View,
    db: &Db,
    hasher: &State<Hasher>,
    body: Body,
) -> Result<FormOutcome, PageError> {
    let input = body.input()?;
    Ok(FormOutcome::from_result(
        service::change_password(db, hasher, &auth.user, &auth.token_digest, &input).await,
        |()| {
            let message = "Password changed. Your other sessions were signed out.";
            redirect_with_flash("/account/sessions", message)
        },
        |errors| password_page(view, json!(errors)),
    ))
}
