//! Card payments through the reader driver and the simulated reader: online authorization,
//! faults on the link, and store-and-forward with its limits.
// Amounts in centavos are written reais_centavos (200_01 = R$ 200,01).
#![allow(clippy::inconsistent_digit_grouping)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tenda_devices::card::{
    CardKind, CardOutcome, CardPaymentError, CardPaymentOutcome, CardPaymentRequest, CardPayments,
    CardReader, CardReaderError, Connectivity, FileOfflineStore, ForwardedPayment, LinkCardReader,
    ManualClock, MemoryOfflineStore, MerchantRiskAcknowledgement, OfflineLimit, OfflineLimits,
    OfflinePaymentStore, PaymentState, ReaderEvent, ReaderSettings, SealingKey,
    offline_risk_notice,
};
use tenda_devices::sim::{SimCardBehaviour, SimForwardBehaviour, SimulatedCardReader};
use tenda_devices::{Pacing, ReconnectPolicy};
use tenda_domain::Money;
use uuid::Uuid;

fn settings() -> ReaderSettings {
    ReaderSettings {
        silence_timeout: Duration::from_millis(300),
        query_timeout: Duration::from_millis(300),
        reconnect: ReconnectPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        pacing: Pacing {
            between_chunks: Duration::ZERO,
        },
    }
}

fn reader() -> (SimulatedCardReader, LinkCardReader<SimulatedCardReader>) {
    let sim = SimulatedCardReader::new();
    (sim.clone(), LinkCardReader::new(sim, settings()))
}

fn request(centavos: i64) -> CardPaymentRequest {
    CardPaymentRequest {
        payment_id: Uuid::now_v7(),
        sale_reference: "SALE-1".into(),
        amount: Money::from_centavos(centavos),
        kind: CardKind::Credit,
        installments: 1,
    }
}

#[tokio::test]
async fn online_payment_approves_and_reports_its_stages() {
    let (sim, r) = reader();
    let info = r.connect().await.expect("connects");
    assert_eq!(info.model, "Tenda SimReader");
    let mut events = r.events();
    let req = request(12_345);
    let outcome = r.take_payment(&req).await.expect("answers");
    assert!(
        matches!(outcome, CardOutcome::Approved { ref card, .. } if card.last4 == "4242"),
        "{outcome:?}"
    );
    assert_eq!(sim.charges().len(), 1);
    assert_eq!(sim.charges()[0].amount, Money::from_centavos(12_345));
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    let id = req.payment_id;
    assert_eq!(
        seen,
        vec![
            ReaderEvent::WaitingForCard { payment_id: id },
            ReaderEvent::CardRead { payment_id: id },
            ReaderEvent::Authorizing { payment_id: id },
            ReaderEvent::Finished { payment_id: id },
        ]
    );
}

#[tokio::test]
async fn declines_timeouts_and_cancel() {
    let (sim, r) = reader();
    sim.script([
        SimCardBehaviour::Decline("saldo insuficiente".into()),
        SimCardBehaviour::CustomerTimeout,
    ]);
    assert_eq!(
        r.take_payment(&request(100)).await.expect("answers"),
        CardOutcome::Declined {
            reason: "saldo insuficiente".into()
        }
    );
    assert_eq!(
        r.take_payment(&request(100)).await.expect("answers"),
        CardOutcome::TimedOut
    );
    assert!(sim.charges().is_empty());

    // Cancel while the reader waits for the card.
    sim.script([SimCardBehaviour::WaitForCancel]);
    let r = Arc::new(r);
    let req = request(500);
    let mut events = r.events();
    let task = tokio::spawn({
        let r = r.clone();
        let req = req.clone();
        async move { r.take_payment(&req).await }
    });
    loop {
        if let ReaderEvent::WaitingForCard { .. } = events.recv().await.expect("events flow") {
            break;
        }
    }
    r.cancel(req.payment_id).await.expect("cancel sent");
    let outcome = task.await.expect("task ran").expect("answers");
    assert_eq!(outcome, CardOutcome::Cancelled);
    assert!(sim.charges().is_empty());
}

