//! The cloud outgrowing one machine: two `tenda-server` processes on one PostgreSQL database
//! (as behind a load balancer) keep exactly-once, with pushes spread over both and the same
//! batch sent to both at once.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{Backend, PgCluster, sale_entry, wire};
use serde_json::{Value, json};
use tenda_sync::protocol::{EnrollResponse, PushedMutation};
use uuid::Uuid;

/// A `tenda-server serve` process; killed on drop.
struct ServerProcess {
    child: Child,
    base_url: String,
}

impl ServerProcess {
    fn start(database: &str) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenda-server"))
            .args(["serve", "--database", database, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tenda-server runs");
        // It prints its address once it listens.
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base_url = loop {
            let line = lines
                .next()
                .expect("the server printed its address")
                .expect("stdout line");
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_owned();
            }
        };
        ServerProcess { child, base_url }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let v = resp.json().await.unwrap_or(Value::Null);
    (status, v)
}

fn push_body(device: Uuid, mutations: &[PushedMutation]) -> Vec<u8> {
    serde_json::to_vec(&json!({"protocol": 1, "device": device, "mutations": mutations}))
        .expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_database_apply_each_mutation_once() {
    let cluster = tokio::task::spawn_blocking(PgCluster::start)
        .await
        .expect("cluster");
    let Backend::Postgres(url) = cluster.fresh_database() else {
        unreachable!("a PostgreSQL backend")
    };
    // One process creates the store (and runs the migrations) before the two serve.
    let out = Command::new(env!("CARGO_BIN_EXE_tenda-server"))
        .args([
            "init-store",
            "--database",
            &url,
            "--name",
            "Rede",
            "--owner",
            "Ana",
            "--owner-login",
            "ana",
            "--owner-password",
            common::OWNER_PASSWORD,
        ])
        .output()
        .expect("init-store runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).expect("ids");
    let store: Uuid = created["store_id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let branch: Uuid = created["branch_id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let servers = [ServerProcess::start(&url), ServerProcess::start(&url)];
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(common::plain_tls())
        .build()
        .expect("client");

    let (status, login) = call(
        &http,
        format!("{}/api/v1/admin/login", servers[1].base_url),
        None,
        serde_json::to_vec(
            &json!({"store_id": store, "login": "ana", "password": common::OWNER_PASSWORD}),
        )
        .expect("json"),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().expect("token").to_owned();
    let (status, p) = call(
        &http,
        format!("{}/api/v1/admin/products", servers[0].base_url),
        Some(&token),
        serde_json::to_vec(&json!({
            "sku": "A", "name": "A", "unit": "UN", "price_cents": 500,
            "fiscal": tenda_domain::FiscalData::simples_nacional("19052090"),
        }))
        .expect("json"),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    let product_id: Uuid = p["id"].as_str().expect("id").parse().expect("uuid");

    // Three tills, enrolled through either server.
    let mut tills: Vec<EnrollResponse> = Vec::new();
    for series in 1..=3u32 {
        let s = &servers[series as usize % 2];
        let (status, code) = call(
            &http,
            format!("{}/api/v1/admin/enrollment-codes", s.base_url),
            Some(&token),
            serde_json::to_vec(&json!({"branch_id": branch, "nfce_series": series})).expect("json"),
        )
        .await;
        assert_eq!(status, 200, "{code}");
        let (status, e) = call(
            &http,
            format!(
                "{}/api/v1/sync/enroll",
                servers[1 - series as usize % 2].base_url
            ),
            None,
            serde_json::to_vec(
                &json!({"code": code["code"], "device_name": format!("Caixa {series}")}),
            )
            .expect("json"),
        )
        .await;
        assert_eq!(status, 200, "{e}");
        tills.push(serde_json::from_value(e).expect("enrolled"));
    }

    // Each till pushes 20 batches of 25 sales: even batches to one server, odd to the other,
    // and every fifth batch to both at once. The tills run concurrently.
    const BATCHES: u64 = 20;
    const PER_BATCH: u64 = 25;
    let mut tasks = Vec::new();
    for till in tills.clone() {
        let http = http.clone();
        let urls = [servers[0].base_url.clone(), servers[1].base_url.clone()];
        tasks.push(tokio::spawn(async move {
            let mut units = 0i64;
            for b in 0..BATCHES {
                let batch: Vec<PushedMutation> = (1..=PER_BATCH)
                    .map(|i| {
                        let seq = b * PER_BATCH + i;
                        let (entry, _, _) = sale_entry(
                            till.device_id,
                            seq,
                            &[(product_id, 500)],
                            1 + (seq % 3) as i64,
                        );
                        units += 1 + (seq % 3) as i64;
                        wire(&entry)
                    })
                    .collect();
                let body = push_body(till.device_id, &batch);
                let answers: Vec<(u16, Value)> = if b % 5 == 0 {
                    let (x, y) = tokio::join!(
                        call(
                            &http,
                            format!("{}/api/v1/sync/push", urls[0]),
                            Some(&till.credential),
                            body.clone()
                        ),
                        call(
                            &http,
                            format!("{}/api/v1/sync/push", urls[1]),
                            Some(&till.credential),
                            body
                        ),
                    );
                    vec![x, y]
                } else {
                    let url = &urls[(b % 2) as usize];
                    vec![
                        call(
                            &http,
                            format!("{url}/api/v1/sync/push"),
                            Some(&till.credential),
                            body,
                        )
                        .await,
                    ]
                };
                for (status, v) in answers {
                    // Both copies of a doubled batch answer the same: applied through its end.
                    assert_eq!(status, 200, "{v}");
                    assert_eq!(v["applied_through"], (b + 1) * PER_BATCH, "{v}");
                    assert_eq!(
                        v["folios"].as_array().map(Vec::len),
                        Some(PER_BATCH as usize)
                    );
                }
            }
            units
        }));
    }
    let mut units = 0i64;
    for t in tasks {
        units += t.await.expect("till task");
    }

    let db = tokio::task::spawn_blocking({
        let url = url.clone();
        move || tenda_server::Db::open(&tenda_server::DatabaseLocation::Postgres(url))
    })
    .await
    .expect("join")
    .expect("db");
    let (sales, folios, level, seqs) = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use tenda_server::schema::{devices, sales, stock_levels};
        let mut conn = db.get().expect("conn");
        let tenda_server::db::Conn::Pg(c) = &mut conn else {
            unreachable!("postgres")
        };
        let sales: i64 = sales::table.count().get_result(&mut **c).expect("count");
        let mut folios: Vec<i64> = sales::table
            .select(sales::folio)
            .load(&mut **c)
            .expect("folios");
        folios.sort_unstable();
        let level: i64 = stock_levels::table
            .select(stock_levels::quantity)
            .first(&mut **c)
            .expect("level");
        let seqs: Vec<i64> = devices::table
            .select(devices::last_seq)
            .load(&mut **c)
            .expect("seqs");
        (sales, folios, level, seqs)
    })
    .await
    .expect("join");
    let total = (tills.len() as u64 * BATCHES * PER_BATCH) as i64;
    assert_eq!(sales, total, "every sale once");
    assert_eq!(
        folios,
        (1..=total).collect::<Vec<_>>(),
        "folios contiguous, none twice"
    );
    assert_eq!(
        level,
        -units * 1000,
        "stock is the sum of the deltas, each counted once"
    );
    assert!(seqs.iter().all(|s| *s == (BATCHES * PER_BATCH) as i64));
    drop(servers);
    drop(cluster);
}
