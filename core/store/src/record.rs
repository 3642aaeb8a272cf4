//! Local changes that are not sales but must still commit with their outbox mutations and audit
//! entries in one transaction (register sessions, the contingency state, login lockouts,
//! approvals): settings written, list rows added or removed, mutations appended, events
//! audited — all or nothing.

use diesel::prelude::*;
use tenda_domain::{AuditEvent, Mutation, SaleId};

use crate::audit::append_audit;
use crate::card_captures::{DeclinedCardPayment, drop_card_captures, insert_declined};
use crate::error::{Error, Result};
use crate::fiscal::{document_key, numbered_by};
use crate::fiscal_events::{FiscalEvent, insert_fiscal_event};
use crate::outbox::append_outbox;
use crate::registers::{RegisterClosing, insert_closing};
use crate::schema::fiscal_documents;
use crate::store::Store;
use crate::superseded_notes::{SupersededNote, drop_superseded, keep_superseded};
use crate::users::{check_setting_key, write_setting};

/// What one local change writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalChange {
    /// Settings to write, as (key, JSON text).
    pub settings: Vec<(String, String)>,
    pub mutations: Vec<Mutation>,
    pub audit: Vec<AuditEvent>,
    /// Fiscal events SEFAZ registered, appended to [`Store::fiscal_events`].
    pub fiscal_events: Vec<FiscalEvent>,
    /// Offline card captures to remove (by payment id) from [`Store::card_captures`].
    pub card_captures_dropped: Vec<String>,
    /// Declined card payments, appended to [`Store::card_payments_to_recover`].
    pub card_payments_declined: Vec<DeclinedCardPayment>,
    /// Notes (by access key) whose next transmission asks SEFAZ first whether it holds them.
    pub notes_to_consult_first: Vec<String>,
    /// Normal notes replaced by contingency twins, kept ([`Store::superseded_note`]).
    pub superseded_notes: Vec<SupersededNote>,
    /// Sales whose superseded note is settled and no longer kept.
    pub superseded_notes_settled: Vec<SaleId>,
    /// A register's closing counts ([`Store::register_closing`]).
    pub register_closing: Option<RegisterClosing>,
}

/// Numbers given to a recorded change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordedChange {
    pub outbox_seqs: Vec<u64>,
    pub audit_seqs: Vec<u64>,
}

pub(crate) fn apply_local_change(
    conn: &mut diesel::SqliteConnection,
    change: &LocalChange,
) -> Result<RecordedChange> {
    let mut recorded = RecordedChange::default();
    for (key, json) in &change.settings {
        // Checked once, not built: a sale writes two settings, and a `Value` allocates every
        // node.
        serde_json::from_str::<serde::de::IgnoredAny>(json).map_err(|e| Error::InvalidInput {
            field: "settings",
            reason: format!("{key}: {e}"),
        })?;
        check_setting_key(key)?;
        write_setting(conn, key, json, 0)?;
    }
    for event in &change.fiscal_events {
        insert_fiscal_event(conn, event)?;
    }
    drop_card_captures(conn, &change.card_captures_dropped)?;
    for declined in &change.card_payments_declined {
        insert_declined(conn, declined)?;
    }
    for key in &change.notes_to_consult_first {
        // A key names its document's number; one that names none matches no document.
        let Some((series, number)) = numbered_by(key) else {
            continue;
        };
        diesel::update(
            fiscal_documents::table
                .find(document_key(series, number))
                .filter(fiscal_documents::access_key.eq(key)),
        )
        .set(fiscal_documents::consult_first.eq(true))
        .execute(conn)?;
    }
    for note in &change.superseded_notes {
        keep_superseded(conn, note)?;
    }
    drop_superseded(conn, &change.superseded_notes_settled)?;
    if let Some(closing) = &change.register_closing {
        insert_closing(conn, closing)?;
    }
    for m in &change.mutations {
        recorded.outbox_seqs.push(append_outbox(conn, m)?);
    }
    for e in &change.audit {
        recorded.audit_seqs.push(append_audit(conn, e)?.seq);
    }
    Ok(recorded)
}

