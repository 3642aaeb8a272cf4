//! Sales, outbox, audit and fiscal documents.

mod common;

use chrono::Utc;
use common::*;
use tenda_domain::*;
use tenda_store::*;

fn stocked_products(ts: &mut TempStore, n: usize) -> Vec<Product> {
    (0..n)
        .map(|i| {
            let p = product(
                &format!("SKU{i}"),
                &format!("Produto {i}"),
                Some(&ean13(i as u64)),
                100 + i as i64 * 37,
            );
            ts.store.save_product(&p).expect("valid product saves");
            p
        })
        .collect()
}

#[test]
fn a_sale_commits_with_lines_payments_deltas_outbox_and_audit() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 3);
    let sale = sale_of(&products, None);
    let committed = ts
        .store
        .commit_sale(&commit_of(sale.clone()))
        .expect("commits");
    assert_eq!(committed.local_number, 1);

    let stored = ts.store.sale(sale.id).expect("reads").expect("present");
    assert_eq!(stored.sale.lines.len(), 3);
    assert_eq!(stored.sale.payments, sale.payments);
    assert_eq!(stored.sale.total, sale.total);
    assert_eq!(stored.sale.verify(), Ok(()), "stored sale still adds up");
    assert_eq!(stored.status, SaleStatus::Completed);
    for p in &products {
        assert_eq!(
            ts.store.stock_level(p.id).expect("reads"),
            Quantity::from_thousandths(-1000),
            "one unit left"
        );
    }
    // Outbox: the sale, then the audit entry that recorded it.
    let entries = ts.store.outbox_after(0, 100).expect("reads");
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    match &entries[0].mutation {
        Mutation::SaleRecorded(r) => {
            assert_eq!(r.sale.id, sale.id, "the client UUID travels with the sale");
            assert_eq!(r.stock_deltas.len(), 3);
            assert_eq!(r.local_number, 1);
        }
        other => panic!("expected SaleRecorded, got {}", other.kind()),
    }
    assert_eq!(entries[1].mutation.kind(), "audit_appended");
    assert_eq!(
        ts.store.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: 1 }
    );
    let audit = ts.store.audit_entries(0, 10).expect("reads");
    assert_eq!(audit[0].subject, format!("sale:{}", sale.id));
    assert_eq!(audit[0].action, "sale.record");
}

#[test]
fn the_server_folio_is_kept_on_the_sale_once() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 2);
    let sale = sale_of(&products, None);
    ts.store
        .commit_sale(&commit_of(sale.clone()))
        .expect("commits");
    let outbox_before = ts.store.outbox_after(0, 100).expect("reads").len();
    assert_eq!(
        ts.store
            .sale(sale.id)
            .expect("reads")
            .expect("present")
            .folio,
        None,
        "an unsynced sale has no folio yet"
    );

    ts.store.set_sale_folio(sale.id, 41).expect("sets");
    assert_eq!(
        ts.store
            .sale(sale.id)
            .expect("reads")
            .expect("present")
            .folio,
        Some(41)
    );
    // A retried push repeats the same folio: accepted without change.
    ts.store
        .set_sale_folio(sale.id, 41)
        .expect("same folio again");
    // The server never renumbers a sale, so a different folio means something is wrong.
    assert!(matches!(
        ts.store.set_sale_folio(sale.id, 42),
        Err(Error::InvalidInput { field: "folio", .. })
    ));
    assert_eq!(
        ts.store
            .sale(sale.id)
            .expect("reads")
            .expect("present")
            .folio,
        Some(41),
        "the refused folio changed nothing"
    );
    assert!(matches!(
        ts.store.set_sale_folio(SaleId::new(), 1),
        Err(Error::NotFound("sale"))
    ));
    assert_eq!(
        ts.store.outbox_after(0, 100).expect("reads").len(),
        outbox_before,
        "the folio comes from the server: nothing to push back"
    );
}

