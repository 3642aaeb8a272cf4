//! The seed's test, end to end: "disconnect the internet on purpose, make sales, reconnect,
//! check that it synced and that the NFC-e were transmitted".
//!
//! The store's real server (embedded SQLite) and the SEFAZ simulator run on loopback behind the
//! store's link, which the test cuts and restores. The owner sets the store up through the back
//! office; two registers in two branches enroll with one-time codes and load catalog, customers
//! and people from the server. 300 sales in all — cash, customer account and credit card (online,
//! and store-and-forward while offline, forwarded when the link returns) — with the link cut
//! in the middle of a sale (contingency entered with a manager's PIN) and again in the middle of
//! the transmission; SEFAZ rejects one note and loses the answer to another lote; one register's
//! process is killed (SIGKILL) in the middle of its drain and reopened from the same file.
//!
//! At the end: every sale on the server exactly once (count, totals, per-device numbering, folios
//! written back), every note authorized exactly once (the rejected one after a manager corrected
//! it and it was resent with the same number), the server knowing each note's state, stock and customer balances identical on devices and server, the
//! oversold report naming the product both branches sold beyond their last unit, every device's
//! audit chain intact.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tenda_devices::card::OfflineLimits;
use tenda_domain::{
    Actor, CardKind, CustomerId, FiscalData, FiscalStatus, Money, ProductId, Quantity, SaleId,
    StockDelta, Unit, stock::StockReason,
};
use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_pos::credentials::Secret;
use tenda_pos::register::PaymentKind;
use tenda_pos::status::{LinkState, SefazMode};
use tenda_pos::{Approval, PaymentRequest, Pos, PosError, PosResult, SaleOutcome};
use tenda_pos::{ConsumerCorrection, LineFiscalCorrection, NoteCorrection};
use tenda_scenarios::backoffice::{BackOffice, OWNER_PASSWORD, StoreServer, catalog_csv};
use tenda_scenarios::device::{self, SefazAccess, approval};
use tenda_scenarios::link::Link;
use tenda_scenarios::sample;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};
use tenda_store::DbKey;
use uuid::Uuid;

const CATALOG: usize = 200;
/// The product each branch holds one unit of.
const LAST_UNIT: usize = 5;
const FLOAT: Money = Money::from_centavos(10_000);

fn manager() -> Approval {
    approval("caio", "2468")
}

fn owner() -> Approval {
    Approval {
        login: "dona".into(),
        secret: Secret::Password(OWNER_PASSWORD.into()),
    }
}

fn code_of(i: usize) -> String {
    let p = sample::product(i);
    p.gtin
        .as_ref()
        .map_or(p.sku.clone(), |g| g.as_str().to_owned())
}

struct Device {
    name: &'static str,
    pos: Pos,
    access: (tenda_pos::OpenConfig, tenda_pos::Platform),
    path: PathBuf,
    key: DbKey,
    branch: Uuid,
    series: u16,
    device_id: Uuid,
    sales: Vec<SaleId>,
    total: Money,
    cash: Money,
    card: Money,
    /// Card payments taken offline (store-and-forward), to be forwarded when the link returns.
    offline_cards: u32,
    on_account: BTreeMap<CustomerId, Money>,
    /// Thousandths sold per product, to compute the expected stock.
    sold: BTreeMap<ProductId, i64>,
}

