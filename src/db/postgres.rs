//! PostgreSQL: one pool of connections for reads and writes alike.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::conns::{ConnPool, Recycle};

pub type PgDb = ConnPool<PgConnection>;

/// How long a connection serves before it is replaced, unless
/// `databases.leads.max_lifetime` says otherwise (as sqlx's own pool).
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

pub(super) fn connect(
    url: &str,
    max: u32,
    connect_timeout: Duration,
    max_lifetime: Option<Duration>,
) -> Result<PgDb, sqlx::Error> {
    // Every statement of ours is an index lookup whose generic plan holds
    // for any value, and whose joins match a handful of rows by index: a
    // nested loop. Left to itself, PostgreSQL re-plans a statement whose
    // generic plan looks worse than its first custom ones, and may cost a
    // merge join as if it read up to the largest key it has statistics for.
    let options = PgConnectOptions::from_str(url)?.options([
        ("plan_cache_mode", "force_generic_plan"),
        ("enable_mergejoin", "off"),
    ]);
    let recycle = Recycle {
        // A connection that died with its server is noticed on checkout,
        // not by the request that draws it.
        verify_after: Some(Duration::from_secs(1)),
        // A generic plan is made once per connection, from the statistics of
        // the moment: a new connection plans by the tables' current sizes.
        max_lifetime,
    };
    Ok(ConnPool::new(options, max, connect_timeout, recycle))
}
