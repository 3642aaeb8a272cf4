//! The mutations a device pushes to the server. The store writes each one, numbered 1, 2, 3… per
//! device, in the same transaction as the change it describes; tenda-sync pushes them in order;
//! the server applies each exactly once. On the wire a mutation is `{"kind": "...", "payload":
//! {...}}` and an outbox entry adds its `seq`. The format is pinned by a snapshot test: changing
//! it is a protocol change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{Actor, Outcome};
use crate::customer::Customer;
use crate::fiscal::{FiscalDocumentRef, FiscalStatus};
use crate::ids::{CustomerId, ProductId, RegisterSessionId, SaleId};
use crate::money::Money;
use crate::quantity::Quantity;
use crate::sale::Sale;
use crate::stock::{BalanceDelta, BalanceReason, StockDelta, StockReason};

/// A sale as recorded on the device: the sale (its id is the client UUID that makes the push
/// idempotent), its per-device local number, its fiscal document if one was issued, and the
/// deltas it caused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRecorded {
    pub sale: Sale,
    /// The device's own running number for sales (1, 2, 3…); the server assigns the
    /// store-wide folio on arrival.
    pub local_number: u64,
    pub register_session_id: Option<RegisterSessionId>,
    pub fiscal: Option<FiscalDocumentRef>,
    pub stock_deltas: Vec<StockDelta>,
    pub balance_deltas: Vec<BalanceDelta>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CashMovementKind {
    /// Float placed in the drawer when the register opens.
    Opening,
    /// Cash added during the day (suprimento).
    Supply,
    /// Cash taken out during the day (sangria).
    Withdrawal,
    /// Cash counted when the register closes.
    Closing,
}

/// What the acquirer answered for an offline card payment forwarded when the link returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CardForwardOutcome {
    Approved {
        authorization_code: String,
    },
    /// The sale stands; the store must collect `amount` from the customer.
    Declined {
        amount: Money,
        reason: String,
    },
}

/// One change a device made, as pushed to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mutation {
    SaleRecorded(SaleRecorded),
    SaleVoided {
        sale_id: SaleId,
        actor: Actor,
        reason: String,
        at: DateTime<Utc>,
        stock_deltas: Vec<StockDelta>,
        balance_deltas: Vec<BalanceDelta>,
    },
    FiscalStatusChanged {
        sale_id: SaleId,
        access_key: String,
        status: FiscalStatus,
        /// Authorization or event protocol number.
        protocol: Option<String>,
        /// cStat and reason text of a rejection or denial.
        reason: Option<String>,
        at: DateTime<Utc>,
    },
    /// A range of fiscal numbers declared unused (inutilização).
    FiscalNumbersVoided {
        model: u8,
        series: u16,
        first: u32,
        last: u32,
        justification: String,
        protocol: Option<String>,
        at: DateTime<Utc>,
    },
    StockAdjusted {
        product_id: ProductId,
        delta: Quantity,
        reason: StockReason,
        actor: Actor,
        at: DateTime<Utc>,
    },
    CustomerBalanceAdjusted {
        customer_id: CustomerId,
        delta: Money,
        reason: BalanceReason,
        actor: Actor,
        at: DateTime<Utc>,
    },
    CashMovement {
        session_id: RegisterSessionId,
        movement: CashMovementKind,
        amount: Money,
        actor: Actor,
        note: Option<String>,
        at: DateTime<Utc>,
    },
    /// A customer registered at the till (e.g. to buy on account); the server assigns its
    /// version. Later balance changes travel as `CustomerBalanceAdjusted` or with sales.
    CustomerRegistered {
        customer: Customer,
        actor: Actor,
        at: DateTime<Utc>,
    },
    /// An offline card payment of a sale forwarded to the acquirer, with its answer.
    CardPaymentForwarded {
        sale_id: SaleId,
        /// The payment's id at the reader (the card payment's `nsu` on the sale).
        payment_id: String,
        outcome: CardForwardOutcome,
        at: DateTime<Utc>,
    },
    /// A superseded note of the sale (e.g. a normal note SEFAZ authorized after its contingency
    /// replacement was issued) cancelled by substitution (event 110112), naming the sale's own
    /// authorized note as the substitute. The sale and its own note are unchanged.
    NoteCancelledBySubstitution {
        sale_id: SaleId,
        cancelled_access_key: String,
        substitute_access_key: String,
        /// The event's protocol number.
        protocol: Option<String>,
        justification: String,
        at: DateTime<Utc>,
    },
    /// An audit entry, so the server keeps the store's full trail. Hashes are hex SHA-256.
    AuditAppended {
        seq: u64,
        actor: Actor,
        action: String,
        subject: String,
        outcome: Outcome,
        at: DateTime<Utc>,
        prev_hash: String,
        hash: String,
    },
}

impl Mutation {
    /// The stock this change moves on the device that made it (a sale's lines out, a void's
    /// back in, an adjustment), product by product.
    pub fn stock_moved(&self) -> Vec<(ProductId, Quantity)> {
        let of = |deltas: &[StockDelta]| deltas.iter().map(|d| (d.product_id, d.delta)).collect();
        match self {
            Mutation::SaleRecorded(recorded) => of(&recorded.stock_deltas),
            Mutation::SaleVoided { stock_deltas, .. } => of(stock_deltas),
            Mutation::StockAdjusted {
                product_id, delta, ..
            } => vec![(*product_id, *delta)],
            Mutation::FiscalStatusChanged { .. }
            | Mutation::FiscalNumbersVoided { .. }
            | Mutation::CustomerBalanceAdjusted { .. }
            | Mutation::CashMovement { .. }
            | Mutation::CustomerRegistered { .. }
            | Mutation::CardPaymentForwarded { .. }
            | Mutation::NoteCancelledBySubstitution { .. }
            | Mutation::AuditAppended { .. } => Vec::new(),
        }
    }

    /// The wire `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Mutation::SaleRecorded(_) => "sale_recorded",
            Mutation::SaleVoided { .. } => "sale_voided",
            Mutation::FiscalStatusChanged { .. } => "fiscal_status_changed",
            Mutation::FiscalNumbersVoided { .. } => "fiscal_numbers_voided",
            Mutation::StockAdjusted { .. } => "stock_adjusted",
            Mutation::CustomerBalanceAdjusted { .. } => "customer_balance_adjusted",
            Mutation::CashMovement { .. } => "cash_movement",
            Mutation::CustomerRegistered { .. } => "customer_registered",
            Mutation::CardPaymentForwarded { .. } => "card_payment_forwarded",
            Mutation::NoteCancelledBySubstitution { .. } => "note_cancelled_by_substitution",
            Mutation::AuditAppended { .. } => "audit_appended",
        }
    }
}

/// A numbered outbox entry: `{"seq": 7, "kind": "...", "payload": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// 1, 2, 3… per device, without gaps.
    pub seq: u64,
    #[serde(flatten)]
    pub mutation: Mutation,
}
