//! The hash-chained audit log. Each entry's hash covers the previous entry's hash and every
//! field of the entry, so editing, inserting or deleting any entry breaks the chain at that
//! point. Deleting the newest entries is caught by the head: every entry is written with an
//! `AuditAppended` outbox entry naming it, in the same transaction, and pruning pushed outbox
//! entries keeps the last one they named in the `audit_head` counter.
//!
//! The entry recording a sale is kept in the sale's row (`sales.audit_*`), the others in
//! `audit_log`; the chain runs through both, in one numbering.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use tenda_domain::{Actor, AuditEvent, Mutation, Outcome, SaleId};

use crate::error::{Result, corrupt};
use crate::outbox::{append_outbox, last_audit_appended};
use crate::sales::last_sale_number;
use crate::schema::{audit_log, sales};
use crate::store::{Store, parse_ts, read_counter, ts};

/// The hash before the first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// A stored audit entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: u64,
    pub actor: Actor,
    pub action: String,
    pub subject: String,
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// Why the chain does not verify, at which entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// An entry's fields do not hash to its stored hash (edited).
    HashMismatch,
    /// An entry's previous hash is not the hash of the entry before it (inserted or reordered).
    BrokenLink,
    /// The entry with this number is missing (deleted).
    Missing,
    /// The last entry is not the one the outbox names last: the newest entries are gone, or
    /// entries were added without their outbox entries.
    HeadMismatch,
    /// A stored field cannot be read.
    Unreadable,
}

/// Result of [`Store::verify_audit_chain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditVerification {
    /// Every entry verified; `entries` of them.
    Intact { entries: u64 },
    /// The first entry (by sequence number) at which the chain breaks.
    Broken { seq: u64, reason: ChainBreak },
}

fn put(h: &mut Sha256, field: &str) {
    h.update((field.len() as u64).to_be_bytes());
    h.update(field.as_bytes());
}

/// SHA-256 over the previous hash and the length-prefixed fields.
pub fn entry_hash(
    prev: &[u8; 32],
    seq: u64,
    actor: &str,
    action: &str,
    subject: &str,
    outcome: &str,
    at: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tenda-audit-v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    for f in [actor, action, subject, outcome, at] {
        put(&mut h, f);
    }
    h.finalize().into()
}

/// Name of the counter that holds the last entry named by a pruned `AuditAppended` outbox entry.
pub(crate) const PRUNED_HEAD: &str = "audit_head";

/// The action of the entry a sale's row keeps.
const SALE_RECORD: &str = "sale.record";

/// The last entry's (seq, hash), if any entry was written: the log's last row, or the last sale's
/// if its row keeps a later entry.
fn read_head(conn: &mut SqliteConnection) -> Result<Option<(i64, Vec<u8>)>> {
    // The rows with the largest keys, not `ORDER BY … LIMIT ?`: a `LIMIT ?` bind makes SQLite
    // re-prepare the statement each time.
    let later = diesel::alias!(audit_log as later);
    let last = later.select(diesel::dsl::max(later.field(audit_log::seq)));
    let logged: Option<(i64, Vec<u8>)> = audit_log::table
        .filter(audit_log::seq.nullable().eq(last.single_value()))
        .select((audit_log::seq, audit_log::hash))
        .get_result(conn)
        .optional()?;
    let later_sale = diesel::alias!(sales as later_sale);
    let last_sale = later_sale.select(diesel::dsl::max(later_sale.field(sales::local_number)));
    let in_sale: Option<(Option<i64>, Option<Vec<u8>>)> = sales::table
        .filter(sales::local_number.nullable().eq(last_sale.single_value()))
        .select((sales::audit_seq, sales::audit_hash))
        .get_result(conn)
        .optional()?;
    Ok(match (logged, in_sale) {
        (logged, Some((Some(seq), Some(hash)))) if logged.as_ref().is_none_or(|l| l.0 < seq) => {
            Some((seq, hash))
        }
        (logged, _) => logged,
    })
}

/// The next link of the chain: an entry's number, its time and actor as hashed, and the hashes.
pub(crate) struct Link {
    pub(crate) seq: i64,
    pub(crate) actor: String,
    pub(crate) at: String,
    pub(crate) prev_hash: [u8; 32],
    pub(crate) hash: [u8; 32],
}

