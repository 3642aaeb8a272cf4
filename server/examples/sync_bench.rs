//! Sync benchmark (release, loopback). Prints `<name>: <value> <unit>` lines:
//! - push of 10,000 sales (5 lines each) from one device, applied exactly once with folios,
//!   on SQLite and on a throwaway PostgreSQL cluster;
//! - initial pull of 300,000 products + 50,000 customers into an encrypted device store through
//!   the sync engine, end to end, with progress events.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, PgCluster, TestServer, sale_entry};
use diesel::RunQueryDsl;
use tenda_domain::OutboxEntry;
use tenda_server::schema::{customers, products};
use tenda_store::{DbKey, Store};
use tenda_sync::engine::{self, EngineConfig, SyncEvent, SyncListener};
use tenda_sync::protocol::{encode_push, paths};

const SALES: u64 = 10_000;
const BATCH: usize = 1_000;

async fn push_bench(backend: Backend, label: &str) {
    let t = TestServer::start(backend).await;
    let mut catalog = Vec::new();
    for i in 0..200 {
        catalog.push((
            t.create_product(&format!("B{i:04}"), &format!("Bench {i}"), 100 + i)
                .await,
            100 + i,
        ));
    }
    let device = t.enroll(t.branch_id, 1, "Bench").await;
    let outbox: Vec<OutboxEntry> = (1..=SALES)
        .map(|seq| {
            let start = (seq as usize * 5) % catalog.len();
            let lines: Vec<_> = (0..5)
                .map(|k| catalog[(start + k) % catalog.len()])
                .collect();
            sale_entry(device.device_id, seq, &lines, 1).0
        })
        .collect();
    let cpu_before = process_cpu_ms();
    let started = Instant::now();
    let mut folios = 0usize;
    let mut applied = 0u64;
    for chunk in outbox.chunks(BATCH) {
        // Encoded as the device's engine encodes its outbox.
        let body = encode_push(device.device_id, chunk).expect("push body");
        let (status, body) = t.raw(paths::PUSH, Some(&device.credential), body).await;
        assert_eq!(status, 200, "{body}");
        applied = body["applied_through"].as_u64().expect("applied_through");
        folios += body["folios"].as_array().expect("folios").len();
    }
    let elapsed = started.elapsed();
    let cpu = process_cpu_ms()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    assert_eq!(applied, SALES);
    assert_eq!(folios as u64, SALES);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sales").await,
        SALES as i64,
        "exactly once"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sale_lines").await,
        5 * SALES as i64
    );
    println!("push_10k_sales_5_lines_{label}: {} ms", elapsed.as_millis());
    if let Some(cpu) = cpu {
        // Client and server together (PostgreSQL's own processes not included): on a shared
        // machine this moves less with other load than the wall time does.
        println!("push_10k_cpu_{label}: {cpu} ms");
    }
    println!(
        "push_rate_{label}: {:.0} sales/s",
        SALES as f64 / elapsed.as_secs_f64()
    );
    t.server.shutdown().await;
}

/// CPU time (user + system) this process has used, from /proc (Linux only).
fn process_cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports these in clock ticks of 1/100 s (USER_HZ).
    Some(ticks * 10)
}

#[derive(Default)]
struct Progress {
    events: AtomicU64,
    last_received: AtomicU64,
    total: AtomicU64,
    finished: AtomicU64,
}

