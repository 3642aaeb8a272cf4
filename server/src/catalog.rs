//! The store's catalog and customers as the back office writes them (server-authoritative;
//! every write takes a new store change version so devices pull it).

use diesel::prelude::*;
use diesel::upsert::excluded;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use uuid::Uuid;

use crate::db::now_ms;
use crate::error::Error;
use crate::schema::{branch_prices, customers, products};
use tenda_domain::Money;

/// A product as the back office sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub sku: String,
    #[serde(default)]
    pub gtin: Option<String>,
    pub name: String,
    pub unit: String,
    pub price_cents: i64,
    /// NCM, CFOP, CEST, origin and taxes.
    pub fiscal: tenda_domain::FiscalData,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A product as the back office reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProductView {
    pub id: Uuid,
    pub sku: String,
    pub gtin: Option<String>,
    pub name: String,
    pub unit: String,
    pub price_cents: i64,
    pub fiscal: serde_json::Value,
    pub active: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub name: String,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub overdraft_limit_cents: i64,
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomerView {
    pub id: Uuid,
    pub name: String,
    pub tax_id: Option<String>,
    pub phone: Option<String>,
    pub overdraft_limit_cents: i64,
    pub balance_cents: i64,
    pub active: bool,
    pub version: i64,
}

/// GTIN-8/12/13/14 with a valid check digit: the domain's rule, the one a till reads a pulled
/// product with.
pub fn valid_gtin(g: &str) -> bool {
    tenda_domain::Gtin::parse(g).is_ok()
}

fn field_path(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

impl ProductInput {
    /// The domain's product rules (the ones a till applies), plus the bounds on amounts.
    pub fn validate(&self, at: &str) -> Result<(), Error> {
        let f = |name: &str| field_path(at, name);
        let unit = tenda_domain::Unit::from_code(&self.unit).map_err(|e| Error::Rule {
            field: f("unit"),
            rule: "bad_unit".into(),
            reason: e.to_string(),
            seq: None,
        })?;
        let gtin = match &self.gtin {
            Some(g) => Some(tenda_domain::Gtin::parse(g).map_err(|e| Error::Rule {
                field: f("gtin"),
                rule: "bad_gtin".into(),
                reason: format!("not a GTIN-8/12/13/14 with a valid check digit: {e}"),
                seq: None,
            })?),
            None => None,
        };
        tenda_domain::mutation_rules::check_amount(
            f("price_cents"),
            Money::from_centavos(self.price_cents),
        )
        .map_err(Error::from_mutation_rule)?;
        let product = tenda_domain::Product {
            id: tenda_domain::ProductId::new(),
            sku: self.sku.trim().to_owned(),
            gtin,
            name: self.name.trim().to_owned(),
            unit,
            price: Money::from_centavos(self.price_cents),
            fiscal: self.fiscal.clone(),
            active: self.active,
            version: 0,
        };
        product.validate().map_err(|e| {
            let field = match e.field {
                "price" => "price_cents".to_owned(),
                "sku" | "name" => e.field.to_owned(),
                other => format!("fiscal.{other}"),
            };
            Error::Rule {
                field: f(&field),
                rule: "bad_product".into(),
                reason: e.reason,
                seq: None,
            }
        })
    }
}

impl CustomerInput {
    /// The domain's customer rules: a name, a phone and a CPF/CNPJ (check digits) a till accepts.
    pub fn validate(&self) -> Result<(), Error> {
        tenda_domain::mutation_rules::check_amount(
            "overdraft_limit_cents",
            Money::from_centavos(self.overdraft_limit_cents),
        )
        .map_err(Error::from_mutation_rule)?;
        let tax_id = match &self.tax_id {
            Some(t) => Some(tenda_domain::TaxId::parse(t).map_err(|e| Error::Rule {
                field: "tax_id".into(),
                rule: "bad_tax_id".into(),
                reason: e.to_string(),
                seq: None,
            })?),
            None => None,
        };
        let customer = tenda_domain::Customer {
            id: tenda_domain::CustomerId::new(),
            name: self.name.trim().to_owned(),
            tax_id,
            phone: self.phone.clone(),
            email: None,
            balance: Money::ZERO,
            overdraft_limit: Money::from_centavos(self.overdraft_limit_cents),
            active: self.active,
            version: 0,
        };
        customer.validate().map_err(|e| Error::Rule {
            field: match e.field {
                "overdraft_limit" => "overdraft_limit_cents".into(),
                other => other.into(),
            },
            rule: "bad_customer".into(),
            reason: e.reason,
            seq: None,
        })
    }
}

/// Reads a catalog CSV: header `sku,name,unit,price,ncm` plus optional `gtin`, `active`, `cfop`
/// and `cest` (taxation defaults to Simples Nacional CSOSN 102). Prices are written `12.34`. Every bad
/// row is reported by line; nothing is imported unless all rows are good.
pub fn parse_catalog_csv(text: &str) -> Result<Vec<ProductInput>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::invalid("csv", format!("unreadable header: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(sku), Some(name), Some(unit), Some(price), Some(ncm)) = (
        col("sku"),
        col("name"),
        col("unit"),
        col("price"),
        col("ncm"),
    ) else {
        return Err(Error::invalid(
            "csv",
            "the header needs sku, name, unit, price and ncm columns",
        ));
    };
    let (cfop, cest) = (col("cfop"), col("cest"));
    let gtin = col("gtin");
    let active = col("active");
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let get = |c: usize| record.get(c).unwrap_or("").to_owned();
        let price_cents = match tenda_domain::Money::from_str(&get(price)) {
            Ok(m) => m.centavos(),
            Err(e) => {
                problems.push(format!("line {line}: price: {e}"));
                continue;
            }
        };
        let mut fiscal = tenda_domain::FiscalData::simples_nacional(&get(ncm));
        if let Some(c) = cfop.map(get).filter(|c| !c.is_empty()) {
            fiscal.cfop = c;
        }
        fiscal.cest = cest.map(get).filter(|c| !c.is_empty());
        let p = ProductInput {
            sku: get(sku),
            gtin: gtin.map(get).filter(|g| !g.is_empty()),
            name: get(name),
            unit: get(unit),
            price_cents,
            fiscal,
            active: active
                .map(get)
                .is_none_or(|a| !matches!(a.as_str(), "0" | "false" | "no" | "não")),
        };
        match p.validate("") {
            Ok(()) => out.push(p),
            Err(e) => problems.push(format!("line {line}: {e}")),
        }
        if problems.len() >= 20 {
            break;
        }
    }
    if !problems.is_empty() {
        return Err(Error::invalid("csv", problems.join("; ")));
    }
    Ok(out)
}

/// Catalog writes inside a caller's transaction, for both backends.
pub trait CatalogTx {
    /// Inserts or updates (by SKU) products, all with `version`; returns their ids in order.
    fn upsert_products(
        &mut self,
        store_id: &str,
        items: &[ProductInput],
        version: i64,
    ) -> Result<Vec<Uuid>, Error>;
    fn update_product(
        &mut self,
        store_id: &str,
        id: &str,
        p: &ProductInput,
        version: i64,
    ) -> Result<(), Error>;
    fn set_branch_price(
        &mut self,
        store_id: &str,
        branch_id: &str,
        product_id: &str,
        price: i64,
        version: i64,
    ) -> Result<(), Error>;
    fn upsert_customer(
        &mut self,
        store_id: &str,
        id: &str,
        c: &CustomerInput,
        version: i64,
    ) -> Result<(), Error>;
}

macro_rules! impl_catalog_tx {
    ($conn:ty) => {
        impl CatalogTx for $conn {
            fn upsert_products(
                &mut self,
                store_id: &str,
                items: &[ProductInput],
                version: i64,
            ) -> Result<Vec<Uuid>, Error> {
                let now = now_ms();
                let mut ids = Vec::with_capacity(items.len());
                for p in items {
                    let new_id = Uuid::now_v7();
                    diesel::insert_into(products::table)
                        .values((
                            products::id.eq(new_id.to_string()),
                            products::store_id.eq(store_id),
                            products::sku.eq(p.sku.trim()),
                            products::gtin.eq(&p.gtin),
                            products::name.eq(p.name.trim()),
                            products::unit.eq(p.unit.trim()),
                            products::price_cents.eq(p.price_cents),
                            products::fiscal
                                .eq(serde_json::to_string(&p.fiscal)
                                    .expect("fiscal data serializes")),
                            products::active.eq(p.active),
                            products::version.eq(version),
                            products::updated_at.eq(now),
                        ))
                        .on_conflict((products::store_id, products::sku))
                        .do_update()
                        .set((
                            products::gtin.eq(excluded(products::gtin)),
                            products::name.eq(excluded(products::name)),
                            products::unit.eq(excluded(products::unit)),
                            products::price_cents.eq(excluded(products::price_cents)),
                            products::fiscal.eq(excluded(products::fiscal)),
                            products::active.eq(excluded(products::active)),
                            products::version.eq(excluded(products::version)),
                            products::updated_at.eq(excluded(products::updated_at)),
                        ))
                        .execute(self)?;
                    let id: String = products::table
                        .filter(products::store_id.eq(store_id))
                        .filter(products::sku.eq(p.sku.trim()))
                        .select(products::id)
                        .first(self)?;
                    ids.push(
                        id.parse()
                            .map_err(|_| Error::Internal("malformed product id".into()))?,
                    );
                }
                Ok(ids)
            }

            fn update_product(
                &mut self,
                store_id: &str,
                id: &str,
                p: &ProductInput,
                version: i64,
            ) -> Result<(), Error> {
                let n = diesel::update(
                    products::table
                        .filter(products::id.eq(id))
                        .filter(products::store_id.eq(store_id)),
                )
                .set((
                    products::sku.eq(p.sku.trim()),
                    products::gtin.eq(&p.gtin),
                    products::name.eq(p.name.trim()),
                    products::unit.eq(p.unit.trim()),
                    products::price_cents.eq(p.price_cents),
                    products::fiscal
                        .eq(serde_json::to_string(&p.fiscal).expect("fiscal data serializes")),
                    products::active.eq(p.active),
                    products::version.eq(version),
                    products::updated_at.eq(now_ms()),
                ))
                .execute(self)?;
                if n == 0 {
                    return Err(Error::NotFound("product".into()));
                }
                Ok(())
            }

            fn set_branch_price(
                &mut self,
                store_id: &str,
                branch_id: &str,
                product_id: &str,
                price: i64,
                version: i64,
            ) -> Result<(), Error> {
                // Bumping the product's version makes devices of that branch pull the new price.
                let n = diesel::update(
                    products::table
                        .filter(products::id.eq(product_id))
                        .filter(products::store_id.eq(store_id)),
                )
                .set((
                    products::version.eq(version),
                    products::updated_at.eq(now_ms()),
                ))
                .execute(self)?;
                if n == 0 {
                    return Err(Error::NotFound("product".into()));
                }
                diesel::insert_into(branch_prices::table)
                    .values((
                        branch_prices::branch_id.eq(branch_id),
                        branch_prices::product_id.eq(product_id),
                        branch_prices::price_cents.eq(price),
                    ))
                    .on_conflict((branch_prices::branch_id, branch_prices::product_id))
                    .do_update()
                    .set(branch_prices::price_cents.eq(excluded(branch_prices::price_cents)))
                    .execute(self)?;
                Ok(())
            }

            fn upsert_customer(
                &mut self,
                store_id: &str,
                id: &str,
                c: &CustomerInput,
                version: i64,
            ) -> Result<(), Error> {
                let owner: Option<String> = customers::table
                    .find(id)
                    .select(customers::store_id)
                    .first(self)
                    .optional()?;
                if owner.as_deref().is_some_and(|s| s != store_id) {
                    return Err(Error::NotFound("customer".into()));
                }
                diesel::insert_into(customers::table)
                    .values((
                        customers::id.eq(id),
                        customers::store_id.eq(store_id),
                        customers::name.eq(c.name.trim()),
                        customers::tax_id.eq(&c.tax_id),
                        customers::phone.eq(&c.phone),
                        customers::overdraft_limit_cents.eq(c.overdraft_limit_cents),
                        customers::active.eq(c.active),
                        customers::version.eq(version),
                        customers::updated_at.eq(now_ms()),
                    ))
                    .on_conflict(customers::id)
                    .do_update()
                    .set((
                        customers::name.eq(excluded(customers::name)),
                        customers::tax_id.eq(excluded(customers::tax_id)),
                        customers::phone.eq(excluded(customers::phone)),
                        customers::overdraft_limit_cents
                            .eq(excluded(customers::overdraft_limit_cents)),
                        customers::active.eq(excluded(customers::active)),
                        customers::version.eq(excluded(customers::version)),
                        customers::updated_at.eq(excluded(customers::updated_at)),
                    ))
                    .execute(self)?;
                Ok(())
            }
        }
    };
}

impl_catalog_tx!(diesel::sqlite::SqliteConnection);
impl_catalog_tx!(diesel::pg::PgConnection);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_check_digit() {
        assert!(valid_gtin("7891000315507"));
        assert!(!valid_gtin("7891000315508"), "wrong check digit");
        assert!(!valid_gtin("12345"));
    }

    #[test]
    fn csv_reports_every_bad_line_and_imports_nothing() {
        let text =
            "sku,name,unit,price,ncm\nA1,Arroz,UN,12.34,10063021\nB2,,UN,1.00,\nC3,Café,UN,abc,\n";
        let err = parse_catalog_csv(text).expect_err("two bad lines");
        let msg = err.to_string();
        assert!(msg.contains("line 3") && msg.contains("line 4"), "{msg}");
        let ok = parse_catalog_csv("sku,name,unit,price,ncm\nA1,Arroz,UN,12.34,10063021\n")
            .expect("good csv");
        assert_eq!(ok[0].price_cents, 1234);
        assert_eq!(ok[0].fiscal.ncm, "10063021");
    }
}
