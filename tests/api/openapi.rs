//! The OpenAPI document against the routes really mounted: every API route
//! documented with its method, every documented operation mounted; and the
//! document and its reference page served.

use std::collections::BTreeSet;

use rocket::http::{ContentType, Method, Status};
use rocket::Route;
use serde_json::Value;

use crate::app;
use crate::helpers::{Backend, TestApp};

/// The methods an OpenAPI path item can hold operations for.
const OPERATION_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Rocket's `/api/leads/<id>` as OpenAPI spells it, `/api/leads/{id}`
/// (`<rest..>` too), without a trailing slash: the app answers with and
/// without one, so the document may use either.
fn openapi_path(rocket_path: &str) -> String {
    let segments: Vec<String> = rocket_path
        .split('/')
        .map(
            |segment| match segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                Some(name) => format!("{{{}}}", name.trim_end_matches("..")),
                None => segment.to_owned(),
            },
        )
        .collect();
    let path = segments.join("/");
    match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed.to_owned(),
        _ => path,
    }
}

/// (path, method) pairs: the real API routes, and the paths that only have
/// the generic fallbacks of src/http/methods.rs (405 with `Allow`, OPTIONS).
/// Handlers declared with `#[get]` & co. are named; the fallbacks are not.
fn mounted<'a>(
    routes: impl Iterator<Item = &'a Route>,
) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let mut real = BTreeSet::new();
    let mut fallback_paths = BTreeSet::new();
    for route in routes.filter(|r| r.uri.path().starts_with("/api")) {
        let path = openapi_path(route.uri.path());
        if route.name.is_some() {
            real.insert((path, route.method.as_str().to_lowercase()));
        } else {
            fallback_paths.insert(path);
        }
    }
    (real, fallback_paths)
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths").iter() {
        for method in OPERATION_METHODS {
            if item.get(method).is_some() {
                operations.insert((openapi_path(path), method.to_owned()));
            }
        }
    }
    operations
}

/// Every disagreement between the routes and the document, in words.
fn mismatches<'a>(routes: impl Iterator<Item = &'a Route>, doc: &Value) -> Vec<String> {
    let (real, fallback_paths) = mounted(routes);
    let documented = documented(doc);
    let documented_paths: BTreeSet<&String> = documented.iter().map(|(p, _)| p).collect();
    let mut problems = Vec::new();
    for (path, method) in real.difference(&documented) {
        problems.push(format!(
            "{} {path} is mounted but not documented",
            method.to_uppercase()
        ));
    }
    for (path, method) in documented.difference(&real) {
        problems.push(format!(
            "{} {path} is documented but not mounted",
            method.to_uppercase()
        ));
    }
    for path in fallback_paths
        .iter()
        .filter(|p| !documented_paths.contains(p))
    {
        problems.push(format!(
            "{path} has fallback routes but no documented operation"
        ));
    }
    problems
}

async fn document(app: &TestApp) -> Value {
    let response = app.client.get("/api/openapi.json").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let text = response.into_string().await.expect("a body");
    serde_json::from_str(&text).expect("the document is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_is_documented_and_every_operation_mounted() {
    let app = app!(Backend::Sqlite);
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "an OpenAPI 3 document: {}",
        doc["openapi"]
    );
    let problems = mismatches(app.client.rocket().routes(), &doc);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The real API is there, not just this module's own two routes.
    let (real, _) = mounted(app.client.rocket().routes());
    assert!(real.len() >= 14, "{real:?}");
    assert!(real.contains(&("/api/leads/{id}".into(), "patch".into())));
}

/// The comparison catches a missing operation, an extra one, and a method
/// documented on the wrong path: the test above can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_comparison_notices_drift() {
    let app = app!(Backend::Sqlite);
    let doc = document(&app).await;
    let routes = || app.client.rocket().routes();

    let mut missing = doc.clone();
    missing["paths"]["/api/leads/{id}"]
        .as_object_mut()
        .unwrap()
        .remove("patch");
    assert_eq!(
        mismatches(routes(), &missing),
        ["PATCH /api/leads/{id} is mounted but not documented"]
    );

    let mut extra = doc.clone();
    extra["paths"]["/api/leads/{id}"]["post"] = serde_json::json!({"responses": {}});
    assert_eq!(
        mismatches(routes(), &extra),
        ["POST /api/leads/{id} is documented but not mounted"]
    );

    let mut gone = doc.clone();
    gone["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/api/auth/tokens/{token_key}");
    assert_eq!(
        mismatches(routes(), &gone),
        [
            "DELETE /api/auth/tokens/{token_key} is mounted but not documented",
            "/api/auth/tokens/{token_key} has fallback routes but no documented operation",
        ]
    );
}

#[test]
fn rocket_paths_map_to_openapi_paths() {
    assert_eq!(openapi_path("/api/leads/<id>"), "/api/leads/{id}");
    assert_eq!(openapi_path("/api/leads/"), "/api/leads");
    assert_eq!(openapi_path("/api/files/<rest..>"), "/api/files/{rest}");
    assert_eq!(openapi_path("/"), "/");
}

/// Text as Tera's auto-escaping writes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_page_shows_every_path_and_operation() {
    let app = app!(Backend::Sqlite);
    let doc = document(&app).await;
    let response = app.client.get("/api/docs").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    let html = response.into_string().await.expect("a body");
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
    for (path, method) in documented(&doc) {
        let shown = format!("<code>{}</code>", escaped(&path));
        assert!(html.contains(&shown), "{path} on the page");
        let op = &doc["paths"][&path][&method];
        let id = op["operationId"]
            .as_str()
            .expect("every operation has an id");
        assert!(
            html.contains(&format!("id=\"op-{id}\"")),
            "{id} on the page"
        );
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            html.contains(&format!("id=\"schema-{name}\"")),
            "schema {name}"
        );
    }
    // A bad token does not hide the reference; the JSON document is public too.
    let reply = app
        .send(
            Method::Get,
            "/api/docs/",
            &[("Authorization", "Token nope")],
            None,
        )
        .await;
    assert_eq!(reply.status, Status::Ok);
    let reply = app.send(Method::Post, "/api/openapi.json", &[], None).await;
    assert_eq!(reply.status, Status::MethodNotAllowed);
    assert_eq!(reply.header("Allow"), Some("GET, HEAD, OPTIONS"));
}

/// Found by the schemathesis run (tests/fuzz): a repeated query parameter
/// takes its last value, as Django's `QueryDict.get` does, instead of
/// being dropped (`?page=1&page=x` listed everything, unpaginated).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_list_parameter_takes_its_last_value() {
    let app = app!(Backend::Sqlite);
    let (token, _) = app.register("rita").await;
    app.create_lead(&token, "Ann", "ann@example.com").await;
    let (status, body) = app.get("/api/leads/?page=1&page=x", Some(&token)).await;
    assert_eq!(status, Status::NotFound, "{body}");
    assert_eq!(body["detail"], "Invalid page.");
    let (status, body) = app.get("/api/leads/?page=x&page=1", Some(&token)).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["count"], 1);
    let (_, body) = app
        .get("/api/leads/?search=zzz&search=ann", Some(&token))
        .await;
    assert_eq!(body.as_array().map(Vec::len), Some(1), "{body}");
}
