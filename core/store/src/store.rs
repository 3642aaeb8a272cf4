//! Opening the encrypted database: key first, then the pragmas, then the migrations.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::connection::{
    AnsiTransactionManager, SimpleConnection, TransactionDepthChange, TransactionManager,
    TransactionManagerStatus,
};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_migrations::MigrationHarness;

use crate::cached::{BeginImmediate, BumpCounter, Commit};
use crate::error::{Error, Result, corrupt};
use crate::keys::{DbKey, KeyVault};
pub use crate::migrations::MIGRATIONS;
use crate::pending_stock::PendingStock;
use crate::product_cache::{CatalogEpoch, ProductCache};
use crate::schema::counters;

/// One device's encrypted database. Not `Sync`: the one writer is shared behind a mutex, and
/// reads that must not wait for it go through [`Store::readers`] (WAL lets readers and one
/// writer work side by side).
pub struct Store {
    pub(crate) conn: SqliteConnection,
    pub(crate) pending_stock: PendingStock,
    path: PathBuf,
    /// Kept to open reader connections on the same file (zeroized on drop).
    key: DbKey,
    profile: CipherProfile,
    /// A reader connection: `PRAGMA query_only`, and [`Store::write`] refuses.
    read_only: bool,
    /// Advanced by every product write; shared with the readers, whose remembered products
    /// it keeps current.
    pub(crate) catalog_epoch: Arc<CatalogEpoch>,
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
    open_detecting_profile(path, key).map(|(conn, _)| conn)
}

fn open_detecting_profile(path: &Path, key: &DbKey) -> Result<(SqliteConnection, CipherProfile)> {
    match open_with_profile(path, key, CipherProfile::HmacSha256) {
        Err(Error::WrongKey) if path.exists() => {
            open_with_profile(path, key, CipherProfile::Sqlcipher4Default)
                .map(|c| (c, CipherProfile::Sqlcipher4Default))
        }
        other => other.map(|c| (c, CipherProfile::HmacSha256)),
    }
}

fn open_with_profile(path: &Path, key: &DbKey, profile: CipherProfile) -> Result<SqliteConnection> {
    crate::start_sqlite();
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
        let (mut conn, profile) = open_detecting_profile(&path, key)?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(Store {
            conn,
            pending_stock: PendingStock::default(),
            path,
            key: key.clone(),
            profile,
            read_only: false,
            catalog_epoch: Arc::default(),
        })
    }

    /// Reader connections on this store's file, for reads that must not wait for a write in
    /// progress (a sale signing inside its transaction holds the writer): each reader reads the
    /// last committed snapshot (WAL). Cheap to clone and share between threads.
    pub fn readers(&self) -> Readers {
        Readers {
            shared: Arc::new(ReaderPool {
                path: self.path.clone(),
                key: self.key.clone(),
                profile: self.profile,
                idle: Mutex::new(Vec::new()),
                catalog_epoch: Arc::clone(&self.catalog_epoch),
                products: ProductCache::default(),
            }),
        }
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
        if self.read_only {
            return Err(Error::ReaderCannotWrite);
        }
        immediate_transaction(&mut self.conn, f)
    }
}

/// Diesel's `immediate_transaction`, with `BEGIN IMMEDIATE` and `COMMIT` kept prepared: diesel
/// runs them through `sqlite3_exec`, which parses them again on every call, a few microseconds
/// of every sale's commit. Diesel's transaction depth is kept, so nested transactions still
/// become savepoints, and a failed commit is rolled back as diesel would.
fn immediate_transaction<T>(
    conn: &mut SqliteConnection,
    f: impl FnOnce(&mut SqliteConnection) -> Result<T>,
) -> Result<T> {
    use diesel::connection::TransactionDepthChange::{DecreaseDepth, IncreaseDepth};
    fn depth(conn: &mut SqliteConnection, change: TransactionDepthChange) -> Result<()> {
        match AnsiTransactionManager::transaction_manager_status_mut(conn) {
            TransactionManagerStatus::Valid(status) => Ok(status.change_transaction_depth(change)?),
            TransactionManagerStatus::InError => {
                Err(diesel::result::Error::BrokenTransactionManager.into())
            }
        }
    }
    if AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some()
    {
        return Err(diesel::result::Error::AlreadyInTransaction.into());
    }
    BeginImmediate {}.execute(conn)?;
    depth(conn, IncreaseDepth)?;
    let rollback = |conn: &mut SqliteConnection, error: Error| {
        AnsiTransactionManager::rollback_transaction(conn)?;
        Err(error)
    };
    match f(conn) {
        Ok(value) => match (Commit {}).execute(conn) {
            Ok(_) => {
                depth(conn, DecreaseDepth)?;
                Ok(value)
            }
            // SQLite leaves the transaction open when COMMIT fails (busy, I/O).
            Err(e) => rollback(conn, e.into()),
        },
        Err(e) => rollback(conn, e),
    }
}

