//! Parsing `Authorization: Token <t>` as Knox does.

use super::failure;

/// The token in an `Authorization` header value.
///
/// `Ok(None)`: no header, or another scheme (not ours to judge, as in DRF).
/// `Err(detail)`: our scheme, malformed.
pub fn token_from_authorization(header: Option<&str>) -> Result<Option<&str>, &'static str> {
    let Some(header) = header else {
        return Ok(None);
    };
    let mut parts = header.split_ascii_whitespace();
    let Some(scheme) = parts.next() else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("token") && !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    match (parts.next(), parts.next()) {
        (None, _) => Err(failure::NO_CREDENTIALS),
        (Some(_), Some(_)) => Err(failure::CONTAINS_SPACES),
        (Some(token), None) => Ok(Some(token)),
    }
}
