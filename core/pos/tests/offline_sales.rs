//! The offline sales list: sales the server has not received or whose note SEFAZ has not
//! authorized, with status and deadline; view, reprint as a second copy, cancel an unsynced sale
//! without a note (confirmed, audited; a sale with an NFC-e is refused and pointed to the note
//! cancellation), and "sync now" transmitting the notes to the SEFAZ simulator.

mod common;

use common::*;
use tenda_domain::FiscalStatus;
use tenda_pos::credentials::Secret;
use tenda_pos::register::PaymentKind;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_sales_are_listed_viewed_reprinted_cancelled_and_synced() {
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    let first = sell_coffee(pos).await;
    let second = sell_coffee(pos).await;
    // A sale recorded without a note (e.g. imported from another till).
    let plain = sale_without_note(&f);

    let rows = pos.offline_sales().expect("list");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| !r.synced));
    assert_eq!(
        rows[0].sale_id, first.sale_id,
        "the nearest deadline comes first"
    );
    let note = rows[0].note.clone().expect("note");
    assert_eq!(note.status, FiscalStatus::Contingency);
    assert!(note.deadline.is_some());
    assert!(
        rows[2].note.is_none(),
        "the plain sale, without a deadline, last"
    );

    let detail = pos.sale_detail(first.sale_id).expect("detail");
    assert_eq!(detail.lines.len(), 1);
    assert_eq!(detail.lines[0].name, f.coffee.name);
    assert_eq!(detail.payments[0].kind, PaymentKind::Cash);
    assert_eq!(detail.change, m(1_10));

    // Reprint: the same DANFE, marked as a second copy.
    let printed_before = f.printer.receipts().len();
    let again = pos.reprint(first.sale_id).await.expect("reprint");
    assert!(again.printed, "{:?}", again.print_error);
    let receipts = f.printer.receipts();
    assert!(receipts.len() > printed_before);
    let last = receipts.iter().rev().find(|r| r.cut).expect("receipt");
    assert!(last.mentions("SEGUNDA VIA"), "{:?}", last.lines);
    assert!(
        last.qr_codes
            .iter()
            .any(|q| q.payload == first.note.clone().expect("note").qr_code.as_bytes()),
        "the same QR code as the original"
    );

    // A sale with an NFC-e cannot just be deleted.
    let err = pos
        .cancel_unsynced_sale(
            first.sale_id,
            "cliente desistiu".into(),
            true,
            Some(manager()),
        )
        .expect_err("has a note");
    assert_eq!(err.code(), "invalid_state");
    assert!(err.to_string().contains("cancel_sale"), "{err}");
    // The plain one can, by a manager, once confirmed.
    assert_eq!(
        pos.cancel_unsynced_sale(plain, "cliente desistiu".into(), true, None)
            .expect_err("seller")
            .code(),
        "forbidden"
    );
    assert_eq!(
        pos.cancel_unsynced_sale(plain, "cliente desistiu".into(), false, Some(manager()))
            .expect_err("not confirmed")
            .code(),
        "invalid_input"
    );
    let stock = pos
        .inspect_store(|s| s.stock_level(f.bread.id))
        .expect("stock");
    pos.cancel_unsynced_sale(plain, "cliente desistiu".into(), true, Some(manager()))
        .expect("cancelled");
    assert_eq!(
        pos.inspect_store(|s| s.stock_level(f.bread.id))
            .expect("stock")
            .thousandths(),
        stock.thousandths() + 1000,
        "the bread went back to stock"
    );
    let plain_row = pos
        .offline_sales()
        .expect("list")
        .into_iter()
        .find(|r| r.sale_id == plain)
        .expect("still unsynced: its void goes to the server too");
    assert!(plain_row.voided);
    let audit = pos.audit_entries(0, 10_000).expect("audit");
    assert!(audit.iter().any(|e| e.action == "reprint"));
    assert!(audit.iter().any(|e| e.action == "void_sale.override"));

    // The server acknowledges everything: only the notes still waiting for SEFAZ remain.
    pos.inspect_store(|s| {
        let last = s.outbox_last_seq()?;
        s.outbox_mark_pushed(last)
    })
    .expect("pushed");
    let rows = pos.offline_sales().expect("list");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.synced));
    assert!(rows.iter().any(|r| r.sale_id == second.sale_id));

    // Sync now: no sync engine runs in this test; the notes go to SEFAZ.
    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator");
    pos.set_sefaz_route(simulator_route(&sim, 30000, 30000))
        .expect("SEFAZ route");
    let one = pos.sync_sale_now(second.sale_id).await.expect("sync one");
    assert_eq!(
        one.transmission.expect("transmitted").authorized,
        1,
        "only that sale's note"
    );
    assert_eq!(pos.offline_sales().expect("list").len(), 1);
    let out = pos.sync_offline_sales_now().await.expect("sync now");
    assert!(!out.sync_requested && out.sync_unavailable.is_some());
    assert_eq!(out.transmission.expect("transmitted").authorized, 1);
    assert!(pos.offline_sales().expect("list").is_empty());
}
