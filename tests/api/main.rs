//! Black-box tests of the application over HTTP semantics (Rocket's local
//! client), each on a fresh SQLite file and a fresh PostgreSQL database.

mod browser;
mod errors_common;
mod helpers;
mod leads_common;
#[path = "../support/suite_env.rs"]
mod suite_env;

mod account;
mod admin;
mod auth;
mod backup;
mod cli;
mod concurrency;
mod csrf;
mod errors_auth;
mod errors_bodies;
mod errors_check_order;
mod errors_fields;
mod errors_never_5xx;
mod errors_not_found;
mod escaping;
mod headers;
mod health;
mod leads_crud;
mod leads_list;
mod leads_validation;
mod list_auth;
mod migrations;
mod openapi;
mod pages;
mod served;
mod storage;
mod throttle;
mod tokens;
