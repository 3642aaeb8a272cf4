//! Runs the SEFAZ simulator for demos: `tenda-sefaz-sim --help`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tenda_fiscal::sefaz::endpoints::Uf;
use tenda_sefaz_sim::{Simulator, SimulatorConfig, StartOptions};

const USAGE: &str = "usage: tenda-sefaz-sim [--listen ADDR] [--admin ADDR] [--ca-out FILE] \
[--latency-ms N] [--processing-ms N] [--environment 1|2] [--uf XX]";

fn parse() -> Result<(StartOptions, Option<String>, u64), String> {
    let mut options = StartOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
        admin: Some(SocketAddr::from(([127, 0, 0, 1], 8444))),
        config: SimulatorConfig::default(),
    };
    let mut ca_out = None;
    let mut latency = 0;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |what: &str| format!("{flag}: {what}\n{USAGE}");
        match flag.as_str() {
            "--listen" => options.listen = value.parse().map_err(|_| bad("expected ip:port"))?,
            "--admin" => options.admin = Some(value.parse().map_err(|_| bad("expected ip:port"))?),
            "--ca-out" => ca_out = Some(value),
            "--latency-ms" => latency = value.parse().map_err(|_| bad("expected milliseconds"))?,
            "--processing-ms" => {
                options.config.processing_time =
                    Duration::from_millis(value.parse().map_err(|_| bad("expected milliseconds"))?)
            }
            "--environment" => {
                options.config.environment =
                    tenda_fiscal::sefaz::endpoints::environment_from_code(&value)
                        .ok_or_else(|| bad("expected 1 or 2"))?
            }
            "--uf" => options.config.uf = value.parse::<Uf>().map_err(|_| bad("unknown state"))?,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok((options, ca_out, latency))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (options, ca_out, latency) = match parse() {
        Ok(v) => v,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let simulator = match Simulator::start_with(options).await {
        Ok(s) => s,
        Err(error) => {
            eprintln!("tenda-sefaz-sim: {error}");
            return ExitCode::FAILURE;
        }
    };
    simulator.update_faults(|f| f.latency_ms = latency);
    if let Some(path) = ca_out {
        if let Err(error) = std::fs::write(&path, simulator.ca_certificate_pem()) {
            eprintln!("tenda-sefaz-sim: cannot write {path}: {error}");
            return ExitCode::FAILURE;
        }
        println!("CA certificate: {path}");
    }
    println!(
        "SOAP endpoints: {}/ws/<Operation>.asmx",
        simulator.base_url()
    );
    if let Some(admin) = simulator.admin_url() {
        println!("admin API:      {admin}/faults");
    }
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
