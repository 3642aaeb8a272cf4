//! The process's budget for SQLite's memory. Every connection keeps its own page cache, sized
//! for its job (a server's pool holds whole push batches; a bulk load widens its own while it
//! runs), and in a process that embeds several of them — the desktop app with its store server
//! beside the register's store — those caches add up to far more than a desktop app should
//! hold. A soft limit makes SQLite recycle cached pages, across all its connections, once its
//! total allocation passes the budget; nothing fails when the budget is short (that would be a
//! hard limit), work only re-reads pages from disk.

use libsqlite3_sys as ffi;

/// Sets the soft limit on the memory SQLite allocates in this process (all connections, this
/// store's and any other's linked into it). Returns the previous limit (0: none).
#[allow(unsafe_code)] // a C call with no pointers: SQLite's own setter
pub fn limit_sqlite_memory(bytes: i64) -> i64 {
    // The setter starts SQLite itself; the crate's start makes sure SQLCipher's start completes.
    crate::start_sqlite();
    // SAFETY: sqlite3_soft_heap_limit64 only stores the limit; it is thread-safe and may be
    // called at any time.
    unsafe { ffi::sqlite3_soft_heap_limit64(bytes) }
}

/// The memory SQLite holds right now, in bytes (page caches, statements, schemas).
#[allow(unsafe_code)] // a C call with no pointers: SQLite's own counter
pub fn sqlite_memory_in_use() -> i64 {
    // SAFETY: a read of SQLite's own counter.
    unsafe { ffi::sqlite3_memory_used() }
}
