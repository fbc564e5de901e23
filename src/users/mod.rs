//! User accounts: the stored user, its validated fields, password hashing.

pub mod hashing;
mod model;
pub mod service;

pub use model::{User, UserEmail, Username, USERNAME_TAKEN};
