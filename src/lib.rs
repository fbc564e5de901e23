//! Leads: lead tracking with Knox-style token authentication.
//!
//! [`build`] assembles the application from one module per feature, over
//! the configuration it is given (the binary's, or a test's).

pub mod admin;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod health;
pub mod http;
pub mod leads;
pub mod listing;
pub mod openapi;
pub mod pages;
pub mod timestamp;
pub mod users;
pub mod validation;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;

use crate::auth::csrf::CsrfKey;
use crate::config::Settings;
use crate::db::{Db, Migrations};
use crate::leads::CreateQueue;
use crate::users::hashing::Hasher;

/// The application over an explicit configuration.
pub fn build(figment: Figment) -> Rocket<Build> {
    let rocket = rocket::custom(figment)
        .attach(http::timing::ServerTiming)
        .attach(db::FailureWatch)
        .manage(Hasher::start())
        .manage(CreateQueue::default())
        .manage(openapi::ApiDocument::load())
        .attach(AdHoc::try_on_ignite("Settings", |rocket| async {
            match Settings::from_figment(rocket.figment()) {
                Ok(settings) => {
                    let key = csrf_key(rocket.figment());
                    let shield = http::headers::shield(settings.secure_cookies);
                    let rocket = if settings.request_log {
                        rocket.attach(http::access_log::AccessLog::to_stdout())
                    } else {
                        rocket
                    };
                    Ok(rocket.manage(settings).manage(key).attach(shield))
                }
                Err(e) => {
                    rocket::error!("invalid configuration: {e}");
                    Err(rocket)
                }
            }
        }))
        .attach(Db::init())
        .attach(Migrations::fairing())
        .attach(http::slash::fairing())
        .attach(auth::csrf::CaptureFormField)
        .attach(http::headers::ContentSecurityPolicy);
    pages::mount(rocket)
        .mount("/", admin::routes())
        .mount("/api", auth::api::routes())
        .mount("/api", leads::api::routes())
        .mount("/api", openapi::routes())
        .mount("/", health::routes())
        .register("/api", http::catchers::json())
}

/// The CSRF key, derived from the configured secret key; without one (a
/// debug run with no key) tokens last only as long as the process.
fn csrf_key(figment: &Figment) -> CsrfKey {
    match figment.extract_inner::<String>("secret_key") {
        Ok(secret) => CsrfKey::derive(&secret),
        Err(_) => CsrfKey::derive(&auth::token::random_hex(32)),
    }
}