/// Reader connections on one store file, opened as needed and kept for reuse. `Send + Sync`
/// and cheap to clone: every clone shares the same connections.
///
/// A reader is a [`Store`] whose connection is `query_only` and whose writes are refused with
/// [`Error::ReaderCannotWrite`]; it never runs migrations (the writer did when it opened).
/// Each read sees the last committed state, and never waits for the writer: in WAL mode
/// readers and the one writer work side by side.
#[derive(Clone)]
pub struct Readers {
    shared: Arc<ReaderPool>,
}

struct ReaderPool {
    path: PathBuf,
    key: DbKey,
    profile: CipherProfile,
    /// Connections not in use. At most [`IDLE_READERS`] are kept; more are opened while reads
    /// run side by side, and closed when they end.
    idle: Mutex<Vec<Store>>,
    catalog_epoch: Arc<CatalogEpoch>,
    /// Products by scanned code, good while the catalog epoch they were read at is current.
    products: ProductCache,
}

/// Reader connections kept open between reads (each holds its own page cache).
const IDLE_READERS: usize = 4;

impl ReaderPool {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Store>> {
        // The list holds whole connections only: a panic elsewhere cannot leave it half-made.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A reader connection lent by [`Readers::get`]: a read-only [`Store`], returned to the pool
/// when dropped.
pub struct Reader {
    store: Option<Store>,
    pool: Arc<ReaderPool>,
}

impl std::ops::Deref for Reader {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Store {
        self.store.as_mut().expect("present until dropped")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(mut store) = self.store.take() else {
            return;
        };
        // A connection still inside a transaction (a failed rollback) is closed, not reused.
        let settled = AnsiTransactionManager::transaction_manager_status_mut(&mut store.conn)
            .transaction_depth()
            .is_ok_and(|depth| depth.is_none());
        if settled {
            let mut idle = self.pool.lock_idle();
            if idle.len() < IDLE_READERS {
                idle.push(store);
            }
        }
    }
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

impl Readers {
    /// Runs `f` on a reader connection (opening one if none is idle). Only reads succeed
    /// there; a write gives [`Error::ReaderCannotWrite`].
    pub fn read<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut reader = self.get()?;
        f(&mut reader)
    }

    /// [`Store::product_by_code`], remembered until the catalog changes: a scan after a sale
    /// needs no page of the catalog read and decrypted again.
    pub fn product_by_code(&self, code: &str) -> Result<Option<tenda_domain::Product>> {
        let code = code.trim();
        let epoch = self.shared.catalog_epoch.current();
        if let Some(known) = self.shared.products.get(epoch, code) {
            return Ok(known);
        }
        let found = self.get()?.product_by_code(code)?;
        self.shared.products.put(epoch, code, found.clone());
        Ok(found)
    }

