//! A headless walk through a day at the counter: the SEFAZ simulator on loopback behind the
//! store's (cuttable) internet link, a device with its encrypted store, a sample catalog loaded
//! with progress, online sales authorized at once, the link dropping, a manager entering
//! contingency with their PIN, sales continuing offline, the link coming back and the backlog
//! transmitted and authorized.

use std::sync::Arc;
use std::time::Duration;

use tenda_devices::sim::SimulatedPrinter;
use tenda_devices::transport::{Pacing, WriteMode};
use tenda_devices::{EscPosPrinter, PrinterProfile, PrinterSettings};
use tenda_domain::{DeviceId, Money, Role, User, UserId};
use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_fiscal::sefaz::{
    ClientSettings, Endpoints, Environment, TransmissionPolicy, Transmitter, TrustRoots, Uf,
};
use tenda_pos::credentials::{Secret, hash_secret};
use tenda_pos::status::LinkState;
use tenda_pos::{Approval, PaymentRequest, Pos, PosConfig};
use tenda_scenarios::link::Link;
use tenda_scenarios::sample;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};
use tenda_store::DbKey;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn shared_dir() -> std::path::PathBuf {
    let mut dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        if dir.join("shared/nfce").is_dir() {
            return dir.join("shared");
        }
        assert!(dir.pop(), "no shared/ directory above the repository");
    }
}

fn user(login: &str, name: &str, role: Role, pin: &str) -> Result<User> {
    Ok(User {
        id: UserId::new(),
        name: name.into(),
        login: login.into(),
        role,
        credential_hash: hash_secret(&Secret::Pin(pin.into()))?,
        active: true,
        version: 1,
    })
}

fn step(text: &str) {
    println!("\n== {text}");
}

