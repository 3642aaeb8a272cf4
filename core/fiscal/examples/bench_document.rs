//! Benchmark of the document side: build + sign + QR of a 10-item NFC-e, single-threaded,
//! beside the raw RSA-2048 SHA-1 signing rate measured in the same run. Prints one
//! `<name>: <value> <unit>` line per figure.
//!
//! The three workloads run in small interleaved batches so that all of them see the same
//! machine load; besides wall-clock rates, rates per CPU-second of this thread (from
//! /proc/thread-self/schedstat) are printed, which a busy machine disturbs far less.
//!
//! Usage: bench_document <pfx> <password>

use std::hint::black_box;
use std::time::{Duration, Instant};

use tenda_fiscal::A1Certificate;
use tenda_fiscal::nfce::{Emission, NfceInput, build_and_sign};
use tenda_fiscal::samples::sample_input;

const BATCH: usize = 20;
const TIME_PER_WORKLOAD: Duration = Duration::from_secs(3);

/// CPU time consumed by this thread, when the kernel exposes it.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

#[derive(Default)]
struct Workload {
    operations: usize,
    wall: Duration,
    cpu: Duration,
    latencies: Vec<Duration>,
}

impl Workload {
    fn batch(&mut self, mut operation: impl FnMut()) {
        let cpu_start = thread_cpu_time();
        let start = Instant::now();
        for _ in 0..BATCH {
            let t = Instant::now();
            operation();
            self.latencies.push(t.elapsed());
        }
        self.wall += start.elapsed();
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_time()) {
            self.cpu += b.saturating_sub(a);
        }
        self.operations += BATCH;
    }

    fn rate(&self) -> f64 {
        self.operations as f64 / self.wall.as_secs_f64()
    }

    fn cpu_rate(&self) -> Option<f64> {
        (!self.cpu.is_zero()).then(|| self.operations as f64 / self.cpu.as_secs_f64())
    }

    fn p99_ms(&mut self) -> f64 {
        self.latencies.sort();
        let index = (self.latencies.len() * 99 / 100).min(self.latencies.len() - 1);
        self.latencies[index].as_secs_f64() * 1e3
    }
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

    // Warm-up (page in code and data, settle the CPU frequency).
    let mut warmup = Workload::default();
    warmup.batch(|| note(&online));

    let (mut raw, mut notes, mut offline_notes) = (
        Workload::default(),
        Workload::default(),
        Workload::default(),
    );
    let total = TIME_PER_WORKLOAD * 3;
    let start = Instant::now();
    while start.elapsed() < total {
        raw.batch(raw_sign);
        notes.batch(|| note(&online));
        offline_notes.batch(|| note(&offline));
    }

    println!("fiscal_raw_rsa2048_sha1_sign: {:.0} signs/s", raw.rate());
    println!(
        "fiscal_nfce_10_items_build_sign_qr: {:.0} notes/s",
        notes.rate()
    );
    println!(
        "fiscal_nfce_10_items_build_sign_qr_p99: {:.3} ms",
        notes.p99_ms()
    );
    println!(
        "fiscal_nfce_10_items_vs_raw_sign: {:.0} %",
        notes.rate() / raw.rate() * 100.0
    );
    if let (Some(raw_cpu), Some(notes_cpu)) = (raw.cpu_rate(), notes.cpu_rate()) {
        println!("fiscal_raw_rsa2048_sha1_sign_per_cpu_second: {raw_cpu:.0} signs/s");
        println!("fiscal_nfce_10_items_build_sign_qr_per_cpu_second: {notes_cpu:.0} notes/s");
    }
    // Offline (contingency) with QR v3 signs twice: the document and the QR fields.
    println!(
        "fiscal_nfce_10_items_offline_qr_v3: {:.0} notes/s",
        offline_notes.rate()
    );
    println!(
        "fiscal_nfce_10_items_offline_qr_v3_p99: {:.3} ms",
        offline_notes.p99_ms()
    );
}
