//! Demo: a card sale on the simulated reader, then its DANFE on the simulated printer. Prints
//! what came out on paper; with a path argument, also writes the receipt preview PNG there.
//!
//! `cargo run -p tenda-devices --example print_demo -- /tmp/receipt.png`

use std::sync::Arc;
use std::time::Duration;

use tenda_devices::card::{
    CardKind, CardPaymentRequest, CardPayments, Connectivity, LinkCardReader, MemoryOfflineStore,
    OfflineLimits, ReaderSettings, SealingKey, SystemClock,
};
use tenda_devices::preview::render_job_png;
use tenda_devices::receipt::layout_danfe;
use tenda_devices::sim::{SimulatedCardReader, SimulatedPrinter, sample_danfe};
use tenda_devices::{
    DanfeOptions, Emission, EscPosPrinter, FiscalEnvironment, Pacing, PrinterProfile,
    PrinterSettings, ReceiptPrinter,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let danfe = sample_danfe(5, Emission::Normal, FiscalEnvironment::Homologation);

    let reader = LinkCardReader::new(
        SimulatedCardReader::new(),
        ReaderSettings {
            pacing: Pacing {
                between_chunks: Duration::ZERO,
            },
            ..ReaderSettings::default()
        },
    );
    let payments = CardPayments::new(
        reader,
        OfflineLimits::default(),
        SealingKey::generate(),
        Box::new(MemoryOfflineStore::default()),
        Arc::new(SystemClock),
    );
    let request = CardPaymentRequest {
        payment_id: uuid::Uuid::now_v7(),
        sale_reference: format!("NFC-e {}", danfe.number),
        amount: danfe.totals.amount_due,
        kind: CardKind::Debit,
        installments: 1,
    };
    let outcome = payments.pay(&request, Connectivity::Online, None).await?;
    println!("card payment: {outcome:?}");

    let profile = PrinterProfile::mm58();
    let sim = SimulatedPrinter::new(&profile);
    let printer = EscPosPrinter::new(sim.clone(), profile.clone(), PrinterSettings::default());
    let job = layout_danfe(&danfe, &profile, &DanfeOptions::default())?;
    let report = printer.print(&job).await?;
    println!(
        "printed {} bytes in {} attempt(s)\n",
        report.bytes, report.attempts
    );
    for receipt in sim.receipts() {
        for line in &receipt.lines {
            println!("| {line:<32} |");
        }
        for qr in &receipt.qr_codes {
            println!(
                "| [QR {:.1} mm] {}",
                qr.side_mm,
                String::from_utf8_lossy(&qr.payload)
            );
        }
        println!(
            "{}",
            if receipt.cut {
                "---- cut ----"
            } else {
                "(not cut)"
            }
        );
    }
    if let Some(path) = std::env::args().nth(1) {
        std::fs::write(&path, render_job_png(&job)?)?;
        println!("preview written to {path}");
    }
    Ok(())
}