#[tokio::test]
async fn reader_drop_after_charge_never_charges_twice_and_the_outcome_is_known() {
    let (sim, r) = reader();
    sim.script([SimCardBehaviour::DropAfterCharge]);
    let req = request(9_990);
    // The result was lost with the link; the driver reconnects and asks.
    let outcome = r
        .take_payment(&req)
        .await
        .expect("state learned after reconnect");
    assert!(
        matches!(outcome, CardOutcome::Approved { .. }),
        "{outcome:?}"
    );
    assert_eq!(sim.connects(), 2);
    // The seller presses "pay" again: same payment id, same approval, no second charge.
    let again = r.take_payment(&req).await.expect("answers");
    assert_eq!(again, outcome);
    assert_eq!(sim.charges().len(), 1, "exactly one charge");
}

#[tokio::test]
async fn reader_drop_before_card_read_reports_not_started_then_retry_charges_once() {
    let (sim, r) = reader();
    sim.script([SimCardBehaviour::DropBeforeCardRead]);
    let req = request(2_000);
    let err = r.take_payment(&req).await.expect_err("dropped");
    assert!(
        matches!(
            err,
            CardReaderError::LinkLost {
                state: Some(PaymentState::NotStarted),
                ..
            }
        ),
        "state known after reconnect: {err:?}"
    );
    assert!(sim.charges().is_empty());
    let outcome = r.take_payment(&req).await.expect("retry");
    assert!(matches!(outcome, CardOutcome::Approved { .. }));
    assert_eq!(sim.charges().len(), 1);
}

#[tokio::test]
async fn reader_gone_after_charge_leaves_state_unknown_until_asked() {
    let (sim, r) = reader();
    sim.script([SimCardBehaviour::DropAfterCharge]);
    sim.refuse_next_connects(0);
    let req = request(4_500);
    r.connect().await.expect("connects");
    sim.refuse_next_connects(100);
    let err = r.take_payment(&req).await.expect_err("cannot reconnect");
    assert!(
        matches!(err, CardReaderError::LinkLost { state: None, .. }),
        "{err:?}"
    );
    sim.refuse_next_connects(0);
    match r.payment_state(req.payment_id).await.expect("reader back") {
        PaymentState::Finished(CardOutcome::Approved { .. }) => {}
        other => panic!("expected the approval made before the drop, got {other:?}"),
    }
    assert!(matches!(
        r.take_payment(&req).await.expect("answers"),
        CardOutcome::Approved { .. }
    ));
    assert_eq!(
        sim.charges().len(),
        1,
        "retry after unknown state does not charge again"
    );
}

#[tokio::test]
async fn silent_reader_is_a_no_response_error() {
    let (sim, r) = reader();
    sim.script([SimCardBehaviour::NoAnswer]);
    let req = request(100);
    let err = r.take_payment(&req).await.expect_err("silence");
    assert!(matches!(err, CardReaderError::NoResponse { .. }), "{err:?}");
    assert_eq!(
        r.payment_state(req.payment_id).await.expect("answers"),
        PaymentState::NotStarted
    );
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .single()
            .expect("valid date"),
    ))
}

fn payments(
    limits: OfflineLimits,
    store: Box<dyn OfflinePaymentStore>,
    clock: Arc<ManualClock>,
    key: SealingKey,
) -> (
    SimulatedCardReader,
    CardPayments<LinkCardReader<SimulatedCardReader>>,
) {
    let (sim, r) = reader();
    (sim, CardPayments::new(r, limits, key, store, clock))
}

fn ack() -> MerchantRiskAcknowledgement {
    MerchantRiskAcknowledgement::accept("user-ana", Utc::now())
}

