//! The outbox: mutations numbered 1, 2, 3… for this device, written in the same transaction as
//! the change they describe, read by the sync engine in order.

use chrono::Utc;
use diesel::prelude::*;
use tenda_domain::{Mutation, OutboxEntry};

use crate::catalog::settle_stock;
use crate::error::{Error, Result, corrupt};
use crate::schema::outbox;
use crate::store::{Store, next_counter, read_counter, set_counter, ts};

const SEQ: &str = "outbox_seq";
const PUSHED: &str = "outbox_pushed_through";

/// Appends a mutation inside the caller's transaction and returns its number.
pub(crate) fn append_outbox(conn: &mut SqliteConnection, mutation: &Mutation) -> Result<u64> {
    let seq = next_counter(conn, SEQ)?;
    let payload = serde_json::to_string(mutation).map_err(|e| corrupt("outbox mutation", e))?;
    diesel::insert_into(outbox::table)
        .values((
            outbox::seq.eq(seq),
            outbox::kind.eq(mutation.kind()),
            outbox::payload.eq(payload),
            outbox::created_at.eq(ts(Utc::now())),
        ))
        .execute(conn)?;
    u64::try_from(seq).map_err(|_| corrupt("outbox", "negative sequence"))
}

pub(crate) fn pushed_through(conn: &mut SqliteConnection) -> Result<u64> {
    Ok(u64::try_from(read_counter(conn, PUSHED)?).unwrap_or(0))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Entries with `seq > after`, in order, at most `limit`. The sync engine pushes these.
    pub fn outbox_after(&mut self, after: u64, limit: u32) -> Result<Vec<OutboxEntry>> {
        let rows: Vec<(i64, String)> = outbox::table
            .filter(outbox::seq.gt(to_i64(after)))
            .order(outbox::seq)
            .limit(i64::from(limit))
            .select((outbox::seq, outbox::payload))
            .load(&mut self.conn)?;
        rows.into_iter()
            .map(|(seq, payload)| {
                Ok(OutboxEntry {
                    seq: u64::try_from(seq).map_err(|_| corrupt("outbox", "negative sequence"))?,
                    mutation: serde_json::from_str(&payload)
                        .map_err(|e| corrupt("outbox mutation", e))?,
                })
            })
            .collect()
    }

    /// Entries not yet acknowledged by the server, in order, at most `limit`.
    pub fn outbox_pending(&mut self, limit: u32) -> Result<Vec<OutboxEntry>> {
        let after = pushed_through(&mut self.conn)?;
        self.outbox_after(after, limit)
    }

    /// The number of the last mutation written (0 if none).
    pub fn outbox_last_seq(&mut self) -> Result<u64> {
        Ok(u64::try_from(read_counter(&mut self.conn, SEQ)?).unwrap_or(0))
    }

    /// The server has applied every mutation up to `seq`.
    pub fn outbox_pushed_through(&mut self) -> Result<u64> {
        pushed_through(&mut self.conn)
    }

    /// Records that the server applied everything through `seq` (its `applied_through`). Never
    /// moves backwards; acknowledging more than was written is an error.
    pub fn outbox_mark_pushed(&mut self, seq: u64) -> Result<()> {
        self.write(|c| {
            let last = u64::try_from(read_counter(c, SEQ)?).unwrap_or(0);
            if seq > last {
                return Err(Error::Outbox(format!(
                    "server acknowledged {seq} but only {last} were written"
                )));
            }
            let before = pushed_through(c)?;
            if seq > before {
                settle_stock(c, to_i64(before), to_i64(seq))?;
                set_counter(c, PUSHED, to_i64(seq))?;
            }
            Ok(())
        })
    }

    /// How many mutations wait to be pushed.
    pub fn outbox_pending_count(&mut self) -> Result<u64> {
        let last = self.outbox_last_seq()?;
        Ok(last - pushed_through(&mut self.conn)?.min(last))
    }

    /// Deletes pushed entries, keeping the numbering (the counter never goes back).
    pub fn outbox_prune_pushed(&mut self) -> Result<usize> {
        self.write(|c| {
            let through = to_i64(pushed_through(c)?);
            Ok(diesel::delete(outbox::table.filter(outbox::seq.le(through))).execute(c)?)
        })
    }
}
