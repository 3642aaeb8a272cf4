//! Store hub benchmark (release, loopback). Prints `<name>: <value> <unit>` lines:
//! - `hub_relay_10k_sales_{sqlite,postgres}`: 10,000 sales (5 lines each) pushed by a till to its
//!   hub while the hub's internet was cut, then relayed to the cloud in one link round (relay,
//!   pull, levels), on a SQLite and a PostgreSQL cloud;
//! - `hub_lan_propagation_p50/p99`: a sale on till A until its stock delta is visible on till B,
//!   both on the hub (TLS with the hub's pinned self-signed certificate), sale by sale.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/support/cuttable.rs"]
mod cuttable;
#[path = "../tests/support/tills.rs"]
mod tills;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{Backend, PgCluster, TestServer, sale_entry};
use cuttable::CuttableLink;
use tenda_domain::OutboxEntry;
use tenda_server::DatabaseLocation;
use tenda_server::hub::link::{Link, open_credential, read_link};
use tenda_server::hub::link_key::LinkKey;
use tenda_server::hub::{HubConfig, start_hub};
use tenda_sync::protocol::{encode_push, paths};
use tills::{Till, hub_code, start_the_hub, until};

const SALES: u64 = 10_000;
const BATCH: usize = 1_000;

async fn relay_bench(backend: Backend, label: &str) {
    let cloud = TestServer::start(backend).await;
    let mut catalog = Vec::new();
    for i in 0..200 {
        catalog.push((
            cloud
                .create_product(&format!("B{i:04}"), &format!("Bench {i}"), 100 + i)
                .await,
            100 + i,
        ));
    }
    let link = CuttableLink::to(cloud.server.addr).await;
    let dir = tempfile::tempdir().expect("dir");
    let till = cloud.enroll(cloud.branch_id, 1, "Caixa").await;
    let mut config = HubConfig::new(
        DatabaseLocation::Sqlite(dir.path().join("hub.db")),
        "127.0.0.1:0".parse().expect("addr"),
        format!("http://{}", link.addr),
    );
    config.code = Some(hub_code(&cloud, cloud.branch_id).await);
    // The first round (devices, catalog) runs at start; no other until the benchmark's.
    config.round_interval = Duration::from_secs(3_600);
    let key_path = config
        .link_key
        .clone()
        .expect("a SQLite hub keeps its link key beside it");
    let hub = start_hub(config).await.expect("hub");
    let mut changes = hub.state.subscribe_changes();
    // The hub knows the till once its first round has mirrored the branch.
    while hub.state.link_state().last_contact_at.is_none() {
        changes.changed().await.expect("hub alive");
    }
    link.cut();
    let outbox: Vec<OutboxEntry> = (1..=SALES)
        .map(|seq| {
            let start = (seq as usize * 5) % catalog.len();
            let lines: Vec<_> = (0..5)
                .map(|k| catalog[(start + k) % catalog.len()])
                .collect();
            sale_entry(till.device_id, seq, &lines, 1).0
        })
        .collect();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(common::plain_tls())
        .build()
        .expect("client");
    for chunk in outbox.chunks(BATCH) {
        let body = encode_push(till.device_id, chunk).expect("body");
        let resp = http
            .post(format!("{}{}", hub.base_url(), paths::PUSH))
            .bearer_auth(&till.credential)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("push to the hub");
        assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    }
    let db = hub.state.db.clone();
    assert_eq!(hub.state.backlog().await.expect("backlog"), SALES);
    hub.shutdown().await;
    link.restore();
    let row = db
        .run(read_link)
        .await
        .expect("link row")
        .expect("enrolled");
    // The stored credential is sealed; the relay presents it opened, as the hub itself does.
    let key = LinkKey::load_or_create(&key_path).expect("link key");
    let row = open_credential(&db, row, &key)
        .await
        .expect("credential opens");
    let mut relay = Link::new(db, row, Duration::from_secs(60)).expect("link");
    let started = Instant::now();
    let report = relay.round().await.expect("relay round");
    let elapsed = started.elapsed();
    assert_eq!(report.relayed, SALES);
    assert_eq!(
        cloud.count("SELECT COUNT(*) AS n FROM sales").await,
        SALES as i64,
        "exactly once"
    );
    println!("hub_relay_10k_sales_{label}: {} ms", elapsed.as_millis());
}

async fn propagation_bench() {
    const SAMPLES: usize = 200;
    let cloud = TestServer::start(Backend::sqlite()).await;
    let product = cloud.create_product("P", "Pão", 100).await;
    let dir = tempfile::tempdir().expect("dir");
    let code = hub_code(&cloud, cloud.branch_id).await;
    let hub = start_the_hub(&cloud.server.base_url, dir.path(), Some(code)).await;
    let a = Till::start(&cloud, cloud.branch_id, 1).await;
    let b = Till::start(&cloud, cloud.branch_id, 2).await;
    until(
        &[&a.events, &b.events],
        "both tills are on the hub",
        async || a.events.on_hub.load(Ordering::SeqCst) && b.events.on_hub.load(Ordering::SeqCst),
    )
    .await;
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let expected = -1_000 * (i as i64 + 1);
        let started = Instant::now();
        a.sell(product, 100, 1, None);
        until(&[&b.events], "till B sees the sale", async || {
            b.stock(product) == expected
        })
        .await;
        samples.push(started.elapsed());
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((SAMPLES as f64 * q).ceil() as usize).clamp(1, SAMPLES) - 1];
    println!("hub_lan_propagation_p50: {} ms", at(0.50).as_millis());
    println!("hub_lan_propagation_p99: {} ms", at(0.99).as_millis());
    a.handle.stop().await;
    b.handle.stop().await;
    hub.shutdown().await;
}

/// Which parts to run: all by default, or those named on the command line
/// (`relay-sqlite`, `relay-postgres`, `propagation`).
fn selected(part: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.is_empty() || args.iter().any(|a| a == part)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if selected("relay-sqlite") {
        relay_bench(Backend::sqlite(), "sqlite").await;
    }
    if selected("relay-postgres") {
        let cluster = tokio::task::spawn_blocking(PgCluster::start)
            .await
            .expect("cluster");
        relay_bench(cluster.fresh_database(), "postgres").await;
        drop(cluster);
    }
    if selected("propagation") {
        propagation_bench().await;
    }
}