async fn sell(pos: &Pos, codes: &[&str], label: &str) -> Result<()> {
    for code in codes {
        pos.scan(code, None)?;
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;

    step("Starting the SEFAZ simulator on loopback, behind the store's internet link");
    let sim = Simulator::start(SimulatorConfig::default()).await?;
    let link = Link::start(sim.address()).await?;
    println!(
        "  simulator {} ; the register reaches it through {}",
        sim.base_url(),
        link.addr()
    );

    step("Setting up the device: encrypted store, users, certificate, printer");
    let config = PosConfig::new(DeviceId::new(), sample_emitter(Crt::SimplesNacional));
    let pos = Pos::create(dir.path().join("device.db"), &DbKey::generate(), &config)?;
    pos.with_store(|s| -> Result<()> {
        s.save_user(&user("dona", "Dona Rosa", Role::Owner, "9999")?)?;
        s.save_user(&user("caio", "Caio (gerente)", Role::Manager, "2468")?)?;
        s.save_user(&user("bia", "Bia (caixa)", Role::Seller, "1357")?)?;
        Ok(())
    })?;
    let pfx = std::fs::read(shared_dir().join("nfce/certs/test-a1-cnpj-06157250000116.pfx"))?;
    let owner = Approval {
        login: "dona".into(),
        secret: Secret::Pin("9999".into()),
    };
    pos.install_certificate(&pfx, "minhasenha", &owner)?;
    let profile = PrinterProfile::mm80();
    let printer = SimulatedPrinter::new(&profile);
    printer.set_link(512, WriteMode::WithResponse);
    let settings = PrinterSettings {
        pacing: Pacing {
            between_chunks: Duration::ZERO,
        },
        ..Default::default()
    };
    pos.set_printer(Arc::new(EscPosPrinter::new(
        printer.clone(),
        profile,
        settings,
    )));
    println!(
        "  store {} (homologation), series {}",
        config.emitter.legal_name, config.emitter.series
    );

    step("Loading the sample catalog");
    let report = pos.with_store(|s| {
        let mut last = 0;
        s.load_catalog(sample::catalog(5_000), &mut |p| {
            if p.applied >= last + 1_000 {
                last = p.applied;
                println!(
                    "  … {} products loaded ({} ms)",
                    p.applied,
                    p.elapsed.as_millis()
                );
            }
        })
    })?;
    println!("  catalog ready: {} products", report.applied);

    step("Online: SEFAZ answers, notes are authorized before the receipt prints");
    let mut client_settings = ClientSettings::new(Uf::SP, Environment::Homologation);
    client_settings.endpoints =
        Endpoints::at_base_url(&format!("https://127.0.0.1:{}", link.addr().port()));
    client_settings.request_timeout = Duration::from_secs(2);
    client_settings.connect_timeout = Duration::from_secs(2);
    let client = pos.sefaz_client(
        &TrustRoots::only(vec![sim.ca_certificate_der().to_vec()]),
        client_settings,
    )?;
    let transmitter = Arc::new(Transmitter::new(client, TransmissionPolicy::default()));
    pos.set_transmitter(transmitter.clone());
    pos.set_link(LinkState::Online);
    pos.sign_in("bia", &Secret::Pin("1357".into()))?;
    let manager = Approval {
        login: "caio".into(),
        secret: Secret::Pin("2468".into()),
    };
    pos.open_register(Money::from_centavos(150_00), Some(&manager))?;
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

    step("The internet link drops");
    link.cut();
    sell(&pos, &codes[..1], "sale while SEFAZ is unreachable").await?;
    println!("  status: SEFAZ {:?}", pos.status().sefaz);

    step("The manager types their PIN and a justification: contingency (tpEmis 9)");
    pos.enter_contingency("Queda do link de internet da loja", Some(&manager))?;
    pos.set_link(LinkState::Offline);
    for i in 0..4 {
        sell(&pos, &codes[i % 3..], &format!("offline sale {}", i + 1)).await?;
    }
    let status = pos.status();
    println!(
        "  status: SEFAZ {:?}, {} notes pending, nearest deadline {:?}; offline refusals: {}",
        status.sefaz,
        status.pending_notes,
        status.nearest_deadline,
        status
            .unavailable
            .iter()
            .map(|u| u.feature.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    step("The link is back: the backlog goes to SEFAZ, oldest first");
    link.restore();
    pos.set_link(LinkState::Online);
    transmitter.clear_pause();
    let summary = pos.transmit_backlog(&transmitter).await?;
    println!(
        "  transmitted {} notes: {} authorized ({} late), {} rejected, {} still pending",
        summary.sent,
        summary.authorized,
        summary.authorized_late,
        summary.rejected,
        summary.remaining
    );
    println!(
        "  status: SEFAZ {:?}, {} notes pending",
        pos.status().sefaz,
        pos.status().pending_notes
    );
    sell(&pos, &codes[..2], "online again").await?;

    step("What SEFAZ holds now");
    let mut all_authorized = true;
    for entry in pos
        .audit_entries(0, 100_000)?
        .iter()
        .filter(|e| e.action == "sale.record")
    {
        let sale_id: tenda_domain::SaleId = entry.subject.trim_start_matches("sale:").parse()?;
        let doc = pos
            .with_store(|s| s.fiscal_document(sale_id))?
            .ok_or("sale without a note")?;
        let at_sefaz = sim.note(&doc.access_key).is_some();
        all_authorized &= doc.status == tenda_domain::FiscalStatus::Authorized && at_sefaz;
        println!(
            "  NFC-e {:>3} {:<11} tpEmis {} protocol {:<16} at SEFAZ: {}",
            doc.number,
            doc.status.code(),
            doc.emission.code(),
            doc.protocol.as_deref().unwrap_or("-"),
            if at_sefaz { "yes" } else { "no" }
        );
    }
    println!("  audit chain: {:?}", pos.verify_audit()?);
    println!(
        "  receipts printed: {}",
        printer.receipts().iter().filter(|r| r.cut).count()
    );
    let report = pos.close_register(&[], Some(&manager))?;
    println!(
        "  register closed: expected cash R$ {}",
        report.lines[0].expected
    );
    if !all_authorized {
        return Err("some note was not authorized".into());
    }
    println!("\nDemo finished: every note transmitted and authorized.");
    Ok(())
}
