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
    /// Products, customers and sales the mutation names: each must be the caller's store's.
    pub products: Vec<Uuid>,
    pub customers: Vec<Uuid>,
    pub sales: Vec<Uuid>,
    /// A customer registered at the till, kept by the server like one made in the back office.
    pub new_customer: Option<tenda_domain::Customer>,
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
    let refuse = |field: String, rule: &str, reason: String| Error::Rule {
        field,
        rule: rule.to_owned(),
        reason,
        seq: Some(m.seq),
    };
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
            refuse(
                format!("mutations[{index}].kind"),
                "unknown_kind",
                format!("unknown mutation kind `{}`", m.kind),
            )
        } else {
            refuse(
                field(""),
                "malformed",
                format!("{} is malformed: {msg}", m.kind),
            )
        }
    })?;
    // The domain's own rules, the ones the device applied when it made the mutation.
    mutation
        .validate()
        .map_err(|e| refuse(field(&e.field), e.code, e.reason))?;
    let mut fx = Effects::default();
    match &mutation {
        Mutation::SaleRecorded(r) => {
            let sale = &r.sale;
            // Bounded amounts (checked above): the sum cannot overflow.
            let on_account: i64 = sale
                .payments
                .iter()
                .filter(|p| matches!(p.method, PaymentMethod::CustomerAccount { .. }))
                .map(|p| p.amount.centavos())
                .sum();
            fx.products = sale.lines.iter().map(|l| l.product_id.as_uuid()).collect();
            fx.customers.extend(sale.customer_id.map(|c| c.as_uuid()));
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
            fx.sales.push(sale_id.as_uuid());
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
            fx.sales.push(sale_id.as_uuid());
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
        Mutation::NoteCancelledBySubstitution { sale_id, .. } => {
            // The sale keeps its own note: kept as a record, the sale row is not touched.
            fx.sales.push(sale_id.as_uuid());
            fx.record = true;
        }
        Mutation::CardPaymentForwarded { sale_id, .. } => {
            fx.sales.push(sale_id.as_uuid());
            fx.record = true;
        }
        Mutation::CustomerRegistered { customer, .. } => {
            fx.new_customer = Some(customer.clone());
            fx.record = true;
        }
        Mutation::FiscalNumbersVoided { .. } | Mutation::AuditAppended { .. } => fx.record = true,
        _ => fx.record = true,
    }
    fx.products.extend(fx.stock.iter().map(|d| d.subject));
    fx.customers.extend(fx.balance.iter().map(|d| d.subject));
    Ok((mutation, fx))
}