/// Kills the drain process if the test fails before it does.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn enroll_device(
    name: &'static str,
    dir: &std::path::Path,
    bo: &BackOffice,
    server_url: &str,
    branch: Uuid,
    series: u16,
    sefaz: &SefazAccess,
) -> Device {
    let code = bo
        .enrollment_code(branch, u32::from(series))
        .await
        .expect("code");
    let path = dir.join(format!("{name}.db"));
    let key = DbKey::generate();
    let access = device::access(&path, &key, Some(sefaz));
    let pos = device::enroll(&access, server_url, &code, name, None)
        .await
        .expect("enrolled");
    let status = pos.status();
    assert!(
        status.initial_load_complete,
        "enroll returns after the first load"
    );
    assert_eq!(
        pos.config().emitter.series,
        series,
        "the series came with the code"
    );
    assert_eq!(
        pos.inspect_store(|s| s.product_count()).expect("count"),
        CATALOG as u64,
        "the whole catalog arrived"
    );
    device::install_certificate(&pos, &owner())
        .expect("the owner's password arrived with the users");
    device::attach_printer(&pos);
    device::attach_card_reader(&pos).expect("card reader");
    // Stock arrives at the branch: plenty of everything, but a single unit of one product.
    let manager_id = pos
        .inspect_store(|s| s.user_by_login("caio"))
        .expect("read")
        .expect("the manager arrived with the first load")
        .id;
    pos.inspect_store(|s| -> tenda_store::Result<()> {
        for i in 0..CATALOG {
            let product = s
                .product_by_sku(&sample::product(i).sku)?
                .expect("pulled product");
            let units = if i == LAST_UNIT { 1 } else { 10_000 };
            s.adjust_stock(
                &StockDelta {
                    product_id: product.id,
                    delta: Quantity::from_thousandths(units * 1000),
                    reason: StockReason::Receiving,
                },
                Actor::User(manager_id),
                chrono::Utc::now(),
            )?;
        }
        Ok(())
    })
    .expect("stock received");
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("the seller signs in offline with the PIN hash from the server");
    pos.open_register(FLOAT, Some(manager())).expect("open");
    let device_id = pos
        .enrollment()
        .expect("read")
        .expect("enrolled")
        .device_id
        .as_uuid();
    Device {
        name,
        pos,
        access,
        path,
        key,
        branch,
        series,
        device_id,
        sales: vec![],
        total: Money::ZERO,
        cash: Money::ZERO,
        card: Money::ZERO,
        offline_cards: 0,
        on_account: BTreeMap::new(),
        sold: BTreeMap::new(),
    }
}

/// Sale `i` rung up: two or three everyday products (weighed ones at 350 g); every fourth on a
/// customer's account, every eighth by credit card, the rest cash. With `last_unit`, a single unit of the scarce product.
fn ring_up(d: &Device, i: usize, customers: &[CustomerId], last_unit: bool) -> PaymentRequest {
    let items: Vec<usize> = if last_unit {
        vec![LAST_UNIT]
    } else {
        (0..(2 + i % 2))
            .map(|k| 20 + (i * 7 + k * 13) % (CATALOG - 20))
            .collect()
    };
    for idx in items {
        let p = sample::product(idx);
        let qty = (p.unit == Unit::Kilogram).then(|| Quantity::from_thousandths(350));
        d.pos.scan(code_of(idx), qty).expect("scan");
    }
    let total = d.pos.ticket().expect("ticket").total;
    if i % 4 == 3 && !last_unit {
        let c = customers[i % customers.len()];
        d.pos.set_customer(Some(c)).expect("customer");
        PaymentRequest::CustomerAccount { amount: total }
    } else if i % 8 == 1 && !last_unit {
        PaymentRequest::Card {
            amount: total,
            kind: CardKind::Credit,
        }
    } else {
        PaymentRequest::Cash {
            amount: total,
            tendered: Money::from_centavos(total.centavos() + 50),
        }
    }
}

/// Checks out the rung-up ticket and keeps the books the final checks compare with.
async fn pay(d: &mut Device, payment: PaymentRequest) -> PosResult<SaleOutcome> {
    let customer = d.pos.ticket()?.customer_id;
    let offline_card =
        matches!(payment, PaymentRequest::Card { .. }) && d.pos.link() == LinkState::Offline;
    if offline_card {
        // The seller is shown the store's risk and accepts it for this ticket.
        let risk = d.pos.card_offline_risk(d.pos.ticket()?.total)?;
        assert!(
            risk.allowed,
            "{}: within the offline limits: {risk:?}",
            d.name
        );
        d.pos.accept_card_offline_risk()?;
    }
    let out = d.pos.checkout(vec![payment.clone()]).await?;
    let stored = d
        .pos
        .inspect_store(|s| s.sale(out.sale_id))
        .expect("read")
        .expect("the sale is stored");
    for line in &stored.sale.lines {
        *d.sold.entry(line.product_id).or_default() += line.quantity.thousandths();
    }
    match payment {
        PaymentRequest::CustomerAccount { amount } => {
            let c: CustomerId = customer.expect("customer").parse().expect("id");
            let owed = d.on_account.entry(c).or_insert(Money::ZERO);
            *owed = owed.checked_add(amount).expect("sum");
        }
        PaymentRequest::Cash { amount, .. } => {
            d.cash = d.cash.checked_add(amount).expect("sum");
        }
        PaymentRequest::Card { amount, .. } => {
            d.card = d.card.checked_add(amount).expect("sum");
            d.offline_cards += u32::from(offline_card);
        }
        other => panic!("unexpected payment {other:?}"),
    }
    d.total = d.total.checked_add(out.total).expect("sum");
    d.sales.push(out.sale_id);
    Ok(out)
}

