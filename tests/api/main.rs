//! Black-box tests of the JSON API over HTTP semantics (Rocket's local
//! client), each on a fresh SQLite file and a fresh PostgreSQL database.

mod helpers;

mod auth;
mod browser;
mod pages;
