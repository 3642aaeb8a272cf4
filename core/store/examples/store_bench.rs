//! Store benchmark: durable sale commits against a bare SQLCipher commit, catalog load, lookups.
//! Prints one `<name>: <value> <unit>` line per figure. Run in release:
//! `cargo run --release -q -p tenda-store --example store_bench`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use tenda_domain::*;
use tenda_store::{DbKey, LoadProgress, PullChange, SaleCommit, Store};

const SALES: usize = 2_000;
const WARMUP: usize = 50;
const PRODUCTS: u64 = 300_000;
const CUSTOMERS: u64 = 50_000;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn ean13(n: u64) -> String {
    let data = format!("789{:09}", n % 1_000_000_000);
    let digits: Vec<u8> = data.bytes().map(|b| b - b'0').collect();
    format!("{data}{}", tenda_domain::gtin::gs1_check_digit(&digits))
}

const ITEMS: [&str; 24] = [
    "Pão",
    "Café",
    "Açúcar",
    "Feijão",
    "Arroz",
    "Leite",
    "Queijo",
    "Presunto",
    "Biscoito",
    "Macarrão",
    "Óleo",
    "Sabão",
    "Detergente",
    "Refrigerante",
    "Cerveja",
    "Suco",
    "Iogurte",
    "Manteiga",
    "Farinha",
    "Sal",
    "Molho",
    "Chocolate",
    "Vinho",
    "Água",
];
const KINDS: [&str; 16] = [
    "Francês",
    "Integral",
    "Tradicional",
    "Extra Forte",
    "Refinado",
    "Carioca",
    "Preto",
    "Parboilizado",
    "Desnatado",
    "Mussarela",
    "Cozido",
    "Recheado",
    "Espaguete",
    "de Soja",
    "em Pó",
    "Natural",
];
const BRANDS: [&str; 20] = [
    "União",
    "Pilão",
    "Camil",
    "Tio João",
    "Italac",
    "Tirolez",
    "Sadia",
    "Bauducco",
    "Renata",
    "Liza",
    "Ypê",
    "Omo",
    "Guaraná",
    "Brahma",
    "Del Valle",
    "Nestlé",
    "Aviação",
    "Dona Benta",
    "Cisne",
    "Garoto",
];

fn product_name(i: u64) -> String {
    let item = ITEMS[(i % 24) as usize];
    let kind = KINDS[((i / 24) % 16) as usize];
    let brand = BRANDS[((i / 384) % 20) as usize];
    format!("{item} {kind} {brand} {}g", 50 + (i / 7680) * 10)
}

fn product(i: u64) -> Product {
    Product {
        id: ProductId::new(),
        sku: format!("SKU{i:07}"),
        gtin: Some(Gtin::parse(&ean13(i)).expect("computed check digit")),
        name: product_name(i),
        unit: if i.is_multiple_of(10) {
            Unit::Kilogram
        } else {
            Unit::Each
        },
        price: Money::from_centavos(99 + (i % 5_000) as i64),
        fiscal: FiscalData::simples_nacional("19052090"),
        active: true,
        version: 1,
    }
}

fn customer(i: u64) -> Customer {
    Customer {
        id: CustomerId::new(),
        name: format!("Cliente {} {}", BRANDS[(i % 20) as usize], i),
        tax_id: None,
        phone: None,
        email: None,
        balance: Money::from_centavos(-((i % 1000) as i64)),
        overdraft_limit: Money::from_centavos(50_000),
        active: true,
        version: 1,
    }
}

/// CPU time (user + system) this process has used, from /proc (Linux); the machines running the
/// bench are shared, so wall time alone overstates the cost.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time this thread has run (`CLOCK_THREAD_CPUTIME_ID`): separates the work a lookup does
/// from time spent waiting for a core on a shared machine.
#[allow(unsafe_code)]
fn thread_cpu() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

fn bench_dir() -> PathBuf {
    let base = std::env::var_os("TENDA_BENCH_DIR")
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    std::fs::create_dir_all(&base).expect("bench directory");
    base
}

const FRAME_SAMPLES: usize = 50;

