//! The owner's reports over a real day: contingency notes transmitted to the SEFAZ simulator
//! with their times and protocols, sales by period and payment method, oversold items, and the
//! audit log filtered with its chain verified.

mod common;

use chrono::{Duration, Utc};
use common::*;
use tenda_pos::credentials::Secret;
use tenda_pos::register::PaymentKind;
use tenda_pos::{Approval, AuditFilter, PaymentRequest};
use tenda_sefaz_sim::{Simulator, SimulatorConfig};

fn owner() -> Approval {
    Approval {
        login: "dona".into(),
        secret: Secret::Pin("9999".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_cover_notes_sales_oversold_items_and_the_audit_log() {
    let start = Utc::now() - Duration::seconds(1);
    let f = fixture(|c| c.contingency.automatic = true);
    let pos = &f.pos;
    let seller = pos
        .sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(m(0), Some(manager())).expect("open");
    for _ in 0..2 {
        pos.scan("CAF500".into(), None).expect("scan");
        pos.checkout(vec![PaymentRequest::Cash {
            amount: m(18_90),
            tendered: m(20_00),
        }])
        .await
        .expect("offline sale");
    }

    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator");
    pos.set_sefaz_route(simulator_route(&sim, 30000, 30000))
        .expect("SEFAZ route");
    pos.transmit_backlog(false).await.expect("transmit");

    // Reports are the owner's: a seller needs the owner's approval.
    assert_eq!(
        pos.contingency_notes_report(None)
            .expect_err("seller")
            .code(),
        "forbidden"
    );
    let notes = pos.contingency_notes_report(Some(owner())).expect("report");
    assert_eq!(notes.len(), 2);
    for n in &notes {
        let transmitted = n.transmitted_at.expect("transmission time");
        let authorized = n.authorized_at.expect("SEFAZ's authorization time");
        assert!(n.emitted_at <= transmitted, "{n:?}");
        assert!(n.protocol.as_ref().is_some_and(|p| p.len() == 15), "{n:?}");
        assert_eq!(n.status_code, Some(100));
        assert_eq!(n.status, "authorized");
        assert!(!n.late() && authorized <= n.deadline);
    }
    assert!(notes[0].number < notes[1].number, "oldest first");

    let sales = pos
        .sales_report(start, Utc::now() + Duration::seconds(1), Some(owner()))
        .expect("sales");
    assert_eq!(sales.len(), 1, "{sales:?}");
    assert_eq!(sales[0].kind, PaymentKind::Cash);
    assert_eq!((sales[0].sales, sales[0].amount), (2, m(37_80)));

    // Nothing was in stock: both coffees were sold beyond it.
    let oversold = pos.oversold_report(Some(owner())).expect("oversold");
    assert_eq!(oversold.len(), 1);
    assert_eq!(oversold[0].product_id, f.coffee.id);
    assert_eq!(oversold[0].stock.thousandths(), -2000);
    assert_eq!(oversold[0].sales.len(), 2);

    let fiscal = pos
        .audit_report(
            AuditFilter {
                action: Some("fiscal.".into()),
                ..Default::default()
            },
            Some(owner()),
        )
        .expect("audit");
    assert!(fiscal.chain_intact, "{}", fiscal.verification);
    assert_eq!(
        fiscal
            .entries
            .iter()
            .filter(|e| e.action == "fiscal.authorized")
            .count(),
        2
    );
    assert!(
        fiscal
            .entries
            .iter()
            .all(|e| e.action.starts_with("fiscal."))
    );
    let mine = pos
        .audit_report(
            AuditFilter {
                actor: Some(format!("user:{}", seller.user_id)),
                to: Some(Utc::now() + Duration::seconds(1)),
                limit: 3,
                ..Default::default()
            },
            Some(owner()),
        )
        .expect("audit");
    assert_eq!(mine.entries.len(), 3, "the newest three");
    assert!(
        mine.entries
            .iter()
            .all(|e| e.actor == format!("user:{}", seller.user_id))
    );
    assert!(mine.entries.windows(2).all(|w| w[0].seq < w[1].seq));
}
