//! The store hub: a cloud (SQLite or PostgreSQL) and a hub (SQLite, TLS with a self-signed
//! certificate the tills pin) on loopback, the hub's internet behind a link the test cuts, and
//! two tills running the real sync engine over their own encrypted stores.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, PgCluster, TestServer};
use serde_json::json;
use tenda_domain::{
    Actor, Cart, CustomerId, DeviceId, Payment, ProductId, Quantity, SaleHeader, SaleId, UserId,
};
use tenda_server::hub::{HubConfig, RunningHub, start_hub};
use tenda_server::{DatabaseLocation, TlsFiles};
use tenda_store::{DbKey, SaleCommit, Store};
use tenda_sync::engine::{self, EngineConfig, SyncEvent, SyncHandle, SyncListener};
use tenda_sync::protocol::{EnrollResponse, hub_setting_key};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

/// The hub's internet: a TCP relay to the cloud that the test can cut (every open connection
/// dropped, new ones refused) and restore.
struct CuttableLink {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl CuttableLink {
    async fn to(target: SocketAddr) -> CuttableLink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (u, c) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    continue; // dropped: the peer sees its connection closed
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                c.lock().expect("lock").push(task.abort_handle());
            }
        });
        CuttableLink { addr, up, conns }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().expect("lock").drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Engine events a test waits on (every event moves `tick`).
#[derive(Default)]
struct Events {
    on_hub: AtomicBool,
    synced: AtomicU64,
    refused: AtomicU64,
    tick: Mutex<Option<watch::Sender<u64>>>,
}

impl Events {
    fn new() -> Arc<Events> {
        let e = Events::default();
        *e.tick.lock().expect("lock") = Some(watch::channel(0).0);
        Arc::new(e)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.tick
            .lock()
            .expect("lock")
            .as_ref()
            .expect("tick")
            .subscribe()
    }
}

impl SyncListener for Events {
    fn on_event(&self, event: SyncEvent) {
        match event {
            SyncEvent::Upstream { hub, .. } => self.on_hub.store(hub, Ordering::SeqCst),
            SyncEvent::Synced => {
                self.synced.fetch_add(1, Ordering::SeqCst);
            }
            SyncEvent::Refused { .. } => {
                self.refused.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
        if let Some(t) = self.tick.lock().expect("lock").as_ref() {
            t.send_modify(|v| *v += 1);
        }
    }
}

/// Awaits engine events until `cond` holds (checked after each event, and at least every
/// 200 ms for conditions on the servers, which send the tills no events).
async fn until(events: &[&Arc<Events>], what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut rxs: Vec<_> = events.iter().map(|e| e.subscribe()).collect();
    loop {
        if cond().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        let changed = futures_any(&mut rxs);
        let _ = tokio::time::timeout(Duration::from_millis(200), changed).await;
    }
}

async fn futures_any(rxs: &mut [watch::Receiver<u64>]) {
    if rxs.is_empty() {
        return std::future::pending().await;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut tasks = Vec::new();
    for r in rxs.iter() {
        let mut r = r.clone();
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let _ = r.changed().await;
            let _ = tx.send(()).await;
        }));
    }
    rx.recv().await;
    for t in tasks {
        t.abort();
    }
}

struct Till {
    enrolled: EnrollResponse,
    store: Arc<Mutex<Store>>,
    events: Arc<Events>,
    handle: SyncHandle,
    _dir: tempfile::TempDir,
}

impl Till {
    async fn start(cloud: &TestServer, branch: Uuid, series: u32) -> Till {
        let enrolled = cloud
            .enroll(branch, series, &format!("Caixa {series}"))
            .await;
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(dir.path().join("till.db"), &DbKey::generate()).expect("store");
        let store = Arc::new(Mutex::new(store));
        let events = Events::new();
        let mut config = EngineConfig::new(
            cloud.server.base_url.clone(),
            enrolled.device_id,
            enrolled.credential.clone(),
        );
        config.hub_setting = Some(hub_setting_key(branch));
        config.poll_interval = Duration::from_millis(300);
        config.backoff_min = Duration::from_millis(20);
        config.backoff_max = Duration::from_millis(300);
        config.request_timeout = Duration::from_secs(3);
        let handle = engine::start(config, store.clone(), events.clone()).expect("engine");
        Till {
            enrolled,
            store,
            events,
            handle,
            _dir: dir,
        }
    }

    /// A sale of `units` of `product` (price `price`), on `customer`'s account when given.
    fn sell(&self, product: Uuid, price: i64, units: i64, customer: Option<Uuid>) -> SaleId {
        let mut cart = Cart::new();
        cart.add(
            &common::product(product, price),
            Quantity::from_units(units).expect("qty"),
        )
        .expect("add");
        let total = cart.totals().expect("totals").total;
        let payment = match customer {
            Some(c) => {
                cart.customer_id = Some(CustomerId::from_uuid(c));
                Payment::on_account(total, CustomerId::from_uuid(c))
            }
            None => Payment::pix(total, None),
        };
        let id = SaleId::new();
        let seller = UserId::new();
        let sale = cart
            .checkout(
                SaleHeader {
                    id,
                    device_id: DeviceId::from_uuid(self.enrolled.device_id),
                    seller_id: seller,
                    created_at: chrono::Utc::now(),
                },
                vec![payment],
            )
            .expect("checkout");
        self.store
            .lock()
            .expect("lock")
            .commit_sale(&SaleCommit {
                sale,
                actor: Actor::User(seller),
                register_session_id: None,
            })
            .expect("the sale commits offline");
        self.handle.sync_now();
        id
    }

