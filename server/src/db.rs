//! The server's database: embedded SQLite by default, PostgreSQL for a `postgres://` URL.
//!
//! Both backends run the same migrations and the same diesel queries: each operation is written
//! once inside [`with_conn!`] / [`write_tx!`], which expand it for the connection at hand.

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

use crate::error::Error;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The PostgreSQL advisory lock held while migrating ("tenda" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x0074_656e_6461;

/// SQLite stores whatever type a value has: an integer sum that overflows silently becomes a
/// REAL. These triggers refuse any write that would leave a non-integer in a ledger, so such a
/// write fails (and its transaction rolls back) instead of corrupting the ledger. Rows are inserted from Rust `i64`s; only the running sums are computed in SQL, so only
/// their updates are guarded. (PostgreSQL's BIGINT already refuses; the domain bounds keep both
/// far from it.)
const SQLITE_INTEGER_GUARDS: &str = "
CREATE TRIGGER IF NOT EXISTS stock_levels_integer BEFORE UPDATE ON stock_levels
  WHEN typeof(NEW.quantity) != 'integer'
  BEGIN SELECT RAISE(ABORT, 'stock_levels.quantity must stay an integer'); END;
CREATE TRIGGER IF NOT EXISTS customer_balances_integer BEFORE UPDATE ON customer_balances
  WHEN typeof(NEW.balance_cents) != 'integer'
  BEGIN SELECT RAISE(ABORT, 'customer_balances.balance_cents must stay an integer'); END;
";

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A SQLite file (created if missing).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL (`postgres://user@host:port/db`).
    Postgres(String),
}

impl DatabaseLocation {
    /// `postgres://…` or `postgresql://…` selects PostgreSQL; anything else is a SQLite path.
    pub fn parse(s: &str) -> Self {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Self::Postgres(s.to_owned())
        } else {
            Self::Sqlite(s.trim_start_matches("sqlite://").into())
        }
    }
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // WAL lets readers run beside the single writer; FULL makes each push durable on commit
        // (the WAL is synced before the commit returns); busy_timeout makes writers queue
        // instead of failing. A 64 MiB page cache holds a whole push batch (a few MB of pages),
        // so SQLite does not spill half-written pages to the WAL in the middle of the
        // transaction. The WAL is copied back into the database file once it reaches 8192 pages
        // (32 MiB) rather than SQLite's default 1000: a 1000-sale push writes ~1800 pages, so
        // the default made every push also pay a checkpoint (copy and sync of the database
        // file). Durability is the same either way: committed pages are already synced in the
        // WAL.
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 15000; \
             PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; \
             PRAGMA wal_autocheckpoint = 8192;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

#[derive(Debug)]
struct PgSession;

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for PgSession {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // Values too large to stay inline (a sale's payload) are compressed with lz4 rather than
        // the default pglz, which took a tenth of a push's database time for half the ratio
        // gain. A server built without lz4 refuses the setting and keeps pglz.
        if let Err(e) = conn.batch_execute("SET default_toast_compression = 'lz4'") {
            tracing::debug!("PostgreSQL keeps pglz compression: {e}");
        }
        Ok(())
    }
}

/// A pool of connections to one of the two backends.
#[derive(Clone)]
pub enum Db {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Pg(Pool<ConnectionManager<PgConnection>>),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Db::Sqlite(_) => "Db::Sqlite",
            Db::Pg(_) => "Db::Pg",
        })
    }
}

/// A connection taken from [`Db`].
pub enum Conn {
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    Pg(PooledConnection<ConnectionManager<PgConnection>>),
}

/// Runs SQLite's initialization to completion before the pool opens its first connections on
/// several threads at once. SQLite marks itself initialized before SQLCipher (linked in with
/// it) finishes starting, outside SQLite's lock; a thread arriving in between would find the
/// library half-started. Where the store's own database shares the process (the desktop app),
/// the app starts SQLite first, through the store.
fn start_sqlite() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    #[allow(unsafe_code)] // a C call with no arguments: SQLite's own initializer
    STARTED.call_once(|| {
        // SAFETY: sqlite3_initialize takes no pointers; `Once` holds back every other caller
        // until it has returned. A failure (out of memory) is reported again by the first open.
        unsafe { libsqlite3_sys::sqlite3_initialize() };
    });
}

