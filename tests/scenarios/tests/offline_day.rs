//! The seed's test, on the fiscal side: "disconnect the internet on purpose, make sales,
//! reconnect, check that the NFC-e were transmitted". Two devices in two branches (own NFC-e
//! series) sell through one store link to the SEFAZ simulator; the link is cut mid-day (a sale
//! caught in the middle), contingency is entered with a manager's PIN, sales go on with cash and
//! customer accounts, one note is rejected, the link comes back and the first transmission is
//! cut after SEFAZ committed it. At the end every note but the rejected one is authorized exactly
//! once, numbers never skip, balances and cash reconcile, and every audit chain verifies.

use std::collections::BTreeMap;
use std::time::Duration;

use tenda_domain::{Customer, DeviceId, FiscalStatus, Money, Role, SaleId, User, UserId};
use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_pos::credentials::{Secret, hash_secret};
use tenda_pos::register::PaymentKind;
use tenda_pos::status::{LinkState, SefazMode};
use tenda_pos::{Approval, PaymentRequest, Pos, PosConfig};
use tenda_scenarios::link::Link;
use tenda_scenarios::sample;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};
use tenda_store::DbKey;

fn user(login: &str, role: Role, pin: &str) -> User {
    User {
        id: UserId::new(),
        name: login.into(),
        login: login.into(),
        role,
        credential_hash: hash_secret(&Secret::Pin(pin.into())).expect("PIN"),
        active: true,
        version: 1,
    }
}

fn manager() -> Approval {
    Approval {
        login: "caio".into(),
        secret: Secret::Pin("2468".into()),
    }
}

struct Device {
    pos: Pos,
    customers: Vec<Customer>,
    sales: Vec<SaleId>,
    cash: Money,
    on_account: BTreeMap<tenda_domain::CustomerId, Money>,
}

async fn device(dir: &std::path::Path, series: u16, sim: &Simulator, link: &Link) -> Device {
    let mut emitter = sample_emitter(Crt::SimplesNacional);
    emitter.series = series;
    let mut config = PosConfig::new(DeviceId::new(), emitter);
    config.sefaz_timeout_ms = 2_500;
    // SEFAZ is the simulator behind the store's (cuttable) link.
    let sefaz = tenda_scenarios::device::SefazAccess {
        base_url: format!("https://127.0.0.1:{}", link.addr().port()),
        ca_der: sim.ca_certificate_der().to_vec(),
    };
    let (open, platform) = tenda_scenarios::device::access(
        &dir.join(format!("device-{series}.db")),
        &DbKey::generate(),
        Some(&sefaz),
    );
    let pos = Pos::create(open, platform, config).expect("store");
    // Generous limits: this test is about notes, not about refusals on credit.
    let customers: Vec<Customer> = (0..3)
        .map(|i| Customer {
            overdraft_limit: Money::from_centavos(500_000),
            ..sample::customer(i)
        })
        .collect();
    pos.inspect_store(|s| {
        s.save_user(&user("dona", Role::Owner, "9999"))
            .expect("owner");
        s.save_user(&user("caio", Role::Manager, "2468"))
            .expect("manager");
        s.save_user(&user("bia", Role::Seller, "1357"))
            .expect("seller");
        s.load_catalog(sample::catalog(200), &mut |_| {})
            .expect("catalog");
        for c in &customers {
            s.save_customer(c).expect("customer");
        }
    });
    let pfx = tenda_fiscal::samples::PUBLIC_TEST_PFX.to_vec();
    let owner = Approval {
        login: "dona".into(),
        secret: Secret::Pin("9999".into()),
    };
    pos.install_certificate(pfx, "minhasenha".into(), owner)
        .expect("certificate");
    tenda_scenarios::device::attach_printer(&pos);
    pos.set_link(LinkState::Online).expect("link");
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    pos.open_register(Money::from_centavos(10_000), Some(manager()))
        .expect("open");
    Device {
        pos,
        customers,
        sales: vec![],
        cash: Money::ZERO,
        on_account: BTreeMap::new(),
    }
}

