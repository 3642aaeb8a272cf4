//! The outbox: mutations numbered 1, 2, 3… for this device, written in the same transaction as
//! the change they describe, read by the sync engine in order.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tenda_domain::{
    BalanceDelta, FiscalDocumentRef, Mutation, OutboxEntry, RegisterSessionId, Sale, SaleRecorded,
    StockDelta,
};

use crate::error::{Error, Result, corrupt};
use crate::packed::{pack, unpack};
use crate::sales::sales_between;
use crate::schema::outbox;
use crate::store::{Store, read_counter, set_counter, ts};

/// The number of the last entry pruned: numbering goes on from it once every entry is gone.
pub(crate) const SEQ: &str = "outbox_seq";
pub(crate) const PUSHED: &str = "outbox_pushed_through";

/// A `SaleRecorded` entry keeps what the sale's row does not: the sale itself (lines, payments)
/// is stored once, in `sales`, and read back by its local number when the entry is pushed. Sales
/// are never edited once recorded (a void or a folio changes other columns), so the mutation
/// read back is the one recorded.
#[derive(Serialize)]
pub(crate) struct SaleFactsRef<'a> {
    local_number: u64,
    register_session_id: Option<RegisterSessionId>,
    fiscal: &'a Option<FiscalDocumentRef>,
    stock_deltas: &'a [StockDelta],
    balance_deltas: &'a [BalanceDelta],
}

#[derive(Deserialize)]
struct SaleFacts {
    local_number: u64,
    register_session_id: Option<RegisterSessionId>,
    fiscal: Option<FiscalDocumentRef>,
    stock_deltas: Vec<StockDelta>,
    balance_deltas: Vec<BalanceDelta>,
}

impl SaleFacts {
    fn into_mutation(self, sale: Sale) -> Mutation {
        Mutation::SaleRecorded(SaleRecorded {
            sale,
            local_number: self.local_number,
            register_session_id: self.register_session_id,
            fiscal: self.fiscal,
            stock_deltas: self.stock_deltas,
            balance_deltas: self.balance_deltas,
        })
    }
}

const SALE_RECORDED: &str = "sale_recorded";
const AUDIT_APPENDED: &str = "audit_appended";

/// Appends a mutation inside the caller's transaction and returns its number. A sale's
/// `SaleRecorded` comes only with the sale's rows ([`append_sale_recorded`]).
pub(crate) fn append_outbox(conn: &mut SqliteConnection, mutation: &Mutation) -> Result<u64> {
    if matches!(mutation, Mutation::SaleRecorded(_)) {
        return Err(Error::InvalidInput {
            field: "mutations",
            reason: "a sale is recorded with its rows (commit_sale), not as a bare mutation".into(),
        });
    }
    append_packed(conn, mutation.kind(), pack(mutation, "outbox mutation")?)
}

/// Appends the `SaleRecorded` entry of a sale just stored under `local_number`.
pub(crate) fn append_sale_recorded(
    conn: &mut SqliteConnection,
    local_number: u64,
    register_session_id: Option<RegisterSessionId>,
    fiscal: &Option<FiscalDocumentRef>,
    stock_deltas: &[StockDelta],
    balance_deltas: &[BalanceDelta],
) -> Result<u64> {
    let payload = pack(
        &SaleFactsRef {
            local_number,
            register_session_id,
            fiscal,
            stock_deltas,
            balance_deltas,
        },
        "outbox mutation",
    )?;
    append_packed(conn, SALE_RECORDED, payload)
}

/// The number of the last entry written (0 before the first): the largest one stored or, once
/// pruning has deleted them all, the last one it deleted. Entries are numbered on from it without
/// a counter, which would cost every commit one more page.
pub(crate) fn last_seq(conn: &mut SqliteConnection) -> Result<i64> {
    let stored: Option<i64> = outbox::table
        .select(diesel::dsl::max(outbox::seq))
        .get_result(conn)?;
    match stored {
        Some(seq) => Ok(seq),
        None => read_counter(conn, SEQ),
    }
}

fn append_packed(conn: &mut SqliteConnection, kind: &'static str, payload: Vec<u8>) -> Result<u64> {
    let seq = last_seq(conn)? + 1;
    diesel::insert_into(outbox::table)
        .values((
            outbox::seq.eq(seq),
            outbox::kind.eq(kind),
            outbox::payload.eq(payload),
            outbox::packed.eq(true),
            outbox::created_at.eq(ts(Utc::now())),
        ))
        .execute(conn)?;
    u64::try_from(seq).map_err(|_| corrupt("outbox", "negative sequence"))
}

/// A stored entry, decoded: a whole mutation, or a sale's facts awaiting its sale.
enum Stored {
    Whole(Mutation),
    Sale(SaleFacts),
}

fn decode_entry(kind: &str, payload: &[u8], packed: bool) -> Result<Stored> {
    Ok(if kind == SALE_RECORDED {
        Stored::Sale(unpack(payload, packed, "outbox mutation")?)
    } else {
        Stored::Whole(unpack(payload, packed, "outbox mutation")?)
    })
}

/// The stock some outbox entries move.
pub(crate) struct StockMoved {
    /// How many of the entries asked for are still stored (pushed ones may be pruned).
    pub entries: usize,
    /// Delta by delta: product id and thousandths.
    pub deltas: Vec<(Vec<u8>, i64)>,
}

