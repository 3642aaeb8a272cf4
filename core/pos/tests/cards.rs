//! Card payments through the simulated reader (behind the same transport trait as a BLE
//! reader): online authorization, store-and-forward offline within the owner's limits with the
//! risk accepted first, forwarding when the link returns, and a declined forward listed for the
//! store to collect while the sale stands.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tenda_devices::sim::{SimForwardBehaviour, SimulatedCardReader};
use tenda_domain::CardKind;
use tenda_pos::credentials::Secret;
use tenda_pos::status::LinkState;
use tenda_pos::{PaymentRequest, Pos};

fn pair(pos: &Pos) -> SimulatedCardReader {
    let sim = SimulatedCardReader::new();
    pos.pair_card_reader(Arc::new(sim.clone())).expect("pair");
    sim
}

fn note_xml(pos: &Pos, sale: tenda_domain::SaleId) -> String {
    pos.inspect_store(|s| s.fiscal_document(sale))
        .expect("read")
        .expect("doc")
        .xml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_card_is_stored_within_limits_and_forwarded_when_the_link_returns() {
    let f = fixture(|c| {
        c.contingency.automatic = true;
        c.card_offline_limits.per_payment = m(50_00);
        c.card_offline_limits.total_pending = m(40_00);
    });
    let pos = &f.pos;
    let sim = pair(pos);
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    assert_eq!(pos.link(), LinkState::Offline);

    // Without a reader a card is refused; PIX stays refused offline with its reason.
    pos.scan("CAF500".into(), None).expect("scan");
    let pix = pos
        .checkout(vec![PaymentRequest::Pix {
            amount: m(18_90),
            txid: None,
        }])
        .await
        .expect_err("PIX offline");
    assert_eq!(pix.code(), "offline", "{pix}");

    // The risk is shown before confirming; without the seller's acceptance nothing is read.
    let risk = pos.card_offline_risk(m(18_90)).expect("risk");
    assert!(
        risk.offline && risk.allowed && !risk.notice.is_empty(),
        "{risk:?}"
    );
    let card = || {
        vec![PaymentRequest::Card {
            amount: m(18_90),
            kind: CardKind::Credit,
        }]
    };
    let err = pos.checkout(card()).await.expect_err("risk not accepted");
    assert_eq!(err.code(), "invalid_state", "{err}");
    assert_eq!(sim.cards_read(), 0, "no card read before the acceptance");

    pos.accept_card_offline_risk().expect("accept");
    let first = pos.checkout(card()).await.expect("offline card sale");
    assert!(first.printed, "{:?}", first.print_error);
    let xml = note_xml(pos, first.sale_id);
    assert!(
        xml.contains("<tPag>03</tPag>") && xml.contains("<tpIntegra>2</tpIntegra>"),
        "credit card in detPag with the card block (not integrated: no authorization yet)"
    );
    assert!(xml.contains("<tBand>01</tBand>"), "VISA brand code");
    assert_eq!(pos.pending_card_payments().expect("pending").len(), 1);

    // The acceptance covered one ticket only; the second sale needs it again.
    pos.scan("CAF500".into(), None).expect("scan");
    assert_eq!(
        pos.checkout(card()).await.expect_err("again").code(),
        "invalid_state"
    );
    pos.accept_card_offline_risk().expect("accept");
    let second = pos.checkout(card()).await.expect("second offline sale");

    // A third would pass the R$ 40,00 total awaiting connection: refused, naming the limit,
    // before the card is read.
    pos.scan("CAF500".into(), None).expect("scan");
    let risk = pos.card_offline_risk(m(18_90)).expect("risk");
    assert!(!risk.allowed, "{risk:?}");
    assert_eq!(risk.pending_total, m(37_80));
    pos.accept_card_offline_risk().expect("accept");
    let reads = sim.cards_read();
    let err = pos.checkout(card()).await.expect_err("beyond the total");
    assert_eq!(err.code(), "limit_exceeded", "{err}");
    assert!(err.to_string().contains("total"), "{err}");
    assert!(
        matches!(
            err,
            tenda_pos::PosError::LimitExceeded {
                limit: tenda_pos::LimitKind::CardOfflineTotal,
                ..
            }
        ),
        "the limit is data: {err:?}"
    );
    assert_eq!(sim.cards_read(), reads, "refused before reading the card");
    // Above the per-payment limit too.
    assert!(!pos.card_offline_risk(m(60_00)).expect("risk").allowed);

    // Forwarding needs the link.
    assert_eq!(
        pos.forward_pending_card_payments()
            .await
            .expect_err("offline")
            .code(),
        "offline"
    );
    // The link returns: the captures are forwarded in the background.
    sim.script_forwarding([
        SimForwardBehaviour::Approve,
        SimForwardBehaviour::Decline("cartão sem saldo".into()),
    ]);
    pos.set_link(LinkState::Online).expect("link");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !pos.pending_card_payments().expect("pending").is_empty()
        || pos.card_payments_to_recover().expect("list").is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "forwarded when the link returned"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(pos.pending_card_payments().expect("pending").is_empty());
    let recover = pos.card_payments_to_recover().expect("list");
    assert_eq!(
        recover.len(),
        1,
        "the declined forward is the store's to collect"
    );
    assert_eq!(recover[0].sale_id, second.sale_id.to_string());
    assert_eq!(recover[0].amount, m(18_90));
    assert_eq!(recover[0].reason, "cartão sem saldo");
    // The sale stands.
    assert!(
        pos.inspect_store(|s| s.sale(second.sale_id))
            .expect("read")
            .is_some()
    );
    let actions: Vec<String> = pos
        .audit_entries(0, 10_000)
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "card.accepted_offline",
        "card.forward_approved",
        "card.forward_declined",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
    // The server learns each result from its own mutation, not only from the audit trail.
    let forwards = || -> Vec<(tenda_domain::SaleId, tenda_domain::CardForwardOutcome)> {
        pos.inspect_store(|s| s.outbox_after(0, 10_000))
            .expect("outbox")
            .into_iter()
            .filter_map(|e| match e.mutation {
                tenda_domain::Mutation::CardPaymentForwarded {
                    sale_id, outcome, ..
                } => Some((sale_id, outcome)),
                _ => None,
            })
            .collect()
    };
    let sent = forwards();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().any(|(sale, o)| *sale == first.sale_id
        && matches!(o, tenda_domain::CardForwardOutcome::Approved { authorization_code } if !authorization_code.is_empty())));
    assert!(sent.iter().any(|(sale, o)| *sale == second.sale_id
        && *o
            == tenda_domain::CardForwardOutcome::Declined {
                amount: m(18_90),
                reason: "cartão sem saldo".into()
            }));
    // Running again forwards nothing twice.
    let again = pos.forward_pending_card_payments().await.expect("again");
    assert_eq!((again.approved, again.declined), (0, 0));
    assert_eq!(pos.card_payments_to_recover().expect("list").len(), 1);
    assert_eq!(forwards().len(), 2, "nothing reported twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_card_is_authorized_and_its_code_goes_on_the_note() {
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    pos.scan("CAF500".into(), None).expect("scan");
    let no_reader = pos
        .checkout(vec![PaymentRequest::Card {
            amount: m(18_90),
            kind: CardKind::Debit,
        }])
        .await
        .expect_err("no reader");
    assert_eq!(no_reader.code(), "peripheral");

    let sim = pair(pos);
    pos.set_link(LinkState::Online).expect("link");
    // The reader is away: the seller is told, the status shows it, nothing is charged.
    sim.refuse_next_connects(3);
    let err = pos
        .checkout(vec![PaymentRequest::Card {
            amount: m(18_90),
            kind: CardKind::Debit,
        }])
        .await
        .expect_err("reader away");
    assert_eq!(err.code(), "peripheral", "{err}");
    assert!(matches!(
        pos.status().card_reader,
        tenda_pos::status::PeripheralState::NeedsAttention { .. }
    ));
    // Overpaying by card is refused before anything is charged.
    let err = pos
        .checkout(vec![PaymentRequest::Card {
            amount: m(20_00),
            kind: CardKind::Debit,
        }])
        .await
        .expect_err("overpaid");
    assert_eq!(err.code(), "invalid_input", "{err}");
    assert!(sim.charges().is_empty());

    let out = pos
        .checkout(vec![
            PaymentRequest::Cash {
                amount: m(8_90),
                tendered: m(10_00),
            },
            PaymentRequest::Card {
                amount: m(10_00),
                kind: CardKind::Debit,
            },
        ])
        .await
        .expect("card sale");
    assert_eq!(
        pos.status().card_reader,
        tenda_pos::status::PeripheralState::Ready
    );
    assert_eq!(out.change, m(1_10));
    assert_eq!(sim.charges().len(), 1, "charged once");
    let xml = note_xml(pos, out.sale_id);
    assert!(
        xml.contains("<tPag>04</tPag>")
            && xml.contains("<tpIntegra>1</tpIntegra>")
            && xml.contains("<cAut>"),
        "debit card with the acquirer's authorization code"
    );
    assert!(pos.pending_card_payments().expect("pending").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charged_card_is_reused_on_retry_and_never_forgotten() {
    use tenda_devices::sim::SimCardBehaviour;
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    let sim = pair(pos);
    pos.set_link(LinkState::Online).expect("link");
    pos.scan("CAF500".into(), None).expect("scan");
    let split = || {
        vec![
            PaymentRequest::Card {
                amount: m(10_00),
                kind: CardKind::Credit,
            },
            PaymentRequest::Card {
                amount: m(8_90),
                kind: CardKind::Debit,
            },
        ]
    };
    // The link drops after the card was charged: the reader recovers the result (same
    // payment id), the sale goes through and the card is charged once.
    sim.script([SimCardBehaviour::DropAfterCharge]);
    pos.checkout(vec![PaymentRequest::Card {
        amount: m(18_90),
        kind: CardKind::Credit,
    }])
    .await
    .expect("recovered");
    assert_eq!(sim.charges().len(), 1, "charged once");
    pos.scan("CAF500".into(), None).expect("scan");
    let charged = sim.charges().len();

    // The first card goes through, the second is declined.
    sim.script([
        SimCardBehaviour::Approve,
        SimCardBehaviour::Decline("saldo insuficiente".into()),
    ]);
    let err = pos.checkout(split()).await.expect_err("declined");
    assert_eq!(err.code(), "rejected", "{err}");
    assert_eq!(sim.charges().len(), charged + 1);
    // Retrying the same ticket charges only the second card.
    let out = pos.checkout(split()).await.expect("paid");
    assert_eq!(
        sim.charges().len(),
        charged + 2,
        "the first card was not charged again"
    );
    assert_eq!(out.total, m(18_90));

    // Again a first card goes through and the second is declined; then the ticket changes.
    pos.scan("CAF500".into(), None).expect("scan");
    sim.script([
        SimCardBehaviour::Approve,
        SimCardBehaviour::Decline("saldo insuficiente".into()),
    ]);
    pos.checkout(split()).await.expect_err("declined");
    pos.scan("CAF500".into(), None).expect("another coffee");
    let err = pos
        .checkout(vec![PaymentRequest::Card {
            amount: m(37_80),
            kind: CardKind::Credit,
        }])
        .await
        .expect_err("the first charge is not forgotten");
    assert_eq!(err.code(), "invalid_state");
    assert!(err.to_string().contains("already charged"), "{err}");
    // A manager abandons it (to be reversed at the acquirer), audited; then the sale proceeds.
    assert_eq!(
        pos.abandon_card_charges(Some(manager()))
            .await
            .expect("abandon"),
        1
    );
    // One decision, one entry, naming the charge to reverse (the first card's R$ 10,00).
    let abandoned: Vec<_> = pos
        .audit_entries(0, 10_000)
        .expect("audit")
        .into_iter()
        .filter(|e| e.subject.contains("abandoned cards"))
        .collect();
    assert_eq!(abandoned.len(), 1, "{abandoned:?}");
    assert!(
        abandoned[0].subject.contains("amount:1000") && abandoned[0].action == "void_sale.override",
        "{abandoned:?}"
    );
    pos.checkout(vec![PaymentRequest::Card {
        amount: m(37_80),
        kind: CardKind::Credit,
    }])
    .await
    .expect("paid");
}