impl Store {
    /// Writes `change` in one transaction.
    pub fn record_local_change(&mut self, change: &LocalChange) -> Result<RecordedChange> {
        self.write(|c| apply_local_change(c, change))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DbKey;
    use chrono::Utc;
    use tenda_domain::{Actor, CashMovementKind, Money, Outcome, RegisterSessionId, UserId};

    #[test]
    fn change_commits_whole_or_not_at_all() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path().join("d.db"), &DbKey::generate()).expect("open");
        let actor = Actor::User(UserId::new());
        let event = AuditEvent {
            actor,
            action: "register.open".into(),
            subject: "register:1".into(),
            outcome: Outcome::Succeeded,
            at: Utc::now(),
        };
        let change = LocalChange {
            settings: vec![("pos.register".into(), "{\"open\":true}".into())],
            mutations: vec![Mutation::CashMovement {
                session_id: RegisterSessionId::new(),
                movement: CashMovementKind::Opening,
                amount: Money::from_centavos(10_000),
                actor,
                note: None,
                at: Utc::now(),
            }],
            audit: vec![event.clone()],
            ..Default::default()
        };
        let r = store.record_local_change(&change).expect("records");
        // One mutation for the cash movement, one for the audit entry it carries to the server.
        assert_eq!(r.outbox_seqs, vec![1]);
        assert_eq!(r.audit_seqs, vec![1]);
        assert_eq!(
            store.setting_json("pos.register").expect("read").as_deref(),
            Some("{\"open\":true}")
        );

        // A bad setting aborts everything: no second audit entry, no mutation.
        let bad = LocalChange {
            settings: vec![("pos.x".into(), "not json".into())],
            mutations: vec![],
            audit: vec![event],
            ..Default::default()
        };
        assert!(store.record_local_change(&bad).is_err());
        assert_eq!(store.audit_entries(0, 10).expect("read").len(), 1);
        assert_eq!(
            store.outbox_last_seq().expect("read"),
            2,
            "cash movement + its audit only"
        );
        assert!(store.verify_audit_chain().is_ok());
    }

    #[test]
    fn a_register_closes_once_and_its_counts_read_back_in_order() {
        use crate::{ClosingCount, RegisterClosing};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path().join("d.db"), &DbKey::generate()).expect("open");
        let session = RegisterSessionId::new();
        let count = |kind: &str, expected: i64, counted: i64| ClosingCount {
            kind: kind.into(),
            expected: Money::from_centavos(expected),
            counted: Money::from_centavos(counted),
        };
        let closing = RegisterClosing {
            session_id: session,
            counts: vec![count("cash", 15_892, 15_800), count("card", 5_000, 5_000)],
        };
        let change = LocalChange {
            register_closing: Some(closing.clone()),
            ..Default::default()
        };
        store.record_local_change(&change).expect("closes");
        assert_eq!(
            store.register_closing(session).expect("read"),
            Some(closing)
        );
        assert_eq!(
            store
                .register_closing(session)
                .expect("read")
                .expect("kept")
                .counts[0]
                .difference()
                .centavos(),
            -92,
            "counted minus expected: short"
        );
        // Closing it again is refused whole: its audit entry is not written either.
        let again = LocalChange {
            audit: vec![AuditEvent {
                actor: Actor::User(UserId::new()),
                action: "close_register".into(),
                subject: format!("register:{session}"),
                outcome: Outcome::Succeeded,
                at: Utc::now(),
            }],
            ..change
        };
        let refused = store.record_local_change(&again).expect_err("closed once");
        assert!(refused.to_string().contains("already closed"), "{refused}");
        assert!(store.audit_entries(0, 10).expect("read").is_empty());
        assert_eq!(
            store
                .register_closing(RegisterSessionId::new())
                .expect("read"),
            None
        );
    }

    #[test]
    fn a_sale_enters_the_outbox_only_with_its_rows() {
        use tenda_domain::*;
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path().join("d.db"), &DbKey::generate()).expect("open");
        let product = Product {
            id: ProductId::new(),
            sku: "PAO".into(),
            gtin: None,
            name: "Pão Francês".into(),
            unit: Unit::Kilogram,
            price: Money::from_centavos(1499),
            fiscal: FiscalData::simples_nacional("19052090"),
            active: true,
            version: 1,
        };
        let mut cart = Cart::new();
        cart.add(&product, Quantity::from_thousandths(500))
            .expect("line");
        let total = cart.totals().expect("totals").total;
        let sale = cart
            .checkout(
                SaleHeader {
                    id: SaleId::new(),
                    device_id: DeviceId::new(),
                    seller_id: UserId::new(),
                    created_at: Utc::now(),
                },
                vec![Payment::cash(total, total).expect("exact")],
            )
            .expect("settled");
        // A SaleRecorded entry reads its sale back from the sale's row: without the row it
        // would point at nothing, so it is refused and nothing of the change is written.
        let change = LocalChange {
            settings: Vec::new(),
            mutations: vec![Mutation::SaleRecorded(SaleRecorded {
                stock_deltas: sale.stock_deltas().expect("deltas"),
                sale,
                local_number: 1,
                register_session_id: None,
                fiscal: None,
                balance_deltas: Vec::new(),
            })],
            audit: Vec::new(),
            ..Default::default()
        };
        let err = store.record_local_change(&change).expect_err("refused");
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "mutations",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(store.outbox_last_seq().expect("reads"), 0);
    }
}
