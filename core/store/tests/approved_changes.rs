//! Fiscal changes made on someone's authority (a note corrected or cancelled, a sale voided,
//! numbers declared unused) commit in ONE transaction with the approval's audit entry, the
//! settings and the outbox mutations that go with them: a failing step leaves nothing
//! half-written.

mod common;

use chrono::Utc;
use common::*;
use tenda_domain::*;
use tenda_store::*;

const NFCE_1: FiscalSeries = FiscalSeries {
    model: 65,
    series: 1,
};

fn stocked_product(ts: &mut TempStore) -> Product {
    let p = product("SKU1", "Produto", Some(&ean13(1)), 1_000);
    ts.store.save_product(&p).expect("valid product saves");
    p
}

fn signed(number: u32) -> SignedFiscalDocument {
    SignedFiscalDocument {
        access_key: format!("3526030615725000011665001{number:09}1{:08}0", number),
        emission: EmissionType::Normal,
        status: FiscalStatus::Pending,
        xml: format!("<NFe><infNFe><ide><nNF>{number}</nNF></ide></infNFe></NFe>"),
        protocol: None,
        deadline: None,
    }
}

/// A sale with an authorized note.
fn authorized_sale(ts: &mut TempStore, p: &Product) -> SaleId {
    let c = ts
        .store
        .commit_sale_with_fiscal(
            &commit_of(sale_of(std::slice::from_ref(p), None)),
            NFCE_1,
            |n| Ok(signed(n)),
        )
        .expect("commits");
    ts.store
        .update_fiscal_document(
            c.sale_id,
            &FiscalUpdate {
                status: Some(FiscalStatus::Authorized),
                protocol: Some("135260000000001".into()),
                ..Default::default()
            },
            Actor::Device(DeviceId::new()),
            Utc::now(),
        )
        .expect("authorized");
    c.sale_id
}

fn approval(subject: &str) -> AuditEvent {
    AuditEvent {
        actor: Actor::User(UserId::new()),
        action: "cancel_note.override".into(),
        subject: subject.into(),
        outcome: Outcome::Succeeded,
        at: Utc::now(),
    }
}

/// A change whose setting is not JSON: it fails after the fiscal step has been applied in the
/// same transaction, so everything before it must roll back.
fn failing_change(subject: &str) -> LocalChange {
    LocalChange {
        settings: vec![("pos.fiscal_events".into(), "not json".into())],
        mutations: vec![],
        audit: vec![approval(subject)],
        ..Default::default()
    }
}

fn good_change(subject: &str) -> LocalChange {
    LocalChange {
        settings: vec![("pos.fiscal_events".into(), format!("[\"{subject}\"]"))],
        mutations: vec![],
        audit: vec![approval(subject)],
        ..Default::default()
    }
}

/// What a half-written change would leave behind.
#[derive(Debug, PartialEq)]
struct Trace {
    outbox: u64,
    audit: usize,
    setting: Option<String>,
}

fn trace(ts: &mut TempStore) -> Trace {
    Trace {
        outbox: ts.store.outbox_last_seq().expect("reads"),
        audit: ts.store.audit_entries(0, 10_000).expect("reads").len(),
        setting: ts.store.setting_json("pos.fiscal_events").expect("reads"),
    }
}

fn status(ts: &mut TempStore, sale: SaleId) -> (FiscalStatus, SaleStatus) {
    (
        ts.store
            .fiscal_document(sale)
            .expect("reads")
            .expect("stored")
            .status,
        ts.store.sale(sale).expect("reads").expect("stored").status,
    )
}