async fn sell(d: &mut Device, i: usize, customers: &[CustomerId], last_unit: bool) -> SaleOutcome {
    let payment = ring_up(d, i, customers, last_unit);
    pay(d, payment)
        .await
        .unwrap_or_else(|e| panic!("{} sale {i}: {e:?} ({:?})", d.name, d.pos.status()))
}

/// Forwards the card payments taken offline: each is approved, none is left waiting.
async fn forward_cards(d: &Device) {
    // Forwarding needs the link: the sync engine tells when it is back.
    d.pos.sync_and_wait(30_000).await.expect("synced");
    assert_eq!(d.pos.link(), LinkState::Online);
    assert!(
        d.offline_cards > 0,
        "{}: some cards were taken offline",
        d.name
    );
    // The engine restoring the link already started forwarding in the background; an explicit
    // run waits for it and forwards whatever is left.
    let summary = d
        .pos
        .forward_pending_card_payments()
        .await
        .expect("forward");
    assert_eq!(
        (summary.declined, summary.still_pending),
        (0, 0),
        "{}",
        d.name
    );
    assert!(d.pos.pending_card_payments().expect("pending").is_empty());
    // Every capture survived (a crash, for the main branch) and was approved exactly once,
    // audited and reported to the server.
    let approved = d
        .pos
        .audit_entries(0, u32::MAX)
        .expect("audit")
        .iter()
        .filter(|e| e.action == "card.forward_approved")
        .count();
    assert_eq!(approved, d.offline_cards as usize, "{}", d.name);
    let reported = d
        .pos
        .inspect_store(|s| s.outbox_after(0, u32::MAX))
        .expect("outbox")
        .iter()
        .filter(|e| e.mutation.kind() == "card_payment_forwarded")
        .count();
    assert_eq!(reported, d.offline_cards as usize, "{}", d.name);
    assert!(d.pos.card_payments_to_recover().expect("list").is_empty());
}