    /// A reader connection, back to the pool when dropped: a drop-in for the writer at call
    /// sites that only read.
    pub fn get(&self) -> Result<Reader> {
        let idle = self.lock_idle().pop();
        let store = match idle {
            Some(reader) => reader,
            None => self.open()?,
        };
        Ok(Reader {
            store: Some(store),
            pool: Arc::clone(&self.shared),
        })
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Store>> {
        self.shared.lock_idle()
    }

    fn open(&self) -> Result<Store> {
        let pool = &self.shared;
        let mut conn = open_with_profile(&pool.path, &pool.key, pool.profile)?;
        conn.batch_execute("PRAGMA query_only = ON;")?;
        Ok(Store {
            conn,
            pending_stock: PendingStock::default(),
            path: pool.path.clone(),
            key: pool.key.clone(),
            profile: pool.profile,
            read_only: true,
            catalog_epoch: Arc::clone(&pool.catalog_epoch),
        })
    }
}

/// Pages in the WAL of the database at `db` now: what the commits since the last checkpoint
/// wrote, each one encrypted, MACed and made durable (the measure of a commit's weight).
pub fn wal_pages(db: &Path) -> usize {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let bytes = std::fs::read(&wal).unwrap_or_default();
    // The WAL header (32 bytes) names the page size; each frame is a 24-byte header and a page.
    let Some(page) = bytes.get(8..12).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
        return 0;
    };
    let page = u32::from_be_bytes(page) as usize;
    // A WAL still being started may be shorter than its header: no frames yet.
    bytes.len().saturating_sub(32) / (24 + page)
}

/// Bumps a named counter and returns its new value (1 the first time).
pub(crate) fn next_counter(
    conn: &mut SqliteConnection,
    name: impl Into<Cow<'static, str>>,
) -> Result<i64> {
    use crate::schema::counters::dsl;
    let name = name.into();
    if (BumpCounter { name: name.clone() }).execute(conn)? == 0 {
        diesel::insert_into(counters::table)
            .values((dsl::name.eq(name.as_ref()), dsl::value.eq(1i64)))
            .execute(conn)?;
        return Ok(1);
    }
    read_counter(conn, &name)
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

    fn sale_of(p: &Product) -> tenda_domain::Sale {
        use tenda_domain::{Cart, DeviceId, Payment, Quantity, SaleHeader, SaleId, UserId};
        let mut cart = Cart::new();
        cart.add(p, Quantity::from_units(1).expect("fits"))
            .expect("line");
        let total = cart.totals().expect("totals").total;
        cart.checkout(
            SaleHeader {
                id: SaleId::new(),
                device_id: DeviceId::new(),
                seller_id: UserId::new(),
                created_at: chrono::Utc::now(),
            },
            vec![Payment::cash(total, total).expect("exact")],
        )
        .expect("settled")
    }

    fn sale_commit(p: &Product) -> crate::SaleCommit {
        let sale = sale_of(p);
        crate::SaleCommit {
            actor: tenda_domain::Actor::User(sale.seller_id),
            sale,
            register_session_id: None,
        }
    }

    #[test]
    fn the_wal_holds_the_pages_commits_wrote_until_a_checkpoint_empties_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("d.db");
        let mut store = Store::open(&path, &DbKey::generate()).expect("opens");
        let p = product();
        store.save_product(&p).expect("saves");
        store.checkpoint().expect("checkpoints");
        assert_eq!(wal_pages(&path), 0, "a checkpoint empties the WAL");
        store.commit_sale(&sale_commit(&p)).expect("commits");
        // A sale writes its row (with its audit entry), the row's place in the index of sale
        // ids and its outbox entries (with the stock it moves): each a page of its own b-tree,
        // at least.
        let one_sale = wal_pages(&path);
        assert!(one_sale >= 3, "{one_sale} pages");
        store.commit_sale(&sale_commit(&p)).expect("commits");
        assert!(
            wal_pages(&path) > one_sale,
            "a second commit adds its pages"
        );
        assert_eq!(wal_pages(&dir.path().join("absent.db")), 0);
    }

