//! Django's default password validators, with their messages.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

pub const MIN_LENGTH: usize = 8;
/// Longer passwords are refused before hashing: argon2 time grows with input.
pub const MAX_BYTES: usize = 4096;
const MAX_SIMILARITY: f64 = 0.7;

/// The 20,000 most common passwords as Django ships them (lower-case, one a
/// line), parsed once on first use.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// Every message Django's four default validators give for `password`, in
/// Django's order (similarity, length, common, numeric). Empty when it passes.
pub fn problems(password: &str, username: &str, email: &str) -> Vec<String> {
    if password.len() > MAX_BYTES {
        return vec![format!(
            "This password is too long. It must contain at most {MAX_BYTES} bytes."
        )];
    }
    let mut problems = Vec::new();
    if let Some(attribute) = too_similar(
        password,
        &[("username", username), ("email address", email)],
    ) {
        problems.push(format!("The password is too similar to the {attribute}."));
    }
    if password.chars().count() < MIN_LENGTH {
        problems.push(format!(
            "This password is too short. It must contain at least {MIN_LENGTH} characters."
        ));
    }
    if COMMON.contains(password.trim().to_lowercase().as_str()) {
        problems.push("This password is too common.".to_owned());
    }
    if !password.is_empty() && password.chars().all(|c| c.is_numeric()) {
        problems.push("This password is entirely numeric.".to_owned());
    }
    problems
}

/// Django's `UserAttributeSimilarityValidator`: the password against each
/// attribute and each of its `\W+`-separated parts, by `SequenceMatcher.quick_ratio`.
fn too_similar<'a>(password: &str, attributes: &[(&'a str, &str)]) -> Option<&'a str> {
    let password: Vec<char> = password.to_lowercase().chars().collect();
    attributes.iter().find_map(|&(name, value)| {
        if value.is_empty() {
            return None;
        }
        let value = value.to_lowercase();
        let mut parts: Vec<&str> = value
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .collect();
        parts.push(&value);
        parts
            .into_iter()
            .any(|part| {
                let part: Vec<char> = part.chars().collect();
                !exceeds_length_ratio(password.len(), part.len())
                    && quick_ratio(&password, &part) >= MAX_SIMILARITY
            })
            .then_some(name)
    })
}

/// Django skips parts so much shorter than the password that they cannot be similar.
fn exceeds_length_ratio(password_len: usize, value_len: usize) -> bool {
    let bound = MAX_SIMILARITY / 2.0 * password_len as f64;
    password_len >= 10 * value_len && (value_len as f64) < bound
}

/// `difflib.SequenceMatcher(a, b).quick_ratio()`: shared characters, as a
/// multiset, relative to the total length.
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    let mut available: HashMap<char, usize> = HashMap::new();
    for &c in b {
        *available.entry(c).or_default() += 1;
    }
    let matches = a
        .iter()
        .filter(|c| match available.get_mut(c) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count();
    2.0 * matches as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::problems;

    #[test]
    fn reports_every_failing_validator_in_djangos_order() {
        let short = "This password is too short. It must contain at least 8 characters.";
        let common = "This password is too common.";
        let numeric = "This password is entirely numeric.";
        let long = "This password is too long. It must contain at most 4096 bytes.";
        let like_username = "The password is too similar to the username.";
        let (two_byte, under_cap) = ("é".repeat(2049), "ab1é".repeat(800));
        let cases: [(&str, &str, &str, &[&str]); 7] = [
            (
                "correct horse battery staple",
                "alice",
                "alice@example.com",
                &[],
            ),
            ("1234567", "bob", "", &[short, common, numeric]),
            ("password", "bob", "", &[common]),
            ("alicealice1", "alicealice", "", &[like_username]),
            (
                "zebrafish99",
                "bob",
                "zebrafish99@example.com",
                &["The password is too similar to the email address."],
            ),
            // The cap is in bytes, not characters.
            (&two_byte, "bob", "", &[long]),
            (&under_cap, "bob", "", &[]),
        ];
        for (password, username, email, expected) in cases {
            assert_eq!(problems(password, username, email), expected, "{password}");
        }
    }
}