#[test]
fn a_note_correction_and_its_approval_commit_together_or_not_at_all() {
    let mut ts = temp_store();
    let p = stocked_product(&mut ts);
    let c = ts
        .store
        .commit_sale_with_fiscal(&commit_of(sale_of(&[p], None)), NFCE_1, |n| Ok(signed(n)))
        .expect("commits");
    let before = trace(&mut ts);
    let corrected = FiscalUpdate {
        status: Some(FiscalStatus::Pending),
        xml: Some("<NFe><infNFe>corrigida</infNFe></NFe>".into()),
        ..Default::default()
    };
    let actor = Actor::User(UserId::new());

    // The approval's setting fails after the document was rewritten: the rewrite rolls back.
    let failed = ts.store.update_fiscal_document_with_change(
        c.sale_id,
        &corrected,
        actor,
        Utc::now(),
        &failing_change("correction"),
    );
    assert!(matches!(
        failed,
        Err(Error::InvalidInput {
            field: "settings",
            ..
        })
    ));
    assert_eq!(
        trace(&mut ts),
        before,
        "no mutation, audit entry or setting"
    );
    let doc = ts
        .store
        .fiscal_document(c.sale_id)
        .expect("reads")
        .expect("stored");
    assert!(
        doc.xml.contains("<nNF>1</nNF>"),
        "the XML is the original one"
    );

    // The document step fails (no such note): the approval is not recorded either.
    let missing = ts.store.update_fiscal_document_with_change(
        SaleId::new(),
        &corrected,
        actor,
        Utc::now(),
        &good_change("correction"),
    );
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
    assert_eq!(trace(&mut ts), before, "the approval is not audited alone");

    let (seq, recorded) = ts
        .store
        .update_fiscal_document_with_change(
            c.sale_id,
            &corrected,
            actor,
            Utc::now(),
            &good_change("correction"),
        )
        .expect("commits");
    // FiscalStatusChanged, its audit entry, then the approval's audit entry.
    assert_eq!(seq, before.outbox + 1);
    assert_eq!(recorded.audit_seqs, vec![before.audit as u64 + 2]);
    let after = trace(&mut ts);
    assert_eq!(after.outbox, before.outbox + 3);
    assert_eq!(after.setting.as_deref(), Some("[\"correction\"]"));
    let doc = ts
        .store
        .fiscal_document(c.sale_id)
        .expect("reads")
        .expect("stored");
    assert!(doc.xml.contains("corrigida"));
    assert!(matches!(
        ts.store.verify_audit_chain().expect("verifies"),
        AuditVerification::Intact { .. }
    ));
}

#[test]
fn a_cancellation_voids_the_sale_and_records_the_approval_in_one_transaction() {
    let mut ts = temp_store();
    let p = stocked_product(&mut ts);
    let sale = authorized_sale(&mut ts, &p);
    let stock = ts.store.stock_level(p.id).expect("reads");
    let cancelled = FiscalUpdate {
        status: Some(FiscalStatus::Cancelled),
        protocol: Some("135260000000002".into()),
        ..Default::default()
    };
    let actor = Actor::User(UserId::new());
    let before = trace(&mut ts);

    // The last step fails: the note stays authorized and the sale stands, stock untouched.
    let failed = ts.store.cancel_fiscal_document_and_void_sale(
        sale,
        &cancelled,
        "cliente desistiu da compra",
        actor,
        Utc::now(),
        &failing_change("cancellation"),
    );
    assert!(failed.is_err());
    assert_eq!(trace(&mut ts), before);
    assert_eq!(
        status(&mut ts, sale),
        (FiscalStatus::Authorized, SaleStatus::Completed)
    );
    assert_eq!(ts.store.stock_level(p.id).expect("reads"), stock);

    // A bad reason is refused before anything is written.
    assert!(matches!(
        ts.store.cancel_fiscal_document_and_void_sale(
            sale,
            &cancelled,
            " ",
            actor,
            Utc::now(),
            &good_change("cancellation"),
        ),
        Err(Error::InvalidInput {
            field: "reason",
            ..
        })
    ));
    assert_eq!(trace(&mut ts), before);

    let (fiscal_seq, void_seq, recorded) = ts
        .store
        .cancel_fiscal_document_and_void_sale(
            sale,
            &cancelled,
            "cliente desistiu da compra",
            actor,
            Utc::now(),
            &good_change("cancellation"),
        )
        .expect("commits");
    assert!(fiscal_seq < void_seq && recorded.audit_seqs.len() == 1);
    assert_eq!(
        status(&mut ts, sale),
        (FiscalStatus::Cancelled, SaleStatus::Voided)
    );
    assert_eq!(
        ts.store.stock_level(p.id).expect("reads"),
        stock
            .checked_add(Quantity::from_units(1).expect("fits"))
            .expect("fits"),
        "the unit sold is back in stock"
    );
    let kinds: Vec<&str> = ts
        .store
        .outbox_after(before.outbox, 100)
        .expect("reads")
        .iter()
        .map(|e| e.mutation.kind())
        .collect();
    assert_eq!(
        kinds,
        [
            "fiscal_status_changed",
            "audit_appended",
            "sale_voided",
            "audit_appended",
            "audit_appended"
        ]
    );

    // Voiding twice fails in the void step, after the document step: the document write of the
    // second attempt rolls back with it, and no approval is recorded.
    let before = trace(&mut ts);
    let again = ts.store.cancel_fiscal_document_and_void_sale(
        sale,
        &FiscalUpdate {
            protocol: Some("999".into()),
            ..cancelled.clone()
        },
        "de novo, por engano",
        actor,
        Utc::now(),
        &good_change("again"),
    );
    assert!(matches!(
        again,
        Err(Error::InvalidInput { field: "sale", .. })
    ));
    assert_eq!(trace(&mut ts), before);
    let doc = ts
        .store
        .fiscal_document(sale)
        .expect("reads")
        .expect("stored");
    assert_eq!(doc.protocol.as_deref(), Some("135260000000002"));
}

