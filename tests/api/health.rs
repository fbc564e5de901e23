//! The probes: readiness (`/healthz` asks the database) and liveness
//! (`/livez` never does).

use rocket::http::{Method, Status};
use rocket_db_pools::Database;
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};
use crate::{app, on_both_backends};

on_both_backends!(only_readiness_depends_on_the_database);

async fn assert_probe(app: &TestApp, path: &str, status: Status, body: Value) {
    let reply = app.send(Method::Get, path, &[], None).await;
    assert_eq!(reply.status, status, "{path}");
    assert_eq!(reply.body, body, "{path}");
}

async fn only_readiness_depends_on_the_database(backend: Backend) {
    let app = app!(backend);
    assert_probe(&app, "/healthz", Status::Ok, json!({ "status": "ok" })).await;
    assert_probe(&app, "/livez", Status::Ok, json!({ "status": "alive" })).await;

    // The pool closed under the server: no query can run any more.
    let db = leads::db::Db::fetch(app.client.rocket()).expect("the pool");
    rocket_db_pools::Pool::close(&**db).await;
    let unavailable = json!({ "status": "unavailable" });
    assert_probe(&app, "/healthz", Status::ServiceUnavailable, unavailable).await;
    assert_probe(&app, "/livez", Status::Ok, json!({ "status": "alive" })).await;
}
