//! Helpers shared by the store's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use chrono::Utc;
use tenda_domain::*;
use tenda_store::{DbKey, SaleCommit, Store};

pub struct TempStore {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub key: DbKey,
    pub store: Store,
}

pub fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tenda.db");
    let key = DbKey::generate();
    let store = Store::open(&path, &key).expect("fresh store opens");
    TempStore {
        dir,
        path,
        key,
        store,
    }
}

pub fn product(sku: &str, name: &str, gtin: Option<&str>, price: i64) -> Product {
    Product {
        id: ProductId::new(),
        sku: sku.into(),
        gtin: gtin.map(|g| Gtin::parse_any(g).expect("valid test barcode")),
        name: name.into(),
        unit: Unit::Each,
        price: Money::from_centavos(price),
        fiscal: FiscalData::simples_nacional("19052090"),
        active: true,
        version: 1,
    }
}

/// A valid EAN-13 for `n` (prefix 789, check digit computed).
pub fn ean13(n: u64) -> String {
    let data = format!("789{:09}", n % 1_000_000_000);
    let digits: Vec<u8> = data.bytes().map(|b| b - b'0').collect();
    format!("{data}{}", tenda_domain::gtin::gs1_check_digit(&digits))
}

pub fn customer(name: &str, cpf: Option<&str>, balance: i64, limit: i64) -> Customer {
    Customer {
        id: CustomerId::new(),
        name: name.into(),
        tax_id: cpf.map(|c| TaxId::parse(c).expect("valid test CPF")),
        phone: None,
        email: None,
        balance: Money::from_centavos(balance),
        overdraft_limit: Money::from_centavos(limit),
        active: true,
        version: 1,
    }
}

pub fn seller() -> UserId {
    UserId::from_uuid(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_0001,
    ))
}

/// A sale of one unit of each product, paid half by card and the rest in cash.
pub fn sale_of(products: &[Product], customer: Option<&Customer>) -> Sale {
    let mut cart = Cart::new();
    for p in products {
        cart.add(p, Quantity::from_units(1).expect("fits"))
            .expect("valid line");
    }
    cart.customer_id = customer.map(|c| c.id);
    let total = cart.totals().expect("valid").total;
    let card = Money::from_centavos(total.centavos() / 2);
    let rest = total.checked_sub(card).expect("fits");
    let mut payments = Vec::new();
    if !card.is_zero() {
        payments.push(Payment::card(
            card,
            CardKind::Debit,
            Some("ELO".into()),
            Some("123456".into()),
        ));
    }
    match customer {
        Some(c) => payments.push(Payment::on_account(rest, c.id)),
        None => payments.push(
            Payment::cash(
                rest,
                rest.checked_add(Money::from_centavos(50)).expect("fits"),
            )
            .expect("enough"),
        ),
    }
    let header = SaleHeader {
        id: SaleId::new(),
        device_id: DeviceId::new(),
        seller_id: seller(),
        created_at: Utc::now(),
    };
    cart.checkout(header, payments).expect("settled")
}

pub fn commit_of(sale: Sale) -> SaleCommit {
    SaleCommit {
        sale,
        actor: Actor::User(seller()),
        register_session_id: None,
    }
}

/// Runs SQL on the database file directly, with the key, as someone holding the key could.
pub fn execute_raw(path: &std::path::Path, key: &DbKey, sql: &str) {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut conn =
        diesel::SqliteConnection::establish(path.to_str().expect("utf-8 path")).expect("opens");
    conn.batch_execute(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA cipher_hmac_algorithm = HMAC_SHA256;
         PRAGMA busy_timeout = 5000;",
        key.to_hex()
    ))
    .expect("keys");
    conn.batch_execute(sql).expect("raw SQL runs");
}
