//! Card readers: the [`CardReader`] trait, a reader driven over a [`crate::Transport`]
//! ([`LinkCardReader`]), and [`CardPayments`], which adds store-and-forward for when the store
//! is offline: owner-set limits checked before the card is read, card data sealed with
//! AES-256-GCM, forwarding on reconnect with declines surfaced as payments to recover.

mod link;
mod payments;
pub mod protocol;
mod seal;
mod store;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tenda_domain::Money;
use tokio::sync::broadcast;
use uuid::Uuid;

pub use link::{LinkCardReader, ReaderSettings};
pub use payments::{
    CardPaymentError, CardPaymentOutcome, CardPayments, Clock, Connectivity, ForwardReport,
    ForwardedPayment, ManualClock, MerchantRiskAcknowledgement, OFFLINE_RISK_NOTICE_VERSION,
    OfflineLimit, OfflineLimits, PaymentToRecover, SystemClock, offline_risk_notice,
};
pub use seal::{CardData, SealError, SealedCardData, SealingKey};
pub use store::{
    FileOfflineStore, ForwardStatus, MemoryOfflineStore, OfflinePaymentStore, OfflineStoreError,
    StoredOfflinePayment,
};

use crate::transport::TransportError;

/// Credit or debit: the domain's own kind, so a payment maps straight onto the sale.
pub use tenda_domain::CardKind;

/// One card payment to take. `payment_id` is the idempotency key: the same id is never
/// charged twice, whatever happens to the link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardPaymentRequest {
    pub payment_id: Uuid,
    /// The sale this payment belongs to, as the point of sale names it.
    pub sale_reference: String,
    pub amount: Money,
    pub kind: CardKind,
    /// 1 for a single payment.
    pub installments: u8,
}

/// What may be shown about a card: its brand and last four digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    pub brand: String,
    pub last4: String,
}

/// Result of an online payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardOutcome {
    Approved {
        authorization_code: String,
        card: CardSummary,
    },
    Declined {
        reason: String,
    },
    /// No card was presented in time.
    TimedOut,
    Cancelled,
}

/// Result of reading a card for store-and-forward (no authorization yet).
#[derive(Debug, PartialEq, Eq)]
pub enum OfflineReadOutcome {
    Captured {
        card: CardSummary,
        card_data: CardData,
    },
    /// The card itself refused offline use (EMV offline risk management).
    Declined {
        reason: String,
    },
    TimedOut,
    Cancelled,
}

/// Result of forwarding a stored payment for authorization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForwardOutcome {
    Approved { authorization_code: String },
    Declined { reason: String },
}

/// What the reader knows about a payment, asked after a reconnect.
#[derive(Debug, PartialEq, Eq)]
pub enum PaymentState {
    /// The reader never received it: nothing was charged.
    NotStarted,
    /// Still waiting for the card or the authorization.
    InProgress,
    Finished(CardOutcome),
    CapturedOffline {
        card: CardSummary,
        card_data: CardData,
    },
}

/// Stages reported while a payment runs, for the UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReaderEvent {
    Connected,
    Disconnected,
    WaitingForCard { payment_id: Uuid },
    CardRead { payment_id: Uuid },
    PinEntry { payment_id: Uuid },
    Authorizing { payment_id: Uuid },
    Finished { payment_id: Uuid },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderInfo {
    pub model: String,
    pub serial: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardReaderError {
    #[error("the card reader cannot be reached")]
    Unreachable(#[source] TransportError),
    /// The link dropped during the payment. `state` is what the reader said after reconnecting,
    /// or `None` if it could not be reached: ask [`CardReader::payment_state`] before retrying.
    #[error("the card reader link dropped during payment {payment_id}")]
    LinkLost {
        payment_id: Uuid,
        state: Option<PaymentState>,
        #[source]
        source: TransportError,
    },
    /// The reader stopped answering; the payment's state is unknown until it answers.
    #[error("the card reader stopped answering during payment {payment_id}")]
    NoResponse { payment_id: Uuid },
    #[error("the card reader sent an unreadable message")]
    Protocol(#[source] protocol::ProtocolError),
    #[error("the card reader rejected the request: {0}")]
    Rejected(String),
}

/// A card reader.
#[async_trait]
pub trait CardReader: Send + Sync {
    async fn connect(&self) -> Result<ReaderInfo, CardReaderError>;
    /// Reads the card and authorizes online. Calling again with the same payment id returns
    /// the first result instead of charging again.
    async fn take_payment(
        &self,
        request: &CardPaymentRequest,
    ) -> Result<CardOutcome, CardReaderError>;
    /// Reads the card for store-and-forward, without authorizing.
    async fn capture_offline(
        &self,
        request: &CardPaymentRequest,
    ) -> Result<OfflineReadOutcome, CardReaderError>;
    /// Submits a stored capture for authorization.
    async fn forward(
        &self,
        payment_id: Uuid,
        amount: Money,
        card_data: &CardData,
    ) -> Result<ForwardOutcome, CardReaderError>;
    /// Cancels the payment in progress (the running call returns `Cancelled`).
    async fn cancel(&self, payment_id: Uuid) -> Result<(), CardReaderError>;
    async fn payment_state(&self, payment_id: Uuid) -> Result<PaymentState, CardReaderError>;
    /// Progress events for the UI.
    fn events(&self) -> broadcast::Receiver<ReaderEvent>;
}
