//! The page cipher this crate registers (RustCrypto) and SQLCipher's own (OpenSSL) read each
//! other's files: the format is SQLCipher's, whichever computes it. One process switches the
//! provider back and forth, so this is the only test in its binary.
#![allow(unsafe_code)] // SQLite's C interface, to open files below the store

use std::ffi::{CStr, CString, c_int, c_void};

use libsqlite3_sys as ffi;

unsafe extern "C" {
    fn sqlcipher_openssl_setup(provider: *mut c_void) -> c_int;
    fn sqlcipher_register_provider(provider: *mut c_void) -> c_int;
    fn sqlcipher_malloc(size: u64) -> *mut c_void;
}

/// A raw key, as the store uses (the MAC's key still comes from it through PBKDF2), and a
/// passphrase (PBKDF2-HMAC-SHA512, 256,000 rounds).
const RAW_KEY: &str =
    "PRAGMA key = \"x'2d3c6a1f4b5e607182939a0b1c2d3e4f506172839405a6b7c8d9e0f1a2b3c4d5'\"";
const PASSPHRASE: &str = "PRAGMA key = 'senha da loja'";

struct Db(*mut ffi::sqlite3);

impl Db {
    fn open(path: &std::path::Path, key: &str, hmac: &str) -> Db {
        let path = CString::new(path.to_str().expect("UTF-8 path")).expect("no NUL");
        let mut db = std::ptr::null_mut();
        // SAFETY: a valid path and an out-pointer; the handle is closed in Drop.
        let rc = unsafe { ffi::sqlite3_open(path.as_ptr(), &mut db) };
        assert_eq!(rc, ffi::SQLITE_OK);
        let db = Db(db);
        db.exec(key);
        db.exec(&format!("PRAGMA cipher_hmac_algorithm = {hmac}"));
        db
    }

    fn exec(&self, sql: &str) {
        let sql = CString::new(sql).expect("no NUL");
        // SAFETY: an open handle and a NUL-terminated statement; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.0,
                sql.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, ffi::SQLITE_OK, "{sql:?}: {}", self.error());
    }

    /// The first column of every row `sql` returns, as text.
    fn strings(&self, sql: &str) -> Vec<String> {
        let sql = CString::new(sql).expect("no NUL");
        let mut stmt = std::ptr::null_mut();
        let mut out = Vec::new();
        // SAFETY: an open handle; the statement is finalized before returning, and each text
        // is copied before the next step.
        unsafe {
            let rc =
                ffi::sqlite3_prepare_v2(self.0, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut());
            assert_eq!(rc, ffi::SQLITE_OK, "{sql:?}: {}", self.error());
            loop {
                match ffi::sqlite3_step(stmt) {
                    ffi::SQLITE_ROW => {
                        let text = ffi::sqlite3_column_text(stmt, 0);
                        out.push(if text.is_null() {
                            String::new()
                        } else {
                            CStr::from_ptr(text.cast()).to_string_lossy().into_owned()
                        });
                    }
                    ffi::SQLITE_DONE => break,
                    rc => panic!("{sql:?} stepped to {rc}: {}", self.error()),
                }
            }
            ffi::sqlite3_finalize(stmt);
        }
        out
    }

    fn error(&self) -> String {
        // SAFETY: an open handle; the message is copied at once.
        unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.0)) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by `Db::open` and is closed once.
        unsafe { ffi::sqlite3_close(self.0) };
    }
}

/// Rows across many pages (blobs of several pages each, and small rows), written with `label`.
fn write(db: &Db, label: &str) {
    db.exec("CREATE TABLE IF NOT EXISTS t (label TEXT, n INTEGER, body BLOB)");
    db.exec(&format!(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 200)
         INSERT INTO t SELECT '{label}', n, randomblob(n * 97) FROM s"
    ));
}

/// Every row reads back (every page decrypts and its MAC verifies) for each of `labels`.
fn check(db: &Db, labels: &[&str], provider: &str) {
    assert_eq!(db.strings("PRAGMA cipher_provider"), [provider]);
    assert_eq!(
        db.strings("PRAGMA cipher_integrity_check"),
        Vec::<String>::new(),
        "every page's MAC verifies"
    );
    for label in labels {
        assert_eq!(
            db.strings(&format!(
                "SELECT count(*) || ':' || sum(length(body)) FROM t WHERE label = '{label}'"
            )),
            [format!("200:{}", 97 * 200 * 201 / 2)]
        );
    }
}

#[test]
fn files_written_by_either_page_cipher_open_with_the_other() {
    let dir = tempfile::tempdir().expect("temp dir");
    let by_openssl = dir.path().join("openssl.db");
    let by_rust = dir.path().join("rustcrypto.db");
    // SAFETY: SQLite's initializer takes no arguments; SQLCipher registers its OpenSSL provider.
    assert_eq!(unsafe { ffi::sqlite3_initialize() }, ffi::SQLITE_OK);

    // Written by SQLCipher's own provider, before the store's is registered: one file with the
    // store's raw key and MAC, one with a passphrase and SQLCipher 4's default MAC.
    let files = [
        (&by_openssl, RAW_KEY, "HMAC_SHA256"),
        (&by_rust, PASSPHRASE, "HMAC_SHA512"),
    ];
    for (path, key, hmac) in files {
        let db = Db::open(path, key, hmac);
        assert_eq!(db.strings("PRAGMA cipher_provider"), ["openssl"]);
        write(&db, "openssl");
    }

    // The store registers its provider when SQLite starts through it.
    tenda_store::start_sqlite();
    for (path, key, hmac) in files {
        let db = Db::open(path, key, hmac);
        check(&db, &["openssl"], "rustcrypto");
        write(&db, "rustcrypto");
        check(&db, &["openssl", "rustcrypto"], "rustcrypto");
    }

    // And SQLCipher's own provider, registered again, reads what the store's wrote.
    // SAFETY: the provider is allocated by SQLCipher's allocator (which frees it at shutdown),
    // larger than the structure, and filled by SQLCipher's own setup before it is registered.
    unsafe {
        let provider = sqlcipher_malloc(1024);
        assert!(!provider.is_null());
        std::ptr::write_bytes(provider.cast::<u8>(), 0, 1024);
        assert_eq!(sqlcipher_openssl_setup(provider), ffi::SQLITE_OK);
        assert_eq!(sqlcipher_register_provider(provider), ffi::SQLITE_OK);
    }
    for (path, key, hmac) in files {
        let db = Db::open(path, key, hmac);
        check(&db, &["openssl", "rustcrypto"], "openssl");
    }
}