impl SyncListener for Progress {
    fn on_event(&self, event: SyncEvent) {
        match event {
            SyncEvent::PullProgress { received, total } => {
                self.events.fetch_add(1, Ordering::Relaxed);
                self.last_received.store(received, Ordering::Relaxed);
                if let Some(t) = total {
                    self.total.fetch_max(t, Ordering::Relaxed);
                }
            }
            SyncEvent::PullFinished { applied, .. } => {
                self.finished.store(applied.max(1), Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

async fn pull_bench() {
    const PRODUCTS: usize = 300_000;
    const CUSTOMERS: usize = 50_000;
    let t = TestServer::start(Backend::sqlite()).await;
    // Seed the server's catalog directly (the back office's CSV import does the same per row).
    let db = t.server.db.clone();
    let store_id = t.store_id.to_string();
    let fiscal = serde_json::to_string(&tenda_domain::FiscalData::simples_nacional("19052090"))
        .expect("json");
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("conn");
        let tenda_server::db::Conn::Sqlite(c) = &mut conn else {
            unreachable!("bench seeds SQLite")
        };
        let c: &mut diesel::SqliteConnection = c;
        diesel::Connection::transaction::<_, diesel::result::Error, _>(c, |c| {
            let rows: Vec<_> = (0..PRODUCTS)
                .map(|i| {
                    (
                        products::id.eq(uuid::Uuid::now_v7().to_string()),
                        products::store_id.eq(store_id.clone()),
                        products::sku.eq(format!("S{i:07}")),
                        products::gtin.eq(None::<String>),
                        products::name.eq(format!("Produto número {i}")),
                        products::unit.eq("UN"),
                        products::price_cents.eq(100 + (i as i64 % 9_000)),
                        products::fiscal.eq(fiscal.clone()),
                        products::active.eq(true),
                        products::version.eq(2i64),
                        products::updated_at.eq(0i64),
                    )
                })
                .collect();
            for chunk in rows.chunks(2_000) {
                diesel::insert_into(products::table)
                    .values(chunk)
                    .execute(c)?;
            }
            let rows: Vec<_> = (0..CUSTOMERS)
                .map(|i| {
                    (
                        customers::id.eq(uuid::Uuid::now_v7().to_string()),
                        customers::store_id.eq(store_id.clone()),
                        customers::name.eq(format!("Cliente {i}")),
                        customers::tax_id.eq(None::<String>),
                        customers::phone.eq(None::<String>),
                        customers::overdraft_limit_cents.eq(10_000i64),
                        customers::active.eq(true),
                        customers::version.eq(2i64),
                        customers::updated_at.eq(0i64),
                    )
                })
                .collect();
            for chunk in rows.chunks(3_000) {
                diesel::insert_into(customers::table)
                    .values(chunk)
                    .execute(c)?;
            }
            diesel::update(tenda_server::schema::stores::table)
                .set(tenda_server::schema::stores::change_seq.eq(2i64))
                .execute(c)?;
            Ok(())
        })
        .expect("seed");
    })
    .await
    .expect("seed task");

    let device = t.enroll(t.branch_id, 1, "Bench").await;
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(Mutex::new(
        Store::open(dir.path().join("device.db"), &DbKey::generate()).expect("store"),
    ));
    let progress = Arc::new(Progress::default());
    let mut config = EngineConfig::new(
        t.server.base_url.clone(),
        device.device_id,
        device.credential.clone(),
    );
    config.pull_page = 5_000;
    let started = Instant::now();
    let handle = engine::start(config, store.clone(), progress.clone()).expect("engine");
    while progress.finished.load(Ordering::Relaxed) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "pull did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    handle.stop().await;
    println!(
        "pull_300k_products_50k_customers_encrypted: {} ms",
        elapsed.as_millis()
    );
    println!(
        "pull_rate: {:.0} records/s",
        (PRODUCTS + CUSTOMERS) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "pull_progress_events: {} events",
        progress.events.load(Ordering::Relaxed)
    );
    println!(
        "pull_total_announced: {} records",
        progress.total.load(Ordering::Relaxed)
    );
}

use diesel::ExpressionMethods;

/// Which parts to run: all by default, or those named on the command line
/// (`push-sqlite`, `push-postgres`, `pull`).
fn selected(part: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.is_empty() || args.iter().any(|a| a == part)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if selected("push-sqlite") {
        push_bench(Backend::sqlite(), "sqlite").await;
    }
    if selected("push-postgres") {
        let cluster = tokio::task::spawn_blocking(PgCluster::start)
            .await
            .expect("cluster");
        push_bench(cluster.fresh_database(), "postgres").await;
        drop(cluster);
    }
    if selected("pull") {
        pull_bench().await;
    }
}
