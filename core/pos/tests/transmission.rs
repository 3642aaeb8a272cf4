//! Back online: the contingency backlog goes to the SEFAZ simulator (real HTTPS with the A1
//! certificate as client identity, XSD and signature checks), oldest first; authorized notes get
//! their protocol, a rejected note lands in the needs-correction list with its reason, and the
//! register goes Contingency → Draining → Normal, every transition audited.

mod common;

use common::*;
use tenda_domain::FiscalStatus;
use tenda_pos::PaymentRequest;
use tenda_pos::credentials::Secret;
use tenda_pos::status::SefazMode;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backlog_is_authorized_and_a_rejection_waits_for_correction() {
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    let mut keys = Vec::new();
    for _ in 0..3 {
        pos.scan("CAF500".into(), None).expect("scan");
        let total = pos.ticket().expect("ticket").total;
        let out = pos
            .checkout(vec![PaymentRequest::Cash {
                amount: total,
                tendered: total,
            }])
            .await
            .expect("offline sale");
        keys.push((out.sale_id, out.note.expect("note").access_key));
    }
    assert_eq!(pos.status().sefaz, SefazMode::Contingency);
    assert_eq!(pos.status().pending_notes, 3);

    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator");
    // The second note is rejected by SEFAZ (e.g. a product's NCM), the others authorized.
    sim.update_faults(|faults| {
        faults.reject.insert(keys[1].1.clone(), 778);
    });
    pos.set_sefaz_route(simulator_route(&sim, 30000, 30000))
        .expect("SEFAZ route");
    let summary = pos.transmit_backlog(false).await.expect("transmission");
    assert_eq!(
        (summary.authorized, summary.rejected, summary.remaining),
        (2, 1, 0),
        "{summary:?}"
    );
    for (i, (sale_id, key)) in keys.iter().enumerate() {
        let doc = pos
            .inspect_store(|s| s.fiscal_document(*sale_id))
            .expect("read")
            .expect("doc");
        assert_eq!(
            doc.access_key, *key,
            "contingency notes keep their key when transmitted"
        );
        if i == 1 {
            assert_eq!(doc.status, FiscalStatus::Rejected);
            assert_eq!(doc.rejection_code.as_deref(), Some("778"));
        } else {
            assert_eq!(doc.status, FiscalStatus::Authorized);
            assert!(doc.protocol.is_some(), "protocol number stored");
            assert!(sim.note(key).is_some(), "SEFAZ has it");
        }
    }
    let to_correct = pos.notes_to_correct().expect("list");
    assert_eq!(to_correct.len(), 1);
    assert_eq!(to_correct[0].code.as_deref(), Some("778"));
    // Only the rejected note is left, and it waits for a person: the register is back to normal.
    assert_eq!(pos.status().sefaz, SefazMode::Normal);
    assert_eq!(pos.status().pending_notes, 0);
    assert_eq!(pos.status().notes_needing_correction, 1);
    let transitions: Vec<String> = pos
        .audit_entries(0, 1000)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "contingency.transition")
        .map(|e| e.subject)
        .collect();
    assert_eq!(
        transitions,
        vec![
            "fiscal_state:normal->contingency",
            "fiscal_state:contingency->normal"
        ],
        "automatic entry, then straight back (nothing left to drain)"
    );
    // Running again sends nothing twice.
    let again = pos.transmit_backlog(false).await.expect("second run");
    assert_eq!(again.sent, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_sale_is_authorized_at_once_and_falls_back_to_contingency_when_sefaz_is_down() {
    let f = fixture(|c| {
        c.contingency.automatic = true;
        c.sefaz_timeout_ms = 3_000;
    });
    let pos = &f.pos;
    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator");
    pos.set_sefaz_route(simulator_route(&sim, 2000, 30000))
        .expect("SEFAZ route");
    pos.set_link(tenda_pos::status::LinkState::Online)
        .expect("link");
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");

    pos.scan("CAF500".into(), None).expect("scan");
    let out = pos
        .checkout(vec![PaymentRequest::Cash {
            amount: m(18_90),
            tendered: m(20_00),
        }])
        .await
        .expect("online sale");
    let note = out.note.expect("note");
    assert_eq!(
        note.status,
        FiscalStatus::Authorized,
        "authorized before the receipt prints"
    );
    assert!(!note.contingency && out.printed, "{:?}", out.print_error);
    let doc = pos
        .inspect_store(|s| s.fiscal_document(out.sale_id))
        .expect("read")
        .expect("doc");
    assert!(
        doc.protocol.is_some() && doc.xml.contains("protNFe"),
        "the nfeProc is stored"
    );
    assert_eq!(pos.status().sefaz, SefazMode::Normal);

    // SEFAZ goes down mid-day: the sale waits the timeout, consults, then issues in contingency
    // (automatic by policy) with the same number, and prints.
    sim.update_faults(|faults| faults.down = true);
    pos.scan("CAF500".into(), None).expect("scan");
    let out = pos
        .checkout(vec![PaymentRequest::Cash {
            amount: m(18_90),
            tendered: m(18_90),
        }])
        .await
        .expect("sale during the outage");
    let note = out.note.expect("note");
    assert!(
        note.contingency && note.status == FiscalStatus::Contingency,
        "{note:?}"
    );
    assert_eq!(&note.access_key[34..35], "9");
    assert!(out.printed, "{:?}", out.print_error);
    assert_eq!(pos.status().sefaz, SefazMode::Contingency);
    let doc = pos
        .inspect_store(|s| s.fiscal_document(out.sale_id))
        .expect("read")
        .expect("doc");
    assert_eq!(
        doc.access_key, note.access_key,
        "the stored note is the contingency one"
    );
}
