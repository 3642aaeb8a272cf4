//! The register working with no internet: sign in, open the register, enter contingency with a
//! manager's PIN, ring up and sell, print the DANFE — everything committed in the encrypted store
//! and audited, on a real SQLCipher file with the public test A1 certificate.
// Amounts in centavos are written reais_centavos (100_00 = R$ 100,00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::*;
use tenda_domain::{DeviceId, Discount, FiscalStatus, Quantity};
use tenda_pos::credentials::Secret;
use tenda_pos::register::PaymentKind;
use tenda_pos::status::{LinkState, SefazMode};
use tenda_pos::{CountedAmount, PaymentRequest, Pos, PosError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_sale_commits_signs_and_prints_in_contingency() {
    let f = fixture(|_| {});
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("seller signs in");
    pos.open_register(m(100_00), Some(manager()))
        .expect("manager opens the register");

    // Ring up: coffee by barcode ×2, bread by scale label (1.250 kg of code 00123).
    pos.scan(
        "7891000100103".into(),
        Some(Quantity::from_units(2).expect("2")),
    )
    .expect("barcode");
    pos.scan("2001230012502".into(), None).expect("scale label");
    let ticket = pos.ticket().expect("ticket");
    // 2 × 18.90 + 1.250 × 16.90 (21.125 → 21.12, half-even) = 58.92
    assert_eq!(ticket.total, m(58_92));

    // No SEFAZ and no manager decision yet: the sale is refused, clearly, and nothing is lost.
    let err = pos
        .checkout(vec![PaymentRequest::Cash {
            amount: ticket.total,
            tendered: m(60_00),
        }])
        .await
        .expect_err("contingency must be authorized first");
    assert_eq!(err, PosError::ContingencyRequired);
    assert_eq!(pos.status().sefaz, SefazMode::ContingencyRequired);
    assert_eq!(
        pos.ticket().expect("ticket kept").lines.len(),
        2,
        "the ticket survives the refusal"
    );

    // The manager types their PIN on the seller's session and a justification.
    let short = pos
        .enter_contingency("sem net".into(), Some(manager()))
        .expect_err("justification too short");
    assert_eq!(short.code(), "invalid_input");
    pos.enter_contingency("Internet da loja caiu as 10h".into(), Some(manager()))
        .expect("contingency entered");
    assert_eq!(pos.status().sefaz, SefazMode::Contingency);

    let pix = pos
        .checkout(vec![PaymentRequest::Pix {
            amount: ticket.total,
            txid: None,
        }])
        .await
        .expect_err("offline");
    assert!(
        matches!(pix, PosError::Offline { ref what, .. } if what == "pix"),
        "{pix:?}"
    );

    let outcome = pos
        .checkout(vec![PaymentRequest::Cash {
            amount: ticket.total,
            tendered: m(60_00),
        }])
        .await
        .expect("sale in contingency");
    assert_eq!(outcome.change, m(1_08));
    assert!(outcome.printed, "printed: {:?}", outcome.print_error);
    let note = outcome.note.clone().expect("an NFC-e");
    assert!(note.contingency && note.status == FiscalStatus::Contingency);
    assert_eq!(
        &note.access_key[34..35],
        "9",
        "tpEmis=9 is inside the access key"
    );

    // The DANFE on paper says contingency and carries the note's QR byte for byte.
    let receipts = f.printer.receipts();
    let last = receipts
        .iter()
        .rev()
        .find(|r| r.cut)
        .expect("a cut receipt");
    assert!(
        last.mentions("CONTING"),
        "contingency notice printed: {:?}",
        last.lines
    );
    assert!(
        last.qr_codes
            .iter()
            .any(|q| q.payload == note.qr_code.as_bytes()),
        "QR equals the note's"
    );

    // Everything is in the store: sale, signed XML, deltas, outbox, audit — and the chain holds.
    let stored = pos
        .inspect_store(|s| s.sale(outcome.sale_id))
        .expect("read")
        .expect("sale stored");
    let doc = stored.fiscal.expect("fiscal document stored");
    assert_eq!(doc.status, FiscalStatus::Contingency);
    assert!(
        doc.xml.contains("<tpEmis>9</tpEmis>")
            && doc
                .xml
                .contains("<xJust>Internet da loja caiu as 10h</xJust>")
    );
    assert!(
        doc.deadline.is_some(),
        "a contingency note carries its deadline"
    );
    assert_eq!(
        pos.inspect_store(|s| s.stock_level(f.coffee.id))
            .expect("stock"),
        Quantity::from_thousandths(-2000)
    );
    assert!(pos.verify_audit().expect("verify").intact);
    let actions: Vec<String> = pos
        .audit_entries(0, 1000)
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    for expected in [
        "open_register.override",
        "session.approve",
        "authorize_contingency.override",
        "sale.record",
    ] {
        assert!(
            actions.iter().any(|a| a.starts_with(expected)),
            "{expected} audited in {actions:?}"
        );
    }
    let status = pos.status();
    assert_eq!(status.pending_notes, 1);
    assert!(status.nearest_deadline.is_some());
    assert_eq!(status.link, LinkState::Offline);
    assert!(status.unavailable.iter().any(|u| u.feature == "pix"));

    // Closing: expected cash = 100 float + 58.92; counted 158.00 → 0.92 short.
    let session = pos.register_session().expect("reads").expect("open").id;
    let report = pos
        .close_register(
            vec![CountedAmount {
                kind: PaymentKind::Cash,
                amount: m(158_00),
            }],
            Some(manager()),
        )
        .expect("manager closes");
    let cash = &report.lines[0];
    assert_eq!((cash.expected, cash.difference), (m(158_92), m(-92)));
    // The counts are kept with the closing, a row per payment kind, as the report gave them.
    let kept = pos
        .inspect_store(|s| s.register_closing(session))
        .expect("read")
        .expect("recorded with the closing");
    assert_eq!(kept.counts.len(), report.lines.len());
    assert_eq!(kept.counts[0].kind, "cash");
    assert_eq!(
        (kept.counts[0].expected, kept.counts[0].difference()),
        (m(158_92), m(-92))
    );
    let _ = &f.bread;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discount_beyond_the_seller_limit_needs_and_audits_a_manager() {
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    pos.scan("CAF500".into(), None).expect("sku");
    let refused = pos
        .set_sale_discount(Some(Discount::Percent(1000)), None)
        .expect_err("10% > 5% limit");
    assert_eq!(refused.code(), "forbidden");
    pos.set_sale_discount(Some(Discount::Percent(1000)), Some(manager()))
        .expect("manager approves");
    let total = pos.ticket().expect("ticket").total;
    assert_eq!(total, m(17_01), "18.90 − 10% (1.89)");
    // Automatic contingency per policy: the first offline sale enters it by itself.
    let outcome = pos
        .checkout(vec![PaymentRequest::Cash {
            amount: total,
            tendered: total,
        }])
        .await
        .expect("automatic contingency sale");
    assert!(outcome.note.expect("note").contingency);
    let entries = pos.audit_entries(0, 1000).expect("audit");
    let approval = entries
        .iter()
        .find(|e| e.action == "discount_above_limit.override")
        .expect("the override is audited with the sale");
    assert!(
        approval
            .subject
            .contains(&format!("sale:{}", outcome.sale_id))
            && approval.subject.contains("approved_by=user:")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_account_uses_the_last_known_balance_and_closed_inventory_refuses() {
    let f = fixture(|c| {
        c.contingency.automatic = true;
        c.sell_without_stock_check = false;
    });
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    pos.scan("CAF500".into(), None).expect("scan");
    let err = pos
        .checkout(vec![PaymentRequest::Cash {
            amount: m(18_90),
            tendered: m(20_00),
        }])
        .await
        .expect_err("no stock");
    assert_eq!(err.code(), "insufficient_stock");
    pos.inspect_store(|s| {
        s.adjust_stock(
            &tenda_domain::StockDelta {
                product_id: f.coffee.id,
                delta: Quantity::from_units(5).expect("5"),
                reason: tenda_domain::StockReason::Receiving,
            },
            tenda_domain::Actor::Device(DeviceId::new()),
            chrono::Utc::now(),
        )
    })
    .expect("receive stock");
    pos.set_quantity(0, Quantity::from_units(3).expect("3"))
        .expect("qty");
    pos.set_customer(Some(f.customer.id)).expect("customer");
    // 3 × 18.90 = 56.70 > 50.00 overdraft limit: refused on the last-known balance.
    let over = pos
        .checkout(vec![PaymentRequest::CustomerAccount { amount: m(56_70) }])
        .await
        .expect_err("over limit");
    assert_eq!(over.code(), "limit_exceeded");
    pos.set_quantity(0, Quantity::from_units(2).expect("2"))
        .expect("qty");
    pos.checkout(vec![PaymentRequest::CustomerAccount { amount: m(37_80) }])
        .await
        .expect("on account");
    let c = pos
        .inspect_store(|s| s.customer(f.customer.id))
        .expect("read")
        .expect("customer");
    assert_eq!(
        c.balance,
        m(-37_80),
        "the balance delta is applied locally at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_the_device_keeps_contingency_and_the_open_register() {
    let f = fixture(|_| {});
    f.pos
        .sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    f.pos
        .open_register(m(50_00), Some(manager()))
        .expect("open");
    f.pos
        .enter_contingency("Provedor de internet fora do ar".into(), Some(manager()))
        .expect("contingency");
    let reopened = f.reopen();
    assert_eq!(reopened.status().sefaz, SefazMode::Contingency);
    assert!(reopened.register_session().expect("reads").is_some());
    assert!(
        reopened.signed_in().is_none(),
        "a restart signs everybody out"
    );
    // A keystore that holds another key for the device.
    let wrong = Pos::open(
        f.open.clone(),
        tenda_pos::Platform::new(std::sync::Arc::new(tenda_pos::MemoryKeyStore::new())),
    );
    assert!(wrong.is_err(), "the wrong key opens nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_counts_the_sales_recorded_since_the_register_and_contingency_were_saved() {
    // A checkout does not save the register or the contingency state (that would be one more
    // page in every sale's commit): a reopened device counts the sales from their own rows.
    // So whether the last save came before the sales (the register opened, contingency
    // entered) or between them (cash put in), a restart shows what the screens showed.
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(50_00), Some(manager())).expect("open");
    // The first sale finds SEFAZ unreachable and enters contingency by policy.
    sell_coffee(pos).await;
    sell_coffee(pos).await;
    pos.cash_in(m(10_00), "Troco do cofre".into(), Some(manager()))
        .expect("cash in");
    pos.scan("CAF500".into(), None).expect("scan");
    pos.set_customer(Some(f.customer.id)).expect("customer");
    pos.checkout(vec![PaymentRequest::CustomerAccount { amount: m(18_90) }])
        .await
        .expect("sale on the customer's account");
    // A sale recorded without the register (as one imported from another till): not counted.
    sale_without_note(&f);

    let register = pos.register_session().expect("reads").expect("open");
    let fiscal = pos.fiscal_state();
    assert_eq!(register.sales_count, 3);
    assert_eq!(register.expected_cash, m(50_00 + 2 * 18_90 + 10_00));
    assert_eq!(fiscal.mode, SefazMode::Contingency);
    assert_eq!(fiscal.notes_issued, 3);

    let reopened = f.reopen();
    assert_eq!(
        reopened.register_session().expect("reads"),
        Some(register.clone()),
        "the register counts every sale, before and after its last save"
    );
    assert_eq!(reopened.fiscal_state(), fiscal);

    // Selling on from the reopened device, and opening it once more, keeps counting.
    reopened
        .sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    sell_coffee(&reopened).await;
    drop(reopened);
    let again = f.reopen();
    let register = again.register_session().expect("reads").expect("open");
    assert_eq!(register.sales_count, 4);
    assert_eq!(register.expected_cash, m(50_00 + 3 * 18_90 + 10_00));
    let on_account = register
        .taken
        .iter()
        .find(|t| t.kind == PaymentKind::CustomerAccount)
        .expect("every kind listed");
    assert_eq!(on_account.amount, m(18_90));
    assert_eq!(again.fiscal_state().notes_issued, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_pins_lock_the_user_out_and_are_audited() {
    let f = fixture(|_| {});
    for _ in 0..4 {
        let e = f
            .pos
            .sign_in("bia".into(), Secret::Pin("0000".into()))
            .expect_err("wrong");
        assert_eq!(e.code(), "wrong_credentials");
    }
    assert_eq!(
        f.pos
            .sign_in("bia".into(), Secret::Pin("0000".into()))
            .expect_err("5th")
            .code(),
        "locked_out"
    );
    assert_eq!(
        f.pos
            .sign_in("bia".into(), Secret::Pin("1357".into()))
            .expect_err("locked")
            .code(),
        "locked_out"
    );
    let denied = f
        .pos
        .audit_entries(0, 100)
        .expect("audit")
        .iter()
        .filter(|e| e.outcome == tenda_domain::Outcome::Denied.code())
        .count();
    assert_eq!(denied, 6, "every refused attempt is in the audit log");
}
