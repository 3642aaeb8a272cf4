//! Benchmark of the document side: build + sign + QR of a 10-item NFC-e, single-threaded,
//! beside the raw RSA-2048 SHA-1 signing rate measured in the same run. Prints one
//! `<name>: <value> <unit>` line per figure.
//!
//! Usage: bench_document <pfx> <password>

use std::hint::black_box;
use std::time::{Duration, Instant};

use tenda_fiscal::A1Certificate;
use tenda_fiscal::nfce::{Emission, NfceInput, build_and_sign};
use tenda_fiscal::samples::sample_input;

const ROUNDS: usize = 5;
const ROUND_TIME: Duration = Duration::from_millis(600);

/// Runs `f` repeatedly for about `ROUND_TIME`; returns operations per second and latencies.
fn round(mut f: impl FnMut()) -> (f64, Vec<Duration>) {
    let mut latencies = Vec::with_capacity(4096);
    let start = Instant::now();
    while start.elapsed() < ROUND_TIME {
        let t = Instant::now();
        f();
        latencies.push(t.elapsed());
    }
    (
        latencies.len() as f64 / start.elapsed().as_secs_f64(),
        latencies,
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn p99(mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, pfx, password] = args.as_slice() else {
        eprintln!("usage: bench_document <pfx> <password>");
        std::process::exit(2);
    };
    let der = std::fs::read(pfx).expect("read the .pfx");
    let cert = A1Certificate::from_pkcs12_der(&der, password).expect("load the certificate");

    let online = sample_input(1, 10);
    let mut offline = online.clone();
    offline.emission = Emission::Offline {
        since: offline.issued_at,
        justification: "Sem comunicacao com a SEFAZ autorizadora".into(),
    };
    // A SignedInfo-sized message: what each note's one RSA signature covers.
    let message = vec![b'x'; 900];

    let mut number = 1u32;
    let mut note = |template: &NfceInput| {
        number = number % 999_999_998 + 1;
        let mut input = template.clone();
        input.number = number;
        black_box(build_and_sign(&input, &cert).expect("the sample note builds"));
    };
    let raw_sign = || {
        let mut signer =
            openssl::sign::Signer::new(openssl::hash::MessageDigest::sha1(), cert.private_key())
                .expect("signer");
        signer.update(&message).expect("update");
        black_box(signer.sign_to_vec().expect("sign"));
    };

    // Warm up, then alternate rounds so both figures see the same machine load.
    round(|| note(&online));
    let (mut raw_rates, mut note_rates, mut offline_rates) = (vec![], vec![], vec![]);
    let (mut note_latencies, mut offline_latencies) = (vec![], vec![]);
    for _ in 0..ROUNDS {
        raw_rates.push(round(raw_sign).0);
        let (rate, latencies) = round(|| note(&online));
        note_rates.push(rate);
        note_latencies.extend(latencies);
        let (rate, latencies) = round(|| note(&offline));
        offline_rates.push(rate);
        offline_latencies.extend(latencies);
    }
    let raw = median(raw_rates);
    let notes = median(note_rates);
    let offline_notes = median(offline_rates);
    println!("fiscal_raw_rsa2048_sha1_sign: {raw:.0} signs/s");
    println!("fiscal_nfce_10_items_build_sign_qr: {notes:.0} notes/s");
    println!(
        "fiscal_nfce_10_items_build_sign_qr_p99: {:.3} ms",
        p99(note_latencies).as_secs_f64() * 1e3
    );
    println!(
        "fiscal_nfce_10_items_vs_raw_sign: {:.0} %",
        notes / raw * 100.0
    );
    // Offline (contingency) with QR v3 signs twice: the document and the QR fields.
    println!("fiscal_nfce_10_items_offline_qr_v3: {offline_notes:.0} notes/s");
    println!(
        "fiscal_nfce_10_items_offline_qr_v3_p99: {:.3} ms",
        p99(offline_latencies).as_secs_f64() * 1e3
    );
}
