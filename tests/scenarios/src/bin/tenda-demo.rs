//! A headless walk through a day at the counter: the store's server (embedded SQLite) and the
//! SEFAZ simulator on loopback, both behind the store's (cuttable) internet link; the owner sets
//! up the store in the back office (settings, people, a sample catalog); a register enrolls with
//! a one-time code and loads everything with progress; online sales are authorized and reach the
//! server at once; the link drops, a manager enters contingency with their PIN, sales continue
//! offline; the link comes back, the backlog is transmitted and authorized and every sale
//! reaches the server exactly once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tenda_domain::{CardKind, FiscalStatus, Money};
use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_pos::credentials::Secret;
use tenda_pos::status::{LinkState, PosStatus, StatusListener};
use tenda_pos::{Approval, PaymentRequest, Pos, PosError};
use tenda_scenarios::backoffice::{StoreServer, catalog_csv};
use tenda_scenarios::device::{self, SefazAccess, approval};
use tenda_scenarios::link::Link;
use tenda_scenarios::sample;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};
use tenda_store::DbKey;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const CATALOG: usize = 5_000;

fn step(text: &str) {
    println!("\n== {text}");
}

/// Prints the first load's progress at every quarter.
#[derive(Default)]
struct ProgressPrinter {
    last_quarter: Mutex<Option<u64>>,
}

impl StatusListener for ProgressPrinter {
    fn on_status(&self, status: PosStatus) {
        if status.initial_load_complete {
            return;
        }
        let Some(p) = status.pull else { return };
        let Some(total) = p.total.filter(|t| *t > 0) else {
            return;
        };
        let quarter = p.received * 4 / total;
        let mut last = self.last_quarter.lock().unwrap_or_else(|e| e.into_inner());
        if *last != Some(quarter) {
            *last = Some(quarter);
            println!(
                "  … first load {:>3}%: {} of {} records",
                p.received * 100 / total,
                p.received,
                total
            );
        }
    }
}

async fn sell(pos: &Pos, codes: &[&str], label: &str) -> Result<()> {
    for code in codes {
        pos.scan((*code).to_owned(), None)?;
    }
    let total = pos.ticket()?.total;
    let tendered = Money::from_centavos((total.centavos() / 1000 + 1) * 1000);
    let out = pos
        .checkout(vec![PaymentRequest::Cash {
            amount: total,
            tendered,
        }])
        .await?;
    let note = out.note.ok_or("sale without a note")?;
    println!(
        "  {label}: sale #{} total R$ {} change R$ {} | NFC-e {} ({}) key …{} | receipt {}",
        out.local_number,
        out.total,
        out.change,
        note.number,
        if note.contingency {
            "contingency, tpEmis 9"
        } else {
            note.status.code()
        },
        &note.access_key[36..],
        if out.printed {
            "printed".to_owned()
        } else {
            format!("NOT printed: {}", out.print_error.unwrap_or_default())
        }
    );
    Ok(())
}

