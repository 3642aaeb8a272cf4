//! The outside world of a register, for tests written in other languages (the Python and Kotlin
//! binding tests): a real tenda-server (embedded SQLite) and the SEFAZ simulator on loopback,
//! each behind a cuttable link, with a store set up by its owner (emitter, people, a small
//! catalog, a customer with an account, quick sync retries). Prints one JSON line describing it (addresses, the simulator's
//! CA, an enrollment code, the people and products), then answers one JSON line per command
//! read from stdin:
//!
//! - `cut` / `restore`: drop or bring back the store's link (server and SEFAZ together);
//! - `code`: a fresh one-time enrollment code (series 2, 3, …);
//! - `sales`: every sale the server holds (device, local number, total, fiscal status, key);
//! - `note <access key>`: what the simulator holds for that note (`null`: never received).
//!
//! It stops when stdin closes, so a test that dies takes its stack with it.

use std::io::BufRead;

use serde_json::{Value, json};
use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_scenarios::backoffice::{OWNER_PASSWORD, StoreServer, catalog_csv};
use tenda_scenarios::link::Link;
use tenda_scenarios::sample;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Products in the catalog: enough for a first load with several progress events.
const CATALOG: usize = 2_000;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = StoreServer::start(dir.path(), "Mercadinho Tenda").await?;
    let sim = Simulator::start(SimulatorConfig::default()).await?;
    let server_link = Link::start(server.addr()).await?;
    let sefaz_link = Link::start(sim.address()).await?;

    let owner = server.owner().await?;
    owner
        .configure_store(
            &sample_emitter(Crt::SimplesNacional),
            &[
                ("policy.sefaz_timeout_ms", "2000"),
                ("policy.seller_discount_limit_bp", "500"),
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
    // A second seller whose PIN tests may get wrong until the lockout.
    owner
        .create_user("Edu (caixa)", "edu", "seller", "9753")
        .await?;
    owner
        .import_catalog(catalog_csv(sample::catalog(CATALOG)))
        .await?;
    // A customer with an account (fiado), on the devices from their first load.
    let customer = sample::customer(0);
    let customer_tax_id = customer.tax_id.as_ref().map(|t| t.as_str().to_owned());
    let customer_id = owner
        .create_customer(
            &customer.name,
            customer_tax_id.as_deref(),
            customer.overdraft_limit,
        )
        .await?;
    let branch = server.created.branch_id;
    let code = owner.enrollment_code(branch, 1).await?;

    let products: Vec<Value> = (0..20)
        .map(sample::product)
        .filter_map(|p| {
            let gtin = p.gtin.as_ref()?.as_str().to_owned();
            Some(json!({"code": gtin, "name": p.name, "price_cents": p.price.centavos()}))
        })
        .collect();
    let description = json!({
        "server_url": format!("http://{}", server_link.addr()),
        "sefaz_url": format!("https://127.0.0.1:{}", sefaz_link.addr().port()),
        "sefaz_ca_der_hex": hex(sim.ca_certificate_der()),
        "certificate_pfx_hex": hex(tenda_fiscal::samples::PUBLIC_TEST_PFX),
        "certificate_password": tenda_fiscal::samples::PUBLIC_TEST_PFX_PASSWORD,
        "enrollment_code": code,
        "catalog_size": CATALOG,
        "owner": {"login": "dona", "password": OWNER_PASSWORD},
        "manager": {"login": "caio", "pin": "2468"},
        "seller": {"login": "bia", "pin": "1357"},
        "second_seller": {"login": "edu", "pin": "9753"},
        "products": products,
        "customer": {
            "id": customer_id.to_string(),
            "name": customer.name,
            "overdraft_limit_cents": customer.overdraft_limit.centavos(),
        },
    });
    println!("{description}");

    // Commands come from a blocking reader thread; answers are computed on the runtime.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut next_series = 2;
    while let Some(line) = rx.recv().await {
        let mut words = line.split_whitespace();
        let answer = match (words.next(), words.next()) {
            (Some("cut"), None) => {
                server_link.cut();
                sefaz_link.cut();
                json!({"ok": true})
            }
            (Some("restore"), None) => {
                server_link.restore();
                sefaz_link.restore();
                json!({"ok": true})
            }
            (Some("code"), None) => {
                let code = owner.enrollment_code(branch, next_series).await?;
                next_series += 1;
                json!({"code": code})
            }
            (Some("sales"), None) => {
                let sales: Vec<Value> = owner
                    .sales()
                    .await?
                    .into_iter()
                    .map(|s| {
                        json!({
                            "device_id": s["device_id"],
                            "local_number": s["local_number"],
                            "total_cents": s["total_cents"],
                            "fiscal_status": s["fiscal_status"],
                            "access_key": s["access_key"],
                        })
                    })
                    .collect();
                json!({ "sales": sales })
            }
            (Some("note"), Some(key)) => json!({ "note": sim.note(key) }),
            _ => json!({"error": format!("unknown command: {line}")}),
        };
        println!("{answer}");
    }
    Ok(())
}