#[test]
fn the_same_sale_twice_is_refused_and_changes_nothing() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 1);
    let sale = sale_of(&products, None);
    ts.store
        .commit_sale(&commit_of(sale.clone()))
        .expect("first commit");
    let err = ts
        .store
        .commit_sale(&commit_of(sale))
        .expect_err("duplicate");
    assert!(matches!(err, Error::DuplicateSale), "{err:?}");
    assert_eq!(
        ts.store.outbox_last_seq().expect("reads"),
        2,
        "no outbox entry for the refused sale"
    );
    assert_eq!(
        ts.store.stock_level(products[0].id).expect("reads"),
        Quantity::from_thousandths(-1000)
    );
}

#[test]
fn a_tampered_sale_is_refused_before_anything_is_written() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 2);
    let mut sale = sale_of(&products, None);
    sale.total = sale
        .total
        .checked_add(Money::from_centavos(1))
        .expect("fits");
    assert!(matches!(
        ts.store.commit_sale(&commit_of(sale)),
        Err(Error::Sale(_))
    ));
    assert_eq!(ts.store.sale_count().expect("reads"), 0);
    assert_eq!(ts.store.outbox_last_seq().expect("reads"), 0);
}

#[test]
fn account_sales_charge_the_balance_within_the_overdraft_limit() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 2);
    let c = customer("Maria", Some("529.982.247-25"), 0, 500);
    ts.store.save_customer(&c).expect("saves");
    let sale = sale_of(&products, Some(&c));
    let account_part = sale
        .payments
        .iter()
        .find(|p| matches!(p.method, PaymentMethod::CustomerAccount { .. }))
        .expect("on account")
        .amount;
    ts.store
        .commit_sale(&commit_of(sale))
        .expect("within the limit");
    let after = ts.store.customer(c.id).expect("reads").expect("present");
    assert_eq!(after.balance, account_part.checked_neg().expect("fits"));

    // A second sale would go past the 5.00 limit: refused, balance unchanged.
    let big = product("BIG", "Televisor", None, 100_000);
    ts.store.save_product(&big).expect("saves");
    let err = ts
        .store
        .commit_sale(&commit_of(sale_of(&[big], Some(&after))))
        .expect_err("over limit");
    assert!(
        matches!(err, Error::Account(AccountError::OverLimit { .. })),
        "{err:?}"
    );
    assert_eq!(
        ts.store
            .customer(c.id)
            .expect("reads")
            .expect("present")
            .balance,
        after.balance
    );

    // Paying the account raises the balance, with outbox and audit.
    let seq = ts
        .store
        .receive_customer_payment(
            c.id,
            Money::from_centavos(300),
            Actor::User(seller()),
            Utc::now(),
        )
        .expect("pays");
    assert!(seq > 0);
    assert_eq!(
        ts.store
            .customer(c.id)
            .expect("reads")
            .expect("present")
            .balance,
        after
            .balance
            .checked_add(Money::from_centavos(300))
            .expect("fits")
    );
    assert!(matches!(
        ts.store.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: 2 }
    ));
}

#[test]
fn outbox_numbers_are_contiguous_and_acknowledged_in_order() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 2);
    for _ in 0..5 {
        ts.store
            .commit_sale(&commit_of(sale_of(&products, None)))
            .expect("commits");
    }
    assert_eq!(
        ts.store.outbox_last_seq().expect("reads"),
        10,
        "each sale writes SaleRecorded + AuditAppended"
    );
    assert_eq!(ts.store.outbox_pending_count().expect("reads"), 10);
    let first = ts.store.outbox_pending(4).expect("reads");
    assert_eq!(
        first.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    ts.store.outbox_mark_pushed(4).expect("acknowledged");
    assert_eq!(ts.store.outbox_pending_count().expect("reads"), 6);
    assert_eq!(ts.store.outbox_pending(100).expect("reads")[0].seq, 5);
    // Going back is a no-op; acknowledging the future is an error.
    ts.store.outbox_mark_pushed(2).expect("stale ack ignored");
    assert_eq!(ts.store.outbox_pushed_through().expect("reads"), 4);
    assert!(matches!(
        ts.store.outbox_mark_pushed(11),
        Err(Error::Outbox(_))
    ));
    // Pruning keeps the numbering going.
    ts.store.outbox_prune_pushed().expect("prunes");
    ts.store
        .commit_sale(&commit_of(sale_of(&products, None)))
        .expect("commits");
    assert_eq!(ts.store.outbox_last_seq().expect("reads"), 12);
    assert_eq!(
        ts.store
            .outbox_after(0, 100)
            .expect("reads")
            .first()
            .map(|e| e.seq),
        Some(5)
    );
}

