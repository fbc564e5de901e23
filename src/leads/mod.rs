//! Leads: the model, its validation, the service the API and pages share,
//! and the `/api/leads` endpoints.

pub mod api;
mod create;
pub mod list;
mod model;
pub mod service;

pub use create::{CreateQueue, NewLead};
pub use model::{Lead, LeadDraft, LeadPatch, EMAIL_TAKEN, SEARCH_KEY_MAX};
