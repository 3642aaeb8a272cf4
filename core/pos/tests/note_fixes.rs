//! Fixing notes with the SEFAZ simulator on loopback (real mTLS with the store's A1 certificate,
//! XSD and signature checks): a rejected note is corrected by a manager and resent with the same
//! number and key; an authorized note is cancelled within the window (and refused before
//! authorization); reserved-unused numbers are declared unused with the protocol recorded.

mod common;

use common::*;
use tenda_domain::{FiscalData, FiscalStatus, Mutation};
use tenda_pos::credentials::Secret;
use tenda_pos::status::LinkState;
use tenda_pos::{LineFiscalCorrection, NoteCorrection, Pos};
use tenda_sefaz_sim::{Simulator, SimulatorConfig};
use tenda_store::FiscalSeries;

async fn sefaz(pos: &Pos) -> Simulator {
    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator");
    pos.set_sefaz_route(simulator_route(&sim, 3000, 30000))
        .expect("SEFAZ route");
    sim
}

fn doc(pos: &Pos, sale: tenda_domain::SaleId) -> tenda_store::FiscalDocument {
    pos.inspect_store(|s| s.fiscal_document(sale))
        .expect("read")
        .expect("doc")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_note_is_corrected_and_resent_with_the_same_number() {
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    let rejected = sell_coffee(pos).await;
    let fine = sell_coffee(pos).await;
    let key = rejected.note.clone().expect("note").access_key;

    let sim = sefaz(pos).await;
    // SEFAZ refuses the first note (its product's NCM, say).
    sim.update_faults(|faults| {
        faults.reject.insert(key.clone(), 778);
    });
    let summary = pos.transmit_backlog(false).await.expect("run");
    assert_eq!(
        (summary.authorized, summary.rejected),
        (1, 1),
        "{summary:?}"
    );
    assert_eq!(doc(pos, fine.sale_id).status, FiscalStatus::Authorized);
    let to_correct = pos.notes_to_correct().expect("list");
    assert_eq!(to_correct.len(), 1);
    assert_eq!(to_correct[0].sale_id, rejected.sale_id);
    // The manager is shown each line with the fiscal data the note carries, to correct it.
    let lines = &to_correct[0].lines;
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].line, lines[0].sku.as_str()), (0, "CAF500"));
    assert!(
        doc(pos, rejected.sale_id)
            .xml
            .contains(&format!("<NCM>{}</NCM>", lines[0].fiscal.ncm))
    );

    let mut fiscal = FiscalData::simples_nacional("09012200");
    fiscal.cfop = "5102".into();
    let correction = NoteCorrection {
        lines: vec![LineFiscalCorrection { line: 0, fiscal }],
        ..Default::default()
    };
    // A seller may not correct notes; a line that does not exist is named.
    let err = pos
        .correct_note(rejected.sale_id, correction.clone(), None)
        .expect_err("seller");
    assert_eq!(err.code(), "forbidden", "{err}");
    let bad = NoteCorrection {
        lines: vec![LineFiscalCorrection {
            line: 3,
            fiscal: FiscalData::simples_nacional("09012200"),
        }],
        ..Default::default()
    };
    let err = pos
        .correct_note(rejected.sale_id, bad.clone(), Some(manager()))
        .expect_err("no line 3");
    assert!(
        matches!(err, tenda_pos::PosError::InvalidInput { ref field, .. } if field == "lines[3]"),
        "{err}"
    );
    // Codes the note could not carry are refused before anything is signed, naming the line's
    // field; the note stays rejected.
    let mut short_ncm = lines[0].fiscal.clone();
    short_ncm.ncm = "0901220".into();
    let err = pos
        .correct_note(
            rejected.sale_id,
            NoteCorrection {
                lines: vec![LineFiscalCorrection {
                    line: 0,
                    fiscal: short_ncm,
                }],
                ..Default::default()
            },
            Some(manager()),
        )
        .expect_err("a 7-digit NCM");
    assert!(
        matches!(err, tenda_pos::PosError::InvalidInput { ref field, .. } if field == "lines[0].ncm"),
        "{err}"
    );
    assert_eq!(doc(pos, rejected.sale_id).status, FiscalStatus::Rejected);
    // An authorized note is not "corrected".
    assert_eq!(
        pos.correct_note(fine.sale_id, correction.clone(), Some(manager()))
            .expect_err("authorized")
            .code(),
        "invalid_state"
    );

    let before = doc(pos, rejected.sale_id);
    let corrected = pos
        .correct_note(rejected.sale_id, correction.clone(), Some(manager()))
        .expect("corrected");
    assert_eq!(
        corrected.access_key, key,
        "same number, series, cNF: same key"
    );
    assert_eq!(corrected.number, before.number);
    let after = doc(pos, rejected.sale_id);
    assert_eq!(after.status, FiscalStatus::Contingency, "back in the queue");
    assert!(after.xml.contains("<NCM>09012200</NCM>") && after.xml != before.xml);
    assert!(pos.notes_to_correct().expect("list").is_empty());
    assert_eq!(pos.status().pending_notes, 1);

    // The data is fixed at SEFAZ's end too: the next run authorizes it.
    sim.update_faults(|faults| faults.reject.clear());
    let summary = pos.transmit_backlog(false).await.expect("run");
    assert_eq!(
        (summary.authorized, summary.remaining),
        (1, 0),
        "{summary:?}"
    );
    let done = doc(pos, rejected.sale_id);
    assert_eq!(done.status, FiscalStatus::Authorized);
    assert_eq!(done.access_key, key);
    assert!(sim.note(&key).is_some_and(|n| n.status == 100));
    let audit = pos.audit_entries(0, 10_000).expect("audit");
    assert!(
        audit.iter().any(|e| e.action == "cancel_note.override"
            && e.subject.contains("correction")
            && e.subject.contains("approved_by=")),
        "the correction is audited with the seller and the approving manager"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorized_note_is_cancelled_and_unused_numbers_are_voided() {
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    let sim = sefaz(pos).await;
    pos.sign_in("caio".into(), Secret::Pin("2468".into()))
        .expect("manager signs in");
    pos.open_register(m(0), None).expect("open");

    // A contingency note (link down) cannot be cancelled before SEFAZ authorizes it.
    let waiting = sell_coffee(pos).await;
    let err = pos
        .cancel_sale(
            waiting.sale_id,
            "Cliente desistiu da compra no caixa".into(),
            None,
        )
        .await
        .expect_err("not authorized yet");
    assert_eq!(err.code(), "invalid_state");
    assert!(
        err.to_string()
            .contains("cancellation only after authorization"),
        "{err}"
    );

    // Back online: the backlog drains (the register returns to normal emission).
    pos.set_link(LinkState::Online).expect("link");
    let summary = pos.transmit_backlog(false).await.expect("drain");
    assert_eq!(summary.authorized, 1);
    assert_eq!(doc(pos, waiting.sale_id).status, FiscalStatus::Authorized);
    let sale = sell_coffee(pos).await;
    let note = sale.note.clone().expect("note");
    assert_eq!(note.status, FiscalStatus::Authorized);
    let err = pos
        .cancel_sale(sale.sale_id, "desistiu".into(), None)
        .await
        .expect_err("short");
    assert_eq!(err.code(), "invalid_input");
    let stock_before = pos
        .inspect_store(|s| s.stock_level(f.coffee.id))
        .expect("stock");
    let cash = |pos: &Pos| {
        pos.register_session()
            .expect("reads")
            .expect("open")
            .expected_cash
    };
    let drawer_before = cash(pos);
    let out = pos
        .cancel_sale(
            sale.sale_id,
            "Cliente desistiu da compra no caixa".into(),
            None,
        )
        .await
        .expect("cancelled");
    assert!(out.protocol.is_some() && out.status_code == 135, "{out:?}");
    let d = doc(pos, sale.sale_id);
    assert_eq!(d.status, FiscalStatus::Cancelled);
    assert!(sim.note(&note.access_key).expect("at SEFAZ").cancelled);
    let stored = pos
        .inspect_store(|s| s.sale(sale.sale_id))
        .expect("read")
        .expect("sale");
    assert_eq!(stored.status, tenda_store::SaleStatus::Voided);
    let stock_after = pos
        .inspect_store(|s| s.stock_level(f.coffee.id))
        .expect("stock");
    assert_eq!(
        stock_after.thousandths() - stock_before.thousandths(),
        1000,
        "the coffee went back to stock"
    );
    // The customer got their 18.90 back from the drawer: the closing count expects it gone,
    // and the reopened device remembers it.
    assert_eq!(
        cash(pos),
        drawer_before.checked_sub(m(18_90)).expect("no overflow")
    );
    assert_eq!(
        cash(&f.reopen()),
        cash(pos),
        "the refund was written with the cancellation"
    );
    let outbox = pos
        .inspect_store(|s| s.outbox_after(0, 10_000))
        .expect("outbox");
    assert!(outbox.iter().any(|e| matches!(
        &e.mutation,
        Mutation::FiscalStatusChanged { status: FiscalStatus::Cancelled, sale_id, .. } if *sale_id == sale.sale_id
    )), "the server learns of the cancellation");
    // Authorize → execute → audit in one transaction: the note's cancellation, the sale's void
    // and the manager's entry are consecutive outbox entries, written together.
    let from = outbox
        .iter()
        .position(|e| matches!(&e.mutation, Mutation::FiscalStatusChanged { status: FiscalStatus::Cancelled, sale_id, .. } if *sale_id == sale.sale_id))
        .expect("cancelled");
    let kinds: Vec<&str> = outbox[from..].iter().map(|e| e.mutation.kind()).collect();
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
    assert!(matches!(
        &outbox[from + 4].mutation,
        Mutation::AuditAppended { action, subject, .. } if action == "cancel_note" && subject.ends_with("cancellation")
    ));
    let events = pos.fiscal_events().expect("events");
    assert_eq!(events.len(), 1);
    assert!(
        events[0].xml.contains("procEventoNFe"),
        "the legal record is kept"
    );
    assert_eq!(
        pos.cancel_sale(
            sale.sale_id,
            "Cliente desistiu da compra no caixa".into(),
            None
        )
        .await
        .expect_err("twice")
        .code(),
        "invalid_state"
    );

    // Two numbers reserved and never used (e.g. a crash between reservation and sale).
    let series = FiscalSeries {
        model: 65,
        series: pos.config().emitter.series,
    };
    let reserved: Vec<u32> = (0..2)
        .map(|_| {
            pos.inspect_store(|s| s.reserve_fiscal_number(series))
                .expect("reserve")
        })
        .collect();
    assert_eq!(pos.unused_fiscal_numbers().expect("unused"), reserved);
    let voided = pos
        .inutilize_unused_numbers("Numeracao reservada e nao utilizada por falha".into(), None)
        .await
        .expect("inutilização");
    assert_eq!(voided.len(), 1, "contiguous: one request");
    assert_eq!(
        (voided[0].first, voided[0].last),
        (reserved[0], reserved[1])
    );
    assert!(voided[0].protocol.is_some());
    assert!(pos.unused_fiscal_numbers().expect("unused").is_empty());
    let outbox = pos
        .inspect_store(|s| s.outbox_after(0, 10_000))
        .expect("outbox");
    assert!(
        outbox
            .iter()
            .any(|e| matches!(e.mutation, Mutation::FiscalNumbersVoided { .. }))
    );
    assert!(
        pos.fiscal_events()
            .expect("events")
            .iter()
            .any(|e| e.kind == "inutilizacao" && e.xml.contains("ProcInutNFe"))
    );
    // Two authorized notes for one purchase (the first "timed out" and turned out authorized
    // after its replacement was issued): the superseded one is cancelled by substitution.
    let superseded = sell_coffee(pos).await.note.expect("note");
    let kept = sell_coffee(pos).await;
    let kept_key = kept.note.clone().expect("note").access_key;
    assert_eq!(
        pos.cancel_by_substitution(
            kept.sale_id,
            kept_key.clone(),
            "Nota substituida por outra".into(),
            None,
        )
        .await
        .expect_err("its own note")
        .code(),
        "invalid_input"
    );
    let out = pos
        .cancel_by_substitution(
            kept.sale_id,
            superseded.access_key.clone(),
            "NFC-e emitida em duplicidade apos timeout".into(),
            None,
        )
        .await
        .expect("110112 registered");
    assert_eq!(out.status_code, 135);
    assert!(
        sim.note(&superseded.access_key)
            .expect("at SEFAZ")
            .cancelled
    );
    assert!(!sim.note(&kept_key).expect("at SEFAZ").cancelled);
    assert!(
        pos.fiscal_events()
            .expect("events")
            .iter()
            .any(|e| e.kind == "substitution" && e.xml.contains("chNFeRef"))
    );
    // The server learns of it from its own mutation (the sale's own note stays authorized).
    let outbox = pos
        .inspect_store(|s| s.outbox_after(0, 10_000))
        .expect("outbox");
    assert!(outbox.iter().any(|e| matches!(
        &e.mutation,
        Mutation::NoteCancelledBySubstitution { sale_id, cancelled_access_key, substitute_access_key, protocol, .. }
            if *sale_id == kept.sale_id
                && *cancelled_access_key == superseded.access_key
                && *substitute_access_key == kept_key
                && protocol == &out.protocol
    )));
    assert_eq!(doc(pos, kept.sale_id).status, FiscalStatus::Authorized);
    // SEFAZ no longer holds it as authorized: a second attempt is refused after the consult,
    // with SEFAZ's own answer (the note's cancellation, not an authorization).
    let err = pos
        .cancel_by_substitution(
            kept.sale_id,
            superseded.access_key.clone(),
            "NFC-e emitida em duplicidade apos timeout".into(),
            None,
        )
        .await
        .expect_err("already cancelled");
    assert!(
        matches!(&err, tenda_pos::PosError::Rejected { code, .. } if code != "100" && code != "150"),
        "{err:?}"
    );
    // A cancellation interrupted after SEFAZ registered it (the note is marked cancelled, the
    // sale not yet voided) is finished by asking again.
    pos.inspect_store(|s| {
        s.update_fiscal_document(
            kept.sale_id,
            &tenda_store::FiscalUpdate {
                status: Some(FiscalStatus::Cancelled),
                ..Default::default()
            },
            tenda_domain::Actor::Device(pos.config().device_id),
            chrono::Utc::now(),
        )
    })
    .expect("interrupted cancellation");
    let audited = pos.audit_entries(0, 10_000).expect("audit").len();
    pos.cancel_sale(
        kept.sale_id,
        "Cliente desistiu da compra no caixa".into(),
        None,
    )
    .await
    .expect("finished");
    let audit = pos.audit_entries(0, 10_000).expect("audit");
    assert_eq!(
        audit[audited..]
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["sale.void", "cancel_note"],
        "the void and the manager's entry, together"
    );
    assert_eq!(
        pos.inspect_store(|s| s.sale(kept.sale_id))
            .expect("read")
            .expect("sale")
            .status,
        tenda_store::SaleStatus::Voided
    );
    assert!(pos.verify_audit().expect("verify").intact);
}
