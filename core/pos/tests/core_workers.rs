//! The core runs itself: a `Pos` opened and used from a plain thread (no tokio runtime, as a
//! uniffi call from a host thread), its SEFAZ worker sending the backlog without the host, a
//! subscription that stops delivery when dropped, and every call refused after `shutdown`.
// Amounts in centavos are written reais_centavos (100_00 = R$ 100,00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use tenda_pos::credentials::Secret;
use tenda_pos::status::{LinkState, PosStatus, SefazMode, StatusListener};
use tenda_pos::{PaymentRequest, PosError};
use tenda_sefaz_sim::{Simulator, SimulatorConfig};

/// Sends every status it hears into a channel.
struct Channel(std::sync::Mutex<mpsc::Sender<PosStatus>>);

impl StatusListener for Channel {
    fn on_status(&self, status: PosStatus) {
        let _ = self.0.lock().expect("not poisoned").send(status);
    }
}

fn listener() -> (Arc<Channel>, mpsc::Receiver<PosStatus>) {
    let (tx, rx) = mpsc::channel();
    (Arc::new(Channel(std::sync::Mutex::new(tx))), rx)
}

/// Waits for a status that satisfies `done` (each status is an event; no polling).
fn wait_for(rx: &mpsc::Receiver<PosStatus>, what: &str, done: impl Fn(&PosStatus) -> bool) {
    loop {
        let status = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
        if done(&status) {
            return;
        }
    }
}

#[test]
fn a_pos_opened_on_a_plain_thread_sells_without_any_runtime() {
    // No #[tokio::test]: this thread has no runtime, like a host thread calling through uniffi.
    let f = fixture(|c| c.contingency.automatic = true);
    assert!(tokio::runtime::Handle::try_current().is_err());
    let outcome = std::thread::spawn(move || {
        let pos = &f.pos;
        pos.sign_in("bia".into(), Secret::Pin("1357".into()))
            .expect("sign in");
        pos.open_register(m(50_00), Some(manager())).expect("open");
        pos.scan("CAF500".into(), None).expect("scan");
        // Any executor (here the simplest one) can await the core's futures: the work runs on
        // the core's own runtime.
        let outcome = futures::executor::block_on(pos.checkout(vec![PaymentRequest::Cash {
            amount: m(18_90),
            tendered: m(20_00),
        }]))
        .expect("checkout from a plain thread");
        futures::executor::block_on(pos.shutdown()).expect("shutdown");
        (outcome, f)
    })
    .join()
    .expect("thread");
    let (outcome, _f) = outcome;
    assert_eq!(outcome.change, m(1_10));
    assert!(outcome.note.expect("note").contingency);
    assert!(
        outcome.printed,
        "the receipt printed through the core's runtime"
    );
}

#[test]
fn dropping_a_subscription_stops_delivery() {
    let f = fixture(|_| {});
    let (l, rx) = listener();
    let subscription = f.pos.subscribe(l).expect("subscribe");
    // The current status at once.
    rx.recv_timeout(Duration::from_secs(5)).expect("initial");
    f.pos.set_link(LinkState::Online).expect("link");
    let online = rx.recv_timeout(Duration::from_secs(5)).expect("change");
    assert_eq!(online.link, LinkState::Online);
    drop(subscription);
    f.pos.set_link(LinkState::Offline).expect("link");
    assert_eq!(f.pos.status().link, LinkState::Offline);
    // The change happened (and would have been delivered synchronously): nothing arrived.
    assert!(
        rx.try_recv().is_err(),
        "a dropped subscription hears nothing more"
    );
}

#[test]
fn every_call_after_shutdown_is_refused_with_a_typed_error() {
    let f = fixture(|_| {});
    futures::executor::block_on(f.pos.shutdown()).expect("shutdown");
    // Idempotent.
    futures::executor::block_on(f.pos.shutdown()).expect("again");
    let err = f
        .pos
        .sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect_err("shut down");
    assert_eq!(err, PosError::ShutDown);
    assert_eq!(err.code(), "shut_down");
    assert_eq!(
        f.pos.scan("CAF500".into(), None).expect_err("shut").code(),
        "shut_down"
    );
    let checkout = futures::executor::block_on(f.pos.checkout(vec![]));
    assert_eq!(checkout.expect_err("shut").code(), "shut_down");
    assert_eq!(
        futures::executor::block_on(f.pos.transmit_backlog(false))
            .expect_err("shut")
            .code(),
        "shut_down"
    );
    assert!(f.pos.subscribe(listener().0).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sefaz_worker_sends_the_backlog_without_the_host() {
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    for _ in 0..2 {
        pos.scan("CAF500".into(), None).expect("scan");
        let out = pos
            .checkout(vec![PaymentRequest::Cash {
                amount: m(18_90),
                tendered: m(18_90),
            }])
            .await
            .expect("offline sale");
        assert!(out.note.expect("note").contingency);
    }
    assert_eq!(pos.status().pending_notes, 2);
    assert_eq!(pos.status().sefaz, SefazMode::Contingency);

    let (l, rx) = listener();
    let _subscription = pos.subscribe(l).expect("subscribe");
    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator");
    // The host only says how SEFAZ is reached and that the link is up: the core's worker
    // builds the client from the emitter's state and the installed certificate, transmits,
    // and returns the register to normal.
    pos.set_link(LinkState::Online).expect("link");
    pos.set_sefaz_route(simulator_route(&sim, 2_000, 0))
        .expect("route");
    tokio::task::spawn_blocking(move || {
        wait_for(&rx, "the backlog sent and SEFAZ back to normal", |s| {
            s.pending_notes == 0 && s.sefaz == SefazMode::Normal
        })
    })
    .await
    .expect("waited");
    assert!(sim.stats().calls.get("Authorization").copied().unwrap_or(0) >= 1);
    assert!(pos.notes_to_correct().expect("list").is_empty());
}
