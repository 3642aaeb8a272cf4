//! Owner and manager reports, computed from what the store returns: sales by period and payment
//! method, contingency notes with their times and protocols, oversold items. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use tenda_domain::{Money, MoneyError, PaymentMethod, ProductId, Quantity, Sale};

use crate::register::PaymentKind;

pub fn payment_kind(method: &PaymentMethod) -> PaymentKind {
    match method {
        PaymentMethod::Cash { .. } => PaymentKind::Cash,
        PaymentMethod::Card { .. } => PaymentKind::Card,
        PaymentMethod::Pix { .. } => PaymentKind::Pix,
        PaymentMethod::CustomerAccount { .. } => PaymentKind::CustomerAccount,
    }
}

/// One row: a day (in the store's UTC offset given by the caller) and a payment method.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SalesByMethodRow {
    pub day: NaiveDate,
    pub kind: PaymentKind,
    /// Sales with at least one payment of this kind.
    pub sales: u32,
    pub amount: Money,
}

/// Sales made in `[from, to)`, grouped by local day (`offset_minutes` east of UTC) and method.
/// Split payments count toward each method with their own amount.
pub fn sales_by_method(
    sales: &[Sale],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset_minutes: i32,
) -> Result<Vec<SalesByMethodRow>, MoneyError> {
    let offset = chrono::Duration::minutes(i64::from(offset_minutes));
    let mut rows: BTreeMap<(NaiveDate, PaymentKind), (u32, Money)> = BTreeMap::new();
    for sale in sales
        .iter()
        .filter(|s| s.created_at >= from && s.created_at < to)
    {
        let day = (sale.created_at + offset).date_naive();
        let mut seen = Vec::new();
        for p in &sale.payments {
            let kind = payment_kind(&p.method);
            let row = rows.entry((day, kind)).or_insert((0, Money::ZERO));
            row.1 = row.1.checked_add(p.amount)?;
            if !seen.contains(&kind) {
                row.0 += 1;
                seen.push(kind);
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|((day, kind), (sales, amount))| SalesByMethodRow {
            day,
            kind,
            sales,
            amount,
        })
        .collect())
}

/// A contingency note's life, for the fiscal report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ContingencyNoteRow {
    pub number: u32,
    pub series: u16,
    pub access_key: String,
    pub emitted_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub transmitted_at: Option<DateTime<Utc>>,
    pub authorized_at: Option<DateTime<Utc>>,
    pub protocol: Option<String>,
    /// cStat of the final answer (100, 150) or of the last rejection.
    pub status_code: Option<u16>,
    pub status: String,
}

impl ContingencyNoteRow {
    /// Authorized after its deadline (or SEFAZ said 150).
    pub fn late(&self) -> bool {
        self.status_code == Some(150) || self.authorized_at.is_some_and(|a| a > self.deadline)
    }
}

/// A product whose stock went below zero, and the sales that took it there.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OversoldRow {
    pub product_id: ProductId,
    pub name: String,
    pub stock: Quantity,
    pub sales: Vec<tenda_domain::SaleId>,
}

