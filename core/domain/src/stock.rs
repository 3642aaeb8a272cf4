//! Stock and customer-balance changes as deltas: they travel to the server as "-3" or "+50.00",
//! never as absolutes, so concurrent changes on different devices add up.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, ProductId, SaleId};
use crate::money::Money;
use crate::quantity::Quantity;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StockReason {
    /// Goods left with a sale.
    Sale { sale_id: SaleId },
    /// A voided sale put them back.
    SaleVoided { sale_id: SaleId },
    /// Goods received from a supplier.
    Receiving,
    /// Broken, expired or stolen.
    Loss,
    /// Correction after counting the shelf.
    Count,
}

/// A change of a product's stock level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockDelta {
    pub product_id: ProductId,
    pub delta: Quantity,
    pub reason: StockReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BalanceReason {
    /// Bought on account.
    Sale { sale_id: SaleId },
    /// A voided sale on account was credited back.
    SaleVoided { sale_id: SaleId },
    /// The customer paid off (part of) the account.
    PaymentReceived,
    /// Manual correction.
    Adjustment,
}

/// A change of a customer's account balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceDelta {
    pub customer_id: CustomerId,
    pub delta: Money,
    pub reason: BalanceReason,
}

/// Current stock of a product as the device knows it (server level plus local deltas).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub product_id: ProductId,
    pub quantity: Quantity,
    pub updated_at: DateTime<Utc>,
}