fn signed(number: u32, emission: EmissionType) -> SignedFiscalDocument {
    SignedFiscalDocument {
        access_key: format!("3526030615725000011665001{number:09}9{:08}0", number),
        emission,
        status: if emission == EmissionType::Normal {
            FiscalStatus::Pending
        } else {
            FiscalStatus::Contingency
        },
        xml: format!("<NFe><infNFe><ide><nNF>{number}</nNF></ide></infNFe></NFe>"),
        protocol: None,
        deadline: None,
    }
}

const NFCE_1: FiscalSeries = FiscalSeries {
    model: 65,
    series: 1,
};

#[test]
fn fiscal_numbers_come_from_the_series_counter_inside_the_sale() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 1);
    let a = ts
        .store
        .commit_sale_with_fiscal(&commit_of(sale_of(&products, None)), NFCE_1, |n| {
            Ok(signed(n, EmissionType::Normal))
        })
        .expect("commits");
    let b = ts
        .store
        .commit_sale_with_fiscal(&commit_of(sale_of(&products, None)), NFCE_1, |n| {
            Ok(signed(n, EmissionType::OfflineContingency))
        })
        .expect("commits");
    assert_eq!(a.fiscal.as_ref().map(|f| f.number), Some(1));
    assert_eq!(b.fiscal.as_ref().map(|f| f.number), Some(2));

    // A signing failure records nothing and does not spend the number.
    let failed =
        ts.store
            .commit_sale_with_fiscal(&commit_of(sale_of(&products, None)), NFCE_1, |_| {
                Err("certificate expired".into())
            });
    assert!(matches!(failed, Err(Error::FiscalSigning(_))));
    let c = ts
        .store
        .commit_sale_with_fiscal(&commit_of(sale_of(&products, None)), NFCE_1, |n| {
            Ok(signed(n, EmissionType::Normal))
        })
        .expect("commits");
    assert_eq!(
        c.fiscal.map(|f| f.number),
        Some(3),
        "no gap after a failed signing"
    );
    assert_eq!(ts.store.sale_count().expect("reads"), 3);

    let doc = ts
        .store
        .fiscal_document(b.sale_id)
        .expect("reads")
        .expect("stored");
    assert_eq!(doc.emission, EmissionType::OfflineContingency);
    assert!(doc.xml.contains("<nNF>2</nNF>"));
    let waiting = ts
        .store
        .fiscal_documents_awaiting_transmission(10)
        .expect("reads");
    assert_eq!(waiting.len(), 3);
}