/// Sale `i`: two or three products; every fourth on a customer's account, the rest cash.
async fn sell(d: &mut Device, i: usize) -> tenda_pos::SaleOutcome {
    for k in 0..(2 + i % 2) {
        let p = sample::product((i * 7 + k * 13) % 200);
        let code = p
            .gtin
            .as_ref()
            .map_or(p.sku.clone(), |g| g.as_str().to_owned());
        let qty = (p.unit == tenda_domain::Unit::Kilogram)
            .then(|| tenda_domain::Quantity::from_thousandths(350));
        d.pos.scan(code.clone(), qty).expect("scan");
    }
    let total = d.pos.ticket().expect("ticket").total;
    let payment = if i % 4 == 3 {
        let c = &d.customers[i % d.customers.len()];
        d.pos.set_customer(Some(c.id)).expect("customer");
        let owed = d.on_account.entry(c.id).or_insert(Money::ZERO);
        *owed = owed.checked_add(total).expect("sum");
        PaymentRequest::CustomerAccount { amount: total }
    } else {
        d.cash = d.cash.checked_add(total).expect("sum");
        PaymentRequest::Cash {
            amount: total,
            tendered: Money::from_centavos(total.centavos() + 50),
        }
    };
    let out = d.pos.checkout(vec![payment]).await.expect("sale");
    d.sales.push(out.sale_id);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_branches_sell_through_an_outage_and_every_note_is_authorized_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Simulator::start(SimulatorConfig {
        max_requests_per_second: 10_000,
        hang_for: Duration::from_secs(3),
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator");
    let link = Link::start(sim.address()).await.expect("link");
    let mut a = device(dir.path(), 1, &sim, &link).await;
    let mut b = device(dir.path(), 2, &sim, &link).await;

    // Morning, online: notes authorized one by one before each receipt.
    for i in 0..15 {
        for d in [&mut a, &mut b] {
            let out = sell(d, i).await;
            assert_eq!(out.note.expect("note").status, FiscalStatus::Authorized);
        }
    }

    // The link drops in the middle of a sale: the note stays pending (it may have reached
    // SEFAZ), the register asks for contingency.
    link.cut();
    for d in [&mut a, &mut b] {
        let out = sell(d, 99).await;
        assert_eq!(out.note.expect("note").status, FiscalStatus::Pending);
        assert_eq!(d.pos.status().sefaz, SefazMode::ContingencyRequired);
        d.pos
            .enter_contingency("Queda do link de internet da loja".into(), Some(manager()))
            .expect("manager");
        d.pos.set_link(LinkState::Offline).expect("link");
    }

    // Offline afternoon.
    for i in 100..135 {
        for d in [&mut a, &mut b] {
            let out = sell(d, i).await;
            assert!(out.note.expect("note").contingency);
        }
    }
    // SEFAZ will reject one of branch A's notes (say its product's NCM is wrong).
    let rejected_sale = a.sales[30];
    let rejected_key = a
        .pos
        .inspect_store(|s| s.fiscal_document(rejected_sale))
        .expect("read")
        .expect("doc")
        .access_key;
    sim.update_faults(|f| {
        f.reject.insert(rejected_key.clone(), 778);
    });

    // The link is back; the first lote SEFAZ receives is committed but its answer never
    // arrives (the link hiccups mid-transmission).
    link.restore();
    sim.update_faults(|f| f.timeout_after_commit = 1);
    for d in [&a, &b] {
        d.pos.set_link(LinkState::Online).expect("link");
    }
    for round in 0..6 {
        let mut left = 0;
        for d in [&a, &b] {
            left += d
                .pos
                .transmit_backlog(true)
                .await
                .expect("transmission")
                .remaining;
        }
        if left == 0 {
            break;
        }
        assert!(round < 5, "backlog not drained after {round} rounds");
    }

    // Every note authorized exactly once (the rejected one waits for correction), numbers
    // contiguous per series, the chain intact, balances and cash reconciled.
    let mut authorized = 0u64;
    for (d, series) in [(&a, 1u16), (&b, 2u16)] {
        let mut numbers = vec![];
        for id in &d.sales {
            let doc = d
                .pos
                .inspect_store(|s| s.fiscal_document(*id))
                .expect("read")
                .expect("every sale has a note");
            assert_eq!(doc.series.series, series);
            numbers.push(doc.number);
            if doc.access_key == rejected_key {
                assert_eq!(doc.status, FiscalStatus::Rejected);
                continue;
            }
            assert_eq!(
                doc.status,
                FiscalStatus::Authorized,
                "note {} of series {series}",
                doc.number
            );
            let at_sefaz = sim.note(&doc.access_key).expect("SEFAZ holds the note");
            assert_eq!(Some(at_sefaz.protocol_number), doc.protocol);
            authorized += 1;
        }
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            (1..=d.sales.len() as u32).collect::<Vec<_>>(),
            "no number skipped or repeated"
        );
        assert!(d.pos.verify_audit().expect("verify").intact);
        for (customer, owed) in &d.on_account {
            let c = d
                .pos
                .inspect_store(|s| s.customer(*customer))
                .expect("read")
                .expect("customer");
            assert_eq!(
                c.balance,
                owed.checked_neg().expect("neg"),
                "balance = − what was bought on account"
            );
        }
        let report = d
            .pos
            .close_register(vec![], Some(manager()))
            .expect("close");
        let cash = report
            .lines
            .iter()
            .find(|l| l.kind == PaymentKind::Cash)
            .expect("cash line");
        assert_eq!(
            cash.expected,
            Money::from_centavos(10_000)
                .checked_add(d.cash)
                .expect("sum")
        );
        assert_eq!(d.pos.status().sefaz, SefazMode::Normal);
    }
    assert_eq!(a.pos.notes_to_correct().expect("list").len(), 1);
    assert_eq!(
        sim.stats().notes_authorized,
        authorized,
        "SEFAZ authorized each note exactly once"
    );
    assert_eq!(authorized, (a.sales.len() + b.sales.len() - 1) as u64);
}