/// A bare SQLCipher database with the same key kind, page MAC and pragmas as the store,
/// committing one row per transaction.
fn bare_connection(path: &std::path::Path, key: &DbKey) -> SqliteConnection {
    let mut c = SqliteConnection::establish(path.to_str().expect("utf-8")).expect("opens");
    c.batch_execute(&format!(
        "PRAGMA cipher_log_level = NONE; PRAGMA key = \"x'{}'\";
         PRAGMA cipher_hmac_algorithm = HMAC_SHA256;
         PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);",
        key.to_hex()
    ))
    .expect("bare setup");
    c
}

fn sale(products: &[Product], rng: &mut Rng, device: DeviceId, seller: UserId) -> Sale {
    let mut cart = Cart::new();
    for _ in 0..10 {
        let p = &products[rng.below(products.len() as u64) as usize];
        let q = if p.unit == Unit::Kilogram {
            Quantity::from_thousandths(1 + rng.below(2_000) as i64)
        } else {
            Quantity::from_units(1 + rng.below(3) as i64).expect("fits")
        };
        cart.add(p, q).expect("valid line");
    }
    let total = cart.totals().expect("valid").total;
    let card = Money::from_centavos(total.centavos() / 2);
    let cash = total.checked_sub(card).expect("fits");
    cart.checkout(
        SaleHeader {
            id: SaleId::new(),
            device_id: device,
            seller_id: seller,
            created_at: Utc::now(),
        },
        vec![
            Payment::card(
                card,
                CardKind::Credit,
                Some("VISA".into()),
                Some("A1B2C3".into()),
            ),
            Payment::cash(
                cash,
                cash.checked_add(Money::from_centavos(500)).expect("fits"),
            )
            .expect("enough"),
        ],
    )
    .expect("settled")
}