#[test]
fn reserved_numbers_that_are_never_used_are_listed_for_inutilizacao() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 1);
    let n1 = ts.store.reserve_fiscal_number(NFCE_1).expect("reserves");
    let n2 = ts.store.reserve_fiscal_number(NFCE_1).expect("reserves");
    assert_eq!((n1, n2), (1, 2));
    let issued = IssuedFiscalDocument {
        series: NFCE_1,
        number: n2,
        document: signed(n2, EmissionType::Normal),
    };
    ts.store
        .commit_sale_with_reserved_number(&commit_of(sale_of(&products, None)), &issued)
        .expect("commits");
    // Using the same number again is refused.
    let again = ts
        .store
        .commit_sale_with_reserved_number(&commit_of(sale_of(&products, None)), &issued);
    assert!(
        matches!(again, Err(Error::FiscalNumberNotReserved { number: 2, .. })),
        "{again:?}"
    );
    assert_eq!(
        ts.store.unused_fiscal_numbers(NFCE_1).expect("reads"),
        vec![1]
    );

    let short = ts.store.record_fiscal_numbers_voided(
        NFCE_1,
        1,
        1,
        "curta",
        None,
        Actor::User(seller()),
        Utc::now(),
    );
    assert!(matches!(
        short,
        Err(Error::InvalidInput {
            field: "justification",
            ..
        })
    ));
    ts.store
        .record_fiscal_numbers_voided(
            NFCE_1,
            1,
            1,
            "Numero reservado e nao utilizado",
            Some("135260000000099".into()),
            Actor::User(seller()),
            Utc::now(),
        )
        .expect("recorded");
    assert!(
        ts.store
            .unused_fiscal_numbers(NFCE_1)
            .expect("reads")
            .is_empty()
    );
    let last = ts.store.outbox_after(0, 100).expect("reads");
    assert!(
        last.iter()
            .any(|e| e.mutation.kind() == "fiscal_numbers_voided")
    );
    // The counter continues after both.
    ts.store
        .set_next_fiscal_number(NFCE_1, 10)
        .expect("forward");
    assert!(
        ts.store.set_next_fiscal_number(NFCE_1, 5).is_err(),
        "numbering never goes back"
    );
    assert_eq!(
        ts.store.reserve_fiscal_number(NFCE_1).expect("reserves"),
        10
    );
}

#[test]
fn fiscal_status_changes_are_stored_pushed_and_audited() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 1);
    let c = ts
        .store
        .commit_sale_with_fiscal(&commit_of(sale_of(&products, None)), NFCE_1, |n| {
            Ok(signed(n, EmissionType::Normal))
        })
        .expect("commits");
    let actor = Actor::Device(DeviceId::new());
    ts.store
        .update_fiscal_document(
            c.sale_id,
            &FiscalUpdate {
                status: Some(FiscalStatus::Rejected),
                rejection_code: Some("225".into()),
                rejection_reason: Some("Falha no Schema XML".into()),
                ..Default::default()
            },
            actor,
            Utc::now(),
        )
        .expect("updates");
    let doc = ts
        .store
        .fiscal_document(c.sale_id)
        .expect("reads")
        .expect("stored");
    assert_eq!(
        (doc.status, doc.rejection_code.as_deref()),
        (FiscalStatus::Rejected, Some("225"))
    );
    ts.store
        .update_fiscal_document(
            c.sale_id,
            &FiscalUpdate {
                status: Some(FiscalStatus::Authorized),
                protocol: Some("135260000000001".into()),
                xml: Some("<nfeProc>corrected</nfeProc>".into()),
                ..Default::default()
            },
            actor,
            Utc::now(),
        )
        .expect("updates");
    let doc = ts
        .store
        .fiscal_document(c.sale_id)
        .expect("reads")
        .expect("stored");
    assert_eq!(doc.status, FiscalStatus::Authorized);
    assert_eq!(doc.number, 1, "a correction keeps the number");
    assert!(
        ts.store
            .fiscal_documents_awaiting_transmission(10)
            .expect("reads")
            .is_empty()
    );
    let kinds: Vec<&str> = ts
        .store
        .outbox_after(0, 100)
        .expect("reads")
        .iter()
        .map(|e| e.mutation.kind())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "fiscal_status_changed")
            .count(),
        2
    );
    let bad = ts.store.update_fiscal_document(
        c.sale_id,
        &FiscalUpdate {
            access_key: Some("123".into()),
            ..Default::default()
        },
        actor,
        Utc::now(),
    );
    assert!(matches!(
        bad,
        Err(Error::InvalidInput {
            field: "access_key",
            ..
        })
    ));
    // A re-signed note keeps its number: a key naming another number is refused.
    let doc = ts
        .store
        .fiscal_document(c.sale_id)
        .expect("reads")
        .expect("document");
    let other_number = signed(doc.number + 1, EmissionType::Normal).access_key;
    let moved = ts.store.update_fiscal_document(
        c.sale_id,
        &FiscalUpdate {
            access_key: Some(other_number),
            ..Default::default()
        },
        actor,
        Utc::now(),
    );
    assert!(
        matches!(
            moved,
            Err(Error::InvalidInput {
                field: "access_key",
                ..
            })
        ),
        "{moved:?}"
    );
    assert!(matches!(
        ts.store.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: 3 }
    ));
}