impl Db {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(location: &DatabaseLocation) -> Result<Self, Error> {
        let db = match location {
            DatabaseLocation::Sqlite(path) => {
                start_sqlite();
                let manager = ConnectionManager::<SqliteConnection>::new(path.to_string_lossy());
                let pool = Pool::builder()
                    .max_size(4)
                    .connection_timeout(Duration::from_secs(30))
                    .connection_customizer(Box::new(SqlitePragmas))
                    .build(manager)
                    .map_err(|e| {
                        Error::Database(format!("cannot open the SQLite database: {e}"))
                    })?;
                Db::Sqlite(pool)
            }
            DatabaseLocation::Postgres(url) => {
                let manager = ConnectionManager::<PgConnection>::new(url);
                let pool = Pool::builder()
                    .max_size(8)
                    .connection_timeout(Duration::from_secs(30))
                    .connection_customizer(Box::new(PgSession))
                    .build(manager)
                    .map_err(|e| Error::Database(format!("cannot connect to PostgreSQL: {e}")))?;
                Db::Pg(pool)
            }
        };
        let mut conn = db.get()?;
        // Any number of processes may start together on a fresh database: each migrates under a
        // database-wide lock, so one applies the migrations and the others find them applied.
        let migrated = match &mut conn {
            Conn::Sqlite(c) => {
                let DatabaseLocation::Sqlite(path) = location else {
                    unreachable!("a SQLite pool comes from a SQLite location")
                };
                let mut lock_path = path.clone().into_os_string();
                lock_path.push(".migrate-lock");
                let lock = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .and_then(|f| f.lock().map(|()| f))
                    .map_err(|source| Error::Io {
                        context: "taking the migration lock".into(),
                        source,
                    })?;
                let r = c.run_pending_migrations(MIGRATIONS).map(|_| ());
                drop(lock);
                r
            }
            Conn::Pg(c) => {
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                    .execute(&mut **c)
                    .map_err(|e| Error::Database(format!("taking the migration lock: {e}")))?;
                let r = c.run_pending_migrations(MIGRATIONS).map(|_| ());
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                    .execute(&mut **c)
                    .map_err(|e| Error::Database(format!("releasing the migration lock: {e}")))?;
                r
            }
        };
        migrated.map_err(|e| Error::Database(format!("migration failed: {e}")))?;
        if let Conn::Sqlite(c) = &mut conn {
            c.batch_execute(SQLITE_INTEGER_GUARDS)
                .map_err(|e| Error::Database(format!("integer guards: {e}")))?;
        }
        Ok(db)
    }

    pub fn get(&self) -> Result<Conn, Error> {
        match self {
            Db::Sqlite(p) => p.get().map(Conn::Sqlite),
            Db::Pg(p) => p.get().map(Conn::Pg),
        }
        .map_err(|e| Error::Database(format!("no database connection: {e}")))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Pg(_) => "postgres",
        }
    }

    /// Runs blocking database work off the async runtime.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, Error> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| Error::Internal(format!("database task failed: {e}")))?
    }
}

/// Runs `$body` with `$c` bound to the concrete connection (`&mut SqliteConnection` or
/// `&mut PgConnection`): the body is written once and compiled for both backends.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(pooled) => {
                let $c: &mut ::diesel::sqlite::SqliteConnection = &mut *pooled;
                $body
            }
            $crate::db::Conn::Pg(pooled) => {
                let $c: &mut ::diesel::pg::PgConnection = &mut *pooled;
                $body
            }
        }
    };
}

/// Like [`with_conn!`] inside a write transaction (`BEGIN IMMEDIATE` on SQLite so writers queue
/// up front instead of failing at commit). The body returns `Result<T, crate::error::Error>`.
#[macro_export]
macro_rules! write_tx {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(pooled) => {
                let conn: &mut ::diesel::sqlite::SqliteConnection = &mut *pooled;
                conn.immediate_transaction::<_, $crate::error::Error, _>(|$c| $body)
            }
            $crate::db::Conn::Pg(pooled) => {
                let conn: &mut ::diesel::pg::PgConnection = &mut *pooled;
                ::diesel::Connection::transaction::<_, $crate::error::Error, _>(conn, |$c| $body)
            }
        }
    };
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new time-ordered (UUID v7) id, as text. Ids made in the same millisecond carry an
/// increasing counter (RFC 9562, method 1), so a push's thousands of ledger rows append to the
/// end of their tables' id indexes; the counter starts at a random point and the rest of the
/// random bits come from the thread's CSPRNG instead of a system call per id.
pub fn new_id() -> String {
    static LAST: std::sync::Mutex<(u64, u64)> = std::sync::Mutex::new((0, 0));
    let now = u64::try_from(now_ms()).unwrap_or_default();
    let (millis, counter) = {
        let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if now > last.0 {
            // Start low in the 42-bit counter space so it cannot run out within a millisecond.
            *last = (now, rand::random::<u64>() >> 24);
        } else {
            // Same millisecond (or the clock stepped back): keep counting from the last id.
            last.1 += 1;
        }
        *last
    };
    let tail: u32 = rand::random();
    let mut bytes = [0u8; 10];
    // rand_a (12 bits) and the top 30 bits of rand_b hold the 42-bit counter, then 32 random bits.
    bytes[0..2].copy_from_slice(&((counter >> 30) as u16 & 0x0fff).to_be_bytes());
    bytes[2..6].copy_from_slice(&((counter as u32) & 0x3fff_ffff).to_be_bytes());
    bytes[6..10].copy_from_slice(&tail.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_version_7_and_increase() {
        let ids: Vec<String> = (0..10_000).map(|_| super::new_id()).collect();
        for pair in ids.windows(2) {
            // Text order is time order: index inserts append.
            assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
        }
        let id: uuid::Uuid = ids[0].parse().expect("a UUID");
        assert_eq!(id.get_version_num(), 7);
    }
}
