//! DRF's answers to methods a path does not have: 405 with `Allow`, and
//! OPTIONS describing the endpoint. Rocket alone would answer 404.

use std::collections::BTreeMap;

use rocket::http::{Header, Method};
use rocket::request::Request;
use rocket::route::{self, Handler, Route};
use rocket::serde::json::Json;
use rocket::Data;
use serde_json::json;

use crate::auth::{Auth, MaybeAuth};
use crate::error::Error;

/// Who may learn which methods a path allows (authentication comes first in DRF).
#[derive(Clone, Copy)]
pub enum Access {
    Public,
    Token,
}

/// Below every real route: these only answer what nothing else matched.
const FALLBACK_RANK: isize = 100;

/// In the order DRF lists them in `Allow`.
const METHODS: [Method; 8] = {
    use Method::*;
    [Get, Post, Put, Patch, Delete, Head, Options, Trace]
};

/// `routes` plus, for each of their paths, a fallback route for every other
/// method, answering 405 (or 200 to OPTIONS) after authenticating.
pub fn with_fallbacks(routes: Vec<Route>, access: Access) -> Vec<Route> {
    let mut by_path: BTreeMap<String, Vec<Method>> = BTreeMap::new();
    for route in &routes {
        by_path
            .entry(route.uri.path().to_string())
            .or_default()
            .push(route.method);
    }
    let mut all = routes;
    for (path, mut methods) in by_path {
        if methods.contains(&Method::Get) {
            methods.push(Method::Head); // Rocket answers HEAD with the GET route
        }
        methods.push(Method::Options);
        let allow = METHODS
            .iter()
            .filter(|m| methods.contains(m))
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let handler = Fallback { allow, access };
        for method in METHODS
            .into_iter()
            .filter(|m| !methods.contains(m) || *m == Method::Options)
        {
            all.push(Route::ranked(FALLBACK_RANK, method, &path, handler.clone()));
        }
    }
    all
}

#[derive(Clone)]
struct Fallback {
    allow: String,
    access: Access,
}

#[rocket::async_trait]
impl Handler for Fallback {
    async fn handle<'r>(&self, req: &'r Request<'_>, _: Data<'r>) -> route::Outcome<'r> {
        let authenticated = match self.access {
            Access::Token => req.guard::<Auth>().await.map(drop),
            Access::Public => req.guard::<MaybeAuth>().await.map(drop),
        };
        if let rocket::request::Outcome::Error((status, _)) = authenticated {
            return route::Outcome::Error(status);
        }
        if req.method() == Method::Options {
            let metadata = Json(json!({
                "renders": ["application/json"],
                "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
            }));
            return route::Outcome::from(req, metadata).map(|mut response| {
                response.set_header(Header::new("Allow", self.allow.clone()));
                response
            });
        }
        let error = Error::MethodNotAllowed {
            method: req.method().as_str().to_owned(),
            allow: self.allow.clone(),
        };
        route::Outcome::from(req, error)
    }
}
