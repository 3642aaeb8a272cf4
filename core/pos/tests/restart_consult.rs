//! A note whose transmission timed out after SEFAZ committed it is consulted — not sent again —
//! on the next run, even when the device restarted in between: the transmitter's backoff and
//! the notes to consult first are kept in the encrypted store.

mod common;

use std::time::Duration;

use common::*;
use tenda_domain::FiscalStatus;
use tenda_pos::credentials::Secret;
use tenda_pos::{PaymentRequest, Pos};
use tenda_sefaz_sim::{Simulator, SimulatorConfig};

/// SEFAZ at the simulator, with no pause after a transport failure.
fn reach(pos: &Pos, sim: &Simulator) {
    pos.set_sefaz_route(simulator_route(sim, 800, 0))
        .expect("SEFAZ route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_device_consults_before_resending() {
    let Fixture {
        _dir,
        open,
        platform,
        pos,
        ..
    } = fixture(|c| c.contingency.automatic = true);
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    pos.scan("CAF500".into(), None).expect("scan");
    let sale = pos
        .checkout(vec![PaymentRequest::Cash {
            amount: m(18_90),
            tendered: m(18_90),
        }])
        .await
        .expect("offline sale");
    let access_key = sale.note.expect("note").access_key;

    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator");
    // SEFAZ authorizes the note but the answer never arrives, and SEFAZ goes down before the
    // device can consult: the run ends not knowing the note's fate.
    sim.update_faults(|f| f.timeout_after_commit = 1);
    reach(&pos, &sim);
    let watcher = async {
        while sim.note(&access_key).is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sim.update_faults(|f| f.down = true);
    };
    let (summary, ()) = tokio::join!(pos.transmit_backlog(false), watcher);
    let summary = summary.expect("run");
    assert_eq!(summary.deferred, 1, "{summary:?}");
    assert!(sim.note(&access_key).is_some(), "SEFAZ has it");
    let doc = pos
        .inspect_store(|s| s.fiscal_document(sale.sale_id))
        .expect("read")
        .expect("doc");
    assert!(doc.consult_first, "the timed-out note is marked, durably");

    // The device restarts; SEFAZ is back.
    drop(pos);
    sim.update_faults(|f| f.down = false);
    let pos = Pos::open(open, platform).expect("reopen");
    reach(&pos, &sim);
    let sent_before = sim.stats().calls.get("Authorization").copied();
    let summary = pos
        .transmit_backlog(false)
        .await
        .expect("run after restart");
    assert_eq!(
        (summary.authorized, summary.remaining),
        (1, 0),
        "{summary:?}"
    );
    assert_eq!(
        sim.stats().calls.get("Authorization").copied(),
        sent_before,
        "consulted, not sent a second time"
    );
    assert!(sim.stats().calls.get("Consult").copied().unwrap_or(0) >= 1);
    let doc = pos
        .inspect_store(|s| s.fiscal_document(sale.sale_id))
        .expect("read")
        .expect("doc");
    assert_eq!(doc.status, FiscalStatus::Authorized);
    assert!(doc.protocol.is_some());
    assert!(!doc.consult_first, "an answered note is no longer marked");
    drop(_dir);
}
