//! argon2id password hashing, off the async workers and bounded.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rocket::tokio::sync::{OnceCell, Semaphore};
use rocket::tokio::task;

use crate::error::Error;

/// At most one hash per core at a time: more would only queue inside the
/// blocking pool and hold its threads (and 19 MiB each) away from other work.
static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(cores)
});

/// Runs one CPU-heavy argon2 job on the blocking pool once a slot is free.
async fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    let _slot = SLOTS.acquire().await.map_err(|_| Error::Internal)?;
    task::spawn_blocking(job).await.map_err(|_| Error::Internal)
}

/// An argon2id PHC string for `password`, with the crate's defaults
/// (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
pub async fn hash(password: String) -> Result<String, Error> {
    run(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| Error::Internal)
    })
    .await?
}

/// Whether `password` matches the stored hash. With no hash (an unknown user)
/// a dummy hash is verified instead, so the answer takes the same time.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, Error> {
    let known = stored.is_some();
    let stored = match stored {
        Some(hash) => hash,
        None => dummy_hash().await?.to_owned(),
    };
    let matches = run(move || {
        PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    })
    .await?;
    Ok(known && matches)
}

async fn dummy_hash() -> Result<&'static str, Error> {
    static DUMMY: OnceCell<String> = OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash("leads-timing-equaliser".to_owned()))
        .await
        .map(String::as_str)
}
