//! Stock this device changed that the server has not acknowledged yet, per product.
//!
//! The durable record is the `stock_deltas` rows, keyed by their outbox number × 2^20, so the
//! unacknowledged ones are one key range. A sale only appends delta rows; it writes no level
//! row. The sums per product are kept in memory and brought up to date from that range before
//! each read, inside the read's own transaction: after a crash, a restart or a commit through
//! another `Store` on the same file, the figures come from what is on disk.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary};

use crate::error::Result;
use crate::store::{child_keys, read_counter};

#[derive(QueryableByName)]
struct ProductSum {
    #[diesel(sql_type = Binary)]
    product_id: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    delta: i64,
}

/// Per product, the sum of the stock deltas of outbox entries after `pushed` through `seen`.
#[derive(Debug, Default)]
pub(crate) struct PendingStock {
    /// `None` until first read: then summed from every unacknowledged delta.
    counted: Option<Counted>,
}

#[derive(Debug)]
struct Counted {
    /// Acknowledged by the server through this outbox number.
    pushed: i64,
    /// Deltas of outbox entries through this number are counted.
    seen: i64,
    by_product: HashMap<Vec<u8>, i64>,
}

/// Sums of the deltas of outbox entries `first..=last`, per product.
fn sums(conn: &mut SqliteConnection, first: i64, last: i64) -> Result<Vec<ProductSum>> {
    if first > last {
        return Ok(Vec::new());
    }
    let (from, _) = child_keys(first);
    let (_, to) = child_keys(last);
    Ok(diesel::sql_query(
        "SELECT product_id, sum(delta) AS delta FROM stock_deltas \
         WHERE id BETWEEN ? AND ? GROUP BY product_id",
    )
    .bind::<BigInt, _>(from)
    .bind::<BigInt, _>(to)
    .load(conn)?)
}

impl PendingStock {
    /// Brings the sums up to what `conn` sees. Call inside a transaction, so the counters and
    /// the rows read are one snapshot.
    fn refresh(&mut self, conn: &mut SqliteConnection) -> Result<&HashMap<Vec<u8>, i64>> {
        let seen = read_counter(conn, crate::outbox::SEQ)?;
        let pushed = read_counter(conn, crate::outbox::PUSHED)?.min(seen);
        let mut c = match self.counted.take() {
            // Both numbers only ever grow; anything else (a restored backup under the same
            // handle) is counted afresh.
            Some(c) if c.pushed <= pushed && c.seen <= seen => c,
            _ => Counted {
                pushed,
                seen: pushed,
                by_product: HashMap::new(),
            },
        };
        // Acknowledged since last time: those deltas now count in the server's level. Entries
        // acknowledged beyond what was counted were never added.
        for s in sums(conn, c.pushed + 1, pushed.min(c.seen))? {
            add(&mut c.by_product, s.product_id, -s.delta);
        }
        // Written since last time (and not yet acknowledged).
        for s in sums(conn, c.seen.max(pushed) + 1, seen)? {
            add(&mut c.by_product, s.product_id, s.delta);
        }
        c.pushed = pushed;
        c.seen = seen;
        Ok(&self.counted.insert(c).by_product)
    }

    /// Unacknowledged stock change of `product` (thousandths).
    pub(crate) fn of(&mut self, conn: &mut SqliteConnection, product: &[u8]) -> Result<i64> {
        Ok(self.refresh(conn)?.get(product).copied().unwrap_or(0))
    }
}

fn add(map: &mut HashMap<Vec<u8>, i64>, product: Vec<u8>, delta: i64) {
    match map.entry(product) {
        Entry::Occupied(mut e) => {
            let sum = e.get().saturating_add(delta);
            if sum == 0 {
                e.remove();
            } else {
                e.insert(sum);
            }
        }
        Entry::Vacant(e) => {
            if delta != 0 {
                e.insert(delta);
            }
        }
    }
}
