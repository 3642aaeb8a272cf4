//! Transmission benchmark: 1,000 contingency notes to the simulator with 300 ms of latency per
//! request. Prints `<name>: <value> <unit>` lines.
//!
//! `cargo run --release -p tenda-sefaz-sim --example bench_transmission -- PFX PASSWORD`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{FixedOffset, Utc};
use tenda_fiscal::A1Certificate;
use tenda_fiscal::nfce::{Emission, Environment, Uf, build_and_sign};
use tenda_fiscal::samples;
use tenda_fiscal::sefaz::{
    ClientIdentity, ClientSettings, Endpoints, NoteOutcome, PendingNote, SefazClient,
    TransmissionPolicy, Transmitter, TrustRoots,
};
use tenda_sefaz_sim::{Simulator, SimulatorConfig};

const NOTES: u32 = 1_000;
const LATENCY_MS: u64 = 300;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(pfx), Some(password)) = (args.next(), args.next()) else {
        eprintln!("usage: bench_transmission PFX PASSWORD");
        return ExitCode::from(2);
    };
    let cert = match A1Certificate::from_pfx_file(&PathBuf::from(pfx), &password) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench_transmission: certificate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let brt = FixedOffset::west_opt(3 * 3600).expect("valid offset");
    let since = Utc::now().with_timezone(&brt) - chrono::Duration::hours(2);
    let pending: Vec<PendingNote> = (1..=NOTES)
        .map(|number| {
            let mut input = samples::sample_input(number, 5);
            input.issued_at = since + chrono::Duration::seconds(i64::from(number));
            input.emission = Emission::Offline {
                since,
                justification: "Sem comunicacao com a SEFAZ autorizadora".into(),
            };
            let signed = build_and_sign(&input, &cert).expect("sample note signs");
            PendingNote::from_signed(&signed)
        })
        .collect();

    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("simulator starts");
    sim.update_faults(|f| f.latency_ms = LATENCY_MS);
    let mut settings = ClientSettings::new(Uf::SP, Environment::Homologation);
    settings.endpoints = Endpoints::at_base_url(&sim.base_url());
    let client = SefazClient::new(
        &ClientIdentity::from_certificate(&cert).expect("identity"),
        &TrustRoots::only(vec![sim.ca_certificate_der().to_vec()]),
        settings,
    )
    .expect("client builds");
    let transmitter = Transmitter::new(client, TransmissionPolicy::default());

    let started = Instant::now();
    let report = transmitter.transmit(pending).await;
    let elapsed = started.elapsed();

    let authorized = report
        .notes
        .iter()
        .filter(|n| matches!(n.outcome, NoteOutcome::Authorized(_)))
        .count();
    let stats = sim.stats();
    let throttled = stats.status_codes.get(&656).copied().unwrap_or(0);
    let requests: u64 = stats.calls.values().sum();
    println!(
        "sefaz_transmit_1000_contingency_notes: {:.2} s",
        secs(elapsed)
    );
    println!(
        "sefaz_transmit_rate: {:.0} notes/s",
        f64::from(NOTES) / secs(elapsed)
    );
    println!("sefaz_transmit_latency_per_request: {LATENCY_MS} ms");
    println!("sefaz_transmit_lotes: {} lotes", report.lotes_sent);
    println!("sefaz_transmit_requests: {requests} requests");
    println!("sefaz_transmit_authorized: {authorized} notes");
    println!("sefaz_transmit_656_answers: {throttled} answers");
    if authorized != NOTES as usize || throttled != 0 {
        eprintln!("bench_transmission: not every note was authorized without 656");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