/// Oversold items from the device's stock levels and its sales: every product below zero, with
/// the sales that sold it (latest first — the ones that crossed zero).
pub fn oversold(levels: &[(ProductId, String, Quantity)], sales: &[Sale]) -> Vec<OversoldRow> {
    levels
        .iter()
        .filter(|(_, _, q)| q.thousandths() < 0)
        .map(|(id, name, q)| {
            let mut selling: Vec<&Sale> = sales
                .iter()
                .filter(|s| s.lines.iter().any(|l| l.product_id == *id))
                .collect();
            selling.sort_by_key(|s| std::cmp::Reverse(s.created_at));
            OversoldRow {
                product_id: *id,
                name: name.clone(),
                stock: *q,
                sales: selling.into_iter().map(|s| s.id).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use tenda_domain::{
        CardKind, Cart, DeviceId, FiscalData, Payment, Product, SaleHeader, SaleId, Unit, UserId,
    };

    fn product(price: i64) -> Product {
        Product {
            id: ProductId::new(),
            sku: "1".into(),
            gtin: None,
            name: "Pão".into(),
            unit: Unit::Each,
            price: Money::from_centavos(price),
            fiscal: FiscalData::simples_nacional("19059090"),
            active: true,
            version: 1,
        }
    }

    fn sale(p: &Product, at: DateTime<Utc>, payments: Vec<Payment>) -> Sale {
        let mut cart = Cart::new();
        cart.add(p, Quantity::from_units(1).expect("1"))
            .expect("add");
        let header = SaleHeader {
            id: SaleId::new(),
            device_id: DeviceId::new(),
            seller_id: UserId::new(),
            created_at: at,
        };
        cart.checkout(header, payments).expect("valid sale")
    }

    #[test]
    fn split_payment_counts_for_both_methods_and_days_use_local_time() {
        let p = product(10_00);
        let m = Money::from_centavos;
        // 02:30 UTC is still the previous day in Brasília (UTC−3).
        let t1 = Utc
            .with_ymd_and_hms(2026, 4, 2, 2, 30, 0)
            .single()
            .expect("valid");
        let t2 = Utc
            .with_ymd_and_hms(2026, 4, 2, 15, 0, 0)
            .single()
            .expect("valid");
        let sales = vec![
            sale(
                &p,
                t1,
                vec![Payment::cash(m(10_00), m(20_00)).expect("cash")],
            ),
            sale(
                &p,
                t2,
                vec![
                    Payment::cash(m(4_00), m(4_00)).expect("cash"),
                    Payment::card(m(6_00), CardKind::Debit, None, None),
                ],
            ),
        ];
        let from = Utc
            .with_ymd_and_hms(2026, 4, 1, 0, 0, 0)
            .single()
            .expect("valid");
        let to = Utc
            .with_ymd_and_hms(2026, 4, 3, 0, 0, 0)
            .single()
            .expect("valid");
        let rows = sales_by_method(&sales, from, to, -180).expect("no overflow");
        let d1 = NaiveDate::from_ymd_opt(2026, 4, 1).expect("valid");
        let d2 = NaiveDate::from_ymd_opt(2026, 4, 2).expect("valid");
        assert_eq!(
            rows,
            vec![
                SalesByMethodRow {
                    day: d1,
                    kind: PaymentKind::Cash,
                    sales: 1,
                    amount: m(10_00)
                },
                SalesByMethodRow {
                    day: d2,
                    kind: PaymentKind::Cash,
                    sales: 1,
                    amount: m(4_00)
                },
                SalesByMethodRow {
                    day: d2,
                    kind: PaymentKind::Card,
                    sales: 1,
                    amount: m(6_00)
                },
            ]
        );
    }

    #[test]
    fn oversold_lists_negative_stock_with_its_sales() {
        let p = product(1_00);
        let other = product(1_00);
        let at = Utc
            .with_ymd_and_hms(2026, 4, 2, 12, 0, 0)
            .single()
            .expect("valid");
        let m = Money::from_centavos;
        let s1 = sale(&p, at, vec![Payment::cash(m(1_00), m(1_00)).expect("cash")]);
        let s2 = sale(
            &p,
            at + chrono::Duration::minutes(1),
            vec![Payment::cash(m(1_00), m(1_00)).expect("c")],
        );
        let levels = vec![
            (p.id, p.name.clone(), Quantity::from_thousandths(-1000)),
            (other.id, other.name.clone(), Quantity::from_thousandths(0)),
        ];
        let rows = oversold(&levels, &[s1.clone(), s2.clone()]);
        assert_eq!(rows.len(), 1, "zero stock is not oversold");
        assert_eq!(rows[0].sales, vec![s2.id, s1.id], "latest sale first");
    }
}
