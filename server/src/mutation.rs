//! What the server reads from each pushed outbox mutation.
//!
//! The payloads are `tenda_domain::outbox::Mutation` as devices serialize them; the server reads
//! the fields it keeps ledgers and reports on and stores the whole payload beside them, so nothing
//! a device sent is lost. Every mutation is validated before anything is written.

use serde::Deserialize;
use tenda_sync::protocol::PushedMutation;
use uuid::Uuid;

use crate::error::Error;

/// A mutation understood by the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    Sale(SaleRecorded),
    FiscalStatus(FiscalStatusChanged),
    Stock(StockAdjusted),
    Cash(CashMovement),
    Audit(serde_json::Value),
    /// A balance payment or adjustment on a customer's account.
    Balance(BalanceAdjusted),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SaleLine {
    pub product_id: Uuid,
    /// Thousandths of the product's unit; negative for a returned item.
    pub quantity: i64,
    #[serde(alias = "unit_price_cents")]
    pub unit_price: i64,
    #[serde(alias = "total_cents")]
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SalePayment {
    /// `Cash`, `Card`, `Pix`, `CustomerAccount`, … (a tagged object's tag is accepted too).
    pub method: serde_json::Value,
    #[serde(alias = "amount_cents")]
    pub amount: i64,
}

impl SalePayment {
    fn method_name(&self) -> String {
        match &self.method {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(m) => m
                .get("type")
                .and_then(|t| t.as_str())
                .map(str::to_owned)
                .or_else(|| m.keys().next().cloned())
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    pub fn is_on_account(&self) -> bool {
        let m = self.method_name();
        m == "CustomerAccount" || m == "customer_account"
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FiscalDoc {
    pub status: String,
    #[serde(default)]
    pub access_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SaleRecorded {
    /// The client UUID of the sale: a second push of the same sale is recognized by it.
    #[serde(alias = "sale_id")]
    pub id: Uuid,
    #[serde(default)]
    pub local_number: Option<serde_json::Value>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    pub lines: Vec<SaleLine>,
    #[serde(default)]
    pub payments: Vec<SalePayment>,
    #[serde(alias = "total_cents")]
    pub total: i64,
    #[serde(default)]
    pub fiscal: Option<FiscalDoc>,
    /// Unix milliseconds on the device's clock.
    #[serde(default)]
    pub recorded_at: Option<i64>,
}

impl SaleRecorded {
    pub fn on_account_cents(&self) -> i64 {
        self.payments
            .iter()
            .filter(|p| p.is_on_account())
            .map(|p| p.amount)
            .sum()
    }

    pub fn local_number_text(&self) -> Option<String> {
        self.local_number.as_ref().map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FiscalStatusChanged {
    pub sale_id: Uuid,
    pub status: String,
    #[serde(default)]
    pub access_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StockAdjusted {
    pub product_id: Uuid,
    /// Thousandths of a unit, signed.
    pub delta: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CashMovement {
    #[serde(default)]
    pub id: Option<Uuid>,
    /// `opening`, `withdrawal`, `supply`, `closing`, …
    pub kind: String,
    #[serde(alias = "amount_cents")]
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BalanceAdjusted {
    pub customer_id: Uuid,
    /// Signed centavos added to what the customer owes (a payment received is negative).
    #[serde(alias = "delta_cents")]
    pub delta: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

const MAX_LINES: usize = 1_000;

fn parse<T: serde::de::DeserializeOwned>(index: usize, m: &PushedMutation) -> Result<T, Error> {
    // The payload may be the variant's content, or the whole externally tagged enum.
    let payload = match &m.payload {
        serde_json::Value::Object(o) if o.len() == 1 && o.contains_key(&m.kind) => {
            o.get(&m.kind).cloned().unwrap_or_default()
        }
        other => other.clone(),
    };
    serde_json::from_value(payload).map_err(|e| {
        Error::invalid(
            format!("mutations[{index}].payload"),
            format!("{} ({e})", m.kind),
        )
    })
}

/// Reads and validates one mutation; `index` names it in errors.
pub fn understand(index: usize, m: &PushedMutation) -> Result<Applied, Error> {
    let field = |f: &str| format!("mutations[{index}].payload.{f}");
    let applied = match m.kind.as_str() {
        "SaleRecorded" => {
            let sale: SaleRecorded = parse(index, m)?;
            if sale.lines.is_empty() {
                return Err(Error::invalid(
                    field("lines"),
                    "a sale needs at least one line",
                ));
            }
            if sale.lines.len() > MAX_LINES {
                return Err(Error::invalid(
                    field("lines"),
                    format!("more than {MAX_LINES} lines"),
                ));
            }
            let lines_sum = sale
                .lines
                .iter()
                .try_fold(0i64, |acc, l| acc.checked_add(l.total))
                .ok_or_else(|| Error::invalid(field("lines"), "line totals overflow"))?;
            if lines_sum != sale.total {
                return Err(Error::invalid(
                    field("total"),
                    format!(
                        "total {} differs from the sum of the lines {lines_sum}",
                        sale.total
                    ),
                ));
            }
            if sale.on_account_cents() != 0 && sale.customer_id.is_none() {
                return Err(Error::invalid(
                    field("customer_id"),
                    "a sale on account needs a customer",
                ));
            }
            Applied::Sale(sale)
        }
        "FiscalStatusChanged" => Applied::FiscalStatus(parse(index, m)?),
        "StockAdjusted" => Applied::Stock(parse(index, m)?),
        "CashMovement" => Applied::Cash(parse(index, m)?),
        "BalanceAdjusted" | "CustomerPayment" => Applied::Balance(parse(index, m)?),
        "AuditAppended" => {
            if !m.payload.is_object() {
                return Err(Error::invalid(field(""), "an audit entry is a JSON object"));
            }
            Applied::Audit(m.payload.clone())
        }
        other => {
            return Err(Error::invalid(
                format!("mutations[{index}].kind"),
                format!("unknown mutation kind `{other}`"),
            ));
        }
    };
    Ok(applied)
}
