//! The store hub: a cloud (SQLite or PostgreSQL) and a hub (SQLite, TLS with a self-signed
//! certificate the tills pin) on loopback, the hub's internet behind a link the test cuts, and
//! two tills running the real sync engine over their own encrypted stores.

#[macro_use]
mod common;
#[path = "support/cuttable.rs"]
mod cuttable;
#[path = "support/tills.rs"]
mod tills;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Backend, PgCluster, TestServer};
use cuttable::CuttableLink;
use serde_json::json;
use tenda_domain::SaleId;
use tenda_server::DatabaseLocation;
use tenda_server::hub::link_key::LinkKey;
use tenda_server::hub::{HubConfig, start_hub};
use tenda_sync::protocol::EnrollResponse;
use tills::{Till, hub_call, hub_code, restart_the_hub, start_the_hub, until};
use uuid::Uuid;

async fn stock_level_at_cloud(cloud: &TestServer, branch: Uuid, product: Uuid) -> i64 {
    cloud
        .count(&format!(
            "SELECT COALESCE(SUM(quantity), 0) AS n FROM stock_levels WHERE branch_id = '{branch}' AND product_id = '{product}'"
        ))
        .await
}

async fn store_day_through_the_hub(backend: Backend) {
    let cloud = TestServer::start(backend).await;
    let branch = cloud.branch_id;
    let rice = cloud.create_product("ARROZ", "Arroz 5kg", 2_590).await;
    let customer: Uuid = cloud
        .admin(
            "POST",
            "/api/v1/admin/customers",
            Some(json!({"name": "Dona Maria", "overdraft_limit_cents": 100_000})),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");

    let link = CuttableLink::to(cloud.server.addr).await;
    let upstream = format!("http://{}", link.addr);
    let hub_dir = tempfile::tempdir().expect("dir");
    let code = hub_code(&cloud, branch).await;
    let hub = start_the_hub(&upstream, hub_dir.path(), Some(code.clone())).await;
    let hub_addr = hub.server.addr;
    assert!(
        hub.base_url().starts_with("https://"),
        "tills reach the hub over TLS"
    );

    // A hub code is one-time, and a till code cannot enroll a hub (nor a hub code a till).
    let (status, _) = cloud
        .call(
            "POST",
            "/api/v1/sync/enroll",
            None,
            Some(
                json!({"code": code, "device_name": "again", "hub": {"url": "http://127.0.0.1:1"}}),
            ),
        )
        .await;
    assert_eq!(status, 401, "a used hub code");
    let other_hub_code = hub_code(&cloud, branch).await;
    let (status, body) = cloud
        .call(
            "POST",
            "/api/v1/sync/enroll",
            None,
            Some(json!({"code": other_hub_code, "device_name": "till"})),
        )
        .await;
    assert_eq!(status, 400, "a hub code enrolls only a hub: {body}");

    let a = Till::start(&cloud, branch, 1).await;
    let b = Till::start(&cloud, branch, 2).await;
    // A second branch, without a hub, syncs with the cloud directly all day.
    let other_branch = cloud.create_branch("Filial").await;
    let c = Till::start(&cloud, other_branch, 3).await;
    // The cloud names the hub in the branch's settings; both tills move onto it.
    until(
        &[&a.events, &b.events],
        "both tills sync with the hub",
        async || {
            a.events.on_hub.load(Ordering::SeqCst)
                && b.events.on_hub.load(Ordering::SeqCst)
                && a.stock(rice) == 0
                && b.balance(customer) == Some(0)
        },
    )
    .await;

    // The hub's internet goes down: the tills keep selling and see each other.
    link.cut();
    let c_sale = c.sell(rice, 2_590, 4, None);
    let mut sold: Vec<(usize, SaleId)> = Vec::new();
    sold.push((0, a.sell(rice, 2_590, 3, None)));
    until(&[&b.events], "till B sees A's stock delta", async || {
        b.stock(rice) == -3000
    })
    .await;
    sold.push((1, b.sell(rice, 2_590, 1, Some(customer))));
    until(
        &[&a.events],
        "till A sees the customer's balance B charged",
        async || a.balance(customer) == Some(-2_590) && a.stock(rice) == -4000,
    )
    .await;
    assert!(
        a.events.on_hub.load(Ordering::SeqCst),
        "A stayed on the hub"
    );
    // Every mutation the tills wrote (a sale may write more than one) waits at the hub.
    let written = |t: &Till| {
        t.store
            .lock()
            .expect("lock")
            .outbox_last_seq()
            .expect("seq")
    };
    assert_eq!(
        hub.state.backlog().await.expect("backlog"),
        written(&a) + written(&b)
    );
    assert_eq!(
        cloud
            .count(&format!(
                "SELECT COUNT(*) AS n FROM sales WHERE branch_id = '{branch}'"
            ))
            .await,
        0,
        "nothing of the hub's branch reached the cloud while the hub was offline"
    );
    let status = cloud
        .call("GET", "/api/v1/admin/hub", Some(&cloud.owner_token), None)
        .await;
    assert_eq!(status.0, 200, "{}", status.1);
    assert_eq!(status.1["role"], "cloud");

    // The internet returns: the hub relays; the tills learn the cloud's folios through it.
    link.restore();
    until(
        &[&a.events, &b.events],
        "the hub relays and the tills learn folios",
        async || {
            hub.state.backlog().await.expect("backlog") == 0
                && sold
                    .iter()
                    .all(|(t, s)| [&a, &b, &c][*t].folio(*s).is_some())
        },
    )
    .await;
    assert_eq!(stock_level_at_cloud(&cloud, branch, rice).await, -4000);

    // The hub stops while the internet works: the tills go to the cloud directly.
    hub.shutdown().await;
    sold.push((0, a.sell(rice, 2_590, 2, None)));
    until(
        &[&a.events],
        "till A syncs with the cloud directly",
        async || !a.events.on_hub.load(Ordering::SeqCst) && a.pending() == 0,
    )
    .await;
    assert_eq!(stock_level_at_cloud(&cloud, branch, rice).await, -6000);

    // A hub database from before credentials were sealed keeps it in clear: the hub seals it
    // when it starts, and goes on relaying with it.
    let hub_db =
        tenda_server::db::Db::open(&DatabaseLocation::Sqlite(hub_dir.path().join("hub.db")))
            .expect("the hub's database");
    let key = LinkKey::load_or_create(&hub_dir.path().join("hub.link-key")).expect("key");
    let clear = key
        .open(&stored_credential(hub_db.clone()).await)
        .expect("opens")
        .expect("sealed at enrollment");
    store_credential_in_clear(hub_db.clone(), clear.clone()).await;

    // The hub returns (same database and certificate): the tills come back to it and nothing
    // is applied twice, at the hub or at the cloud.
    let hub = restart_the_hub(&upstream, hub_dir.path(), hub_addr).await;
    let resealed = stored_credential(hub_db).await;
    assert!(
        resealed.starts_with("sealed:v1:") && !resealed.contains(&clear),
        "{resealed}"
    );
    sold.push((1, b.sell(rice, 2_590, 5, None)));
    sold.push((0, a.sell(rice, 2_590, 1, None)));
    until(
        &[&a.events, &b.events],
        "everything is relayed",
        async || {
            a.events.on_hub.load(Ordering::SeqCst)
                && a.pending() == 0
                && b.pending() == 0
                && hub.state.backlog().await.expect("backlog") == 0
                && sold
                    .iter()
                    .all(|(t, s)| [&a, &b, &c][*t].folio(*s).is_some())
        },
    )
    .await;
    until(
        &[&a.events, &b.events],
        "the tills see the cloud's level",
        async || a.stock(rice) == -12_000 && b.stock(rice) == -12_000,
    )
    .await;
    assert_eq!(stock_level_at_cloud(&cloud, branch, rice).await, -12_000);
    until(
        &[&c.events],
        "the other branch's sale is on the cloud",
        async || c.pending() == 0 && c.folio(c_sale).is_some(),
    )
    .await;
    assert!(
        !c.events.on_hub.load(Ordering::SeqCst),
        "no hub for the other branch"
    );
    assert_eq!(
        stock_level_at_cloud(&cloud, other_branch, rice).await,
        -4_000,
        "each branch keeps its own stock"
    );
    sold.push((2, c_sale));
    assert_eq!(
        cloud.count("SELECT COUNT(*) AS n FROM sales").await,
        sold.len() as i64,
        "every sale exactly once"
    );
    // Folios: the cloud's, contiguous, and what each till holds.
    let folios = cloud.sale_folios().await;
    let mut numbers: Vec<u64> = folios.values().copied().collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=sold.len() as u64).collect::<Vec<_>>());
    for (t, s) in &sold {
        assert_eq!(
            [&a, &b, &c][*t].folio(*s),
            folios.get(&s.as_uuid()).copied()
        );
    }
    // Each till's sales in its own order at the cloud.
    for till in [&a, &b] {
        let last = cloud
            .count(&format!(
                "SELECT last_seq AS n FROM devices WHERE id = '{}'",
                till.enrolled.device_id
            ))
            .await;
        let outbox_last = till
            .store
            .lock()
            .expect("lock")
            .outbox_last_seq()
            .expect("seq");
        assert_eq!(last as u64, outbox_last);
    }
    assert_eq!(
        cloud
            .count(&format!(
                "SELECT COALESCE(SUM(balance_cents), 0) AS n FROM customer_balances WHERE customer_id = '{customer}'"
            ))
            .await,
        -2_590
    );

    // The hub's back office (the owner, mirrored from the cloud, logs in at the hub) shows its
    // link, its tills and the relay backlog.
    let client = tenda_sync::pinning::client_for(
        hub.base_url(),
        hub.server.cert_fingerprint.as_deref(),
        Duration::from_secs(5),
    )
    .expect("pinned client");
    let login: serde_json::Value = client
        .http
        .post(format!("{}/api/v1/admin/login", hub.base_url()))
        .json(&json!({"store_id": cloud.store_id, "login": "ana", "password": common::OWNER_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let state: serde_json::Value = client
        .http
        .get(format!("{}/api/v1/admin/hub", hub.base_url()))
        .bearer_auth(login["token"].as_str().expect("token"))
        .send()
        .await
        .expect("hub state")
        .json()
        .await
        .expect("json");
    assert_eq!(state["role"], "hub", "{state}");
    assert_eq!(state["link"]["online"], true, "{state}");
    assert_eq!(state["backlog"], 0, "{state}");
    let tills = state["tills"].as_array().expect("tills");
    assert_eq!(tills.len(), 2, "{state}");
    assert!(tills.iter().all(|t| t["connected"] == true), "{state}");

    // Revoking the hub: it stops serving, the tills go to the cloud.
    let hub_device: String = {
        let v = cloud.admin("GET", "/api/v1/admin/hub", None).await;
        v["hubs"][0]["device_id"]
            .as_str()
            .expect("hub id")
            .to_owned()
    };
    cloud
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{hub_device}/revoke"),
            None,
        )
        .await;
    sold.push((1, b.sell(rice, 2_590, 1, None)));
    // The hub may take B's sale before it hears of its revocation; B, back on the cloud,
    // re-sends what the cloud lacks (the hub can no longer relay it).
    until(
        &[&b.events],
        "till B's sale reaches the cloud without the hub",
        async || {
            !b.events.on_hub.load(Ordering::SeqCst)
                && b.pending() == 0
                && cloud.count("SELECT COUNT(*) AS n FROM sales").await == sold.len() as i64
        },
    )
    .await;
    assert!(
        hub.state.link_state().revoked,
        "the hub knows it is revoked"
    );
    let (status, _) = hub_call(&hub, &b, tenda_sync::protocol::paths::PULL).await;
    assert_eq!(status, 403, "a revoked hub refuses its tills");
    hub.shutdown().await;
    for till in [a, b, c] {
        till.handle.stop().await;
        let verified = till
            .store
            .lock()
            .expect("lock")
            .verify_audit_chain()
            .expect("chain readable");
        assert!(
            matches!(verified, tenda_store::AuditVerification::Intact { entries } if entries > 0),
            "the till's audit chain verifies: {verified:?}"
        );
    }
}

/// A hub relays only for its own branch's live tills.
async fn hub_relays_only_for_its_branch(backend: Backend) {
    let cloud = TestServer::start(backend).await;
    let other_branch = cloud.create_branch("Filial").await;
    let link = CuttableLink::to(cloud.server.addr).await;
    let dir = tempfile::tempdir().expect("dir");
    let code = hub_code(&cloud, cloud.branch_id).await;
    let hub = start_the_hub(&format!("http://{}", link.addr), dir.path(), Some(code)).await;
    let stored = stored_credential(hub.state.db.clone()).await;
    // The hub's database keeps its cloud credential sealed under the key file beside it: a
    // copy of the database alone cannot act as the hub. The key file opens it.
    assert!(stored.starts_with("sealed:v1:"), "{stored}");
    let key = LinkKey::load_or_create(&dir.path().join("hub.link-key")).expect("the hub's key");
    let credential = key
        .open(&stored)
        .expect("opens with the hub's key")
        .expect("sealed");
    assert!(!stored.contains(&credential));
    let own = cloud.enroll(cloud.branch_id, 1, "Caixa 1").await;
    let foreign = cloud.enroll(other_branch, 2, "Caixa filial").await;
    let product = cloud.create_product("P", "P", 100).await;
    let relay = |device: &EnrollResponse| {
        let (entry, _, _) = common::sale_entry(device.device_id, 1, &[(product, 100)], 1);
        serde_json::to_vec(&json!({
            "protocol": 1, "device": device.device_id, "mutations": [common::wire(&entry)]
        }))
        .expect("body")
    };
    let (status, body) = cloud
        .raw("/api/v1/hub/relay", Some(&credential), relay(&foreign))
        .await;
    assert_eq!(status, 403, "another branch's till: {body}");
    let (status, body) = cloud
        .raw("/api/v1/hub/relay", Some(&own.credential), relay(&own))
        .await;
    assert_eq!(status, 403, "a till is not a hub: {body}");
    let (status, body) = cloud
        .raw("/api/v1/hub/relay", Some(&credential), relay(&own))
        .await;
    assert_eq!(status, 200, "its own till: {body}");
    assert_eq!(body["applied_through"], 1);
    // The same mutation pushed directly by the till is recognized: applied once.
    let (entry_again, _, _) = common::sale_entry(own.device_id, 1, &[(product, 100)], 1);
    let (status, body) = cloud.push(&own, vec![common::wire(&entry_again)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cloud.count("SELECT COUNT(*) AS n FROM sales").await, 1);
    // A revoked till is refused through the hub too.
    cloud
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{}/revoke", own.device_id),
            None,
        )
        .await;
    let (entry2, _, _) = common::sale_entry(own.device_id, 2, &[(product, 100)], 1);
    let body = serde_json::to_vec(&json!({
        "protocol": 1, "device": own.device_id, "mutations": [common::wire(&entry2)]
    }))
    .expect("body");
    let (status, _) = cloud
        .raw("/api/v1/hub/relay", Some(&credential), body)
        .await;
    assert_eq!(status, 403, "a revoked till");
    hub.shutdown().await;
}

/// A `tenda-server hub` process (killed with SIGKILL on drop).
struct HubProcess {
    child: std::process::Child,
    base_url: String,
}

impl HubProcess {
    fn start(upstream: &str, dir: &std::path::Path, port: u16, code: Option<&str>) -> HubProcess {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenda-server"));
        cmd.arg("hub")
            .args(["--upstream", upstream, "--round-ms", "200", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database")
            .arg(dir.join("hub.db"))
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::piped());
        if let Some(code) = code {
            cmd.args(["--code", code]);
        }
        let mut child = cmd.spawn().expect("tenda-server hub runs");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let base_url = loop {
            let line = lines
                .next()
                .expect("the hub printed its address")
                .expect("line");
            if let Some(url) = line.strip_prefix("hub listening on ") {
                break url.trim().to_owned();
            }
        };
        HubProcess { child, base_url }
    }

    fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hub process is killed with SIGKILL while it relays a backlog, and restarted: the cloud
/// ends with every sale once, in the till's order, with contiguous folios.
async fn hub_killed_mid_relay(backend: Backend) {
    const SALES: u64 = 4_000;
    let cloud = TestServer::start(backend).await;
    let products = [
        (cloud.create_product("A", "A", 300).await, 300),
        (cloud.create_product("B", "B", 450).await, 450),
    ];
    let link = CuttableLink::to(cloud.server.addr).await;
    let upstream = format!("http://{}", link.addr);
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let till = cloud.enroll(cloud.branch_id, 1, "Caixa 1").await;
    let code = hub_code(&cloud, cloud.branch_id).await;
    let mut hub = HubProcess::start(&upstream, dir.path(), port, Some(&code));
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(common::plain_tls())
        .build()
        .expect("client");
    let entries: Vec<_> = (1..=SALES)
        .map(|seq| common::sale_entry(till.device_id, seq, &products, 1).0)
        .collect();
    // The hub mirrors the till in its first round; until then it does not know the credential.
    let push = |chunk: &[tenda_domain::OutboxEntry]| {
        let body = tenda_sync::protocol::encode_push(till.device_id, chunk).expect("body");
        http.post(format!(
            "{}{}",
            hub.base_url,
            tenda_sync::protocol::paths::PUSH
        ))
        .bearer_auth(&till.credential)
        .header("content-type", "application/json")
        .body(body)
        .send()
    };
    let mut known = false;
    for _ in 0..100 {
        let resp = push(&entries[..1]).await.expect("the hub answers");
        if resp.status().as_u16() == 200 {
            known = true;
            break;
        }
        assert_eq!(resp.status().as_u16(), 401, "only unknown until mirrored");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(known, "the hub learned its branch's till");
    link.cut();
    for chunk in entries.chunks(500) {
        let resp = push(chunk).await.expect("the hub answers");
        assert_eq!(resp.status().as_u16(), 200);
    }
    // The internet returns; the hub is killed as soon as the cloud holds part of the backlog.
    link.restore();
    let mut killed_at = None;
    for _ in 0..3_000 {
        let n = cloud.count("SELECT COUNT(*) AS n FROM sales").await;
        if n > 1 {
            hub.kill_9();
            killed_at = Some(n);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let killed_at = killed_at.expect("the hub started relaying");
    assert!(
        killed_at < SALES as i64,
        "killed mid-relay, at {killed_at} sales"
    );
    let mut hub = HubProcess::start(&upstream, dir.path(), port, None);
    let mut done = false;
    for _ in 0..600 {
        if cloud.count("SELECT COUNT(*) AS n FROM sales").await == SALES as i64
            && cloud
                .count(&format!(
                    "SELECT last_seq AS n FROM devices WHERE id = '{}'",
                    till.device_id
                ))
                .await
                == SALES as i64
        {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        done,
        "the restarted hub relayed the rest (killed at {killed_at} sales)"
    );
    let folios = cloud.sale_folios().await;
    let mut numbers: Vec<u64> = folios.values().copied().collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=SALES).collect::<Vec<_>>(),
        "contiguous folios, none twice"
    );
    // In the till's order: folio order is outbox order.
    let sale_of_seq: Vec<u64> = entries
        .iter()
        .map(|e| match &e.mutation {
            tenda_domain::outbox::Mutation::SaleRecorded(r) => folios[&r.sale.id.as_uuid()],
            _ => unreachable!("sales only"),
        })
        .collect();
    assert!(
        sale_of_seq.windows(2).all(|w| w[0] < w[1]),
        "folios follow the till's order"
    );
    for (product, _) in products {
        assert_eq!(
            cloud
                .count(&format!(
                    "SELECT quantity AS n FROM stock_levels WHERE product_id = '{product}'"
                ))
                .await,
            -(SALES as i64) * 1000,
            "stock is the sum of the deltas"
        );
    }
    hub.kill_9();
}

// On PostgreSQL it is the cloud that moves there; the hub stays on SQLite.
suite!(
    store_day_through_the_hub,
    hub_relays_only_for_its_branch,
    hub_killed_mid_relay
);

/// Hub ↔ cloud over TLS: the hub pins the cloud's certificate at enrollment; a hub expecting
/// another certificate refuses to enroll, and the pinned one is kept for every later round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_pins_the_clouds_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let files =
        tenda_server::tls::write_self_signed(&dir.path().join("cloud"), &["127.0.0.1".into()])
            .expect("cert");
    let cloud = tenda_server::start(tenda_server::ServerConfig {
        database: DatabaseLocation::Sqlite(dir.path().join("cloud.db")),
        listen: "127.0.0.1:0".parse().expect("addr"),
        tls: Some(files),
    })
    .await
    .expect("cloud starts");
    let fingerprint = cloud.cert_fingerprint.clone().expect("TLS");
    let db = cloud.db.clone();
    let created = tokio::task::spawn_blocking(move || {
        tenda_server::create_store(
            &mut db.get().expect("conn"),
            "Mercado",
            "Matriz",
            "Ana",
            "ana",
            common::OWNER_PASSWORD,
        )
    })
    .await
    .expect("join")
    .expect("store");
    let client = tenda_sync::pinning::client_for(
        &cloud.base_url,
        Some(&fingerprint),
        Duration::from_secs(5),
    )
    .expect("client");
    let login: serde_json::Value = client
        .http
        .post(format!("{}/api/v1/admin/login", cloud.base_url))
        .json(&json!({"store_id": created.store_id, "login": "ana", "password": common::OWNER_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let code: serde_json::Value = client
        .http
        .post(format!("{}/api/v1/admin/hub-codes", cloud.base_url))
        .bearer_auth(login["token"].as_str().expect("token"))
        .json(&json!({"branch_id": created.branch_id}))
        .send()
        .await
        .expect("code")
        .json()
        .await
        .expect("json");
    let code = code["code"].as_str().expect("code").to_owned();
    let config = |db: &str| {
        let mut c = HubConfig::new(
            DatabaseLocation::Sqlite(dir.path().join(db)),
            "127.0.0.1:0".parse().expect("addr"),
            cloud.base_url.clone(),
        );
        c.code = Some(code.clone());
        c
    };
    let mut wrong = config("wrong.db");
    wrong.upstream_fingerprint = Some("ab".repeat(32));
    let refused = start_hub(wrong)
        .await
        .expect_err("another certificate is refused");
    assert!(
        refused.to_string().contains("enrolling with the cloud"),
        "{refused}"
    );
    let mut right = config("hub.db");
    right.upstream_fingerprint = Some(fingerprint.clone());
    let hub = start_hub(right).await.expect("the hub enrolls over TLS");
    let row = hub
        .state
        .db
        .run(tenda_server::hub::link::read_link)
        .await
        .expect("read")
        .expect("enrolled");
    assert_eq!(
        row.upstream_fingerprint.as_deref(),
        Some(fingerprint.as_str())
    );
    let mut changes = hub.state.subscribe_changes();
    while hub.state.link_state().last_contact_at.is_none() {
        changes.changed().await.expect("hub alive");
    }
    assert!(
        hub.state.link_state().online,
        "rounds run over the pinned TLS link"
    );
    hub.shutdown().await;
    cloud.shutdown().await;
}

/// The hub's cloud credential as its database keeps it.
async fn stored_credential(db: tenda_server::db::Db) -> String {
    use diesel::{QueryDsl, RunQueryDsl};
    use tenda_server::schema::hub_link;
    db.run(|conn| {
        Ok(tenda_server::with_conn!(conn, |c| hub_link::table
            .select(hub_link::credential)
            .first::<String>(c))?)
    })
    .await
    .expect("credential")
}

/// Writes the hub's credential as an earlier version kept it: in clear.
async fn store_credential_in_clear(db: tenda_server::db::Db, credential: String) {
    use diesel::{ExpressionMethods, RunQueryDsl};
    use tenda_server::schema::hub_link;
    db.run(move |conn| {
        Ok(tenda_server::with_conn!(conn, |c| diesel::update(
            hub_link::table
        )
        .set(hub_link::credential.eq(&credential))
        .execute(c))?)
    })
    .await
    .expect("written");
}
