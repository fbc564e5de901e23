//! Reading and writing users.

use crate::db::{unique_violation, DbPool, Sql, WriteTx};
use crate::error::{Error, FieldErrors};
use crate::timestamp::Timestamp;
use crate::validation::{case_key, password, Input, Text, Validator};

use super::hashing::Hasher;
use super::{User, UserEmail, Username, USERNAME_TAKEN};

/// A sign-up that passed validation, its password already hashed.
pub struct Registration {
    pub username: Username,
    pub email: UserEmail,
    pub password_hash: String,
}

/// Validates `{username, email, password}`, reporting every failing field at
/// once (a taken username included), then hashes the password.
pub async fn validate_registration(
    db: &DbPool,
    hasher: &Hasher,
    input: &Input,
) -> Result<Registration, Error> {
    let mut form = Validator::new(input);
    let username = form.required("username", Text::Trimmed, Username::parse);
    let email = form.optional(
        "email",
        Text::TrimmedMayBeBlank,
        UserEmail::default(),
        UserEmail::parse,
    );
    let password = form.required("password", Text::Exact, Ok);

    if let Some(password) = &password {
        let username = username.as_ref().map_or("", Username::as_str);
        let email = email.as_ref().map_or("", UserEmail::as_str);
        for problem in password::problems(password, username, email) {
            form.errors_mut().add("password", problem);
        }
    }
    // The unique index decides in the end; this only completes the report.
    if form.has_errors() {
        if let Some(username) = &username {
            if username_taken(db, username.as_str()).await? {
                form.errors_mut().add("username", USERNAME_TAKEN);
            }
        }
    }
    form.into_errors().into_result()?;

    let (Some(username), Some(email), Some(password)) = (username, email, password) else {
        return Err(Error::Internal);
    };
    let password_hash = hasher.hash(password).await?;
    Ok(Registration {
        username,
        email,
        password_hash,
    })
}

pub async fn username_taken(db: &DbPool, username: &str) -> Result<bool, Error> {
    let found: Option<(i64,)> = Sql::new("SELECT id FROM users WHERE username_key = $1")
        .arg(case_key(username))
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}

/// Inserts the user; a username taken meanwhile is a field error, not a 500.
pub async fn insert(
    tx: &mut WriteTx,
    registration: &Registration,
    is_staff: bool,
) -> Result<User, Error> {
    let sql = format!(
        "INSERT INTO users (username, username_key, email, password, is_staff, is_active, date_joined)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING {}",
        User::COLUMNS
    );
    let inserted = Sql::new(&sql)
        .arg(registration.username.as_str())
        .arg(case_key(registration.username.as_str()))
        .arg(registration.email.as_str())
        .arg(registration.password_hash.as_str())
        .arg(is_staff)
        .arg(Timestamp::now())
        .fetch_one_on(tx.live())
        .await;
    inserted.map_err(|err| match unique_violation(&err) {
        Some("users_username_key_uq") => {
            Error::Invalid(FieldErrors::single("username", USERNAME_TAKEN))
        }
        _ => err.into(),
    })
}

/// A user and their password hash, for checking a login.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    pub user: User,
    pub password: String,
}

pub async fn credentials(db: &DbPool, username: &str) -> Result<Option<Credentials>, Error> {
    let sql = format!(
        "SELECT {}, password FROM users WHERE username_key = $1",
        User::COLUMNS
    );
    let sql = Sql::new(&sql).arg(case_key(username));
    Ok(sql.fetch_optional(db).await?)
}

pub async fn record_login(tx: &mut WriteTx, user_id: i64, at: Timestamp) -> Result<(), Error> {
    Sql::new("UPDATE users SET last_login = $1 WHERE id = $2")
        .arg(at)
        .arg(user_id)
        .execute_on(tx.live())
        .await?;
    Ok(())
}

pub async fn set_password(
    tx: &mut WriteTx,
    user_id: i64,
    password_hash: &str,
) -> Result<(), Error> {
    Sql::new("UPDATE users SET password = $1 WHERE id = $2")
        .arg(password_hash)
        .arg(user_id)
        .execute_on(tx.live())
        .await?;
    Ok(())
}

/// The `createsuperuser` command: a staff account, validated like a sign-up.
pub async fn create_superuser(
    db: &DbPool,
    hasher: &Hasher,
    username: &str,
    email: &str,
    password: String,
) -> Result<User, Error> {
    let input = Input::from_pairs([
        ("username", username),
        ("email", email),
        ("password", password.as_str()),
    ]);
    let registration = validate_registration(db, hasher, &input).await?;
    let mut tx = db.begin_write().await?;
    let user = insert(&mut tx, &registration, true).await?;
    tx.commit().await?;
    Ok(user)
}

/// Grants or revokes staff rights by username; `NotFound` if there is no such user.
pub async fn set_staff(db: &DbPool, username: &str, is_staff: bool) -> Result<(), Error> {
    let changed = Sql::new("UPDATE users SET is_staff = $1 WHERE username_key = $2")
        .arg(is_staff)
        .arg(case_key(username))
        .execute(db)
        .await?;
    if changed == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}