fn main() {
    let dir = tempfile::tempdir_in(bench_dir()).expect("temp dir");
    let key = DbKey::generate();

    // 1. Sale commits vs a bare single-row commit, interleaved so both see the same disk.
    let mut store = Store::open(dir.path().join("sales.db"), &key).expect("opens");
    let products: Vec<Product> = (0..200).map(product).collect();
    store
        .load_catalog(products.clone(), &mut |_| {})
        .expect("loads");
    let mut bare = bare_connection(&dir.path().join("bare.db"), &key);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (device, seller) = (DeviceId::new(), UserId::new());
    let mut sale_times = Vec::with_capacity(SALES);
    let mut bare_times = Vec::with_capacity(SALES);
    let (mut sale_cpu, mut bare_cpu) = (Vec::with_capacity(SALES), Vec::with_capacity(SALES));
    for i in 0..SALES + WARMUP {
        let commit = SaleCommit {
            sale: sale(&products, &mut rng, device, seller),
            actor: Actor::User(seller),
            register_session_id: None,
        };
        let c0 = thread_cpu();
        let t = Instant::now();
        bare.batch_execute("BEGIN IMMEDIATE; INSERT INTO t (v) VALUES (randomblob(64)); COMMIT;")
            .expect("bare commit");
        let bare_t = t.elapsed();
        let c1 = thread_cpu();
        let t = Instant::now();
        store.commit_sale(&commit).expect("sale commits");
        let sale_t = t.elapsed();
        let c2 = thread_cpu();
        if i >= WARMUP {
            bare_times.push(bare_t);
            sale_times.push(sale_t);
            if let (Some(c0), Some(c1), Some(c2)) = (c0, c1, c2) {
                bare_cpu.push(c1 - c0);
                sale_cpu.push(c2 - c1);
            }
        }
    }
    let (s50, s99) = (
        percentile(&mut sale_times, 0.50),
        percentile(&mut sale_times, 0.99),
    );
    let (b50, b99) = (
        percentile(&mut bare_times, 0.50),
        percentile(&mut bare_times, 0.99),
    );
    println!("sale_commit_count: {SALES} sales");
    println!("sale_commit_p50: {} ms", ms(s50));
    println!("sale_commit_p99: {} ms", ms(s99));
    println!("bare_commit_p50: {} ms", ms(b50));
    println!("bare_commit_p99: {} ms", ms(b99));
    println!(
        "sale_commit_p50_over_bare: {:.2} x",
        s50.as_secs_f64() / b50.as_secs_f64()
    );
    // CPU time (including the kernel's share of write and fsync): on a shared machine a busy
    // disk stretches both commits' wall time alike and hides the work each one does.
    if !sale_cpu.is_empty() {
        let (sc, bc) = (
            percentile(&mut sale_cpu, 0.50),
            percentile(&mut bare_cpu, 0.50),
        );
        println!("sale_commit_cpu_p50: {} ms", ms(sc));
        println!("bare_commit_cpu_p50: {} ms", ms(bc));
    }
    // Reading the outbox back as the sync engine does (each sale read back from its row).
    let read_started = Instant::now();
    let mut read = 0usize;
    let mut after = 0;
    loop {
        let batch = store.outbox_after(after, 500).expect("reads outbox");
        let Some(last) = batch.last() else { break };
        after = last.seq;
        read += batch.len();
    }
    let read_time = read_started.elapsed();
    assert!(read >= SALES, "every sale has its entry");
    println!(
        "outbox_read_rate: {:.0} entries/s",
        read as f64 / read_time.as_secs_f64()
    );
    // Pages each commit writes to the WAL (every one encrypted, MACed and written): after a
    // checkpoint empties the WAL, the frames one commit leaves in it.
    let (mut sale_frames, mut bare_frames) = (0, 0);
    for _ in 0..FRAME_SAMPLES {
        let commit = SaleCommit {
            sale: sale(&products, &mut rng, device, seller),
            actor: Actor::User(seller),
            register_session_id: None,
        };
        store.checkpoint().expect("checkpoints");
        store.commit_sale(&commit).expect("sale commits");
        sale_frames += tenda_store::wal_pages(&dir.path().join("sales.db"));
        bare.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
            .expect("checkpoints");
        bare.batch_execute("BEGIN IMMEDIATE; INSERT INTO t (v) VALUES (randomblob(64)); COMMIT;")
            .expect("bare commit");
        bare_frames += tenda_store::wal_pages(&dir.path().join("bare.db"));
    }
    println!(
        "sale_commit_wal_pages: {:.1} pages",
        sale_frames as f64 / FRAME_SAMPLES as f64
    );
    println!(
        "bare_commit_wal_pages: {:.1} pages",
        bare_frames as f64 / FRAME_SAMPLES as f64
    );
    drop(store);
    drop(bare);

    // 2. Catalog load: 300,000 products + 50,000 customers, progress at least once a second.
    let path = dir.path().join("catalog.db");
    let mut store = Store::open(&path, &key).expect("opens");
    let changes = (0..PRODUCTS)
        .map(|i| PullChange::Product(product(i)))
        .chain((0..CUSTOMERS).map(|i| PullChange::Customer(customer(i))));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut last = started;
    let mut max_gap = Duration::ZERO;
    let mut reports = 0u64;
    let report = store
        .apply_changes(changes, &mut |_p: &LoadProgress| {
            let now = Instant::now();
            max_gap = max_gap.max(now - last);
            last = now;
            reports += 1;
        })
        .expect("loads");
    let load = started.elapsed();
    let load_cpu = cpu_time().zip(cpu_before).map(|(a, b)| a - b);
    max_gap = max_gap.max(last.elapsed());
    assert_eq!(report.applied, PRODUCTS + CUSTOMERS, "every record loaded");
    store.checkpoint().expect("checkpoints");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(path.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!("catalog_load_records: {} records", report.applied);
    println!("catalog_load_time: {:.2} s", load.as_secs_f64());
    if let Some(cpu) = load_cpu {
        println!("catalog_load_cpu_time: {:.2} s", cpu.as_secs_f64());
    }
    println!(
        "catalog_load_rate: {:.0} records/s",
        report.applied as f64 / load.as_secs_f64()
    );
    println!("catalog_load_progress_reports: {reports} reports");
    println!("catalog_load_max_progress_gap: {} ms", ms(max_gap));
    println!("catalog_db_size: {:.1} MB", size as f64 / 1e6);

    // 3. Lookups over that catalog.
    let mut times = Vec::with_capacity(10_000);
    let mut cpu = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let code = ean13(rng.below(PRODUCTS));
        let c = thread_cpu();
        let t = Instant::now();
        let found = store.product_by_code(&code).expect("looks up");
        times.push(t.elapsed());
        if let (Some(a), Some(b)) = (thread_cpu(), c) {
            cpu.push(a - b);
        }
        assert!(found.is_some(), "every generated barcode exists");
    }
    println!(
        "barcode_lookup_p50: {} ms",
        ms(percentile(&mut times, 0.50))
    );
    println!(
        "barcode_lookup_p99: {} ms",
        ms(percentile(&mut times, 0.99))
    );
    if !cpu.is_empty() {
        println!(
            "barcode_lookup_cpu_p99: {} ms",
            ms(percentile(&mut cpu, 0.99))
        );
    }

    // What a cashier types: a prefix of an item, often with a prefix of a brand or kind. The
    // same queries run idle and during checkouts below.
    let queries: Vec<String> = (0..2_000).map(|_| search_query(&mut rng)).collect();
    let mut times = Vec::with_capacity(queries.len());
    let mut cpu = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for query in &queries {
        let c = thread_cpu();
        let t = Instant::now();
        let found = store.search_products(query, 20).expect("searches");
        times.push(t.elapsed());
        if let (Some(a), Some(b)) = (thread_cpu(), c) {
            cpu.push(a - b);
        }
        hits += usize::from(!found.is_empty());
    }
    println!("name_search_p50: {} ms", ms(percentile(&mut times, 0.50)));
    println!("name_search_p99: {} ms", ms(percentile(&mut times, 0.99)));
    if !cpu.is_empty() {
        println!("name_search_cpu_p99: {} ms", ms(percentile(&mut cpu, 0.99)));
    }
    println!("name_search_hit_rate: {:.0} %", hits as f64 / 20.0);

    // 4. Searching while sales commit: the searches go through reader connections, so they
    // never wait for the writer, which commits sale after sale on another thread.
    let idle_p99 = percentile(&mut times, 0.99);
    let readers = store.readers();
    // Warm the reader's page cache as a reader kept open by the point of sale would be.
    for query in &queries {
        readers
            .read(|r| r.search_products(query, 20))
            .expect("searches");
    }
    let stock: Vec<Product> = (0..200)
        .map(|i| {
            store
                .product_by_code(&ean13(i))
                .expect("looks up")
                .expect("loaded")
        })
        .collect();
    let stop = AtomicBool::new(false);
    let mut during = Vec::with_capacity(queries.len());
    let mut during_cpu = Vec::with_capacity(queries.len());
    let committed = std::thread::scope(|scope| {
        let checkouts = scope.spawn(|| {
            let mut rng = Rng(0x2545_F491_4F6C_DD1D);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let commit = SaleCommit {
                    sale: sale(&stock, &mut rng, device, seller),
                    actor: Actor::User(seller),
                    register_session_id: None,
                };
                store.commit_sale(&commit).expect("sale commits");
                n += 1;
            }
            n
        });
        for query in &queries {
            let c = thread_cpu();
            let t = Instant::now();
            readers
                .read(|r| r.search_products(query, 20))
                .expect("searches");
            during.push(t.elapsed());
            if let (Some(a), Some(b)) = (thread_cpu(), c) {
                during_cpu.push(a - b);
            }
        }
        stop.store(true, Ordering::Relaxed);
        checkouts.join().expect("the checkout thread ends")
    });
    let during_p99 = percentile(&mut during, 0.99);
    println!("name_search_checkouts_meanwhile: {committed} sales");
    println!(
        "name_search_p50_during_checkouts: {} ms",
        ms(percentile(&mut during, 0.50))
    );
    println!("name_search_p99_during_checkouts: {} ms", ms(during_p99));
    println!(
        "name_search_p99_during_checkouts_over_idle: {:.2} x",
        during_p99.as_secs_f64() / idle_p99.as_secs_f64()
    );
    // The search's own work: each commit makes a reader drop its page cache (SQLite starts a
    // read after a change with an empty cache), so pages are read and decrypted again.
    if !during_cpu.is_empty() {
        println!(
            "name_search_cpu_p99_during_checkouts: {} ms",
            ms(percentile(&mut during_cpu, 0.99))
        );
    }
}

fn search_query(rng: &mut Rng) -> String {
    let item: String = ITEMS[rng.below(24) as usize]
        .chars()
        .take(3 + rng.below(3) as usize)
        .collect();
    match rng.below(3) {
        0 => item,
        1 => format!(
            "{item} {}",
            BRANDS[rng.below(20) as usize]
                .chars()
                .take(3)
                .collect::<String>()
        ),
        _ => format!(
            "{item} {}",
            KINDS[rng.below(16) as usize]
                .chars()
                .take(4)
                .collect::<String>()
        ),
    }
}
