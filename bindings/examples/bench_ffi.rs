//! The bindings bench's Rust side: the same offline checkout and scan round trips that
//! `bench/bench.py` and `bench/Bench.kt` make through the generated bindings, made here on the
//! same `tenda_ffi::Pos` from Rust. Each prints `<name>: <value> <unit>` lines; scripts/bench.d/
//! bindings compares them.
//!
//! Setup (same in all three): a register enrolled with a `tenda-test-stack` (env
//! `TENDA_TEST_STACK`), certificate installed, seller signed in, register opened, the link cut
//! and contingency entered; then `CHECKOUTS` sales of 5 scanned lines paid in cash.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use tenda_pos::credentials::Secret;
use tenda_pos::host::{MemoryKeyStore, SefazRoute};
use tenda_pos::{Approval, EnrollmentRequest, PaymentRequest};

const WARMUP: usize = 100;
const CHECKOUTS: usize = 300;
const SCANS: usize = 2_000;

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex from the stack"))
        .collect()
}

fn p50(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn pin(person: &serde_json::Value) -> Approval {
    Approval {
        login: person["login"].as_str().expect("login").to_owned(),
        secret: Secret::Pin(person["pin"].as_str().expect("pin").to_owned()),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let binary = std::env::var("TENDA_TEST_STACK")?;
    let mut stack = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = stack.stdin.take().ok_or("stack stdin")?;
    let mut stdout = BufReader::new(stack.stdout.take().ok_or("stack stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let info: serde_json::Value = serde_json::from_str(&line)?;

    let dir = tempfile::tempdir()?;
    let request = EnrollmentRequest::new(
        info["server_url"].as_str().ok_or("server_url")?,
        info["enrollment_code"].as_str().ok_or("code")?,
        "Caixa bench Rust",
    );
    let sefaz = tenda_ffi::sefaz_access(
        info["sefaz_url"].as_str().ok_or("sefaz_url")?.to_owned(),
        vec![unhex(info["sefaz_ca_der_hex"].as_str().ok_or("ca")?)],
    );
    let mut config = tenda_ffi::open_config(
        dir.path().join("bench.db").to_string_lossy().into_owned(),
        "bench".into(),
    );
    config.sefaz = SefazRoute::At { access: sefaz };
    let pos =
        tenda_ffi::enroll(config, Arc::new(MemoryKeyStore::new()), None, request, None).await?;
    let owner = Approval {
        login: "dona".into(),
        secret: Secret::Password(info["owner"]["password"].as_str().ok_or("pw")?.to_owned()),
    };
    pos.install_certificate(
        unhex(info["certificate_pfx_hex"].as_str().ok_or("pfx")?),
        info["certificate_password"]
            .as_str()
            .ok_or("pw")?
            .to_owned(),
        owner,
    )?;
    let seller = pin(&info["seller"]);
    pos.sign_in(seller.login.clone(), seller.secret.clone())?;
    let manager = pin(&info["manager"]);
    pos.open_register(
        tenda_domain::Money::from_centavos(10_000),
        Some(manager.clone()),
    )?;
    writeln!(stdin, "cut")?;
    line.clear();
    stdout.read_line(&mut line)?;
    pos.enter_contingency("Queda do link de internet da loja".into(), Some(manager))?;

    let codes: Vec<String> = info["products"]
        .as_array()
        .ok_or("products")?
        .iter()
        .take(5)
        .map(|p| p["code"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut checkout_ms = Vec::new();
    for i in 0..WARMUP + CHECKOUTS {
        for code in &codes {
            pos.scan(code.clone(), None)?;
        }
        let total = pos.ticket()?.total;
        let started = Instant::now();
        pos.checkout(vec![PaymentRequest::Cash {
            amount: total,
            tendered: total,
        }])
        .await?;
        if i >= WARMUP {
            checkout_ms.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mut scan_us = Vec::new();
    for i in 0..SCANS {
        let started = Instant::now();
        pos.scan_and_view(codes[i % codes.len()].clone())?;
        scan_us.push(started.elapsed().as_secs_f64() * 1e6);
        if i % 20 == 19 {
            pos.clear_ticket()?;
        }
    }
    pos.shutdown().await?;
    drop(stdin);
    stack.wait()?;
    println!("ffi_checkout_offline_p50_rust: {:.3} ms", p50(checkout_ms));
    println!("ffi_scan_p50_rust: {:.1} us", p50(scan_us));
    Ok(())
}
