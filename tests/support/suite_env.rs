//! What the test suite reads from its environment, shared by the test crates
//! (`#[path]`-included): the CI rule, the PostgreSQL server, the backends.

/// CI is set: to anything but empty, `0`, `false` or `no` (any case). The
/// same rule as tests/faults/common.py; under CI nothing may be skipped.
pub fn ci() -> bool {
    let value = std::env::var("CI").unwrap_or_default();
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no"
    )
}

/// The PostgreSQL server the tests create their databases on
/// (`tests/run.sh` starts a private one and sets `LEADS_TEST_PG_URL`).
pub fn pg_admin_url() -> String {
    std::env::var("LEADS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Fails a PostgreSQL test that this run does not include:
/// `LEADS_TEST_BACKENDS=sqlite` (what `tests/run.sh --quick` sets) leaves the
/// PostgreSQL tests out by name (`--skip postgres`), so one that runs anyway
/// is missing `postgres` in its name.
pub fn require_postgres_selected() {
    let backends = std::env::var("LEADS_TEST_BACKENDS").unwrap_or_default();
    let selected = backends.is_empty()
        || backends
            .split(',')
            .any(|backend| backend.trim() == "postgres");
    assert!(
        selected,
        "a PostgreSQL test ran with LEADS_TEST_BACKENDS={backends}: \
         a test that uses PostgreSQL must have `postgres` in its name"
    );
}

/// A PostgreSQL server that cannot be reached: a failure under CI, else a
/// skip (the caller returns) with a note on standard error.
pub fn pg_unreachable(error: impl std::fmt::Display) {
    assert!(
        !ci(),
        "PostgreSQL is required under CI but unreachable: {error}"
    );
    eprintln!("skipping PostgreSQL test: {error}");
}