/// Appends an entry (and its `AuditAppended` outbox mutation) inside the caller's transaction.
pub(crate) fn append_audit(conn: &mut SqliteConnection, event: &AuditEvent) -> Result<AuditEntry> {
    let link = next_link(conn, event)?;
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::seq.eq(link.seq),
            audit_log::actor.eq(&link.actor),
            audit_log::action.eq(&event.action),
            audit_log::subject.eq(&event.subject),
            audit_log::outcome.eq(event.outcome.code()),
            audit_log::at.eq(&link.at),
            audit_log::prev_hash.eq(link.prev_hash.as_slice()),
            audit_log::hash.eq(link.hash.as_slice()),
        ))
        .execute(conn)?;
    record_link(conn, event, &link)
}

/// The event of the entry recording a sale, which the sale's own row keeps rather than a row of
/// the log: one b-tree fewer for each sale to write. The caller takes its [`next_link`], stores
/// it with the sale, then records it with [`record_link`]. Only the actor and the hashes need
/// columns: the action is always `sale.record`, the subject `sale:<id>`, the time the sale's
/// (`created_at`, as hashed), and it succeeded.
pub(crate) fn sale_event(sale: SaleId, actor: Actor, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        actor,
        action: SALE_RECORD.into(),
        subject: sale_subject(sale),
        outcome: Outcome::Succeeded,
        at,
    }
}

fn sale_subject(sale: SaleId) -> String {
    format!("sale:{sale}")
}

/// The link `event` would add to the chain, written nowhere yet.
pub(crate) fn next_link(conn: &mut SqliteConnection, event: &AuditEvent) -> Result<Link> {
    let head = read_head(conn)?;
    let (prev_seq, prev_hash) = match head {
        Some((s, h)) => (
            s,
            <[u8; 32]>::try_from(h.as_slice()).map_err(|_| corrupt("audit head", "hash length"))?,
        ),
        None => (0, GENESIS_HASH),
    };
    let seq = prev_seq + 1;
    let at = ts(event.at);
    let actor = event.actor.code();
    let seq_u = u64::try_from(seq).map_err(|_| corrupt("audit head", "negative sequence"))?;
    let hash = entry_hash(
        &prev_hash,
        seq_u,
        &actor,
        &event.action,
        &event.subject,
        event.outcome.code(),
        &at,
    );
    Ok(Link {
        seq,
        actor,
        at,
        prev_hash,
        hash,
    })
}

/// Writes a stored link's `AuditAppended` outbox entry and returns the entry.
pub(crate) fn record_link(
    conn: &mut SqliteConnection,
    event: &AuditEvent,
    link: &Link,
) -> Result<AuditEntry> {
    let (prev_hash, hash) = (link.prev_hash, link.hash);
    let entry = AuditEntry {
        seq: u64::try_from(link.seq).map_err(|_| corrupt("audit head", "negative sequence"))?,
        actor: event.actor,
        action: event.action.clone(),
        subject: event.subject.clone(),
        outcome: event.outcome,
        at: parse_ts("audit time", &link.at)?,
        prev_hash,
        hash,
    };
    append_outbox(
        conn,
        &Mutation::AuditAppended {
            seq: entry.seq,
            actor: entry.actor,
            action: entry.action.clone(),
            subject: entry.subject.clone(),
            outcome: entry.outcome,
            at: entry.at,
            prev_hash: hex::encode(prev_hash),
            hash: hex::encode(hash),
        },
    )?;
    Ok(entry)
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
);

impl Store {
    /// Records an audit event on its own (for actions that change nothing else, e.g. a denied
    /// attempt or a sign-in).
    pub fn audit(&mut self, event: &AuditEvent) -> Result<AuditEntry> {
        self.write(|c| append_audit(c, event))
    }

    /// Audit entries with `seq > after`, oldest first, at most `limit`.
    pub fn audit_entries(&mut self, after: u64, limit: u32) -> Result<Vec<AuditEntry>> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        // One snapshot for both sources: an entry committed between two reads could otherwise
        // be passed over by a later one.
        self.conn.transaction(|c| {
            rows_after(c, after, i64::from(limit))?
                .into_iter()
                .map(decode)
                .collect()
        })
    }

    /// Walks the whole chain and reports the first entry where it breaks, in one snapshot.
    pub fn verify_audit_chain(&mut self) -> Result<AuditVerification> {
        self.conn.transaction(verify_chain)
    }
}

