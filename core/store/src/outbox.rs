//! The outbox: mutations numbered 1, 2, 3… for this device, written in the same transaction as
//! the change they describe, read by the sync engine in order.

use chrono::Utc;
use diesel::prelude::*;
use tenda_domain::{Mutation, OutboxEntry};

use crate::error::{Error, Result, corrupt};
use crate::schema::outbox;
use crate::store::{Store, next_counter, read_counter, set_counter, ts};

pub(crate) const SEQ: &str = "outbox_seq";
pub(crate) const PUSHED: &str = "outbox_pushed_through";

/// Payloads are stored LZ4-compressed: a sale's JSON (lines with their fiscal data, repeated
/// keys) shrinks to a fraction, so it fits in the outbox's leaf page instead of spilling onto
/// overflow pages that every commit would encrypt and write. Rows from before compression keep
/// their plain JSON and say so (`packed = false`).
fn pack(json: &str) -> Vec<u8> {
    lz4_flex::block::compress_prepend_size(json.as_bytes())
}

/// Longest payload unpacked: a corrupt size prefix must not make the reader allocate wildly.
const MAX_PAYLOAD: usize = 64 << 20;

fn unpack(payload: &[u8], packed: bool) -> Result<Vec<u8>> {
    if !packed {
        return Ok(payload.to_vec());
    }
    let size = payload
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| corrupt("outbox payload", "too short"))?;
    if usize::try_from(size).map_or(true, |n| n > MAX_PAYLOAD) {
        return Err(corrupt("outbox payload", "size out of range"));
    }
    lz4_flex::block::decompress_size_prepended(payload).map_err(|e| corrupt("outbox payload", e))
}

/// Appends a mutation inside the caller's transaction and returns its number.
pub(crate) fn append_outbox(conn: &mut SqliteConnection, mutation: &Mutation) -> Result<u64> {
    let seq = next_counter(conn, SEQ)?;
    let payload = serde_json::to_string(mutation).map_err(|e| corrupt("outbox mutation", e))?;
    diesel::insert_into(outbox::table)
        .values((
            outbox::seq.eq(seq),
            outbox::kind.eq(mutation.kind()),
            outbox::payload.eq(pack(&payload)),
            outbox::packed.eq(true),
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
        let rows: Vec<(i64, Vec<u8>, bool)> = outbox::table
            .filter(outbox::seq.gt(to_i64(after)))
            .order(outbox::seq)
            .limit(i64::from(limit))
            .select((outbox::seq, outbox::payload, outbox::packed))
            .load(&mut self.conn)?;
        rows.into_iter()
            .map(|(seq, payload, packed)| {
                Ok(OutboxEntry {
                    seq: u64::try_from(seq).map_err(|_| corrupt("outbox", "negative sequence"))?,
                    mutation: serde_json::from_slice(&unpack(&payload, packed)?)
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
            // The stock deltas through `seq` stop counting as pending (see `pending_stock`).
            if seq > before {
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
