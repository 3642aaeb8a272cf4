//! A normal note whose authorization "timed out" (SEFAZ committed it, the answer was lost, and
//! SEFAZ went down before the consult) is replaced by a contingency twin with the same number.
//! When the link returns, SEFAZ refuses the twin (539: it holds the original); the device adopts
//! the original with its nfeProc — the stored document becomes the legal record again.

mod common;

use std::time::Duration;

use common::*;
use tenda_domain::{EmissionType, FiscalStatus};
use tenda_pos::PaymentRequest;
use tenda_pos::credentials::Secret;
use tenda_pos::status::LinkState;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorized_original_is_adopted_when_its_twin_is_refused() {
    let f = fixture(|c| {
        c.contingency.automatic = true;
        c.sefaz_timeout_ms = 1_500;
    });
    let pos = &f.pos;
    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator");
    pos.set_sefaz_route(simulator_route(&sim, 700, 0))
        .expect("SEFAZ route");
    pos.set_link(LinkState::Online).expect("link");
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");

    // SEFAZ authorizes the note, the answer is lost, and SEFAZ goes down before the consult.
    sim.update_faults(|f| f.timeout_after_commit = 1);
    pos.scan("CAF500".into(), None).expect("scan");
    let checkout = pos.checkout(vec![PaymentRequest::Cash {
        amount: m(18_90),
        tendered: m(20_00),
    }]);
    let watcher = async {
        while sim.stats().notes_authorized == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sim.update_faults(|f| f.down = true);
    };
    let (out, ()) = tokio::join!(checkout, watcher);
    let out = out.expect("the sale goes on in contingency");
    let twin = out.note.expect("note");
    assert!(twin.contingency, "{twin:?}");
    let original_key = {
        let stats = sim.stats();
        assert_eq!(stats.notes_authorized, 1);
        let doc = pos
            .inspect_store(|s| s.fiscal_document(out.sale_id))
            .expect("read")
            .expect("doc");
        assert_eq!(doc.access_key, twin.access_key);
        let kept = pos
            .inspect_store(|s| s.superseded_note(out.sale_id))
            .expect("read")
            .expect("the original is kept with its twin, in the same transaction");
        assert_eq!(&kept.access_key[..34], &twin.access_key[..34]);
        assert!(kept.signed_xml.contains("<tpEmis>1</tpEmis>"));
        // The original differs from the twin only in tpEmis and the check digit.
        let mut k: Vec<u8> = twin.access_key.clone().into_bytes();
        k[34] = b'1';
        String::from_utf8(k).expect("ascii")
    };

    sim.update_faults(|f| f.down = false);
    let summary = pos.transmit_backlog(false).await.expect("run");
    assert_eq!(
        (summary.authorized, summary.remaining),
        (1, 0),
        "{summary:?}"
    );
    let doc = pos
        .inspect_store(|s| s.fiscal_document(out.sale_id))
        .expect("read")
        .expect("doc");
    assert_eq!(doc.status, FiscalStatus::Authorized);
    assert_eq!(&doc.access_key[..34], &original_key[..34]);
    assert_eq!(&doc.access_key[34..35], "1", "the normal original");
    assert!(sim.note(&doc.access_key).is_some_and(|n| n.status == 100));
    assert!(
        sim.note(&twin.access_key).is_none(),
        "the twin was never authorized"
    );
    assert_eq!(doc.emission, EmissionType::Normal);
    assert!(
        doc.xml.contains("<nfeProc") && doc.xml.contains("<tpEmis>1</tpEmis>"),
        "the original's nfeProc is stored"
    );
    assert!(doc.protocol.is_some());
    assert_eq!(
        pos.inspect_store(|s| s.superseded_note(out.sale_id))
            .expect("read"),
        None,
        "an adopted original is no longer kept apart"
    );
}
