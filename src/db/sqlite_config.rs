//! Process-wide SQLite settings, made before the first connection opens.

use std::sync::Once;

/// Turns off SQLite's memory statistics.
///
/// With them on (the library's default), every allocation and free inside
/// SQLite takes one process-wide mutex to update the counters, so reader
/// threads, and the async workers dropping rows, queue on it. We never read
/// the statistics nor set a soft heap limit (the only users of them), and
/// SQLite's docs recommend `SQLITE_DEFAULT_MEMSTATUS=0` for speed.
pub fn disable_memory_statistics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` takes an int for this option; it is only
        // accepted before SQLite initializes (on the first connection's
        // open), and otherwise returns SQLITE_MISUSE without effect, which
        // leaves the default: correct, only slower.
        let _ =
            unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0) };
    });
}