async fn wait_until(done: impl Fn() -> bool, timeout_ms: u64) {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn show_status(pos: &Pos) {
    let s = pos.status();
    println!(
        "  status: link {:?}, SEFAZ {:?}, {} changes waiting for the server, {} notes pending{}",
        s.link,
        s.sefaz,
        s.pending_sync,
        s.pending_notes,
        s.nearest_deadline
            .map(|d| format!(" (nearest deadline {})", d.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;

    step("The store's server (embedded SQLite) and the SEFAZ simulator, on loopback");
    let server = StoreServer::start(dir.path(), "Mercadinho Tenda").await?;
    let sim = Simulator::start(SimulatorConfig::default()).await?;
    // The store's internet: the register reaches both through it, and it can drop.
    let server_link = Link::start(server.addr()).await?;
    let sefaz_link = Link::start(sim.address()).await?;
    println!(
        "  server {} ({} database), SEFAZ simulator {}; the register goes through the store's link",
        server.base_url(),
        server.server.db.backend_name(),
        sim.base_url()
    );

    step("The owner sets up the store in the back office");
    let owner = server.owner().await?;
    owner
        .configure_store(
            &sample_emitter(Crt::SimplesNacional),
            &[
                ("policy.sefaz_timeout_ms", "2000"),
                // Quick retries so the demo notices the link coming back within a second.
                ("sync.backoff_min_ms", "100"),
                ("sync.backoff_max_ms", "500"),
                ("sync.poll_interval_ms", "1000"),
            ],
        )
        .await?;
    owner
        .create_user("Caio (gerente)", "caio", "manager", "2468")
        .await?;
    owner
        .create_user("Bia (caixa)", "bia", "seller", "1357")
        .await?;
    for i in 0..3 {
        let c = sample::customer(i);
        let tax = c.tax_id.as_ref().map(|t| t.as_str().to_owned());
        owner
            .create_customer(&c.name, tax.as_deref(), c.overdraft_limit)
            .await?;
    }
    let t = Instant::now();
    let imported = owner
        .import_catalog(catalog_csv(sample::catalog(CATALOG)))
        .await?;
    println!(
        "  emitter MERCADINHO TENDA LTDA (homologation); users dona (owner), caio (manager), bia \
         (seller); 3 customers; catalog import: {imported} products in {} ms",
        t.elapsed().as_millis()
    );
    let code = owner.enrollment_code(server.created.branch_id, 1).await?;
    println!("  enrollment code for branch Matriz, NFC-e series 1: {code}");

    step("The register enrolls with the code and loads the store (first pull)");
    let server_url = format!("http://{}", server_link.addr());
    let t = Instant::now();
    // SEFAZ is the simulator behind the store's link; the register builds its client itself.
    let sefaz = SefazAccess {
        base_url: format!("https://127.0.0.1:{}", sefaz_link.addr().port()),
        ca_der: sim.ca_certificate_der().to_vec(),
    };
    let access = device::access(
        &dir.path().join("caixa-1.db"),
        &DbKey::generate(),
        Some(&sefaz),
    );
    let pos = device::enroll(
        &access,
        &server_url,
        &code,
        "Caixa 1",
        Some(Arc::new(ProgressPrinter::default())),
    )
    .await?;
    let enrollment = pos.enrollment()?.ok_or("not enrolled")?;
    println!(
        "  enrolled as device {} in {} / {}, series {}; first load complete: {} ({} ms); \
         {} products on the device",
        enrollment.device_id,
        enrollment.store_name,
        enrollment.branch_name,
        enrollment.nfce_series,
        pos.status().initial_load_complete,
        t.elapsed().as_millis(),
        pos.inspect_store(|s| s.product_count())?
    );
    let dona = Approval {
        login: "dona".into(),
        secret: Secret::Password(tenda_scenarios::backoffice::OWNER_PASSWORD.into()),
    };
    device::install_certificate(&pos, &dona)?;
    let printer = device::attach_printer(&pos);
    device::attach_card_reader(&pos)?;
    println!(
        "  the owner installed the A1 certificate (with her password, synced from the server)"
    );

    step("Online: notes authorized before the receipt prints, sales pushed to the server");
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))?;
    let manager = approval("caio", "2468");
    pos.open_register(Money::from_centavos(15_000), Some(manager.clone()))?;
    let (p1, p2, p3) = (sample::product(0), sample::product(2), sample::product(11));
    let codes: Vec<String> = [&p1, &p2, &p3]
        .iter()
        .map(|p| {
            p.gtin
                .as_ref()
                .map_or(p.sku.clone(), |g| g.as_str().to_owned())
        })
        .collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    sell(&pos, &codes[..2], "online sale 1").await?;
    sell(&pos, &codes[1..], "online sale 2").await?;
    pos.sync_and_wait(10_000).await?;
    println!("  the server has {} sales", owner.sales().await?.len());
    show_status(&pos);

    step("The internet link drops");
    server_link.cut();
    sefaz_link.cut();
    // Whoever notices first: a sale trying SEFAZ keeps its note pending, or the sync engine
    // already saw the link down and the register asks for contingency before selling.
    let refused = match sell(&pos, &codes[..1], "sale while SEFAZ is unreachable").await {
        Ok(()) => false,
        Err(e)
            if matches!(
                e.downcast_ref::<PosError>(),
                Some(PosError::ContingencyRequired)
            ) =>
        {
            println!("  the register already knows the link is down: contingency first");
            true
        }
        Err(e) => return Err(e),
    };
    wait_until(|| pos.status().link == LinkState::Offline, 5_000).await;
    show_status(&pos);

    step("The manager types their PIN and a justification: contingency (tpEmis 9)");
    pos.enter_contingency(
        "Queda do link de internet da loja".into(),
        Some(manager.clone()),
    )?;
    if refused {
        // The ticket is still there: it goes through now, in contingency.
        let total = pos.ticket()?.total;
        let out = pos
            .checkout(vec![PaymentRequest::Cash {
                amount: total,
                tendered: total,
            }])
            .await?;
        println!(
            "  the waiting sale: sale #{} total R$ {} | NFC-e {} (contingency, tpEmis 9)",
            out.local_number,
            out.total,
            out.note.map_or(0, |n| n.number)
        );
    }
    for i in 0..4 {
        sell(&pos, &codes[i % 3..], &format!("offline sale {}", i + 1)).await?;
    }
    // A card, offline: the seller reads the store's risk, accepts it, and the payment is kept
    // sealed to be forwarded when the link returns.
    pos.scan(codes[2].to_owned(), None)?;
    let total = pos.ticket()?.total;
    let risk = pos.card_offline_risk(total)?;
    println!("  card offline — the seller is shown: \"{}\"", risk.notice);
    pos.accept_card_offline_risk()?;
    let out = pos
        .checkout(vec![PaymentRequest::Card {
            amount: total,
            kind: CardKind::Credit,
        }])
        .await?;
    println!(
        "  offline card sale: sale #{} total R$ {} | NFC-e {} (contingency) | {} card payment(s) \
         waiting to be forwarded",
        out.local_number,
        out.total,
        out.note.map_or(0, |n| n.number),
        pos.pending_card_payments()?.len()
    );
    show_status(&pos);
    println!(
        "  not available offline: {}",
        pos.status()
            .unavailable
            .iter()
            .map(|u| u.feature.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  meanwhile the server still has {} sales",
        owner.sales().await?.len()
    );

    step("The link is back: the backlog goes to SEFAZ, oldest first, and the sales to the server");
    server_link.restore();
    sefaz_link.restore();
    pos.sync_and_wait(15_000).await?;
    // The engine restoring the link started forwarding the captures in the background; this
    // waits for that run and forwards anything left. The audit trail counts both.
    let forwarded = pos.forward_pending_card_payments().await?;
    let audit = pos.audit_entries(0, u32::MAX)?;
    let count = |action: &str| audit.iter().filter(|e| e.action == action).count();
    println!(
        "  card payments forwarded: {} approved, {} declined, {} still waiting",
        count("card.forward_approved"),
        count("card.forward_declined"),
        forwarded.still_pending
    );
    let summary = pos.transmit_backlog(true).await?;
    println!(
        "  transmitted {} notes: {} authorized ({} late), {} rejected, {} still pending",
        summary.sent,
        summary.authorized,
        summary.authorized_late,
        summary.rejected,
        summary.remaining
    );
    sell(&pos, &codes[..2], "online again").await?;
    pos.sync_and_wait(15_000).await?;
    show_status(&pos);

    step("What SEFAZ holds");
    let mut all_authorized = true;
    for entry in pos
        .audit_entries(0, 100_000)?
        .iter()
        .filter(|e| e.action == "sale.record")
    {
        let sale_id: tenda_domain::SaleId = entry.subject.trim_start_matches("sale:").parse()?;
        let doc = pos
            .inspect_store(|s| s.fiscal_document(sale_id))?
            .ok_or("sale without a note")?;
        let at_sefaz = sim.note(&doc.access_key).is_some();
        all_authorized &= doc.status == FiscalStatus::Authorized && at_sefaz;
        println!(
            "  NFC-e {:>3} {:<11} tpEmis {} protocol {:<16} at SEFAZ: {}",
            doc.number,
            doc.status.code(),
            doc.emission.code(),
            doc.protocol.as_deref().unwrap_or("-"),
            if at_sefaz { "yes" } else { "no" }
        );
    }

    step("What reached the server");
    let sales = owner.sales().await?;
    let mut local_numbers: Vec<i64> = Vec::new();
    for s in &sales {
        println!(
            "  folio {:>3}  device sale #{:<3} R$ {:>7}  NFC-e {:<10} key …{}",
            s["folio"],
            s["local_number"].as_str().unwrap_or("-"),
            Money::from_centavos(s["total_cents"].as_i64().unwrap_or(0)),
            s["fiscal_status"].as_str().unwrap_or("-"),
            s["access_key"]
                .as_str()
                .map_or("-", |k| &k[k.len().saturating_sub(8)..])
        );
        if let Some(n) = s["local_number"].as_str().and_then(|n| n.parse().ok()) {
            local_numbers.push(n);
        }
    }
    local_numbers.sort_unstable();
    let device_sales = pos
        .audit_entries(0, 100_000)?
        .iter()
        .filter(|e| e.action == "sale.record")
        .count();
    let exactly_once = local_numbers == (1..=device_sales as i64).collect::<Vec<_>>();
    let authorized_on_server = sales
        .iter()
        .filter(|s| s["fiscal_status"] == "authorized")
        .count();
    println!(
        "  {} sales on the server for {} made on the register (each exactly once: {}); \
         {} marked authorized there",
        sales.len(),
        device_sales,
        if exactly_once { "yes" } else { "NO" },
        authorized_on_server
    );
    let audit = pos.verify_audit()?;
    if audit.intact {
        println!("  audit chain: intact, {} entries verified", audit.entries);
    } else {
        return Err(format!(
            "audit chain broken at entry {:?}: {}",
            audit.broken_at,
            audit.reason.unwrap_or_default()
        )
        .into());
    }
    println!(
        "  receipts printed: {}",
        printer.receipts().iter().filter(|r| r.cut).count()
    );
    let report = pos.close_register(vec![], Some(manager.clone()))?;
    println!(
        "  register closed: expected cash R$ {}",
        report.lines[0].expected
    );
    pos.shutdown().await?;
    if !all_authorized {
        return Err("some note was not authorized".into());
    }
    if !exactly_once || authorized_on_server != device_sales {
        return Err("the server does not hold every sale exactly once, authorized".into());
    }
    println!(
        "\nDemo finished in {:.1} s: every note transmitted and authorized, every sale on the \
         server exactly once.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