#[test]
fn a_void_and_its_approval_commit_together_or_not_at_all() {
    let mut ts = temp_store();
    let p = stocked_product(&mut ts);
    let sale = sale_of(std::slice::from_ref(&p), None);
    ts.store
        .commit_sale(&commit_of(sale.clone()))
        .expect("commits");
    let stock = ts.store.stock_level(p.id).expect("reads");
    let before = trace(&mut ts);
    let actor = Actor::User(UserId::new());

    let failed = ts.store.void_sale_with_change(
        sale.id,
        actor,
        "cliente desistiu",
        Utc::now(),
        &failing_change("void"),
    );
    assert!(failed.is_err());
    assert_eq!(trace(&mut ts), before);
    assert_eq!(ts.store.stock_level(p.id).expect("reads"), stock);
    assert_eq!(
        ts.store
            .sale(sale.id)
            .expect("reads")
            .expect("stored")
            .status,
        SaleStatus::Completed
    );

    let (seq, recorded) = ts
        .store
        .void_sale_with_change(
            sale.id,
            actor,
            "cliente desistiu",
            Utc::now(),
            &good_change("void"),
        )
        .expect("commits");
    assert_eq!(seq, before.outbox + 1);
    assert_eq!(recorded.audit_seqs.len(), 1);
    assert_eq!(
        ts.store
            .sale(sale.id)
            .expect("reads")
            .expect("stored")
            .status,
        SaleStatus::Voided
    );
    assert_eq!(trace(&mut ts).setting.as_deref(), Some("[\"void\"]"));
}