#[test]
fn a_note_is_stored_only_under_the_number_its_access_key_names() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 1);
    let commit = commit_of(sale_of(&products, None));
    // The key names number 2 while the series hands out number 1: one number, one key.
    let refused = ts.store.commit_sale_with_fiscal(&commit, NFCE_1, |number| {
        Ok(signed(number + 1, EmissionType::OfflineContingency))
    });
    assert!(
        matches!(
            refused,
            Err(Error::InvalidInput {
                field: "access_key",
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        ts.store.sale_count().expect("counts"),
        0,
        "nothing recorded"
    );
    // The refused sale spent no number: the next note takes number 1.
    let c = ts
        .store
        .commit_sale_with_fiscal(&commit, NFCE_1, |number| {
            Ok(signed(number, EmissionType::OfflineContingency))
        })
        .expect("commits");
    assert_eq!(c.fiscal.map(|f| f.number), Some(1));
}

#[test]
fn stock_adjustments_travel_as_deltas() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 1);
    let actor = Actor::User(seller());
    ts.store
        .adjust_stock(
            &StockDelta {
                product_id: products[0].id,
                delta: Quantity::from_thousandths(24_000),
                reason: StockReason::Receiving,
            },
            actor,
            Utc::now(),
        )
        .expect("adjusts");
    assert_eq!(
        ts.store.stock_level(products[0].id).expect("reads"),
        Quantity::from_thousandths(24_000)
    );
    let zero = StockDelta {
        product_id: products[0].id,
        delta: Quantity::ZERO,
        reason: StockReason::Loss,
    };
    assert!(matches!(
        ts.store.adjust_stock(&zero, actor, Utc::now()),
        Err(Error::InvalidInput { field: "delta", .. })
    ));
    let unknown = StockDelta {
        product_id: ProductId::new(),
        delta: Quantity::from_thousandths(1),
        reason: StockReason::Loss,
    };
    assert!(matches!(
        ts.store.adjust_stock(&unknown, actor, Utc::now()),
        Err(Error::NotFound("product"))
    ));
}

#[test]
fn voiding_a_sale_returns_stock_and_credits_the_account() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 2);
    let c = customer("Maria", None, 0, 100_000);
    ts.store.save_customer(&c).expect("saves");
    let sale = sale_of(&products, Some(&c));
    ts.store
        .commit_sale(&commit_of(sale.clone()))
        .expect("commits");
    let manager = Actor::User(UserId::new());
    assert!(matches!(
        ts.store.void_sale(sale.id, manager, " ", Utc::now()),
        Err(Error::InvalidInput {
            field: "reason",
            ..
        })
    ));
    let seq = ts
        .store
        .void_sale(sale.id, manager, "cliente desistiu", Utc::now())
        .expect("voids");
    for p in &products {
        assert_eq!(
            ts.store.stock_level(p.id).expect("reads"),
            Quantity::ZERO,
            "stock is back"
        );
    }
    assert_eq!(
        ts.store
            .customer(c.id)
            .expect("reads")
            .expect("present")
            .balance,
        Money::ZERO,
        "account credited back"
    );
    assert_eq!(
        ts.store.sale(sale.id).expect("reads").expect("kept").status,
        SaleStatus::Voided
    );
    let entry = ts.store.outbox_after(seq - 1, 1).expect("reads").remove(0);
    assert!(
        matches!(entry.mutation, Mutation::SaleVoided { ref stock_deltas, .. } if stock_deltas.len() == 2)
    );
    assert!(matches!(
        ts.store.void_sale(sale.id, manager, "de novo", Utc::now()),
        Err(Error::InvalidInput { field: "sale", .. })
    ));
    assert!(matches!(
        ts.store
            .void_sale(SaleId::new(), manager, "nao existe", Utc::now()),
        Err(Error::NotFound("sale"))
    ));
    assert!(matches!(
        ts.store.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: 2 }
    ));
}