/// The stock moved by the outbox entries numbered `first..=last` that are still stored.
pub(crate) fn stock_moved(
    conn: &mut SqliteConnection,
    first: i64,
    last: i64,
) -> Result<StockMoved> {
    if first > last {
        return Ok(StockMoved {
            entries: 0,
            deltas: Vec::new(),
        });
    }
    let rows: Vec<(String, Vec<u8>, bool)> = outbox::table
        .filter(outbox::seq.between(first, last))
        .select((outbox::kind, outbox::payload, outbox::packed))
        .load(conn)?;
    let mut moved = Vec::new();
    for (kind, payload, packed) in &rows {
        let deltas = match decode_entry(kind, payload, *packed)? {
            Stored::Sale(facts) => facts
                .stock_deltas
                .iter()
                .map(|d| (d.product_id, d.delta))
                .collect(),
            Stored::Whole(mutation) => mutation.stock_moved(),
        };
        moved.extend(
            deltas
                .into_iter()
                .map(|(product, delta)| (product.as_bytes().to_vec(), delta.thousandths())),
        );
    }
    Ok(StockMoved {
        entries: rows.len(),
        deltas: moved,
    })
}

/// The audit entry named by the newest `AuditAppended` entry numbered `through` or less.
pub(crate) fn last_audit_appended(
    conn: &mut SqliteConnection,
    through: i64,
) -> Result<Option<u64>> {
    let newest: Option<(Vec<u8>, bool)> = outbox::table
        .filter(outbox::kind.eq(AUDIT_APPENDED))
        .filter(outbox::seq.le(through))
        .order(outbox::seq.desc())
        .select((outbox::payload, outbox::packed))
        .first(conn)
        .optional()?;
    let Some((payload, packed)) = newest else {
        return Ok(None);
    };
    match unpack(&payload, packed, "outbox mutation")? {
        Mutation::AuditAppended { seq, .. } => Ok(Some(seq)),
        _ => Err(corrupt("outbox mutation", "an audit entry of another kind")),
    }
}

/// The sale number a `SaleRecorded` entry refers to.
fn sale_number(facts: &SaleFacts) -> Result<i64> {
    i64::try_from(facts.local_number)
        .map_err(|_| corrupt("outbox mutation", "sale number out of range"))
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
        // One snapshot: the entries and the sales they refer to.
        self.conn.transaction(|c| {
            let rows: Vec<(i64, String, Vec<u8>, bool)> = outbox::table
                .filter(outbox::seq.gt(to_i64(after)))
                .order(outbox::seq)
                .limit(i64::from(limit))
                .select((outbox::seq, outbox::kind, outbox::payload, outbox::packed))
                .load(c)?;
            let entries = rows
                .into_iter()
                .map(|(seq, kind, payload, packed)| {
                    let seq =
                        u64::try_from(seq).map_err(|_| corrupt("outbox", "negative sequence"))?;
                    Ok((seq, decode_entry(&kind, &payload, packed)?))
                })
                .collect::<Result<Vec<_>>>()?;
            // The sales of a run of entries have neighbouring numbers: one range read.
            let numbers = entries
                .iter()
                .filter_map(|(_, e)| match e {
                    Stored::Sale(facts) => Some(sale_number(facts)),
                    Stored::Whole(_) => None,
                })
                .collect::<Result<Vec<_>>>()?;
            let mut sales: HashMap<i64, Sale> = match (numbers.iter().min(), numbers.iter().max()) {
                (Some(&first), Some(&last)) => sales_between(c, first, last)?.into_iter().collect(),
                _ => HashMap::new(),
            };
            entries
                .into_iter()
                .map(|(seq, entry)| {
                    let mutation = match entry {
                        Stored::Whole(m) => m,
                        Stored::Sale(facts) => {
                            let sale = sales
                                .remove(&sale_number(&facts)?)
                                .ok_or_else(|| corrupt("outbox mutation", "sale missing"))?;
                            facts.into_mutation(sale)
                        }
                    };
                    Ok(OutboxEntry { seq, mutation })
                })
                .collect()
        })
    }

    /// Entries not yet acknowledged by the server, in order, at most `limit`.
    pub fn outbox_pending(&mut self, limit: u32) -> Result<Vec<OutboxEntry>> {
        let after = pushed_through(&mut self.conn)?;
        self.outbox_after(after, limit)
    }

    /// The number of the last mutation written (0 if none).
    pub fn outbox_last_seq(&mut self) -> Result<u64> {
        Ok(u64::try_from(last_seq(&mut self.conn)?).unwrap_or(0))
    }

    /// The server has applied every mutation up to `seq`.
    pub fn outbox_pushed_through(&mut self) -> Result<u64> {
        pushed_through(&mut self.conn)
    }

    /// Records that the server applied everything through `seq` (its `applied_through`). Never
    /// moves backwards; acknowledging more than was written is an error.
    pub fn outbox_mark_pushed(&mut self, seq: u64) -> Result<()> {
        self.write(|c| {
            let last = u64::try_from(last_seq(c)?).unwrap_or(0);
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

    /// Deletes pushed entries, keeping the numbering (it never goes back) and the audit chain's
    /// head (see [`Store::verify_audit_chain`]): what the deleted entries showed is kept in
    /// counters.
    pub fn outbox_prune_pushed(&mut self) -> Result<usize> {
        self.write(|c| {
            let through = to_i64(pushed_through(c)?);
            let last_deleted: Option<i64> = outbox::table
                .filter(outbox::seq.le(through))
                .select(diesel::dsl::max(outbox::seq))
                .get_result(c)?;
            let Some(last_deleted) = last_deleted else {
                return Ok(0);
            };
            set_counter(c, SEQ, last_deleted)?;
            if let Some(audit_seq) = last_audit_appended(c, through)? {
                set_counter(c, crate::audit::PRUNED_HEAD, to_i64(audit_seq))?;
            }
            Ok(diesel::delete(outbox::table.filter(outbox::seq.le(through))).execute(c)?)
        })
    }
}
