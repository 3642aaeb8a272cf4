//! Tills for hub tests and benches: an encrypted device store with the real sync engine,
//! engine events to await, and a hub on loopback with a self-signed certificate.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tenda_domain::{
    Actor, Cart, CustomerId, DeviceId, Payment, ProductId, Quantity, SaleHeader, SaleId, UserId,
};
use tenda_server::hub::{HubConfig, RunningHub, start_hub};
use tenda_server::{DatabaseLocation, TlsFiles};
use tenda_store::{DbKey, SaleCommit, Store};
use tenda_sync::engine::{self, EngineConfig, SyncEvent, SyncHandle, SyncListener};
use tenda_sync::protocol::{EnrollResponse, hub_setting_key};
use tokio::sync::watch;
use uuid::Uuid;

use crate::common::TestServer;

pub const WAIT: Duration = Duration::from_secs(30);

/// Engine events a test waits on (every event moves `tick`).
#[derive(Default)]
pub struct Events {
    pub on_hub: AtomicBool,
    pub synced: AtomicU64,
    pub refused: AtomicU64,
    tick: Mutex<Option<watch::Sender<u64>>>,
}

impl Events {
    pub fn new() -> Arc<Events> {
        let e = Events::default();
        *e.tick.lock().expect("lock") = Some(watch::channel(0).0);
        Arc::new(e)
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
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
pub async fn until(events: &[&Arc<Events>], what: &str, mut cond: impl AsyncFnMut() -> bool) {
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

pub async fn futures_any(rxs: &mut [watch::Receiver<u64>]) {
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

pub struct Till {
    pub enrolled: EnrollResponse,
    pub store: Arc<Mutex<Store>>,
    pub events: Arc<Events>,
    pub handle: SyncHandle,
    _dir: tempfile::TempDir,
}

impl Till {
    pub async fn start(cloud: &TestServer, branch: Uuid, series: u32) -> Till {
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
    pub fn sell(&self, product: Uuid, price: i64, units: i64, customer: Option<Uuid>) -> SaleId {
        let mut cart = Cart::new();
        cart.add(
            &crate::common::product(product, price),
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

    pub fn stock(&self, product: Uuid) -> i64 {
        self.store
            .lock()
            .expect("lock")
            .stock_level(ProductId::from_uuid(product))
            .expect("stock")
            .thousandths()
    }

    pub fn balance(&self, customer: Uuid) -> Option<i64> {
        self.store
            .lock()
            .expect("lock")
            .customer(CustomerId::from_uuid(customer))
            .expect("customer")
            .map(|c| c.balance.centavos())
    }

    pub fn pending(&self) -> u64 {
        self.store
            .lock()
            .expect("lock")
            .outbox_pending_count()
            .expect("pending")
    }

    pub fn folio(&self, sale: SaleId) -> Option<u64> {
        self.store
            .lock()
            .expect("lock")
            .sale(sale)
            .expect("sale")
            .and_then(|s| s.folio)
    }
}

pub async fn start_the_hub(
    upstream: &str,
    dir: &std::path::Path,
    code: Option<String>,
) -> RunningHub {
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
pub async fn restart_the_hub(
    upstream: &str,
    dir: &std::path::Path,
    addr: SocketAddr,
) -> RunningHub {
    let mut config = HubConfig::new(DatabaseLocation::Sqlite(dir.join("hub.db")), addr, upstream);
    config.tls = Some(TlsFiles {
        cert_pem: dir.join("tls").join("cert.pem"),
        key_pem: dir.join("tls").join("key.pem"),
    });
    config.round_interval = Duration::from_millis(300);
    start_hub(config).await.expect("the hub restarts")
}

/// A sync call to the hub over its pinned TLS, as till `till`.
pub async fn hub_call(hub: &RunningHub, till: &Till, path: &str) -> (u16, serde_json::Value) {
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

pub async fn hub_code(cloud: &TestServer, branch: Uuid) -> String {
    let v = cloud
        .admin(
            "POST",
            "/api/v1/admin/hub-codes",
            Some(json!({"branch_id": branch})),
        )
        .await;
    v["code"].as_str().expect("code").to_owned()
}
