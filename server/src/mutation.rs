//! Reads each pushed outbox entry as a `tenda_domain::outbox::Mutation` and turns it into the
//! ledger entries and records the server keeps. Every mutation of a push is read and validated
//! before anything is written.

use serde::Deserialize;
use serde_json::value::RawValue;
use tenda_domain::outbox::Mutation;
use tenda_domain::payment::PaymentMethod;
use tenda_domain::stock::{BalanceReason, StockReason};
use tenda_sync::protocol::PROTOCOL_VERSION;
use uuid::Uuid;

use crate::error::Error;

/// A push as the server reads it: the wire form of `tenda_sync::protocol::PushRequest`, with each
/// payload kept as the JSON text the device sent. Each payload is read once, straight into the
/// typed `Mutation`, instead of through a generic JSON tree.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBody {
    #[serde(default = "current_protocol")]
    pub protocol: u32,
    pub device: Uuid,
    pub mutations: Vec<RawMutation>,
}

fn current_protocol() -> u32 {
    PROTOCOL_VERSION
}

/// One pushed outbox entry (`tenda_sync::protocol::PushedMutation` on the wire).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMutation {
    pub seq: u64,
    pub kind: String,
    pub payload: Box<RawValue>,
}

/// A new sale as the server stores it (its lines travel beside it).
#[derive(Debug, Clone, PartialEq)]
pub struct SaleInfo {
    pub id: Uuid,
    pub local_number: String,
    pub customer_id: Option<Uuid>,
    pub total_cents: i64,
    pub on_account_cents: i64,
    pub fiscal_status: String,
    pub access_key: Option<String>,
    pub recorded_at: i64,
    /// (product, quantity in thousandths, unit price, line total)
    pub lines: Vec<(Uuid, i64, i64, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub subject: Uuid,
    pub amount: i64,
    /// The sale the delta belongs to (a sale's deltas are applied once, with the sale).
    pub sale_id: Option<Uuid>,
    pub reason: &'static str,
}

/// What one mutation does on the server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Effects {
    pub sale: Option<SaleInfo>,
    pub voided_sale: Option<Uuid>,
    /// (sale, status, access key)
    pub fiscal_status: Option<(Uuid, String, String)>,
    pub stock: Vec<Delta>,
    pub balance: Vec<Delta>,
    /// (id, kind, amount)
    pub cash: Option<(Uuid, String, i64)>,
    /// Kept as pushed in `device_records` (audit trail entries, fiscal number voids, notes
    /// cancelled by substitution, forwarded card payments).
    pub record: bool,
}