async fn drain_notes(d: &Device) {
    for round in 0..10 {
        let s = d.pos.transmit_backlog(true).await.expect("transmission");
        if s.remaining == 0 {
            return;
        }
        assert!(round < 9, "{}: backlog not drained", d.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_branches_sync_through_outages_and_a_killed_register() {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = StoreServer::start(dir.path(), "Mercado Central")
        .await
        .expect("server");
    let sim = Simulator::start(SimulatorConfig {
        max_requests_per_second: 10_000,
        hang_for: Duration::from_secs(3),
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator");
    // The store's internet: both the server and SEFAZ are reached through it.
    let server_link = Link::start(server.addr()).await.expect("link");
    let sefaz_link = Link::start(sim.address()).await.expect("link");
    let cut = || {
        server_link.cut();
        sefaz_link.cut();
    };
    let restore = || {
        server_link.restore();
        sefaz_link.restore();
    };
    let server_url = format!("http://{}", server_link.addr());
    let sefaz = SefazAccess {
        base_url: format!("https://127.0.0.1:{}", sefaz_link.addr().port()),
        ca_der: sim.ca_certificate_der().to_vec(),
    };

    // The owner sets the store up in the back office.
    let card_limits = serde_json::to_string(&OfflineLimits {
        per_payment: Money::from_centavos(30_000),
        total_pending: Money::from_centavos(300_000),
        max_pending: 40,
        max_age: Duration::from_secs(24 * 3600),
    })
    .expect("json");
    let bo = server.owner().await.expect("owner");
    bo.configure_store(
        &sample_emitter(Crt::SimplesNacional),
        &[
            ("policy.sefaz_timeout_ms", "2500"),
            ("sync.backoff_min_ms", "50"),
            ("sync.backoff_max_ms", "300"),
            ("sync.poll_interval_ms", "500"),
            // Small pushes, so a drain takes many round trips and can be interrupted.
            ("sync.push_batch", "10"),
            ("policy.card_offline_limits", &card_limits),
        ],
    )
    .await
    .expect("settings");
    bo.create_user("Caio", "caio", "manager", "2468")
        .await
        .expect("manager");
    bo.create_user("Bia", "bia", "seller", "1357")
        .await
        .expect("seller");
    let mut customers = Vec::new();
    for i in 0..3 {
        let c = sample::customer(i);
        let tax = c.tax_id.as_ref().map(|t| t.as_str().to_owned());
        let id = bo
            .create_customer(&c.name, tax.as_deref(), Money::from_centavos(5_000_000))
            .await
            .expect("customer");
        customers.push(CustomerId::from_uuid(id));
    }
    assert_eq!(
        bo.import_catalog(catalog_csv(sample::catalog(CATALOG)))
            .await
            .expect("import"),
        CATALOG as u64
    );
    let matriz = server.created.branch_id;
    let filial = bo.create_branch("Filial Centro").await.expect("branch");

    let mut a = enroll_device(
        "caixa-matriz",
        dir.path(),
        &bo,
        &server_url,
        matriz,
        1,
        &sefaz,
    )
    .await;
    let mut b = enroll_device(
        "caixa-filial",
        dir.path(),
        &bo,
        &server_url,
        filial,
        2,
        &sefaz,
    )
    .await;
    for d in [&a, &b] {
        assert_eq!(
            d.pos.link(),
            LinkState::Online,
            "the link state comes from sync"
        );
    }

    // Morning, online: every note authorized before its receipt, every sale pushed at once.
    for i in 0..40 {
        for d in [&mut a, &mut b] {
            let out = sell(d, i, &customers, false).await;
            assert_eq!(out.note.expect("note").status, FiscalStatus::Authorized);
        }
    }

    // The link drops in the middle of a sale. A register that tries SEFAZ keeps the note
    // pending (it may have reached SEFAZ); one whose sync engine already noticed the drop asks
    // for contingency first. Either way the manager authorizes contingency and the sale stands.
    let rung: Vec<PaymentRequest> = [&a, &b]
        .iter()
        .map(|d| ring_up(d, 99, &customers, false))
        .collect();
    cut();
    for (d, payment) in [&mut a, &mut b].into_iter().zip(rung) {
        let pending = match pay(d, payment.clone()).await {
            Ok(out) => {
                assert_eq!(out.note.expect("note").status, FiscalStatus::Pending);
                true
            }
            Err(PosError::ContingencyRequired) => false,
            Err(e) => panic!("{}: {e:?}", d.name),
        };
        assert_eq!(d.pos.status().sefaz, SefazMode::ContingencyRequired);
        d.pos
            .enter_contingency("Queda do link de internet da loja".into(), Some(manager()))
            .expect("manager");
        if !pending {
            let out = pay(d, payment).await.expect("sale in contingency");
            assert!(out.note.expect("note").contingency);
        }
        let pos = d.pos.clone();
        wait_until(
            "the engine to notice the link is down",
            Duration::from_secs(5),
            || pos.link() == LinkState::Offline,
        )
        .await;
    }

    // Offline afternoon: cash and accounts, and each branch sells its last unit of the scarce
    // product twice over (the store sells without a stock check: the shelf is the truth).
    for i in 100..178 {
        for d in [&mut a, &mut b] {
            let out = sell(d, i, &customers, false).await;
            assert!(out.note.expect("note").contingency);
        }
        if i == 120 || i == 150 {
            for d in [&mut a, &mut b] {
                sell(d, i, &customers, true).await;
            }
        }
    }
    for d in [&a, &b] {
        assert!(
            d.pos.status().pending_sync > 0,
            "{}: sales wait in the outbox",
            d.name
        );
    }
    // SEFAZ will reject one of the main branch's contingency notes (a wrong NCM, say), and the
    // answer to the first lote it commits will be lost on the way back.
    let rejected_sale = a.sales[60];
    let rejected_key = a
        .pos
        .inspect_store(|s| s.fiscal_document(rejected_sale))
        .expect("read")
        .expect("doc")
        .access_key;
    sim.update_faults(|f| {
        f.reject.insert(rejected_key.clone(), 778);
        f.timeout_after_commit = 1;
    });

    // The main branch's register goes down with the link (its process will drain later).
    let a_sales_before_kill = a.sales.len();
    let a_outbox = a
        .pos
        .inspect_store(|s| s.outbox_last_seq())
        .expect("outbox");
    // Its sync engine stops with it; the file is left as the power cut left it.
    a.pos.shutdown().await.expect("shutdown");

    // The link is back; the branch register transmits and the link drops again in the middle.
    restore();
    let transmitting = {
        let pos = b.pos.clone();
        tokio::spawn(async move { pos.transmit_backlog(false).await })
    };
    tokio::time::sleep(Duration::from_millis(40)).await;
    cut();
    let _ = transmitting.await.expect("task");
    tokio::time::sleep(Duration::from_millis(300)).await;
    restore();
    drain_notes(&b).await;
    forward_cards(&b).await;
    b.pos.sync_and_wait(30_000).await.expect("branch synced");

    // The main register's process drains and is killed in the middle of it.
    let ca_path = dir.path().join("sefaz-ca.der");
    std::fs::write(&ca_path, sim.ca_certificate_der()).expect("ca");
    let key_hex = a.key.to_hex();
    let mut child = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_tenda-device-drain"))
            .arg(&a.path)
            .arg(&key_hex)
            .arg(&sefaz.base_url)
            .arg(&ca_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("drain process"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut first_pending = None;
    loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the drain process reports its progress");
        assert_ne!(
            line, "drained",
            "the process must be killed before it finishes"
        );
        if let Some(n) = line.strip_prefix("pending_sync ") {
            let n: u64 = n.parse().expect("count");
            match first_pending {
                None => first_pending = Some(n),
                // Some pushes went through, others did not: kill it now.
                Some(first) if n < first && n > 0 => break,
                Some(_) => {}
            }
        }
    }
    child.0.kill().expect("SIGKILL");
    child.0.wait().expect("reaped");
    let server_seq = bo
        .devices()
        .await
        .expect("devices")
        .iter()
        .find(|v| v["id"] == a.device_id.to_string())
        .and_then(|v| v["last_seq"].as_u64())
        .expect("device listed");
    assert!(
        server_seq > 0 && server_seq < a_outbox,
        "killed mid-drain: the server has {server_seq} of {a_outbox} changes"
    );

    // Reopened from the same file: sync resumes by itself, the backlog finishes.
    a.pos = device::reopen(&a.access).expect("reopen");
    assert!(
        a.pos.is_syncing(),
        "an enrolled device resumes syncing when opened"
    );
    device::attach_printer(&a.pos);
    device::attach_card_reader(&a.pos).expect("card reader");
    a.pos
        .sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("sign in");
    assert!(
        a.pos.register_session().expect("reads").is_some(),
        "the register stays open across the crash"
    );
    drain_notes(&a).await;
    forward_cards(&a).await;
    // The rejected note waits for a manager, who corrects the product's NCM: the note is
    // re-signed with the same number and key and goes out again.
    let to_correct = a.pos.notes_to_correct().expect("list");
    assert_eq!(to_correct.len(), 1, "{to_correct:?}");
    assert_eq!(to_correct[0].access_key, rejected_key);
    assert_eq!(to_correct[0].code.as_deref(), Some("778"));
    let line_fiscal = a
        .pos
        .inspect_store(|s| s.sale(rejected_sale))
        .expect("read")
        .expect("sale")
        .sale
        .lines[0]
        .fiscal
        .clone();
    sim.update_faults(|f| {
        f.reject.remove(&rejected_key);
    });
    let corrected = a
        .pos
        .correct_note(
            rejected_sale,
            NoteCorrection {
                lines: vec![LineFiscalCorrection {
                    line: 0,
                    fiscal: FiscalData {
                        ncm: "19059090".into(),
                        ..line_fiscal
                    },
                }],
                consumer: ConsumerCorrection::Keep,
            },
            Some(manager()),
        )
        .expect("corrected");
    assert_eq!(corrected.access_key, rejected_key, "same number, same key");
    drain_notes(&a).await;
    assert!(a.pos.notes_to_correct().expect("list").is_empty());
    a.pos.sync_and_wait(30_000).await.expect("main synced");
    assert_eq!(a.sales.len(), a_sales_before_kill);

    // Evening, online again.
    for i in 200..229 {
        for d in [&mut a, &mut b] {
            let out = sell(d, i, &customers, false).await;
            assert_eq!(out.note.expect("note").status, FiscalStatus::Authorized);
        }
    }
    // Two rounds each, so each register also holds what the other pushed.
    for _ in 0..2 {
        for d in [&a, &b] {
            d.pos.sync_and_wait(30_000).await.expect("synced");
        }
    }
    assert_eq!(a.sales.len() + b.sales.len(), 300);

    // Every sale on the server exactly once, with its device's numbering, totals and folio.
    let on_server = bo.sales().await.expect("sales");
    assert_eq!(on_server.len(), 300, "every sale reached the server once");
    let folios: BTreeSet<i64> = on_server
        .iter()
        .filter_map(|s| s["folio"].as_i64())
        .collect();
    assert_eq!(
        folios,
        (1..=300).collect(),
        "folios are contiguous and unique"
    );
    for d in [&a, &b] {
        let mine: Vec<&serde_json::Value> = on_server
            .iter()
            .filter(|s| s["device_id"] == d.device_id.to_string())
            .collect();
        assert_eq!(mine.len(), d.sales.len(), "{}", d.name);
        let ids: BTreeSet<String> = mine
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_owned())
            .collect();
        let local: BTreeSet<String> = d.sales.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            ids, local,
            "{}: the same sales, by their client ids",
            d.name
        );
        let mut numbers: Vec<u64> = mine
            .iter()
            .map(|s| {
                s["local_number"]
                    .as_str()
                    .expect("number")
                    .parse()
                    .expect("n")
            })
            .collect();
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            (1..=d.sales.len() as u64).collect::<Vec<_>>(),
            "{}",
            d.name
        );
        let seqs: BTreeSet<i64> = mine
            .iter()
            .map(|s| s["device_seq"].as_i64().expect("seq"))
            .collect();
        assert_eq!(
            seqs.len(),
            mine.len(),
            "{}: one outbox entry per sale",
            d.name
        );
        let total: i64 = mine
            .iter()
            .map(|s| s["total_cents"].as_i64().expect("total"))
            .sum();
        assert_eq!(total, d.total.centavos(), "{}: totals", d.name);
        assert!(
            mine.iter().all(|s| s["branch_id"] == d.branch.to_string()),
            "{}: sales land in the device's branch",
            d.name
        );
        for s in &mine {
            let id: SaleId = s["id"].as_str().expect("id").parse().expect("sale id");
            let stored = d
                .pos
                .inspect_store(|st| st.sale(id))
                .expect("read")
                .expect("sale");
            assert_eq!(
                stored.folio,
                s["folio"].as_u64(),
                "{}: the device keeps the server's folio",
                d.name
            );
        }
    }

    // Every change each register made is on the server, applied once and in order.
    let devices = bo.devices().await.expect("devices");
    for d in [&a, &b] {
        let last = d
            .pos
            .inspect_store(|s| s.outbox_last_seq())
            .expect("outbox");
        let on_server = devices
            .iter()
            .find(|v| v["id"] == d.device_id.to_string())
            .and_then(|v| v["last_seq"].as_u64())
            .expect("device listed");
        assert_eq!(
            on_server, last,
            "{}: the server applied through its last change",
            d.name
        );
        assert_eq!(d.pos.status().pending_sync, 0, "{}", d.name);
    }

    // Every note authorized exactly once; the rejected one waits for its correction, and the
    // server knows each note's state.
    let mut authorized = 0u64;
    for d in [&a, &b] {
        let mut numbers = vec![];
        for id in &d.sales {
            let doc = d
                .pos
                .inspect_store(|s| s.fiscal_document(*id))
                .expect("read")
                .expect("every sale has a note");
            assert_eq!(doc.series.series, d.series);
            numbers.push(doc.number);
            let server_status = on_server
                .iter()
                .find(|s| s["id"] == id.to_string())
                .and_then(|s| s["fiscal_status"].as_str())
                .expect("on the server")
                .to_owned();
            assert_eq!(
                doc.status,
                FiscalStatus::Authorized,
                "{} note {}",
                d.name,
                doc.number
            );
            assert_eq!(
                server_status, "authorized",
                "{} note {}",
                d.name, doc.number
            );
            let at_sefaz = sim.note(&doc.access_key).expect("SEFAZ holds the note");
            assert_eq!(Some(at_sefaz.protocol_number), doc.protocol);
            authorized += 1;
        }
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            (1..=d.sales.len() as u32).collect::<Vec<_>>(),
            "{}: no number skipped or repeated",
            d.name
        );
    }
    assert_eq!(
        sim.stats().notes_authorized,
        authorized,
        "SEFAZ authorized each note exactly once"
    );
    assert_eq!(authorized, 300, "the corrected note included");

    // Stock: the same on the devices and on the server, and what the sales say it must be.
    for d in [&a, &b] {
        let levels: BTreeMap<Uuid, i64> = server
            .stock_levels(d.branch)
            .await
            .expect("levels")
            .into_iter()
            .collect();
        assert_eq!(
            levels.len(),
            CATALOG,
            "{}: every product has a level",
            d.name
        );
        for i in 0..CATALOG {
            let product = d
                .pos
                .inspect_store(|s| s.product_by_sku(&sample::product(i).sku))
                .expect("read")
                .expect("product");
            let received = if i == LAST_UNIT { 1_000 } else { 10_000_000 };
            let expected = received - d.sold.get(&product.id).copied().unwrap_or(0);
            let on_device = d
                .pos
                .inspect_store(|s| s.stock_level(product.id))
                .expect("level")
                .thousandths();
            assert_eq!(
                on_device, expected,
                "{}: {} on the device",
                d.name, product.name
            );
            assert_eq!(
                levels.get(&product.id.as_uuid()).copied(),
                Some(expected),
                "{}: {} on the server",
                d.name,
                product.name
            );
        }
    }
    // The oversold report: the scarce product at −1 in both branches, flagged with the sale
    // that took it below zero.
    let oversold = bo.oversold().await.expect("report");
    assert_eq!(oversold.len(), 2, "{oversold:?}");
    for d in [&a, &b] {
        let scarce = d
            .pos
            .inspect_store(|s| s.product_by_sku(&sample::product(LAST_UNIT).sku))
            .expect("read")
            .expect("product");
        let item = oversold
            .iter()
            .find(|o| o["branch_id"] == d.branch.to_string())
            .expect("the branch is in the report");
        assert_eq!(item["product_id"], scarce.id.to_string());
        assert_eq!(item["quantity"], -1_000);
        let flagged = item["sales"].as_array().expect("sales");
        assert_eq!(flagged.len(), 1, "the one sale that went below zero");
        assert_eq!(flagged[0]["device_id"], d.device_id.to_string());
        assert_eq!(flagged[0]["amount_after"], -1_000);
        // The register's own report (the owner's) says the same for its branch.
        let local = d.pos.oversold_report(Some(owner())).expect("report");
        assert_eq!(local.len(), 1, "{}: {local:?}", d.name);
        assert_eq!(local[0].product_id, scarce.id);
        assert_eq!(local[0].stock.thousandths(), -1_000);
        assert_eq!(
            local[0].sales.len(),
            2,
            "{}: both sales of the scarce product",
            d.name
        );
    }

    // Customer balances: charged from both branches, the same everywhere.
    let server_customers = bo.customers().await.expect("customers");
    for c in &customers {
        let owed = [&a, &b]
            .iter()
            .filter_map(|d| d.on_account.get(c))
            .try_fold(Money::ZERO, |acc, m| acc.checked_add(*m))
            .expect("sum");
        assert!(owed > Money::ZERO, "both branches sold on account");
        let on_server = server_customers
            .iter()
            .find(|v| v["id"] == c.to_string())
            .and_then(|v| v["balance_cents"].as_i64())
            .expect("customer on the server");
        assert_eq!(
            on_server,
            -owed.centavos(),
            "server balance = − what was bought"
        );
        for d in [&a, &b] {
            let local = d
                .pos
                .inspect_store(|s| s.customer(*c))
                .expect("read")
                .expect("customer");
            assert_eq!(
                local.balance.centavos(),
                on_server,
                "{} knows the balance",
                d.name
            );
        }
    }

    // Cash reconciles per register, and every audit chain verifies.
    for d in [&a, &b] {
        assert!(d.pos.verify_audit().expect("verify").intact, "{}", d.name);
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
            FLOAT.checked_add(d.cash).expect("sum"),
            "{}",
            d.name
        );
        let card = report
            .lines
            .iter()
            .find(|l| l.kind == PaymentKind::Card)
            .expect("card line");
        assert_eq!(card.expected, d.card, "{}", d.name);
        assert_eq!(d.pos.status().sefaz, SefazMode::Normal);
        d.pos.shutdown().await.expect("shutdown");
    }
    eprintln!("store day: {:.1} s", started.elapsed().as_secs_f64());
}