#[test]
fn voided_numbers_and_their_approval_commit_together_or_not_at_all() {
    let mut ts = temp_store();
    assert_eq!(ts.store.reserve_fiscal_number(NFCE_1).expect("reserves"), 1);
    assert_eq!(ts.store.reserve_fiscal_number(NFCE_1).expect("reserves"), 2);
    let before = trace(&mut ts);
    let actor = Actor::User(UserId::new());
    let range = |first, last| VoidedNumbers {
        series: NFCE_1,
        first,
        last,
        justification: "Numeros reservados e nao utilizados".into(),
        protocol: Some("135260000000003".into()),
    };

    let failed = ts.store.record_fiscal_numbers_voided_with_change(
        &range(1, 2),
        actor,
        Utc::now(),
        &failing_change("inutilizacao"),
    );
    assert!(failed.is_err());
    assert_eq!(trace(&mut ts), before);
    assert_eq!(
        ts.store.unused_fiscal_numbers(NFCE_1).expect("reads"),
        vec![1, 2]
    );

    // Number 3 was never reserved: numbers 1 and 2 (updated first) roll back, no approval.
    let beyond = ts.store.record_fiscal_numbers_voided_with_change(
        &range(1, 3),
        actor,
        Utc::now(),
        &good_change("inutilizacao"),
    );
    assert!(
        matches!(
            beyond,
            Err(Error::FiscalNumberNotReserved { number: 3, .. })
        ),
        "{beyond:?}"
    );
    assert_eq!(trace(&mut ts), before);
    assert_eq!(
        ts.store.unused_fiscal_numbers(NFCE_1).expect("reads"),
        vec![1, 2]
    );

    let (seq, recorded) = ts
        .store
        .record_fiscal_numbers_voided_with_change(
            &range(1, 2),
            actor,
            Utc::now(),
            &good_change("inutilizacao"),
        )
        .expect("commits");
    assert_eq!(seq, before.outbox + 1);
    assert_eq!(recorded.audit_seqs, vec![before.audit as u64 + 2]);
    assert!(
        ts.store
            .unused_fiscal_numbers(NFCE_1)
            .expect("reads")
            .is_empty()
    );
    assert_eq!(
        trace(&mut ts).setting.as_deref(),
        Some("[\"inutilizacao\"]")
    );
}

#[test]
fn a_batch_of_note_answers_and_its_settings_commit_together_or_not_at_all() {
    let mut ts = temp_store();
    let p = stocked_product(&mut ts);
    let first = ts
        .store
        .commit_sale_with_fiscal(
            &commit_of(sale_of(std::slice::from_ref(&p), None)),
            NFCE_1,
            |n| Ok(signed(n)),
        )
        .expect("commits");
    let second = ts
        .store
        .commit_sale_with_fiscal(&commit_of(sale_of(&[p], None)), NFCE_1, |n| Ok(signed(n)))
        .expect("commits");
    let authorized = FiscalUpdate {
        status: Some(FiscalStatus::Authorized),
        protocol: Some("135260000000001".into()),
        ..Default::default()
    };
    let rejected = FiscalUpdate {
        status: Some(FiscalStatus::Rejected),
        rejection_code: Some("225".into()),
        rejection_reason: Some("Falha no Schema XML".into()),
        ..Default::default()
    };
    let device = Actor::Device(DeviceId::new());
    let before = trace(&mut ts);

    // The last answer names a note that does not exist: the first one is not kept alone, and
    // the settings written with the batch are not either.
    let failed = ts.store.update_fiscal_documents_with_change(
        &[
            (first.sale_id, authorized.clone()),
            (SaleId::new(), rejected.clone()),
        ],
        device,
        Utc::now(),
        &good_change("batch"),
    );
    assert!(matches!(failed, Err(Error::NotFound(_))), "{failed:?}");
    assert_eq!(trace(&mut ts), before);
    let pending = |ts: &mut TempStore, sale| {
        ts.store
            .fiscal_document(sale)
            .expect("reads")
            .expect("stored")
            .status
    };
    assert_ne!(pending(&mut ts, first.sale_id), FiscalStatus::Authorized);

    let (seqs, _) = ts
        .store
        .update_fiscal_documents_with_change(
            &[(first.sale_id, authorized), (second.sale_id, rejected)],
            device,
            Utc::now(),
            &good_change("batch"),
        )
        .expect("commits");
    // Each answer: its FiscalStatusChanged and that mutation's audit entry, in order.
    assert_eq!(seqs, vec![before.outbox + 1, before.outbox + 3]);
    assert_eq!(pending(&mut ts, first.sale_id), FiscalStatus::Authorized);
    assert_eq!(pending(&mut ts, second.sale_id), FiscalStatus::Rejected);
    assert_eq!(
        trace(&mut ts).setting.as_deref(),
        Some("[\"batch\"]"),
        "the settings came with the answers"
    );
}