/// [`Store::verify_audit_chain`], inside the caller's transaction.
fn verify_chain(conn: &mut SqliteConnection) -> Result<AuditVerification> {
    let mut expected_seq: u64 = 1;
    let mut prev = GENESIS_HASH;
    let mut walk = ChainWalk::default();
    while let Some((seq, actor, action, subject, outcome, at, prev_hash, hash)) = walk.next(conn)? {
        let seq_u = u64::try_from(seq).unwrap_or(0);
        if seq_u != expected_seq {
            return Ok(AuditVerification::Broken {
                seq: expected_seq,
                reason: ChainBreak::Missing,
            });
        }
        let (Ok(stored_prev), Ok(stored_hash)) = (
            <[u8; 32]>::try_from(prev_hash.as_slice()),
            <[u8; 32]>::try_from(hash.as_slice()),
        ) else {
            return Ok(AuditVerification::Broken {
                seq: seq_u,
                reason: ChainBreak::Unreadable,
            });
        };
        if stored_prev != prev {
            return Ok(AuditVerification::Broken {
                seq: seq_u,
                reason: ChainBreak::BrokenLink,
            });
        }
        if entry_hash(&prev, seq_u, &actor, &action, &subject, &outcome, &at) != stored_hash {
            return Ok(AuditVerification::Broken {
                seq: seq_u,
                reason: ChainBreak::HashMismatch,
            });
        }
        prev = stored_hash;
        expected_seq += 1;
    }
    // The last entry named in the outbox, or by the entries pruned from it.
    let pruned = u64::try_from(read_counter(conn, PRUNED_HEAD)?).unwrap_or(0);
    let head = last_audit_appended(conn, i64::MAX)?.map_or(pruned, |s| s.max(pruned));
    let last = expected_seq - 1;
    if head != last {
        // The entry after the last one present is where the chain stops short.
        return Ok(AuditVerification::Broken {
            seq: last + 1,
            reason: ChainBreak::HeadMismatch,
        });
    }
    Ok(AuditVerification::Intact { entries: last })
}

/// Entries numbered after `after`, oldest first, at most `limit`, as stored: rows of the log
/// and entries kept in their sales' rows.
fn rows_after(conn: &mut SqliteConnection, after: i64, limit: i64) -> Result<Vec<Row>> {
    let mut rows: Vec<Row> = audit_log::table
        .filter(audit_log::seq.gt(after))
        .order(audit_log::seq)
        .limit(limit)
        .load(conn)?;
    let Some(first) = first_sale_entry_after(conn, after)? else {
        return Ok(rows);
    };
    rows.extend(
        sale_entries(conn, first - 1, limit)?
            .into_iter()
            .map(|(_, row)| row)
            .filter(|row| row.0 > after),
    );
    rows.sort_unstable_by_key(|r| r.0);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(rows)
}

/// The entries kept in the rows of sales numbered after `after_sale`, in sale order, at most
/// `limit`, each with its sale's number.
fn sale_entries(
    conn: &mut SqliteConnection,
    after_sale: i64,
    limit: i64,
) -> Result<Vec<(i64, Row)>> {
    type Kept = (
        i64,
        i64,
        Option<String>,
        Vec<u8>,
        String,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    );
    let kept: Vec<Kept> = sales::table
        .filter(sales::local_number.gt(after_sale))
        .filter(sales::audit_seq.is_not_null())
        .order(sales::local_number)
        .limit(limit)
        .select((
            sales::local_number,
            sales::audit_seq.assume_not_null(),
            sales::audit_actor,
            sales::id,
            sales::created_at,
            sales::audit_prev_hash,
            sales::audit_hash,
        ))
        .load(conn)?;
    Ok(kept
        .into_iter()
        .map(|(number, seq, actor, id, at, prev, hash)| {
            // An id that is not one (edited) still names the row, and its hash tells.
            let subject = match SaleId::from_slice(&id) {
                Ok(id) => sale_subject(id),
                Err(_) => format!("sale:{}", hex::encode(&id)),
            };
            let row = (
                seq,
                actor.unwrap_or_default(),
                SALE_RECORD.to_owned(),
                subject,
                Outcome::Succeeded.code().to_owned(),
                at,
                prev.unwrap_or_default(),
                hash.unwrap_or_default(),
            );
            (number, row)
        })
        .collect())
}

