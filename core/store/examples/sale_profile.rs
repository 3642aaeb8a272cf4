//! Store benchmark: durable sale commits against a bare SQLCipher commit, catalog load, lookups.
//! Prints one `<name>: <value> <unit>` line per figure. Run in release:
//! `cargo run --release -q -p tenda-store --example store_bench`.

use std::path::PathBuf;
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

/// A bare SQLCipher database with the same key kind and pragmas, committing one row per txn.
fn bare_connection(path: &std::path::Path, key: &DbKey) -> SqliteConnection {
    let mut c = SqliteConnection::establish(path.to_str().expect("utf-8")).expect("opens");
    c.batch_execute(&format!(
        "PRAGMA cipher_log_level = NONE; PRAGMA key = \"x'{}'\";
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
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut store = Store::open(dir.path().join("sales.db"), &key).expect("opens");
    let products: Vec<Product> = (0..200).map(product).collect();
    store
        .load_catalog(products.clone(), &mut |_| {})
        .expect("loads");
    let mut bare = bare_connection(&dir.path().join("bare.db"), &key);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (device, seller) = (DeviceId::new(), UserId::new());
    let mut sale_times = Vec::new();
    let mut bare_times = Vec::new();
    let mut sale_cpu = Vec::new();
    let mut bare_cpu = Vec::new();
    for _ in 0..n {
        let commit = SaleCommit {
            sale: sale(&products, &mut rng, device, seller),
            actor: Actor::User(seller),
            register_session_id: None,
        };
        let c0 = thread_cpu().unwrap();
        let t = Instant::now();
        bare.batch_execute("BEGIN IMMEDIATE; INSERT INTO t (v) VALUES (randomblob(64)); COMMIT;")
            .expect("bare");
        bare_times.push(t.elapsed());
        let c1 = thread_cpu().unwrap();
        bare_cpu.push(c1 - c0);
        let t = Instant::now();
        store.commit_sale(&commit).expect("sale commits");
        sale_times.push(t.elapsed());
        sale_cpu.push(thread_cpu().unwrap() - c1);
    }
    println!(
        "sale p50 {} bare p50 {} ratio {:.2}",
        ms(percentile(&mut sale_times, 0.5)),
        ms(percentile(&mut bare_times, 0.5)),
        percentile(&mut sale_times, 0.5).as_secs_f64()
            / percentile(&mut bare_times, 0.5).as_secs_f64()
    );
    println!(
        "sale cpu p50 {} bare cpu p50 {}",
        ms(percentile(&mut sale_cpu, 0.5)),
        ms(percentile(&mut bare_cpu, 0.5))
    );
    let _ = (
        PRODUCTS,
        CUSTOMERS,
        WARMUP,
        SALES,
        customer as fn(u64) -> Customer,
        cpu_time as fn() -> Option<Duration>,
    );
    let _ = PullChange::Product;
    let _: Option<LoadProgress> = None;
}
