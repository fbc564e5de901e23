//! Input validation with DRF's semantics and messages, shared by the API and the pages.

mod email;
mod input;
pub mod password;

pub use email::is_valid_email;
pub use input::Input;

use serde_json::Value;

use crate::error::FieldErrors;

pub const INVALID_EMAIL: &str = "Enter a valid email address.";

/// The form under which a username or an email is unique and looked up:
/// Unicode lower case, computed here because SQLite's `lower()` folds ASCII only.
pub fn case_key(text: &str) -> String {
    text.to_lowercase()
}

/// Checks a text's length in characters, as DRF's `max_length` does.
pub fn within(text: &str, max: usize) -> Result<(), String> {
    if text.chars().count() <= max {
        return Ok(());
    }
    Err(format!(
        "Ensure this field has no more than {max} characters."
    ))
}

/// The text, if at most `max` characters long.
pub fn at_most(text: String, max: usize) -> Result<String, String> {
    within(&text, max).map(|()| text)
}

/// The text, if a valid email address of at most `max` characters.
pub fn email(text: String, max: usize) -> Result<String, String> {
    let text = at_most(text, max)?;
    if is_valid_email(&text) {
        Ok(text)
    } else {
        Err(INVALID_EMAIL.into())
    }
}

/// Reads fields from an [`Input`] the way DRF's `CharField` does, collecting
/// every field's errors so that one response reports them all.
pub struct Validator<'a> {
    input: &'a Input,
    errors: FieldErrors,
    /// PATCH: absent fields are left alone instead of being required.
    partial: bool,
}

/// How a text field is read.
#[derive(Clone, Copy)]
pub enum Text {
    /// Surrounding whitespace removed; blank is an error (DRF's default).
    Trimmed,
    /// Trimmed; blank allowed (an optional user email).
    TrimmedMayBeBlank,
    /// Exactly as sent (passwords); blank is an error.
    Exact,
}

impl<'a> Validator<'a> {
    pub fn new(input: &'a Input) -> Self {
        Validator {
            input,
            errors: FieldErrors::default(),
            partial: false,
        }
    }

    pub fn partial(input: &'a Input) -> Self {
        Validator {
            partial: true,
            ..Validator::new(input)
        }
    }

    /// A field that must be present (unless partial): `None` if absent in a
    /// partial update or if it failed (the failure is recorded).
    pub fn required<T>(
        &mut self,
        field: &str,
        mode: Text,
        parse: impl FnOnce(String) -> Result<T, String>,
    ) -> Option<T> {
        match self.input.get(field) {
            None if self.partial => None,
            None => self.fail(field, "This field is required."),
            Some(value) => self.parse(field, value, mode, parse),
        }
    }

    /// A field that may be left out: absent reads as `default`.
    pub fn optional<T>(
        &mut self,
        field: &str,
        mode: Text,
        default: T,
        parse: impl FnOnce(String) -> Result<T, String>,
    ) -> Option<T> {
        match self.input.get(field) {
            None => Some(default),
            Some(value) => self.parse(field, value, mode, parse),
        }
    }

    fn parse<T>(
        &mut self,
        field: &str,
        value: &Value,
        mode: Text,
        parse: impl FnOnce(String) -> Result<T, String>,
    ) -> Option<T> {
        let text = match value {
            Value::String(s) => s.clone(),
            // DRF's CharField accepts numbers and uses their text.
            Value::Number(n) => n.to_string(),
            Value::Null => return self.fail(field, "This field may not be null."),
            _ => return self.fail(field, "Not a valid string."),
        };
        let text = match mode {
            Text::Exact => text,
            Text::Trimmed | Text::TrimmedMayBeBlank => text.trim().to_owned(),
        };
        if text.is_empty() && !matches!(mode, Text::TrimmedMayBeBlank) {
            return self.fail(field, "This field may not be blank.");
        }
        // DRF's CharField refuses NUL (PostgreSQL cannot store it in text);
        // the field's own check still runs, so both are reported.
        let has_nul = text.contains('\0');
        if has_nul {
            self.errors.add(field, "Null characters are not allowed.");
        }
        match parse(text) {
            Ok(value) if !has_nul => Some(value),
            Ok(_) => None,
            Err(message) => self.fail(field, message),
        }
    }

    fn fail<T>(&mut self, field: &str, message: impl Into<String>) -> Option<T> {
        self.errors.add(field, message);
        None
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn errors_mut(&mut self) -> &mut FieldErrors {
        &mut self.errors
    }

    pub fn into_errors(self) -> FieldErrors {
        self.errors
    }
}
