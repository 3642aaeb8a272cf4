//! Opening the encrypted database: key first, then the pragmas, then the migrations.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_migrations::MigrationHarness;

use crate::cached::BumpCounter;
use crate::error::{Error, Result, corrupt};
use crate::keys::{DbKey, KeyVault};
pub use crate::migrations::MIGRATIONS;
use crate::pending_stock::PendingStock;
use crate::schema::counters;

/// One device's encrypted database. Not `Sync`: share it behind a mutex, or open a second
/// `Store` on the same file (WAL lets readers and one writer work side by side).
pub struct Store {
    pub(crate) conn: SqliteConnection,
    pub(crate) pending_stock: PendingStock,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// How the pages of a database are encrypted and authenticated. Every page a commit writes is
/// encrypted (AES-256-CBC) and MACed; HMAC-SHA256 authenticates a page about three times faster
/// than SQLCipher 4's default HMAC-SHA512 (SHA extensions), with the same 256-bit key strength,
/// so new databases use it. Files created with the default keep it: their pages say which MAC
/// they carry only by verifying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CipherProfile {
    HmacSha256,
    /// SQLCipher 4 defaults, for files created before the switch.
    Sqlcipher4Default,
}

impl CipherProfile {
    /// Settings for `schema` ("main" or an attached name), applied after its key and before its
    /// first page is read or written.
    pub(crate) fn pragmas(self, schema: &str) -> String {
        match self {
            CipherProfile::HmacSha256 => {
                format!("PRAGMA {schema}.cipher_hmac_algorithm = HMAC_SHA256;")
            }
            CipherProfile::Sqlcipher4Default => String::new(),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Opens (creating if missing) an encrypted SQLite file and applies the key and the pragmas,
/// without running migrations. An existing file is tried with each [`CipherProfile`]: a wrong
/// key fails them all.
pub(crate) fn open_connection(path: &Path, key: &DbKey) -> Result<SqliteConnection> {
    match open_with_profile(path, key, CipherProfile::HmacSha256) {
        Err(Error::WrongKey) if path.exists() => {
            open_with_profile(path, key, CipherProfile::Sqlcipher4Default)
        }
        other => other,
    }
}

fn open_with_profile(path: &Path, key: &DbKey, profile: CipherProfile) -> Result<SqliteConnection> {
    let url = path.to_str().ok_or_else(|| Error::InvalidInput {
        field: "path",
        reason: "not valid UTF-8".into(),
    })?;
    // A WAL left by a crash holds committed pages. A read-write connection that finds the key
    // wrong would, on closing, checkpoint that WAL into the file and remove it; so the key is
    // first proven on a read-only connection, which never writes either file.
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).exists() {
        let read_only = format!("file:{}?mode=ro", uri_path(url));
        if let Ok(mut probe) = SqliteConnection::establish(&read_only)
            && let Err(Error::WrongKey) = check_key(&mut probe, key, profile)
        {
            return Err(Error::WrongKey);
        }
    }
    let mut conn = SqliteConnection::establish(url).map_err(Error::Open)?;
    check_key(&mut conn, key, profile)?;
    conn.batch_execute(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(conn)
}

/// A file path as the path of a `file:` URI (`%`, `?` and `#` escaped).
fn uri_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23")
}

/// Applies the key and profile to a fresh connection and reads the schema: a wrong key (or
/// profile) only shows at the first read of the file.
fn check_key(conn: &mut SqliteConnection, key: &DbKey, profile: CipherProfile) -> Result<()> {
    // Silence SQLCipher's own stderr logging before anything can fail; the key must be the very
    // first statement that touches the file.
    conn.batch_execute("PRAGMA cipher_log_level = NONE;")?;
    conn.batch_execute(&key.pragma())?;
    conn.batch_execute(&profile.pragmas("main"))?;
    let probe: std::result::Result<Vec<CountRow>, _> =
        diesel::sql_query("SELECT count(*) AS n FROM sqlite_master").load(conn);
    match probe {
        Ok(rows) => tracing::debug!(objects = rows.first().map_or(0, |r| r.n), "database opened"),
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("not a database")
                || info.message().contains("encrypted") =>
        {
            return Err(Error::WrongKey);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

impl Store {
    /// Opens the database at `path` with `key`, creating and migrating it as needed. A wrong key
    /// gives [`Error::WrongKey`] and leaves the file untouched.
    pub fn open(path: impl AsRef<Path>, key: &DbKey) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let mut conn = open_connection(&path, key)?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(Store {
            conn,
            pending_stock: PendingStock::default(),
            path,
        })
    }

    /// Opens the database with the key kept in `vault` under `account`, creating the key the
    /// first time.
    pub fn open_with_vault(
        path: impl AsRef<Path>,
        vault: &dyn KeyVault,
        account: &str,
    ) -> Result<Store> {
        let key = vault.load_or_create(account)?;
        Store::open(path, &key)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forces the WAL into the main file (e.g. before copying the directory).
    pub fn checkpoint(&mut self) -> Result<()> {
        self.conn
            .batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    /// Versions of the applied migrations, oldest first.
    pub fn applied_migrations(&mut self) -> Result<Vec<String>> {
        let mut v: Vec<String> = self
            .conn
            .applied_migrations()
            .map_err(|e| Error::Migration(e.to_string()))?
            .into_iter()
            .map(|m| m.to_string())
            .collect();
        v.sort();
        Ok(v)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: all of it commits, or none of it.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&mut SqliteConnection) -> Result<T>,
    ) -> Result<T> {
        self.conn.immediate_transaction(f)
    }
}

/// The counter of the device's sale numbers (1, 2, 3…).
pub(crate) const SALE_NUMBER: &str = "sale_local_number";

/// Bumps a named counter and returns its new value (1 the first time).
pub(crate) fn next_counter(conn: &mut SqliteConnection, name: &'static str) -> Result<i64> {
    use crate::schema::counters::dsl;
    if (BumpCounter { name }).execute(conn)? == 0 {
        diesel::insert_into(counters::table)
            .values((dsl::name.eq(name), dsl::value.eq(1i64)))
            .execute(conn)?;
        return Ok(1);
    }
    read_counter(conn, name)
}

pub(crate) fn read_counter(conn: &mut SqliteConnection, name: &str) -> Result<i64> {
    use crate::schema::counters::dsl;
    // get_result, not first: a `LIMIT ?` bind makes SQLite re-prepare the statement each time.
    Ok(counters::table
        .filter(dsl::name.eq(name))
        .select(dsl::value)
        .get_result(conn)
        .optional()?
        .unwrap_or(0))
}

pub(crate) fn set_counter(conn: &mut SqliteConnection, name: &str, value: i64) -> Result<()> {
    use crate::schema::counters::dsl;
    diesel::insert_into(counters::table)
        .values((dsl::name.eq(name), dsl::value.eq(value)))
        .on_conflict(dsl::name)
        .do_update()
        .set(dsl::value.eq(value))
        .execute(conn)?;
    Ok(())
}

/// Rows that belong to one parent (a sale's lines and payments, a mutation's stock deltas) are
/// keyed `parent × 2^20 + n`: they sit together in their table's own b-tree, found by key range,
/// with no separate index for a commit to write.
pub(crate) const CHILD_KEYS: i64 = 1 << 20;

/// The key of child `n` of `parent` (see [`CHILD_KEYS`]).
pub(crate) fn child_key(field: &'static str, parent: i64, n: i64) -> Result<i64> {
    if !(0..CHILD_KEYS).contains(&n) {
        return Err(Error::InvalidInput {
            field,
            reason: format!("at most {} per record", CHILD_KEYS - 1),
        });
    }
    parent
        .checked_mul(CHILD_KEYS)
        .map(|k| k + n)
        .ok_or_else(|| corrupt(field, "parent number out of range"))
}

/// The range of keys of `parent`'s children.
pub(crate) fn child_keys(parent: i64) -> (i64, i64) {
    let first = parent.saturating_mul(CHILD_KEYS);
    (first, first.saturating_add(CHILD_KEYS - 1))
}

/// Timestamps are stored as RFC 3339 UTC with microseconds, so the text (which the audit chain
/// hashes) reads back to the same instant.
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(what: &'static str, text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| corrupt(what, e))
}

/// Truncates to what storage keeps (microseconds).
pub(crate) fn stored_instant(at: DateTime<Utc>) -> DateTime<Utc> {
    parse_ts("timestamp", &ts(at)).expect("our own RFC 3339 text parses")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenda_domain::{FiscalData, Money, Product, ProductId, Unit};

    fn product() -> Product {
        Product {
            id: ProductId::new(),
            sku: "CAFE-500".into(),
            gtin: None,
            name: "Café Torrado 500g".into(),
            unit: Unit::Each,
            price: Money::from_centavos(1899),
            fiscal: FiscalData::simples_nacional("09012100"),
            active: true,
            version: 1,
        }
    }

    #[test]
    fn new_databases_use_hmac_sha256_and_older_files_keep_opening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = DbKey::generate();

        // A file created with SQLCipher's default settings, as every file was before the switch.
        let legacy = dir.path().join("legacy.db");
        {
            let mut conn =
                open_with_profile(&legacy, &key, CipherProfile::Sqlcipher4Default).expect("opens");
            conn.run_pending_migrations(MIGRATIONS).expect("migrates");
        }
        let p = product();
        Store::open(&legacy, &key)
            .expect("a default-settings file opens")
            .load_catalog(vec![p.clone()], &mut |_| {})
            .expect("and takes writes");
        let mut reopened = Store::open(&legacy, &key).expect("reopens");
        assert_eq!(reopened.product(p.id).expect("reads"), Some(p));
        drop(reopened);
        // Its pages still carry the default MAC: the file was not silently half-converted.
        assert!(matches!(
            open_with_profile(&legacy, &key, CipherProfile::HmacSha256),
            Err(Error::WrongKey)
        ));

        // A new file is written with HMAC-SHA256: the default settings cannot read it.
        let fresh = dir.path().join("fresh.db");
        drop(Store::open(&fresh, &key).expect("creates"));
        assert!(matches!(
            open_with_profile(&fresh, &key, CipherProfile::Sqlcipher4Default),
            Err(Error::WrongKey)
        ));

        // A wrong key fails every profile and is reported as such.
        assert!(matches!(
            Store::open(&fresh, &DbKey::generate()),
            Err(Error::WrongKey)
        ));
    }
}