fn snake(v: &impl serde::Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn stock_reason(r: &StockReason) -> (&'static str, Option<Uuid>) {
    match r {
        StockReason::Sale { sale_id } => ("sale", Some(sale_id.as_uuid())),
        StockReason::SaleVoided { sale_id } => ("sale voided", Some(sale_id.as_uuid())),
        StockReason::Receiving => ("receiving", None),
        StockReason::Loss => ("loss", None),
        StockReason::Count => ("count", None),
    }
}

fn balance_reason(r: &BalanceReason) -> (&'static str, Option<Uuid>) {
    match r {
        BalanceReason::Sale { sale_id } => ("sale on account", Some(sale_id.as_uuid())),
        BalanceReason::SaleVoided { sale_id } => ("sale voided", Some(sale_id.as_uuid())),
        BalanceReason::PaymentReceived => ("payment received", None),
        BalanceReason::Adjustment => ("adjustment", None),
    }
}

/// Reads and validates one pushed mutation; `index` names it in errors.
pub fn understand(index: usize, m: &RawMutation) -> Result<(Mutation, Effects), Error> {
    let field = |f: &str| format!("mutations[{index}].payload{f}");
    // The tagged form `Mutation` reads, spliced from the pushed parts (tag first, so serde reads
    // the payload straight into the variant without buffering it).
    let kind = serde_json::to_string(&m.kind).map_err(|e| Error::Internal(e.to_string()))?;
    let payload = m.payload.get();
    let mut wire = String::with_capacity(kind.len() + payload.len() + 24);
    wire.push_str("{\"kind\":");
    wire.push_str(&kind);
    wire.push_str(",\"payload\":");
    wire.push_str(payload);
    wire.push('}');
    let mutation: Mutation = serde_json::from_str(&wire).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("unknown variant") {
            Error::invalid(
                format!("mutations[{index}].kind"),
                format!("unknown mutation kind `{}`", m.kind),
            )
        } else {
            Error::invalid(field(""), format!("{} is malformed: {msg}", m.kind))
        }
    })?;
    let mut fx = Effects::default();
    match &mutation {
        Mutation::SaleRecorded(r) => {
            let sale = &r.sale;
            if sale.lines.is_empty() {
                return Err(Error::invalid(
                    field(".sale.lines"),
                    "a sale needs at least one line",
                ));
            }
            let sum = sale
                .lines
                .iter()
                .try_fold(0i64, |acc, l| acc.checked_add(l.total.centavos()))
                .ok_or_else(|| Error::invalid(field(".sale.lines"), "line totals overflow"))?;
            if sum != sale.total.centavos() {
                return Err(Error::invalid(
                    field(".sale.total"),
                    format!(
                        "total {} differs from the sum of the lines {sum}",
                        sale.total.centavos()
                    ),
                ));
            }
            let on_account: i64 = sale
                .payments
                .iter()
                .filter(|p| matches!(p.method, PaymentMethod::CustomerAccount { .. }))
                .map(|p| p.amount.centavos())
                .sum();
            fx.sale = Some(SaleInfo {
                id: sale.id.as_uuid(),
                local_number: r.local_number.to_string(),
                customer_id: sale.customer_id.map(|c| c.as_uuid()),
                total_cents: sale.total.centavos(),
                on_account_cents: on_account,
                fiscal_status: r
                    .fiscal
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), |f| snake(&f.status)),
                access_key: r.fiscal.as_ref().map(|f| f.access_key.clone()),
                recorded_at: sale.created_at.timestamp_millis(),
                lines: sale
                    .lines
                    .iter()
                    .map(|l| {
                        (
                            l.product_id.as_uuid(),
                            l.quantity.thousandths(),
                            l.unit_price.centavos(),
                            l.total.centavos(),
                        )
                    })
                    .collect(),
            });
            for d in &r.stock_deltas {
                let (reason, _) = stock_reason(&d.reason);
                fx.stock.push(Delta {
                    subject: d.product_id.as_uuid(),
                    amount: d.delta.thousandths(),
                    sale_id: Some(sale.id.as_uuid()),
                    reason,
                });
            }
            for d in &r.balance_deltas {
                let (reason, _) = balance_reason(&d.reason);
                fx.balance.push(Delta {
                    subject: d.customer_id.as_uuid(),
                    amount: d.delta.centavos(),
                    sale_id: Some(sale.id.as_uuid()),
                    reason,
                });
            }
        }
        Mutation::SaleVoided {
            sale_id,
            stock_deltas,
            balance_deltas,
            ..
        } => {
            fx.voided_sale = Some(sale_id.as_uuid());
            for d in stock_deltas {
                fx.stock.push(Delta {
                    subject: d.product_id.as_uuid(),
                    amount: d.delta.thousandths(),
                    sale_id: None,
                    reason: "sale voided",
                });
            }
            for d in balance_deltas {
                fx.balance.push(Delta {
                    subject: d.customer_id.as_uuid(),
                    amount: d.delta.centavos(),
                    sale_id: None,
                    reason: "sale voided",
                });
            }
        }
        Mutation::FiscalStatusChanged {
            sale_id,
            access_key,
            status,
            ..
        } => {
            fx.fiscal_status = Some((sale_id.as_uuid(), snake(status), access_key.clone()));
        }
        Mutation::StockAdjusted {
            product_id,
            delta,
            reason,
            ..
        } => {
            let (reason, sale) = stock_reason(reason);
            fx.stock.push(Delta {
                subject: product_id.as_uuid(),
                amount: delta.thousandths(),
                sale_id: sale,
                reason,
            });
        }
        Mutation::CustomerBalanceAdjusted {
            customer_id,
            delta,
            reason,
            ..
        } => {
            let (reason, sale) = balance_reason(reason);
            fx.balance.push(Delta {
                subject: customer_id.as_uuid(),
                amount: delta.centavos(),
                sale_id: sale,
                reason,
            });
        }
        Mutation::CashMovement {
            movement, amount, ..
        } => {
            fx.cash = Some((Uuid::now_v7(), snake(movement), amount.centavos()));
        }
        Mutation::NoteCancelledBySubstitution {
            cancelled_access_key,
            substitute_access_key,
            ..
        } => {
            for (name, key) in [
                (".cancelled_access_key", cancelled_access_key),
                (".substitute_access_key", substitute_access_key),
            ] {
                if key.len() != 44 || !key.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::invalid(field(name), "must be 44 digits"));
                }
            }
            // The sale keeps its own note: kept as a record, the sale row is not touched.
            fx.record = true;
        }
        Mutation::FiscalNumbersVoided { .. }
        | Mutation::AuditAppended { .. }
        | Mutation::CardPaymentForwarded { .. } => fx.record = true,
        _ => fx.record = true,
    }
    Ok((mutation, fx))
}
