//! Token generation and digests.
//!
//! A token is 64 lower-case hex characters from 32 CSPRNG bytes, after an
//! optional configured prefix. Only its SHA-512 digest and its first 15
//! characters (the `token_key`, for lookup) are stored.

use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

pub const TOKEN_KEY_LENGTH: usize = 15;

/// A token that was just created; its plaintext goes to the client once.
pub struct NewToken {
    pub plaintext: String,
    pub digest: String,
    pub token_key: String,
}

pub fn generate(prefix: &str) -> NewToken {
    let plaintext = format!("{prefix}{}", random_hex(32));
    NewToken {
        digest: digest(&plaintext),
        token_key: token_key(&plaintext).to_owned(),
        plaintext,
    }
}

/// `bytes` bytes from the operating system's CSPRNG, as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

/// The SHA-512 hex digest under which a token is stored.
pub fn digest(token: &str) -> String {
    hex(&Sha512::digest(token.as_bytes()))
}

/// The first 15 characters, by which candidate rows are looked up.
pub fn token_key(token: &str) -> &str {
    match token.char_indices().nth(TOKEN_KEY_LENGTH) {
        Some((end, _)) => &token[..end],
        None => token,
    }
}

/// Compares two digests without revealing, through timing, where they differ.
pub fn digests_match(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Lower-case hex, from a table: it runs on every authenticated request
/// (the presented token's digest), where `write!` per byte showed in profiles.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_hex_with_matching_digest_and_key() {
        let token = generate("lds_");
        assert_eq!(token.plaintext.len(), 4 + 64);
        assert!(token.plaintext.starts_with("lds_"));
        assert!(token.plaintext[4..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(token.token_key, &token.plaintext[..15]);
        assert_eq!(token.digest.len(), 128);
        assert!(digests_match(&token.digest, &digest(&token.plaintext)));
        assert!(!digests_match(&token.digest, &digest("other")));
        assert_ne!(generate("").plaintext, generate("").plaintext);
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
