//! Knox-style token authentication: tokens, the request guard, and the
//! `/api/auth/*` endpoints.

pub mod api;
pub mod cookie;
pub mod csrf;
pub mod failure;
pub mod guard;
pub mod header;
pub mod login;
pub mod service;
pub mod throttle;
pub mod token;

pub use guard::{Auth, MaybeAuth};
