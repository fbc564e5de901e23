use serde::Serialize;

use crate::timestamp::Timestamp;
use crate::validation;

/// A user as stored, without the password hash; serialized as the API
/// shows a user: `{"id", "username", "email"}`.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    #[serde(skip)]
    pub is_staff: bool,
    #[serde(skip)]
    pub is_active: bool,
    #[serde(skip)]
    pub date_joined: Timestamp,
    #[serde(skip)]
    pub last_login: Option<Timestamp>,
}

impl User {
    pub const COLUMNS: &'static str =
        "id, username, email, is_staff, is_active, date_joined, last_login";
}

pub const USERNAME_TAKEN: &str = "A user with that username already exists.";

/// A username Django would accept: 1–150 letters, digits and `@.+-_`.
#[derive(Clone, Debug)]
pub struct Username(String);

impl Username {
    pub const MAX_LENGTH: usize = 150;

    pub fn parse(text: String) -> Result<Self, String> {
        validation::within(&text, Self::MAX_LENGTH)?;
        if text
            .chars()
            .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
        {
            Ok(Username(text))
        } else {
            Err("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Django's `normalize_email`: the domain is case-insensitive, so it is
/// stored in lower case; the local part is kept as given.
fn normalize_domain(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => email.to_owned(),
    }
}

/// A user's email address: optional (empty), else valid and at most 254 characters.
#[derive(Clone, Debug, Default)]
pub struct UserEmail(String);

impl UserEmail {
    pub const MAX_LENGTH: usize = 254;

    pub fn parse(text: String) -> Result<Self, String> {
        if text.is_empty() {
            return Ok(UserEmail(text));
        }
        let text = validation::email(text, Self::MAX_LENGTH)?;
        Ok(UserEmail(normalize_domain(&text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
