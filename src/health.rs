//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route};
use serde_json::{json, Value};

use crate::db::Db;

pub fn routes() -> Vec<Route> {
    routes![healthz]
}

#[get("/healthz")]
async fn healthz(db: &Db) -> (Status, Json<Value>) {
    if db.ping().await {
        (Status::Ok, Json(json!({ "status": "ok" })))
    } else {
        (
            Status::ServiceUnavailable,
            Json(json!({ "status": "unavailable" })),
        )
    }
}
