//! Child process for the crash test: commits sales in a loop, printing each committed sale id,
//! until it is killed. Usage: `tenda-store-crash-child DB_PATH` with the key in hex in
//! `TENDA_CRASH_KEY`.

use std::io::Write;

use chrono::Utc;
use tenda_domain::*;
use tenda_store::{DbKey, FiscalSeries, SaleCommit, SignedFiscalDocument, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: tenda-store-crash-child DB_PATH")?;
    let key = DbKey::from_hex(&std::env::var("TENDA_CRASH_KEY")?)?;
    let mut store = Store::open(&path, &key)?;
    let products: Vec<Product> = (0..3u64)
        .map(|i| {
            let sku = format!("CRASH-{i}");
            match store.product_by_sku(&sku)? {
                Some(p) => Ok(p),
                None => {
                    let p = Product {
                        id: ProductId::new(),
                        sku,
                        gtin: None,
                        name: format!("Produto {i}"),
                        unit: Unit::Each,
                        price: Money::from_centavos(199 + 100 * i as i64),
                        fiscal: FiscalData::simples_nacional("19052090"),
                        active: true,
                        version: 1,
                    };
                    store.save_product(&p)?;
                    Ok(p)
                }
            }
        })
        .collect::<Result<_, tenda_store::Error>>()?;
    let customer_id: CustomerId = "01900000-0000-7000-8000-00000000c0de".parse()?;
    if store.customer(customer_id)?.is_none() {
        store.save_customer(&Customer {
            id: customer_id,
            name: "Cliente Fiado".into(),
            tax_id: None,
            phone: None,
            email: None,
            balance: Money::ZERO,
            overdraft_limit: Money::from_centavos(i64::MAX / 4),
            active: true,
            version: 1,
        })?;
    }
    let device = DeviceId::new();
    let seller = UserId::new();
    let series = FiscalSeries {
        model: 65,
        series: 7,
    };
    let mut n = store.sale_count()?;
    let stdout = std::io::stdout();
    loop {
        n += 1;
        let mut cart = Cart::new();
        cart.customer_id = Some(customer_id);
        for p in &products {
            cart.add(p, Quantity::from_units(1)?)?;
        }
        let total = cart.totals()?.total;
        let on_account = Money::from_centavos(100);
        let cash = total.checked_sub(on_account)?;
        let sale = cart.checkout(
            SaleHeader {
                id: SaleId::new(),
                device_id: device,
                seller_id: seller,
                created_at: Utc::now(),
            },
            vec![
                Payment::cash(cash, cash.checked_add(Money::from_centavos(1_000))?)?,
                Payment::on_account(on_account, customer_id),
            ],
        )?;
        let commit = SaleCommit {
            sale,
            actor: Actor::User(seller),
            register_session_id: None,
        };
        let committed = if n % 3 == 0 {
            store.commit_sale_with_fiscal(&commit, series, |number| {
                Ok(SignedFiscalDocument {
                    access_key: format!("3526030615725000011665007{number:09}9{number:08}0"),
                    emission: EmissionType::OfflineContingency,
                    status: FiscalStatus::Contingency,
                    xml: format!("<NFe><nNF>{number}</nNF></NFe>"),
                    protocol: None,
                    deadline: None,
                })
            })?
        } else {
            store.commit_sale(&commit)?
        };
        // Printed only after the commit returned: every printed id must survive the kill.
        let mut out = stdout.lock();
        writeln!(out, "{}", committed.sale_id)?;
        out.flush()?;
    }
}
