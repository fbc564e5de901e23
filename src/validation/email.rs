//! Email address syntax, following Django's `EmailValidator`.

use std::net::{Ipv4Addr, Ipv6Addr};

const USER_SPECIALS: &str = "-!#$%&'*+/=?^_`{}|~";

/// Whether `value` is an address Django's `EmailValidator` accepts: a
/// dot-atom local part, and a domain name (IDN allowed), `localhost`, or an
/// address literal such as `[192.0.2.1]`.
pub fn is_valid_email(value: &str) -> bool {
    if value.len() > 320 {
        return false;
    }
    let Some((user, domain)) = value.rsplit_once('@') else {
        return false;
    };
    valid_user(user) && (domain == "localhost" || valid_domain(domain) || valid_literal(domain))
}

fn valid_user(user: &str) -> bool {
    !user.is_empty()
        && user.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || USER_SPECIALS.contains(c))
        })
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((tld, names)) = labels.split_last() else {
        return false;
    };
    !names.is_empty() && names.iter().all(|label| valid_label(label)) && valid_tld(tld)
}

/// A label of letters, digits and inner hyphens; non-ASCII letters stand for
/// an internationalised name (Django tries the punycode form).
fn valid_label(label: &str) -> bool {
    let len = label.chars().count();
    (1..=63).contains(&len)
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

fn valid_tld(tld: &str) -> bool {
    (2..=63).contains(&tld.chars().count()) && valid_label(tld)
}

fn valid_literal(domain: &str) -> bool {
    let Some(inner) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) else {
        return false;
    };
    match inner.strip_prefix("IPv6:") {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
        None => inner.parse::<Ipv4Addr>().is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_email;

    #[test]
    fn accepts_what_django_accepts() {
        for ok in [
            "a@example.com",
            "first.last+tag@sub.example.co.uk",
            "x@localhost",
            "o'brien@example.org",
            "user@[192.0.2.1]",
            "user@[IPv6:2001:db8::1]",
            "jorg@exämple.de",
            "a@exämple.de",
        ] {
            assert!(is_valid_email(ok), "{ok} should be valid");
        }
    }

    #[test]
    fn rejects_what_django_rejects() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@-b.com",
            "a@b-.com",
            "a..b@example.com",
            ".a@example.com",
            "a b@example.com",
            "a@example.c",
            "a@exa mple.com",
            "a@[300.1.1.1]",
        ] {
            assert!(!is_valid_email(bad), "{bad} should be invalid");
        }
    }
}