#[tokio::test]
async fn offline_limits_refuse_before_the_card_is_read_and_name_the_limit() {
    let limits = OfflineLimits {
        per_payment: Money::from_centavos(200_00),
        total_pending: Money::from_centavos(350_00),
        max_pending: 3,
        max_age: Duration::from_secs(24 * 3600),
    };
    let clock = clock();
    let (sim, cp) = payments(
        limits,
        Box::new(MemoryOfflineStore::default()),
        clock.clone(),
        SealingKey::generate(),
    );

    let err = cp
        .pay(&request(200_01), Connectivity::Offline, Some(&ack()))
        .await
        .expect_err("over per-payment");
    assert!(matches!(
        err,
        CardPaymentError::OfflineLimitExceeded {
            limit: OfflineLimit::PerPayment,
            ..
        }
    ));
    assert!(
        err.to_string().contains("offline limit per payment"),
        "{err}"
    );
    assert!(
        err.to_string().contains("R$ 200,01") && err.to_string().contains("R$ 200,00"),
        "{err}"
    );
    assert_eq!(sim.cards_read(), 0, "refused before the card was read");

    for _ in 0..2 {
        let ok = cp
            .pay(&request(150_00), Connectivity::Offline, Some(&ack()))
            .await
            .expect("accepted");
        assert!(matches!(ok, CardPaymentOutcome::AcceptedOffline { .. }));
    }
    let err = cp
        .pay(&request(60_00), Connectivity::Offline, Some(&ack()))
        .await
        .expect_err("total 360 > 350");
    assert!(
        matches!(
            err,
            CardPaymentError::OfflineLimitExceeded {
                limit: OfflineLimit::TotalPending,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        sim.cards_read(),
        2,
        "only the accepted payments read a card"
    );

    cp.pay(&request(40_00), Connectivity::Offline, Some(&ack()))
        .await
        .expect("total 340 fits");
    let err = cp
        .pay(&request(1_00), Connectivity::Offline, Some(&ack()))
        .await
        .expect_err("4th payment");
    assert!(
        matches!(
            err,
            CardPaymentError::OfflineLimitExceeded {
                limit: OfflineLimit::PendingCount,
                ..
            }
        ),
        "{err}"
    );

    // The owner raises count and total; now age is what stops new offline payments.
    cp.set_limits(OfflineLimits {
        max_pending: 10,
        total_pending: Money::from_centavos(10_000_00),
        ..cp.limits()
    });
    clock.advance(Duration::from_secs(25 * 3600));
    let err = cp
        .pay(&request(1_00), Connectivity::Offline, Some(&ack()))
        .await
        .expect_err("too old");
    assert!(
        matches!(
            err,
            CardPaymentError::OfflineLimitExceeded {
                limit: OfflineLimit::OldestPendingAge,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("25 h"), "{err}");
    assert_eq!(sim.cards_read(), 3);
    assert!(sim.charges().is_empty(), "nothing charged while offline");
}

#[tokio::test]
async fn offline_payment_requires_the_risk_acknowledgement() {
    let (sim, cp) = payments(
        OfflineLimits::default(),
        Box::new(MemoryOfflineStore::default()),
        clock(),
        SealingKey::generate(),
    );
    assert!(offline_risk_notice().contains("loja assume o prejuízo"));
    let err = cp
        .pay(&request(10_00), Connectivity::Offline, None)
        .await
        .expect_err("no ack");
    assert!(matches!(err, CardPaymentError::RiskNotAcknowledged));
    let stale = MerchantRiskAcknowledgement {
        notice_version: 0,
        ..ack()
    };
    let err = cp
        .pay(&request(10_00), Connectivity::Offline, Some(&stale))
        .await
        .expect_err("old notice");
    assert!(matches!(err, CardPaymentError::RiskNotAcknowledged));
    assert_eq!(sim.cards_read(), 0);
}

#[tokio::test]
async fn store_and_forward_seals_persists_and_surfaces_declines_as_payments_to_recover() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("offline-card-payments.json");
    let key = SealingKey::generate();
    let clock = clock();
    let (sim, cp) = payments(
        OfflineLimits::default(),
        Box::new(FileOfflineStore::new(&path)),
        clock.clone(),
        key.clone(),
    );
    let first = request(120_00);
    let second = CardPaymentRequest {
        sale_reference: "SALE-2".into(),
        ..request(80_00)
    };
    for r in [&first, &second] {
        cp.pay(r, Connectivity::Offline, Some(&ack()))
            .await
            .expect("accepted offline");
    }
    let on_disk = std::fs::read_to_string(&path).expect("stored");
    assert!(
        !on_disk.contains("EMV-OFFLINE-CRYPTOGRAM"),
        "card data is sealed on disk"
    );
    assert!(
        !on_disk.contains(&base64_of(b"EMV-OFFLINE-CRYPTOGRAM")),
        "not even base64-encoded"
    );
    assert!(
        on_disk.contains("user-ana"),
        "who accepted the risk is kept"
    );
    let shown = format!("{:?}", cp.pending().expect("loads"));
    assert!(
        !shown.contains("EMV") && shown.contains("<sealed>"),
        "Debug never shows card data"
    );
    drop(cp);

    // The app restarts; the link is back.
    let r = LinkCardReader::new(sim.clone(), settings());
    let cp = CardPayments::new(
        r,
        OfflineLimits::default(),
        key,
        Box::new(FileOfflineStore::new(&path)),
        clock,
    );
    assert_eq!(cp.pending().expect("loads").len(), 2, "survives a restart");
    sim.script_forwarding([
        SimForwardBehaviour::Approve,
        SimForwardBehaviour::Decline("cartão bloqueado".into()),
    ]);
    let report = cp.forward_pending().await.expect("forwards");
    assert_eq!(report.still_pending, 0);
    assert_eq!(report.settled.len(), 2);
    assert!(
        matches!(&report.settled[0], ForwardedPayment::Approved { payment_id, .. } if *payment_id == first.payment_id)
    );
    match &report.settled[1] {
        ForwardedPayment::ToRecover(p) => {
            assert_eq!(p.payment_id, second.payment_id);
            assert_eq!(p.sale_reference, "SALE-2");
            assert_eq!(p.amount, Money::from_centavos(80_00));
            assert_eq!(p.reason, "cartão bloqueado");
        }
        other => panic!("expected a payment to recover, got {other:?}"),
    }
    assert_eq!(
        sim.charges().len(),
        1,
        "only the approved capture was charged"
    );

    // Forwarding again does not resend settled payments; they stay listed until recorded.
    let again = cp.forward_pending().await.expect("forwards");
    assert_eq!(again.settled.len(), 2);
    assert_eq!(sim.charges().len(), 1);
    cp.confirm_recorded(&[first.payment_id, second.payment_id])
        .await
        .expect("confirmed");
    assert!(
        cp.forward_pending()
            .await
            .expect("forwards")
            .settled
            .is_empty()
    );
    assert_eq!(std::fs::read_to_string(&path).expect("file").trim(), "[]");
}

#[tokio::test]
async fn forwarding_with_the_reader_away_keeps_everything_pending() {
    let key = SealingKey::generate();
    let (sim, cp) = payments(
        OfflineLimits::default(),
        Box::new(MemoryOfflineStore::default()),
        clock(),
        key,
    );
    cp.pay(&request(10_00), Connectivity::Offline, Some(&ack()))
        .await
        .expect("accepted");
    cp.reader().connect().await.expect("connected");
    sim.refuse_next_connects(100);
    // Drop the link: the next write fails and reconnects are refused.
    tenda_devices::Transport::disconnect(&sim).await;
    let report = cp.forward_pending().await.expect("reports");
    assert_eq!(report.still_pending, 1, "nothing lost");
    assert!(report.settled.is_empty());
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn stored_offline_payment_format_snapshot() {
    // Stored on disk between app runs: a format change must be deliberate.
    let p = tenda_devices::card::StoredOfflinePayment {
        payment_id: Uuid::from_u128(7),
        sale_reference: "SALE-7".into(),
        amount: Money::from_centavos(1234),
        kind: CardKind::Debit,
        card: tenda_devices::card::CardSummary {
            brand: "ELO".into(),
            last4: "0001".into(),
        },
        captured_at: Utc
            .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
            .single()
            .expect("valid date"),
        risk_accepted_by: "user-ana".into(),
        sealed: tenda_devices::card::SealedCardData {
            nonce: vec![0; 12],
            ciphertext: vec![0xAB, 0xCD],
        },
        status: tenda_devices::card::ForwardStatus::Pending,
    };
    assert_eq!(
        serde_json::to_string(&p).expect("serializes"),
        r#"{"payment_id":"00000000-0000-0000-0000-000000000007","sale_reference":"SALE-7","amount":1234,"kind":"debit","card":{"brand":"ELO","last4":"0001"},"captured_at":"2026-11-23T10:00:00Z","risk_accepted_by":"user-ana","sealed":{"nonce":"000000000000000000000000","ciphertext":"abcd"},"status":"Pending"}"#
    );
}

#[test]
fn traits_are_usable_as_objects() {
    // The point of sale holds peripherals behind trait objects.
    let sim = SimulatedCardReader::new();
    let transport: Box<dyn tenda_devices::Transport> = Box::new(sim);
    let reader: Box<dyn CardReader> = Box::new(LinkCardReader::new(transport, settings()));
    drop(reader);
    let profile = tenda_devices::PrinterProfile::mm58();
    let printer: Box<dyn tenda_devices::ReceiptPrinter> =
        Box::new(tenda_devices::EscPosPrinter::new(
            Arc::new(tenda_devices::sim::SimulatedPrinter::new(&profile)),
            profile,
            tenda_devices::PrinterSettings::default(),
        ));
    drop(printer);
}
