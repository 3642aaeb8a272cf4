//! Bulk loading: the first catalog load and the server's pull pages. Changes are applied in
//! batched transactions (a batch is all or nothing) with progress reported at least once a
//! second. Records carry server versions: an older record never overwrites a newer one.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use tenda_domain::{Customer, Product, ProductId, Quantity, User};

use crate::catalog::{FtsChange, flush_fts, set_server_stock, upsert_product};
use crate::customers::upsert_customer;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::users::{put_setting, upsert_user};

/// Settings key of the last pull cursor.
pub const SYNC_CURSOR_KEY: &str = "sync.cursor";

/// One record of a pull page (or of a catalog load).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullChange {
    Product(Product),
    /// `customer.balance` is the server's balance; local unpushed deltas are added on top.
    Customer(Customer),
    /// The server's stock level; local unpushed deltas are added on top.
    StockLevel {
        product_id: ProductId,
        quantity: Quantity,
    },
    User(User),
    /// A setting (JSON value) with its server version.
    Setting {
        key: String,
        value_json: String,
        version: i64,
    },
    /// The cursor to resume pulling from, saved in the same batch as the records before it.
    Cursor(String),
}

/// Progress of a load, reported after every batch and at least once a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadProgress {
    pub applied: u64,
    pub skipped_older: u64,
    pub rejected: u64,
    pub elapsed: Duration,
}

/// A record that was not applied because it is invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedChange {
    /// Position in the input, from 0.
    pub index: u64,
    pub field: &'static str,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub applied: u64,
    pub skipped_older: u64,
    pub rejected: Vec<RejectedChange>,
    pub elapsed: Duration,
}

/// Changes per transaction.
const BATCH: usize = 4_000;
/// A batch also ends after this long, so progress is reported well within a second.
const BATCH_TIME: Duration = Duration::from_millis(300);

impl Store {
    /// Applies pull changes in batched transactions. Invalid records are reported, not applied;
    /// a database failure rolls back the current batch and stops (earlier batches stay, and a
    /// cursor is only saved with the batch that holds it, so the page can simply be pulled
    /// again).
    pub fn apply_changes<I>(
        &mut self,
        changes: I,
        progress: &mut dyn FnMut(&LoadProgress),
    ) -> Result<LoadReport>
    where
        I: IntoIterator<Item = PullChange>,
    {
        let started = Instant::now();
        // Bulk data can be pulled again, so a power cut may lose the last batches but never
        // corrupts (WAL); sale commits keep synchronous = FULL.
        // A large page cache keeps the indexes of a big catalog in memory while it loads
        // (SQLCipher decrypts every page read back from disk).
        self.conn
            .batch_execute("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -131072;")?;
        let result = self.apply_batches(changes.into_iter(), started, progress);
        self.conn
            .batch_execute("PRAGMA synchronous = FULL; PRAGMA cache_size = -8192;")?;
        result
    }

    fn apply_batches(
        &mut self,
        mut changes: impl Iterator<Item = PullChange>,
        started: Instant,
        progress: &mut dyn FnMut(&LoadProgress),
    ) -> Result<LoadReport> {
        let mut report = LoadReport::default();
        let mut index: u64 = 0;
        loop {
            let mut batch = Vec::with_capacity(BATCH);
            for change in changes.by_ref() {
                batch.push(change);
                if batch.len() >= BATCH {
                    break;
                }
            }
            if batch.is_empty() {
                break;
            }
            // Apply the batch; if it runs long, split it so progress keeps flowing.
            let mut rest = batch.into_iter().peekable();
            while rest.peek().is_some() {
                let written = self.write(|c| {
                    let (mut applied, mut skipped, mut rejected) = (0u64, 0u64, Vec::new());
                    let chunk_started = Instant::now();
                    let mut fts: Vec<FtsChange> = Vec::new();
                    for change in rest.by_ref() {
                        let outcome = match &change {
                            PullChange::Product(p) => upsert_product(c, p, true).map(|u| {
                                fts.extend(u.fts);
                                u.applied
                            }),
                            PullChange::Customer(cu) => upsert_customer(c, cu, true),
                            PullChange::User(u) => upsert_user(c, u, true),
                            PullChange::StockLevel {
                                product_id,
                                quantity,
                            } => set_server_stock(c, *product_id, *quantity, Utc::now())
                                .map(|_| true),
                            PullChange::Setting {
                                key,
                                value_json,
                                version,
                            } => put_setting(c, key, value_json, *version).map(|_| true),
                            PullChange::Cursor(cursor) => {
                                let json =
                                    serde_json::to_string(cursor).expect("a string serializes");
                                put_setting(c, SYNC_CURSOR_KEY, &json, 0).map(|_| true)
                            }
                        };
                        match outcome {
                            Ok(true) => applied += 1,
                            Ok(false) => skipped += 1,
                            Err(Error::InvalidInput { field, reason }) => {
                                rejected.push(RejectedChange {
                                    index,
                                    field,
                                    reason,
                                })
                            }
                            Err(Error::Duplicate { field }) => rejected.push(RejectedChange {
                                index,
                                field,
                                reason: "already used by another record".into(),
                            }),
                            Err(e) => return Err(e),
                        }
                        index += 1;
                        if chunk_started.elapsed() >= BATCH_TIME {
                            break;
                        }
                    }
                    flush_fts(c, &mut fts)?;
                    Ok((applied, skipped, rejected))
                });
                self.catalog_epoch.advance();
                let (applied, skipped, rejected) = written?;
                report.applied += applied;
                report.skipped_older += skipped;
                report.rejected.extend(rejected);
                report.elapsed = started.elapsed();
                progress(&LoadProgress {
                    applied: report.applied,
                    skipped_older: report.skipped_older,
                    rejected: report.rejected.len() as u64,
                    elapsed: report.elapsed,
                });
            }
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Loads products (the first catalog download, or a file), in batched transactions.
    pub fn load_catalog<I>(
        &mut self,
        products: I,
        progress: &mut dyn FnMut(&LoadProgress),
    ) -> Result<LoadReport>
    where
        I: IntoIterator<Item = Product>,
    {
        self.apply_changes(products.into_iter().map(PullChange::Product), progress)
    }

    /// The cursor saved by the last applied pull page.
    pub fn sync_cursor(&mut self) -> Result<Option<String>> {
        self.setting(SYNC_CURSOR_KEY)
    }
}
