//! The one start of the SQLite library linked into this process. SQLite marks itself
//! initialized before it runs SQLCipher's own start (its crypto provider, the
//! `sqlcipher_export` function), and that start runs outside SQLite's lock: a second thread
//! opening its first connection meanwhile finds SQLite "ready" and SQLCipher not, and its key
//! is refused or `sqlcipher_export` is missing. Every connection this crate opens first passes
//! through here, so the first start completes before any other thread goes on (the server,
//! which does not depend on this crate, starts SQLite the same way before its pool opens).

use std::sync::Once;

use libsqlite3_sys as ffi;

static STARTED: Once = Once::new();

/// Runs SQLite's (and SQLCipher's) initialization to completion, once per process; later calls
/// return at once. Call before opening a connection by any route other than [`crate::Store`].
#[allow(unsafe_code)] // a C call with no arguments: SQLite's own initializer
pub fn start_sqlite() {
    STARTED.call_once(|| {
        // SAFETY: sqlite3_initialize takes no pointers and may be called at any time; `Once`
        // makes every other caller wait until this first call has returned.
        let rc = unsafe { ffi::sqlite3_initialize() };
        // A failure here is out of memory at process start; the first open reports it again
        // with its own error, so it is only logged.
        if rc != ffi::SQLITE_OK {
            tracing::error!(rc, "the SQLite library did not start");
        } else {
            crate::page_cipher::register();
        }
    });
}