/// Every entry in number order, read a batch at a time from the log and from the sales' rows
/// side by side, each source in its own order: a row missing or moved shows as a gap or a
/// break at its own number.
#[derive(Default)]
struct ChainWalk {
    logged: std::collections::VecDeque<Row>,
    logged_after: i64,
    logged_done: bool,
    kept: std::collections::VecDeque<Row>,
    kept_after_sale: i64,
    kept_done: bool,
}

impl ChainWalk {
    const BATCH: i64 = 10_000;

    fn next(&mut self, conn: &mut SqliteConnection) -> Result<Option<Row>> {
        if self.logged.is_empty() && !self.logged_done {
            let rows: Vec<Row> = audit_log::table
                .filter(audit_log::seq.gt(self.logged_after))
                .order(audit_log::seq)
                .limit(Self::BATCH)
                .load(conn)?;
            self.logged_done = rows.is_empty();
            self.logged_after = rows.last().map_or(self.logged_after, |r| r.0);
            self.logged.extend(rows);
        }
        if self.kept.is_empty() && !self.kept_done {
            let rows = sale_entries(conn, self.kept_after_sale, Self::BATCH)?;
            self.kept_done = rows.is_empty();
            self.kept_after_sale = rows.last().map_or(self.kept_after_sale, |r| r.0);
            self.kept.extend(rows.into_iter().map(|(_, row)| row));
        }
        Ok(match (self.logged.front(), self.kept.front()) {
            (Some(l), Some(k)) if k.0 < l.0 => self.kept.pop_front(),
            (Some(_), _) => self.logged.pop_front(),
            (None, _) => self.kept.pop_front(),
        })
    }
}

/// The first sale whose row keeps an entry numbered after `after`. Sales are numbered 1, 2, 3…
/// and never deleted, and the entries their rows keep are numbered in the same order (sales
/// recorded before rows kept entries keep none): halving the range of sale numbers finds it
/// without an index on the entries' numbers, which every sale would have to write. Each probe
/// reads the nearest sale at or below its number, so a missing row cannot send it past one.
fn first_sale_entry_after(conn: &mut SqliteConnection, after: i64) -> Result<Option<i64>> {
    let entry_of = |conn: &mut SqliteConnection, n: i64| -> Result<i64> {
        let below = diesel::alias!(sales as below);
        let nearest = below
            .filter(below.field(sales::local_number).le(n))
            .select(diesel::dsl::max(below.field(sales::local_number)));
        let seq: Option<Option<i64>> = sales::table
            .filter(sales::local_number.nullable().eq(nearest.single_value()))
            .select(sales::audit_seq)
            .get_result(conn)
            .optional()?;
        Ok(seq.flatten().unwrap_or(0))
    };
    let last = last_sale_number(conn)?;
    if last == 0 || entry_of(conn, last)? <= after {
        return Ok(None);
    }
    // The last sale keeps a later entry; find the first that does.
    let (mut low, mut high) = (1, last);
    while low < high {
        let middle = low + (high - low) / 2;
        if entry_of(conn, middle)? > after {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    Ok(Some(low))
}

fn decode(r: Row) -> Result<AuditEntry> {
    let (seq, actor, action, subject, outcome, at, prev_hash, hash) = r;
    Ok(AuditEntry {
        seq: u64::try_from(seq).map_err(|_| corrupt("audit entry", "negative sequence"))?,
        actor: Actor::from_code(&actor).ok_or_else(|| corrupt("audit entry", "actor"))?,
        action,
        subject,
        outcome: Outcome::from_code(&outcome).ok_or_else(|| corrupt("audit entry", "outcome"))?,
        at: parse_ts("audit entry", &at)?,
        prev_hash: prev_hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("audit entry", "hash length"))?,
        hash: hash
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("audit entry", "hash length"))?,
    })
}
