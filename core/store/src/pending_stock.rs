//! Stock this device changed that the server has not acknowledged yet, per product.
//!
//! The durable record is the outbox itself: every entry that moves stock (a sale, a void, an
//! adjustment) carries its deltas, and the unacknowledged entries are the ones numbered after
//! the server's acknowledgement. A sale writes no stock row of its own. The sums per product are
//! kept in memory and brought up to date from the outbox before each read, inside the read's own
//! transaction: after a crash, a restart or a commit through another `Store` on the same file,
//! the figures come from what is on disk.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use diesel::prelude::*;

use crate::error::Result;
use crate::outbox::stock_moved;
use crate::store::read_counter;

/// Per product, the sum of the stock deltas of outbox entries after `pushed` through `seen`.
#[derive(Debug, Default)]
pub(crate) struct PendingStock {
    /// `None` until first read: then summed from every unacknowledged entry.
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

impl PendingStock {
    /// Brings the sums up to what `conn` sees. Call inside a transaction, so the numbers and
    /// the rows read are one snapshot.
    fn refresh(&mut self, conn: &mut SqliteConnection) -> Result<&HashMap<Vec<u8>, i64>> {
        let seen = crate::outbox::last_seq(conn)?;
        let pushed = read_counter(conn, crate::outbox::PUSHED)?.min(seen);
        let afresh = || Counted {
            pushed,
            seen: pushed,
            by_product: HashMap::new(),
        };
        let mut c = match self.counted.take() {
            // Both numbers only ever grow; anything else (a restored backup under the same
            // handle) is counted afresh.
            Some(c) if c.pushed <= pushed && c.seen <= seen => c,
            _ => afresh(),
        };
        // Acknowledged since last time: those deltas now count in the server's level. Entries
        // acknowledged beyond what was counted were never added. Pushed entries may have been
        // pruned meanwhile: then what they added is not known, and the rest is counted afresh.
        let acknowledged = pushed.min(c.seen);
        if acknowledged > c.pushed {
            let moved = stock_moved(conn, c.pushed + 1, acknowledged)?;
            if i64::try_from(moved.entries).ok() == Some(acknowledged - c.pushed) {
                for (product, delta) in moved.deltas {
                    add(&mut c.by_product, product, -delta);
                }
            } else {
                c = afresh();
            }
        }
        // Written since last time (and not yet acknowledged).
        let moved = stock_moved(conn, c.seen.max(pushed) + 1, seen)?;
        for (product, delta) in moved.deltas {
            add(&mut c.by_product, product, delta);
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