    #[test]
    fn remembered_products_follow_every_catalog_write() {
        use crate::bulk::PullChange;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path().join("d.db"), &DbKey::generate()).expect("opens");
        let readers = store.readers();
        let scanned = || readers.product_by_code("CAFE-500").expect("reads");
        let mut p = product();
        // Unknown, and remembered as unknown: until a write adds it.
        assert_eq!(scanned(), None);
        store.save_product(&p).expect("saves");
        assert_eq!(scanned(), Some(p.clone()));
        // A new price through each way the catalog is written: the next scan charges it.
        p.price = Money::from_centavos(2099);
        p.version = 2;
        store.save_product(&p).expect("saves");
        assert_eq!(
            readers.product_by_code(" CAFE-500 ").expect("reads"),
            Some(p.clone())
        );
        p.price = Money::from_centavos(2199);
        p.version = 3;
        store
            .apply_changes(vec![PullChange::Product(p.clone())], &mut |_| {})
            .expect("pulled");
        assert_eq!(scanned(), Some(p.clone()));
        p.price = Money::from_centavos(2299);
        let report = store
            .import_catalog_csv(
                format!(
                    "sku;nome;preco;unidade;ncm;csosn\n{};{};22,99;UN;09012100;102\n",
                    p.sku, p.name
                )
                .as_bytes(),
            )
            .expect("imported");
        assert_eq!(report.updated, 1, "{report:?}");
        assert_eq!(scanned().map(|found| found.price), Some(p.price));
        // A sale commits without touching the catalog: the epoch stays, so the answers
        // remembered before it are still used after it.
        let epoch = store.catalog_epoch.current();
        store
            .commit_sale(&crate::sales::SaleCommit {
                sale: sale_of(&p),
                actor: tenda_domain::Actor::User(tenda_domain::UserId::new()),
                register_session_id: None,
            })
            .expect("sells");
        assert_eq!(store.catalog_epoch.current(), epoch);
    }

    #[test]
    fn readers_read_while_a_sale_holds_the_writer() {
        use crate::fiscal::{FiscalSeries, SignedFiscalDocument};
        use crate::sales::SaleCommit;
        use std::sync::mpsc;
        use std::time::Duration;
        use tenda_domain::{Actor, UserId};

        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path().join("d.db"), &DbKey::generate()).expect("opens");
        let p = product();
        store
            .load_catalog(vec![p.clone()], &mut |_| {})
            .expect("loads");
        let readers = store.readers();
        let commit = SaleCommit {
            sale: sale_of(&p),
            actor: Actor::User(UserId::new()),
            register_session_id: None,
        };

        // The sale's signing step runs inside the writer's transaction, as a checkout's does;
        // it waits there until a reader has searched and counted on another thread. If reads
        // waited for the writer, the reader would never answer and the signing would give up.
        let (answered_tx, answered) = mpsc::channel();
        let reading = {
            let readers = readers.clone();
            std::thread::spawn(move || {
                let found = readers
                    .read(|r| r.search_products("cafe", 10))
                    .expect("searches");
                let sales = readers.read(|r| r.sale_count()).expect("counts");
                answered_tx
                    .send((found.len(), sales))
                    .expect("the writer waits");
            })
        };
        let series = FiscalSeries {
            model: 65,
            series: 1,
        };
        let committed = store
            .commit_sale_with_fiscal(&commit, series, |number| {
                let (found, sales) = answered
                    .recv_timeout(Duration::from_secs(30))
                    .map_err(|_| "the reader waited for the writer".to_owned())?;
                // The reader saw the last committed state: the catalog, not this sale.
                assert_eq!((found, sales), (1, 0));
                Ok(SignedFiscalDocument {
                    access_key: format!("3526030615725000011665001{number:09}9{number:08}0"),
                    emission: tenda_domain::EmissionType::OfflineContingency,
                    status: tenda_domain::FiscalStatus::Contingency,
                    xml: "<NFe/>".into(),
                    protocol: None,
                    deadline: None,
                })
            })
            .expect("the sale commits");
        reading.join().expect("the reader ends");
        assert_eq!(committed.local_number, 1);

        // Once committed, readers see it; a reader refuses to write.
        assert_eq!(readers.read(|r| r.sale_count()).expect("counts"), 1);
        let refused = readers.read(|r| r.set_setting("pos.x", &1));
        assert!(
            matches!(refused, Err(Error::ReaderCannotWrite)),
            "{refused:?}"
        );
        assert_eq!(store.setting::<i32>("pos.x").expect("reads"), None);
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
