use serde::Serialize;

use crate::error::FieldErrors;
use crate::timestamp::Timestamp;
use crate::validation::{self, Input, Text, Validator};

/// A lead, exactly as the API shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Lead {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub message: String,
    pub created_at: Timestamp,
    #[serde(rename = "owner")]
    #[sqlx(rename = "owner_id")]
    pub owner: i64,
}

impl Lead {
    pub const COLUMNS: &'static str = "id, name, email, message, created_at, owner_id";
}

pub const EMAIL_TAKEN: &str = "lead with this email already exists.";

const NAME_MAX: usize = 100;
const EMAIL_MAX: usize = 100;
const MESSAGE_MAX: usize = 500;
/// The longest search key: the three fields and two separators.
pub const SEARCH_KEY_MAX: usize = NAME_MAX + EMAIL_MAX + MESSAGE_MAX + 2;

/// All of a lead's writable fields, validated (POST, PUT).
#[derive(Clone, Debug)]
pub struct LeadDraft {
    pub name: String,
    pub email: String,
    pub message: String,
}

impl LeadDraft {
    /// What searches scan: the fields case-folded, joined by spaces. Search
    /// terms never contain whitespace, so none can match across two fields.
    pub fn search_key(&self) -> String {
        validation::case_key(&format!("{} {} {}", self.name, self.email, self.message))
    }
}

/// Some of them (PATCH); `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct LeadPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub message: Option<String>,
}

impl LeadPatch {
    /// Reads the fields; with `partial` absent ones are left alone, else
    /// all are required. Read-only fields (`id`, `owner`, `created_at`) are ignored.
    pub fn from_input(input: &Input, partial: bool) -> (Self, FieldErrors) {
        let mut form = if partial {
            Validator::partial(input)
        } else {
            Validator::new(input)
        };
        let patch = LeadPatch {
            name: form.required("name", Text::Trimmed, |t| validation::at_most(t, NAME_MAX)),
            email: form.required("email", Text::Trimmed, |t| validation::email(t, EMAIL_MAX)),
            message: form.required("message", Text::Trimmed, |t| {
                validation::at_most(t, MESSAGE_MAX)
            }),
        };
        (patch, form.into_errors())
    }

    /// This patch applied over `lead`'s current fields.
    pub fn over(self, lead: &Lead) -> LeadDraft {
        LeadDraft {
            name: self.name.unwrap_or_else(|| lead.name.clone()),
            email: self.email.unwrap_or_else(|| lead.email.clone()),
            message: self.message.unwrap_or_else(|| lead.message.clone()),
        }
    }

    /// The complete draft, when every field is present.
    pub fn into_draft(self) -> Option<LeadDraft> {
        Some(LeadDraft {
            name: self.name?,
            email: self.email?,
            message: self.message?,
        })
    }
}
