//! UTC timestamps stored as unix microseconds and shown as DRF shows them.

use std::fmt;

use serde::{Serialize, Serializer};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// A point in time, in microseconds since the unix epoch (UTC).
///
/// Stored as BIGINT on both backends; rendered as ISO-8601 with six
/// fractional digits and `Z`, e.g. `2026-11-29T11:03:18.736308Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Timestamp(pub i64);

const ISO: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

impl Timestamp {
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp((nanos / 1_000) as i64)
    }

    pub fn plus_seconds(self, seconds: u64) -> Self {
        Timestamp(self.0.saturating_add(micros(seconds)))
    }

    pub fn minus_seconds(self, seconds: u64) -> Self {
        Timestamp(self.0.saturating_sub(micros(seconds)))
    }

    pub fn seconds_since(self, earlier: Timestamp) -> i64 {
        (self.0 - earlier.0) / 1_000_000
    }

    /// For HTML's `<time datetime>`, which allows at most millisecond precision.
    pub fn html(self) -> String {
        const HTML: &[BorrowedFormatItem<'static>] = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.to_datetime().format(HTML).unwrap_or_default()
    }

    /// A compact human form for pages: `2026-11-29 11:03 UTC`.
    pub fn short(self) -> String {
        const SHORT: &[BorrowedFormatItem<'static>] =
            format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        self.to_datetime().format(SHORT).unwrap_or_default()
    }

    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

fn micros(seconds: u64) -> i64 {
    i64::try_from(seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.to_datetime().format(ISO).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_drf_with_microseconds() {
        assert_eq!(
            Timestamp(1_795_950_198_736_308).to_string(),
            "2026-11-29T11:03:18.736308Z"
        );
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn renders_the_edges_of_the_range() {
        assert_eq!(
            Timestamp(-62_135_596_800_000_000).to_string(),
            "0001-01-01T00:00:00.000000Z"
        );
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
        let last = Timestamp(253_402_300_799_999_999);
        assert_eq!(last.to_string(), "9999-12-31T23:59:59.999999Z");
        assert_eq!(
            serde_json::to_string(&last).unwrap(),
            "\"9999-12-31T23:59:59.999999Z\""
        );
    }
}
