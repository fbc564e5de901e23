//! Probes for orchestrators and load balancers.
//!
//! `GET /healthz` (readiness): 200 when the database answers, 503 when it
//! does not, so traffic moves away from an instance that cannot serve.
//! `GET /livez` (liveness): 200 whenever the process answers at all; it never
//! touches the database, so a database outage does not get every instance restarted.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route};
use serde_json::{json, Value};

use crate::db::Db;

pub fn routes() -> Vec<Route> {
    routes![healthz, livez]
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

#[get("/livez")]
fn livez() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}
