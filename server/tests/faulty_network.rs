//! 10,000 sales from three devices, each with a real encrypted store and the real sync engine,
//! reach the server through a proxy that drops, delays, duplicates, resets and truncates at
//! random — and end on the server exactly once.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Backend, TestServer, product};
use rand::Rng;
use tenda_domain::{Actor, Cart, DeviceId, Payment, Quantity, SaleHeader, SaleId, UserId};
use tenda_store::{DbKey, SaleCommit, Store};
use tenda_sync::engine::{self, EngineConfig, SyncEvent, SyncListener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one connection.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Pass,
    /// Close at once (the client sees a reset or an empty reply).
    Reset,
    /// Every chunk waits a little.
    Delay,
    /// The request reaches the server, the reply never reaches the client.
    DropReply,
    /// Only the first bytes of the reply get through.
    Truncate(usize),
    /// Every request is also sent a second time on another connection.
    Duplicate,
}

#[derive(Default)]
struct FaultCounts {
    connections: AtomicU64,
    faulty: AtomicU64,
}

async fn proxy(upstream: SocketAddr, counts: Arc<FaultCounts>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let fault = {
                let mut rng = rand::rng();
                match rng.random_range(0..100) {
                    0..=9 => Fault::Reset,
                    10..=19 => Fault::Delay,
                    20..=29 => Fault::DropReply,
                    30..=39 => Fault::Truncate(rng.random_range(0..300)),
                    40..=49 => Fault::Duplicate,
                    _ => Fault::Pass,
                }
            };
            counts.connections.fetch_add(1, Ordering::Relaxed);
            if !matches!(fault, Fault::Pass) {
                counts.faulty.fetch_add(1, Ordering::Relaxed);
            }
            // Connections are kept alive between requests, so besides its fault each one is cut
            // after a random lifetime: requests and replies get lost mid-flight.
            let lifetime = Duration::from_millis(rand::rng().random_range(30..400));
            let counts = counts.clone();
            tokio::spawn(async move {
                if tokio::time::timeout(lifetime, handle(client, upstream, fault))
                    .await
                    .is_err()
                {
                    counts.faulty.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    addr
}

async fn handle(client: TcpStream, upstream: SocketAddr, fault: Fault) {
    if let Fault::Reset = fault {
        drop(client);
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let twin = match fault {
        Fault::Duplicate => TcpStream::connect(upstream).await.ok(),
        _ => None,
    };
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async move {
        let mut twin = twin;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Fault::Delay = fault {
                let pause = Duration::from_millis(rand::rng().random_range(0..30));
                tokio::time::sleep(pause).await;
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
            if let Some(t) = twin.as_mut() {
                // The duplicate's replies are read and thrown away so the server never blocks.
                let _ = t.write_all(&buf[..n]).await;
                let mut sink = [0u8; 64 * 1024];
                let _ = tokio::time::timeout(Duration::from_millis(1), t.read(&mut sink)).await;
            }
        }
        let _ = sw.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut sent = 0usize;
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            match fault {
                Fault::DropReply => break,
                Fault::Truncate(limit) => {
                    let room = limit.saturating_sub(sent);
                    let _ = cw.write_all(&buf[..n.min(room)]).await;
                    sent += n.min(room);
                    if sent >= limit {
                        break;
                    }
                }
                Fault::Delay => {
                    let pause = Duration::from_millis(rand::rng().random_range(0..30));
                    tokio::time::sleep(pause).await;
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                _ => {
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}

#[derive(Default)]
struct Events {
    offline: AtomicU64,
    folios: AtomicU64,
    pulls_finished: AtomicU64,
}

impl SyncListener for Events {
    fn on_event(&self, event: SyncEvent) {
        match event {
            SyncEvent::Offline { .. } => {
                self.offline.fetch_add(1, Ordering::Relaxed);
            }
            SyncEvent::Folios(f) => {
                self.folios.fetch_add(f.len() as u64, Ordering::Relaxed);
            }
            SyncEvent::PullFinished { .. } => {
                self.pulls_finished.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_sales_through_a_faulty_network_land_exactly_once() {
    let t = TestServer::start(Backend::sqlite()).await;
    let prices = [350i64, 1_290, 799];
    let mut products = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        products.push((
            t.create_product(&format!("F{i}"), &format!("Item {i}"), *price)
                .await,
            *price,
        ));
    }
    let counts = Arc::new(FaultCounts::default());
    let proxy_addr = proxy(t.server.addr, counts.clone()).await;
    let base_url = format!("http://{proxy_addr}");

    let per_device = [3_334u64, 3_333, 3_333];
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let mut devices = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let enrolled = t
            .enroll(t.branch_id, i as u32 + 1, &format!("Caixa {i}"))
            .await;
        let store =
            Store::open(dir.path().join("device.db"), &DbKey::generate()).expect("open store");
        let store = Arc::new(Mutex::new(store));
        let events = Arc::new(Events::default());
        let mut config = EngineConfig::new(
            base_url.clone(),
            enrolled.device_id,
            enrolled.credential.clone(),
        );
        config.push_batch = 250;
        config.poll_interval = Duration::from_millis(100);
        config.backoff_min = Duration::from_millis(10);
        config.backoff_max = Duration::from_millis(200);
        config.request_timeout = Duration::from_secs(5);
        let handle = engine::start(config, store.clone(), events.clone()).expect("engine starts");
        devices.push((enrolled, store, events, handle));
    }

    // Devices sell what they pulled: wait for each one's first catalog pull (through the proxy).
    let waiting = Instant::now();
    while devices
        .iter()
        .any(|d| d.2.pulls_finished.load(Ordering::Relaxed) == 0)
    {
        assert!(
            waiting.elapsed() < Duration::from_secs(20),
            "the first pull never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Sell on every device while the engines push through the faulty link.
    let mut sellers = Vec::new();
    for (d, (enrolled, store, _, _)) in devices.iter().enumerate() {
        let store = store.clone();
        let device_id = enrolled.device_id;
        let n = per_device[d];
        let products = products.clone();
        sellers.push(tokio::task::spawn_blocking(move || {
            let mut total = 0i64;
            let seller = UserId::new();
            for i in 0..n {
                let (pid, price) = products[(i as usize) % products.len()];
                let mut cart = Cart::new();
                cart.add(
                    &product(pid, price),
                    Quantity::from_units(1 + (i as i64 % 3)).expect("q"),
                )
                .expect("add");
                let amount = cart.totals().expect("totals").total;
                let sale = cart
                    .checkout(
                        SaleHeader {
                            id: SaleId::new(),
                            device_id: DeviceId::from_uuid(device_id),
                            seller_id: seller,
                            created_at: chrono::Utc::now(),
                        },
                        vec![Payment::pix(amount, None)],
                    )
                    .expect("checkout");
                total += amount.centavos();
                let commit = SaleCommit {
                    sale,
                    actor: Actor::User(seller),
                    register_session_id: None,
                };
                store
                    .lock()
                    .expect("lock")
                    .commit_sale(&commit)
                    .expect("sale commits offline");
            }
            total
        }));
    }
    let mut expected_total = 0i64;
    for s in sellers {
        expected_total += s.await.expect("seller");
    }
    for (_, _, _, h) in &devices {
        h.sync_now();
    }

    let started = Instant::now();
    loop {
        let mut pending = 0u64;
        for (_, store, _, _) in &devices {
            pending += store
                .lock()
                .expect("lock")
                .outbox_pending_count()
                .expect("count");
        }
        if pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(50),
            "{pending} mutations still pending after 50 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Exactly once: count, totals, folios and every device's sequence.
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sales").await, 10_000);
    assert_eq!(
        t.count("SELECT COALESCE(SUM(total_cents), 0) AS n FROM sales")
            .await,
        expected_total
    );
    assert_eq!(
        t.count("SELECT COUNT(DISTINCT folio) AS n FROM sales")
            .await,
        10_000
    );
    assert_eq!(
        t.count("SELECT MAX(folio) AS n FROM sales").await,
        10_000,
        "folios 1..=10000 without holes"
    );
    for (d, (enrolled, store, _, _)) in devices.iter().enumerate() {
        let last = store.lock().expect("lock").outbox_last_seq().expect("seq") as i64;
        let id = enrolled.device_id;
        assert_eq!(
            t.count(&format!(
                "SELECT last_seq AS n FROM devices WHERE id = '{id}'"
            ))
            .await,
            last
        );
        assert_eq!(
            t.count(&format!(
                "SELECT COUNT(*) AS n FROM applied_mutations WHERE device_id = '{id}'"
            ))
            .await,
            last,
            "every outbox number of the device recorded once"
        );
        assert_eq!(
            t.count(&format!(
                "SELECT COUNT(*) AS n FROM sales WHERE device_id = '{id}'"
            ))
            .await,
            per_device[d] as i64
        );
    }
    // Every device sale carries the folio the server gave it, though replies were lost on the
    // way: a resent batch is answered with the folios of the sales already applied.
    let server_folios = t.sale_folios().await;
    for (_, store, _, _) in &devices {
        let mut store = store.lock().expect("lock");
        let ids = store.sale_ids_after(0, 10_000).expect("sale ids");
        for id in ids {
            let stored = store.sale(id).expect("read").expect("sale kept");
            assert_eq!(
                stored.folio,
                server_folios.get(&id.as_uuid()).copied(),
                "sale {id:?} holds the server's folio"
            );
        }
    }
    let faulty = counts.faulty.load(Ordering::Relaxed);
    assert!(
        faulty >= 10,
        "the proxy must actually have misbehaved ({faulty} faulty connections)"
    );
    let offline: u64 = devices
        .iter()
        .map(|d| d.2.offline.load(Ordering::Relaxed))
        .sum();
    assert!(offline > 0, "the engines saw failures and retried");
    for (_, _, _, h) in devices {
        h.stop().await;
    }
    t.server.shutdown().await;
}

/// The engine writes the folios the server assigns onto the device's own sales.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_sales_take_their_server_folios_on_the_device() {
    let t = TestServer::start(Backend::sqlite()).await;
    let pid = t.create_product("FOL", "Item", 500).await;
    // Another device's sale first, so this device's folios do not simply equal its local numbers.
    let other = t.enroll(t.branch_id, 2, "Caixa 2").await;
    let (entry, _, _) = common::sale_entry(other.device_id, 1, &[(pid, 500)], 1);
    let (status, body) = t.push_slice(&other, &[common::wire(&entry)]).await;
    assert_eq!(status, 200, "{body}");

    let enrolled = t.enroll(t.branch_id, 1, "Caixa 1").await;
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(dir.path().join("device.db"), &DbKey::generate()).expect("store");
    let store = Arc::new(Mutex::new(store));
    let events = Arc::new(Events::default());
    let mut config = EngineConfig::new(
        t.server.base_url.clone(),
        enrolled.device_id,
        enrolled.credential.clone(),
    );
    config.push_batch = 2;
    let handle = engine::start(config, store.clone(), events.clone()).expect("engine starts");
    // The device sells what it pulled.
    let started = Instant::now();
    while events.pulls_finished.load(Ordering::Relaxed) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "pull never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let seller = UserId::new();
    let mut sale_ids = Vec::new();
    for _ in 0..3 {
        let mut cart = Cart::new();
        cart.add(&product(pid, 500), Quantity::from_units(1).expect("q"))
            .expect("add");
        let amount = cart.totals().expect("totals").total;
        let id = SaleId::new();
        let sale = cart
            .checkout(
                SaleHeader {
                    id,
                    device_id: DeviceId::from_uuid(enrolled.device_id),
                    seller_id: seller,
                    created_at: chrono::Utc::now(),
                },
                vec![Payment::pix(amount, None)],
            )
            .expect("checkout");
        let mut store = store.lock().expect("lock");
        store
            .commit_sale(&SaleCommit {
                sale,
                actor: Actor::User(seller),
                register_session_id: None,
            })
            .expect("sale commits");
        let stored = store.sale(id).expect("read").expect("kept");
        assert_eq!(stored.folio, None, "no folio before the push");
        sale_ids.push(id);
    }
    handle.sync_now();

    // The engine announces folios after writing them to the store.
    while events.folios.load(Ordering::Relaxed) < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "push never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.stop().await;
    let pending = store.lock().expect("lock").outbox_pending_count();
    assert_eq!(pending.expect("count"), 0, "everything pushed");

    let server = t.sale_folios().await;
    for (n, id) in sale_ids.iter().enumerate() {
        let on_device = store
            .lock()
            .expect("lock")
            .sale(*id)
            .expect("read")
            .expect("kept")
            .folio;
        // Folio 1 went to the other device's sale; these arrived next, in order, over two
        // requests (push_batch 2).
        assert_eq!(
            on_device,
            Some(n as u64 + 2),
            "sale {n} holds its server folio"
        );
        assert_eq!(on_device, server.get(&id.as_uuid()).copied());
    }
    t.server.shutdown().await;
}
