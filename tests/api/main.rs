//! Black-box tests of the application over HTTP semantics (Rocket's local
//! client), each on a fresh SQLite file and a fresh PostgreSQL database.

mod browser;
mod helpers;

mod admin;
mod auth;
mod backup;
mod concurrency;
mod errors;
mod headers;
mod health;
mod leads;
mod list_auth;
mod migrations;
mod openapi;
mod pages;
mod storage;
mod throttle;
mod tokens;
