//! Leads: the model, its validation, the service the API and pages share,
//! and the `/api/leads` endpoints.

pub mod api;
pub mod list;
mod model;
pub mod service;

pub use model::{Lead, LeadDraft, LeadPatch, EMAIL_TAKEN, SEARCH_KEY_MAX};
