//! The probes: readiness (`/healthz` asks the database) and liveness
//! (`/livez` never does).

use rocket::http::{Method, Status};
use rocket_db_pools::Database;
use serde_json::json;

use crate::helpers::Backend;
use crate::{app, on_both_backends};

on_both_backends!(only_readiness_depends_on_the_database);

async fn only_readiness_depends_on_the_database(backend: Backend) {
    let app = app!(backend);
    let ready = app.send(Method::Get, "/healthz", &[], None).await;
    assert_eq!(ready.status, Status::Ok);
    assert_eq!(ready.body, json!({ "status": "ok" }));
    let live = app.send(Method::Get, "/livez", &[], None).await;
    assert_eq!(live.status, Status::Ok);
    assert_eq!(live.body, json!({ "status": "alive" }));

    // The pool closed under the server: no query can run any more.
    let db = leads::db::Db::fetch(app.client.rocket()).expect("the pool");
    rocket_db_pools::Pool::close(&**db).await;
    let ready = app.send(Method::Get, "/healthz", &[], None).await;
    assert_eq!(ready.status, Status::ServiceUnavailable);
    assert_eq!(ready.body, json!({ "status": "unavailable" }));
    let live = app.send(Method::Get, "/livez", &[], None).await;
    assert_eq!(live.status, Status::Ok);
    assert_eq!(live.body, json!({ "status": "alive" }));
}