    fn stock(&self, product: Uuid) -> i64 {
        self.store
            .lock()
            .expect("lock")
            .stock_level(ProductId::from_uuid(product))
            .expect("stock")
            .thousandths()
    }

    fn balance(&self, customer: Uuid) -> Option<i64> {
        self.store
            .lock()
            .expect("lock")
            .customer(CustomerId::from_uuid(customer))
            .expect("customer")
            .map(|c| c.balance.centavos())
    }

    fn pending(&self) -> u64 {
        self.store
            .lock()
            .expect("lock")
            .outbox_pending_count()
            .expect("pending")
    }

    fn folio(&self, sale: SaleId) -> Option<u64> {
        self.store
            .lock()
            .expect("lock")
            .sale(sale)
            .expect("sale")
            .and_then(|s| s.folio)
    }
}

async fn start_the_hub(upstream: &str, dir: &std::path::Path, code: Option<String>) -> RunningHub {
    let tls = tenda_server::tls::write_self_signed(&dir.join("tls"), &["127.0.0.1".to_owned()])
        .expect("self-signed certificate");
    let mut config = HubConfig::new(
        DatabaseLocation::Sqlite(dir.join("hub.db")),
        "127.0.0.1:0".parse().expect("addr"),
        upstream,
    );
    config.tls = Some(TlsFiles {
        cert_pem: tls.cert_pem,
        key_pem: tls.key_pem,
    });
    config.code = code;
    config.name = "Hub da loja".into();
    config.round_interval = Duration::from_millis(300);
    start_hub(config).await.expect("hub starts")
}

/// A hub's second start reuses its enrollment and certificate (same files) and its port (the
/// address the cloud told the tills).
async fn restart_the_hub(upstream: &str, dir: &std::path::Path, addr: SocketAddr) -> RunningHub {
    let mut config = HubConfig::new(DatabaseLocation::Sqlite(dir.join("hub.db")), addr, upstream);
    config.tls = Some(TlsFiles {
        cert_pem: dir.join("tls").join("cert.pem"),
        key_pem: dir.join("tls").join("key.pem"),
    });
    config.round_interval = Duration::from_millis(300);
    start_hub(config).await.expect("the hub restarts")
}

/// A sync call to the hub over its pinned TLS, as till `till`.
async fn hub_call(hub: &RunningHub, till: &Till, path: &str) -> (u16, serde_json::Value) {
    let client = tenda_sync::pinning::client_for(
        hub.base_url(),
        hub.server.cert_fingerprint.as_deref(),
        Duration::from_secs(5),
    )
    .expect("pinned client");
    let resp = client
        .http
        .post(format!("{}{path}", hub.base_url()))
        .bearer_auth(&till.enrolled.credential)
        .json(&json!({"protocol": 1, "cursor": null}))
        .send()
        .await
        .expect("the hub answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

async fn hub_code(cloud: &TestServer, branch: Uuid) -> String {
    let v = cloud
        .admin(
            "POST",
            "/api/v1/admin/hub-codes",
            Some(json!({"branch_id": branch})),
        )
        .await;
    v["code"].as_str().expect("code").to_owned()
}

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
        cloud.count("SELECT COUNT(*) AS n FROM sales").await,
        0,
        "nothing reached the cloud while the hub was offline"
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
                && sold.iter().all(|(t, s)| [&a, &b][*t].folio(*s).is_some())
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

    // The hub returns (same database and certificate): the tills come back to it and nothing
    // is applied twice, at the hub or at the cloud.
    let hub = restart_the_hub(&upstream, hub_dir.path(), hub_addr).await;
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
                && sold.iter().all(|(t, s)| [&a, &b][*t].folio(*s).is_some())
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
        assert_eq!([&a, &b][*t].folio(*s), folios.get(&s.as_uuid()).copied());
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
    a.handle.stop().await;
    b.handle.stop().await;
}

/// A hub relays only for its own branch's live tills.
async fn hub_relays_only_for_its_branch(backend: Backend) {
    let cloud = TestServer::start(backend).await;
    let other_branch = cloud.create_branch("Filial").await;
    let link = CuttableLink::to(cloud.server.addr).await;
    let dir = tempfile::tempdir().expect("dir");
    let code = hub_code(&cloud, cloud.branch_id).await;
    let hub = start_the_hub(&format!("http://{}", link.addr), dir.path(), Some(code)).await;
    let credential = {
        let db = hub.state.db.clone();
        tokio::task::spawn_blocking(move || {
            use diesel::{QueryDsl, RunQueryDsl};
            use tenda_server::schema::hub_link;
            let mut conn = db.get().expect("conn");
            match &mut conn {
                tenda_server::db::Conn::Sqlite(c) => hub_link::table
                    .select(hub_link::credential)
                    .first::<String>(&mut **c),
                tenda_server::db::Conn::Pg(c) => hub_link::table
                    .select(hub_link::credential)
                    .first::<String>(&mut **c),
            }
            .expect("credential")
        })
        .await
        .expect("join")
    };
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

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::sqlite()).await;
                }
            )*
        }

        /// The same with the cloud on PostgreSQL (the hub stays on SQLite).
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_suite() {
            let cluster = tokio::task::spawn_blocking(PgCluster::start).await.expect("cluster");
            $( $name(cluster.fresh_database()).await; )*
            drop(cluster);
        }
    };
}

suite!(store_day_through_the_hub, hub_relays_only_for_its_branch);
