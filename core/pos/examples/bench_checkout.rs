//! Offline checkout end to end — 5 lines rung up, cash, NFC-e signed in contingency, durable
//! commit, receipt laid out and encoded — p50/p99 over ≥ 2,000 sales, beside the floor measured
//! in the same run, in alternating blocks: one durable SQLCipher commit plus one RSA-2048 SHA-1
//! signature.
// Amounts in centavos are written reais_centavos (100_00 = R$ 100,00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tenda_domain::{DeviceId, FiscalData, Money, Product, ProductId, Role, Unit, User, UserId};
use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_pos::credentials::{Secret, hash_secret};
use tenda_pos::{
    Approval, MemoryKeyStore, OpenConfig, PaymentRequest, Platform, Pos, PosConfig, SefazRoute,
};
use tenda_store::{DbKey, LocalChange, Store};

const SALES: usize = 2_000;
const WARMUP: usize = 50;
/// Checkouts (then floor commits) measured in a row before the other takes its turn.
const BLOCK: usize = 100;
/// Sales whose WAL pages are counted.
const FRAME_SAMPLES: usize = 50;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

fn user(login: &str, role: Role, pin: &str) -> User {
    User {
        id: UserId::new(),
        name: login.to_owned(),
        login: login.to_owned(),
        role,
        credential_hash: hash_secret(&Secret::Pin(pin.into())).expect("valid PIN"),
        active: true,
        version: 1,
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pfx = tenda_fiscal::samples::PUBLIC_TEST_PFX.to_vec();

    let mut config = PosConfig::new(DeviceId::new(), sample_emitter(Crt::SimplesNacional));
    config.contingency.max_notes = 1_000_000;
    let mut open = OpenConfig::new(
        dir.path().join("device.db").display().to_string(),
        "bench".into(),
    );
    open.sefaz = SefazRoute::NotConfigured;
    let pos = Pos::create(open, Platform::new(Arc::new(MemoryKeyStore::new())), config)
        .expect("device store");
    let owner = user("dona", Role::Owner, "9999");
    let seller = user("bia", Role::Seller, "1111");
    let products: Vec<Product> = (0..5)
        .map(|i| Product {
            id: ProductId::new(),
            sku: format!("B{i:03}"),
            gtin: None,
            name: format!("Produto de bancada {i}"),
            unit: Unit::Each,
            price: Money::from_centavos(3_49 + i * 100),
            fiscal: FiscalData::simples_nacional("19059090"),
            active: true,
            version: 1,
        })
        .collect();
    pos.inspect_store(|s| {
        s.save_user(&owner).expect("owner");
        s.save_user(&seller).expect("seller");
        for p in &products {
            s.save_product(p).expect("product");
        }
    });
    let owner_ok = Approval {
        login: "dona".into(),
        secret: Secret::Pin("9999".into()),
    };
    pos.install_certificate(pfx.clone(), "minhasenha".into(), owner_ok.clone())
        .expect("certificate installs");
    pos.sign_in("bia".into(), Secret::Pin("1111".into()))
        .expect("seller signs in");
    pos.open_register(Money::from_centavos(100_00), Some(owner_ok.clone()))
        .expect("register opens");
    pos.enter_contingency(
        "Queda do link de internet da loja".into(),
        Some(owner_ok.clone()),
    )
    .expect("contingency");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");

    // The floor: one durable SQLCipher commit and one RSA-2048 SHA-1 signature, same machine,
    // same run.
    let mut floor_store =
        Store::open(dir.path().join("floor.db"), &DbKey::generate()).expect("floor store");
    let cert =
        tenda_fiscal::A1Certificate::from_pkcs12_der(&pfx, "minhasenha").expect("certificate");
    let data = vec![b'x'; 1500];
    let floor_once = |floor_store: &mut Store, i: usize| {
        let start = Instant::now();
        floor_commit(floor_store, i);
        let mut signer =
            openssl::sign::Signer::new(openssl::hash::MessageDigest::sha1(), cert.private_key())
                .expect("signer");
        signer.update(&data).expect("hash");
        let sig = signer.sign_to_vec().expect("sign");
        assert_eq!(sig.len(), 256);
        start.elapsed()
    };

    // Checkouts and the floor alternate in blocks, so both meet the same machine: a shared
    // machine's disk and CPU change speed from one minute to the next. Each block is long
    // enough that switching costs nothing measurable (warm caches, one b-tree path each).
    let mut times = Vec::with_capacity(SALES);
    let mut ringing = Vec::with_capacity(SALES);
    let mut floor = Vec::with_capacity(SALES);
    for i in 0..WARMUP {
        sell(&pos, &products, &rt);
        floor_once(&mut floor_store, i);
    }
    for block in 0..SALES / BLOCK {
        for _ in 0..BLOCK {
            let start = Instant::now();
            let rung = sell(&pos, &products, &rt);
            times.push(start.elapsed());
            ringing.push(rung);
        }
        for i in 0..BLOCK {
            floor.push(floor_once(&mut floor_store, WARMUP + block * BLOCK + i));
        }
    }
    times.sort();
    ringing.sort();
    floor.sort();

    let p50 = percentile(&times, 0.5);
    println!("checkout_offline_sales: {SALES} sales");
    println!("checkout_offline_p50: {p50:.3} ms");
    println!("checkout_offline_p99: {:.3} ms", percentile(&times, 0.99));
    println!(
        "checkout_ring_up_5_lines_p50: {:.3} ms",
        percentile(&ringing, 0.5)
    );
    let floor50 = percentile(&floor, 0.5);
    println!("floor_commit_plus_sign_p50: {floor50:.3} ms");
    println!(
        "floor_commit_plus_sign_p99: {:.3} ms",
        percentile(&floor, 0.99)
    );
    println!("checkout_over_floor_p50: {:.3} ms", p50 - floor50);
    println!("checkout_offline_p50_over_floor: {:.2} x", p50 / floor50);

    // Pages each commit writes to the WAL, every one encrypted, MACed, written and made durable:
    // after a checkpoint empties the WAL, the frames one commit leaves in it. Unlike the times,
    // the machine's speed does not move these.
    let (mut sale_frames, mut floor_frames) = (0, 0);
    for i in 0..FRAME_SAMPLES {
        pos.inspect_store(|s| s.checkpoint()).expect("checkpoints");
        sell(&pos, &products, &rt);
        sale_frames += tenda_store::wal_pages(&dir.path().join("device.db"));
        floor_store.checkpoint().expect("checkpoints");
        floor_commit(&mut floor_store, i);
        floor_frames += tenda_store::wal_pages(&dir.path().join("floor.db"));
    }
    println!(
        "checkout_commit_wal_pages: {:.1} pages",
        sale_frames as f64 / FRAME_SAMPLES as f64
    );
    println!(
        "floor_commit_wal_pages: {:.1} pages",
        floor_frames as f64 / FRAME_SAMPLES as f64
    );
}

/// Rings up one of each product and pays cash; returns how long the ring-up took.
fn sell(pos: &Pos, products: &[Product], rt: &tokio::runtime::Runtime) -> Duration {
    let start = Instant::now();
    for p in products {
        pos.scan(p.sku.clone(), None).expect("scan");
    }
    let total = pos.ticket().expect("ticket").total;
    let rung = start.elapsed();
    let outcome = rt
        .block_on(pos.checkout(vec![PaymentRequest::Cash {
            amount: total,
            tendered: Money::from_centavos(100_00),
        }]))
        .expect("checkout");
    assert!(outcome.receipt_bytes > 0 && outcome.note.is_some());
    rung
}

/// The floor's durable commit: one setting written in one transaction.
fn floor_commit(store: &mut Store, i: usize) {
    let change = LocalChange {
        settings: vec![("bench.floor".into(), i.to_string())],
        mutations: vec![],
        audit: vec![],
        ..Default::default()
    };
    store.record_local_change(&change).expect("durable commit");
}
