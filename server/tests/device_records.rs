//! Forwarded card payments and notes cancelled by substitution: applied once like every
//! mutation, kept as pushed, and listed for the back office; a substitution never touches the
//! sale's own note.

mod common;

use common::{Backend, TestServer, sale_entry, wire};
use tenda_domain::outbox::{Mutation, OutboxEntry};
use tenda_domain::{CardForwardOutcome, Money};

// Access keys with their check digits (the server checks them as what they are).
const OWN_KEY: &str = "35260306157250000116650010000012349123456787";
const SUPERSEDED_KEY: &str = "35260306157250000116650010000012341123456781";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_forwards_and_substitutions_are_kept_for_the_back_office() {
    let t = TestServer::start(Backend::sqlite()).await;
    let p = t.create_product("CAFE", "Cafe 500g", 1_800).await;
    let device = t.enroll(t.branch_id, 1, "Caixa 1").await;
    let (sale, sale_id, total) = sale_entry(device.device_id, 1, &[(p, 1_800)], 1);
    let forwarded = |seq, payment: &str, outcome| OutboxEntry {
        seq,
        mutation: Mutation::CardPaymentForwarded {
            sale_id,
            payment_id: payment.into(),
            outcome,
            at: chrono::Utc::now(),
        },
    };
    let substitution = |seq, cancelled: &str| OutboxEntry {
        seq,
        mutation: Mutation::NoteCancelledBySubstitution {
            sale_id,
            cancelled_access_key: cancelled.into(),
            substitute_access_key: OWN_KEY.into(),
            protocol: Some("135260000000002".into()),
            justification: "Nota substituida pela emitida em contingencia".into(),
            at: chrono::Utc::now(),
        },
    };

    // A malformed access key is refused with its field, and nothing of the push is applied.
    let (s, e) = t
        .push(&device, vec![wire(&sale), wire(&substitution(2, "123"))])
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["field"], "mutations[1].payload.cancelled_access_key");
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sales").await, 0);

    let batch = vec![
        wire(&sale),
        wire(&forwarded(
            2,
            "pay-1",
            CardForwardOutcome::Approved {
                authorization_code: "A1B2C3".into(),
            },
        )),
        wire(&forwarded(
            3,
            "pay-2",
            CardForwardOutcome::Declined {
                amount: total,
                reason: "saldo insuficiente".into(),
            },
        )),
        wire(&substitution(4, SUPERSEDED_KEY)),
    ];
    let (s, r) = t.push(&device, batch.clone()).await;
    assert_eq!((s, r["applied_through"].as_u64()), (200, Some(4)), "{r}");
    // Pushed again (a lost reply): applied once.
    let (s, r) = t.push(&device, batch).await;
    assert_eq!((s, r["applied_through"].as_u64()), (200, Some(4)), "{r}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM device_records").await,
        3,
        "two forwards and one substitution, once each"
    );

    let cards = t
        .admin(
            "GET",
            "/api/v1/admin/device-records?kind=card_payment_forwarded",
            None,
        )
        .await;
    let cards = cards.as_array().expect("list");
    assert_eq!(cards.len(), 2);
    let declined = cards
        .iter()
        .find(|c| c["payload"]["outcome"]["result"] == "declined")
        .expect("the declined forward is listed, for the store to collect");
    assert_eq!(
        declined["payload"]["outcome"]["amount"],
        Money::from_centavos(1_800).centavos()
    );
    assert_eq!(declined["payload"]["sale_id"], sale_id.to_string());

    let subs = t
        .admin(
            "GET",
            "/api/v1/admin/device-records?kind=note_cancelled_by_substitution",
            None,
        )
        .await;
    assert_eq!(subs.as_array().expect("list").len(), 1);
    assert_eq!(subs[0]["payload"]["cancelled_access_key"], SUPERSEDED_KEY);

    // The sale's own note is not the cancelled one: its row is untouched.
    let detail = t
        .admin(
            "GET",
            &format!("/api/v1/admin/sales/{}", sale_id.as_uuid()),
            None,
        )
        .await;
    assert_eq!(detail["sale"]["fiscal_status"], "none", "{detail}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sales WHERE voided_at IS NOT NULL")
            .await,
        0,
        "and the sale stands"
    );

    let (s, e) = t
        .call(
            "GET",
            "/api/v1/admin/device-records?limit=0",
            Some(&t.owner_token),
            None,
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("limit")), "{e}");
    t.server.shutdown().await;
}
