//! Reports over the ledgers: stock sold below zero while offline, customers past their limit.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::db::Conn;
use crate::error::Error;
use crate::schema::{customer_balances, customers, flags, products, sales, stock_levels};
use crate::with_conn;

/// A sale that took a ledger past its bound, and where the ledger stood right after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FlaggedSale {
    pub sale_id: String,
    pub folio: i64,
    pub device_id: String,
    pub amount_after: i64,
}

/// A product whose stock in a branch is below zero, with the sales that drove it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OversoldItem {
    pub branch_id: String,
    pub product_id: String,
    pub product_name: Option<String>,
    /// Thousandths of a unit; negative.
    pub quantity: i64,
    pub sales: Vec<FlaggedSale>,
}

/// A customer whose balance is below minus the overdraft limit, with the sales on account that did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OverdraftItem {
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub balance_cents: i64,
    pub overdraft_limit_cents: i64,
    pub sales: Vec<FlaggedSale>,
}

type FlagRow = (String, String, String, i64, i64, String);

fn flagged(
    conn: &mut Conn,
    store: &str,
    kind: &str,
) -> Result<BTreeMap<(String, String), Vec<FlaggedSale>>, Error> {
    let rows: Vec<FlagRow> = with_conn!(conn, |c| flags::table
        .inner_join(sales::table.on(sales::id.eq(flags::sale_id)))
        .filter(flags::store_id.eq(store))
        .filter(flags::kind.eq(kind))
        .order(flags::created_at.asc())
        .select((
            flags::branch_id,
            flags::subject_id,
            flags::sale_id,
            sales::folio,
            flags::amount_after,
            sales::device_id
        ))
        .load(c))?;
    let mut out: BTreeMap<(String, String), Vec<FlaggedSale>> = BTreeMap::new();
    for (branch, subject, sale_id, folio, amount_after, device_id) in rows {
        out.entry((branch, subject)).or_default().push(FlaggedSale {
            sale_id,
            folio,
            device_id,
            amount_after,
        });
    }
    Ok(out)
}

pub fn oversold(conn: &mut Conn, store: &str) -> Result<Vec<OversoldItem>, Error> {
    let levels: Vec<(String, String, i64, Option<String>)> =
        with_conn!(&mut *conn, |c| stock_levels::table
            .left_join(products::table.on(products::id.eq(stock_levels::product_id)))
            .filter(stock_levels::store_id.eq(store))
            .filter(stock_levels::quantity.lt(0))
            .order((
                stock_levels::branch_id.asc(),
                stock_levels::product_id.asc()
            ))
            .select((
                stock_levels::branch_id,
                stock_levels::product_id,
                stock_levels::quantity,
                products::name.nullable()
            ))
            .load(c))?;
    let mut by_key = flagged(conn, store, "oversold")?;
    Ok(levels
        .into_iter()
        .map(|(branch_id, product_id, quantity, product_name)| {
            let sales = by_key
                .remove(&(branch_id.clone(), product_id.clone()))
                .unwrap_or_default();
            OversoldItem {
                branch_id,
                product_id,
                product_name,
                quantity,
                sales,
            }
        })
        .collect())
}

pub fn overdraft(conn: &mut Conn, store: &str) -> Result<Vec<OverdraftItem>, Error> {
    let rows: Vec<(String, i64, Option<String>, Option<i64>)> =
        with_conn!(&mut *conn, |c| customer_balances::table
            .left_join(customers::table.on(customers::id.eq(customer_balances::customer_id)))
            .filter(customer_balances::store_id.eq(store))
            .order(customer_balances::customer_id.asc())
            .select((
                customer_balances::customer_id,
                customer_balances::balance_cents,
                customers::name.nullable(),
                customers::overdraft_limit_cents.nullable(),
            ))
            .load(c))?;
    let flagged = flagged(conn, store, "overdraft")?;
    let mut by_customer: BTreeMap<String, Vec<FlaggedSale>> = BTreeMap::new();
    for ((_, customer), mut list) in flagged {
        by_customer.entry(customer).or_default().append(&mut list);
    }
    Ok(rows
        .into_iter()
        .filter(|(_, balance, _, limit)| *balance < -limit.unwrap_or(0))
        .map(
            |(customer_id, balance_cents, customer_name, limit)| OverdraftItem {
                sales: by_customer.remove(&customer_id).unwrap_or_default(),
                customer_id,
                customer_name,
                balance_cents,
                overdraft_limit_cents: limit.unwrap_or(0),
            },
        )
        .collect())
}