#[test]
fn register_sessions_track_the_cash_the_drawer_should_hold() {
    let mut ts = temp_store();
    let products = stocked_products(&mut ts, 2);
    let session = RegisterSessionId::new();
    let actor = Actor::User(seller());
    let m = Money::from_centavos;
    assert!(
        matches!(
            ts.store.record_cash_movement(
                session,
                CashMovementKind::Supply,
                m(100),
                actor,
                None,
                Utc::now()
            ),
            Err(Error::InvalidInput {
                field: "session",
                ..
            })
        ),
        "nothing before the opening"
    );
    ts.store
        .record_cash_movement(
            session,
            CashMovementKind::Opening,
            m(10_000),
            actor,
            None,
            Utc::now(),
        )
        .expect("opens");
    assert!(
        ts.store
            .record_cash_movement(
                session,
                CashMovementKind::Opening,
                m(1),
                actor,
                None,
                Utc::now()
            )
            .is_err(),
        "opens once"
    );
    let sale = sale_of(&products, None);
    let cash: Money = sale
        .payments
        .iter()
        .filter(|p| matches!(p.method, PaymentMethod::Cash { .. }))
        .map(|p| &p.amount)
        .sum::<Option<Money>>()
        .expect("fits");
    ts.store
        .commit_sale(&SaleCommit {
            sale,
            actor,
            register_session_id: Some(session),
        })
        .expect("commits");
    ts.store
        .record_cash_movement(
            session,
            CashMovementKind::Supply,
            m(2_000),
            actor,
            Some("troco".into()),
            Utc::now(),
        )
        .expect("supply");
    ts.store
        .record_cash_movement(
            session,
            CashMovementKind::Withdrawal,
            m(5_000),
            actor,
            Some("sangria".into()),
            Utc::now(),
        )
        .expect("withdrawal");
    assert!(
        matches!(
            ts.store.record_cash_movement(
                session,
                CashMovementKind::Withdrawal,
                m(1_000_000),
                actor,
                None,
                Utc::now()
            ),
            Err(Error::InvalidInput {
                field: "amount",
                ..
            })
        ),
        "cannot take out more than the drawer holds"
    );
    assert!(matches!(
        ts.store.record_cash_movement(
            session,
            CashMovementKind::Supply,
            m(0),
            actor,
            None,
            Utc::now()
        ),
        Err(Error::InvalidInput {
            field: "amount",
            ..
        })
    ));
    let expected = m(10_000 + 2_000 - 5_000).checked_add(cash).expect("fits");
    ts.store
        .record_cash_movement(
            session,
            CashMovementKind::Closing,
            expected.checked_sub(m(25)).expect("fits"),
            actor,
            None,
            Utc::now(),
        )
        .expect("closes");
    let r = ts.store.register_cash(session).expect("reads");
    assert_eq!((r.cash_sales, r.expected), (cash, expected));
    assert_eq!(r.difference(), Some(m(-25)), "25 centavos missing");
    assert!(
        ts.store
            .record_cash_movement(
                session,
                CashMovementKind::Supply,
                m(1),
                actor,
                None,
                Utc::now()
            )
            .is_err(),
        "closed"
    );
    let kinds: Vec<&str> = ts
        .store
        .outbox_after(0, 100)
        .expect("reads")
        .iter()
        .map(|e| e.mutation.kind())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "cash_movement").count(), 4);
}
