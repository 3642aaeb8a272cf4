//! Card payments with store-and-forward: online authorization when the store is online; when it
//! is offline, the owner's limits are checked before the card is read, the seller must accept
//! the merchant risk, and the capture is sealed and stored until it can be forwarded.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenda_domain::Money;
use uuid::Uuid;

use super::store::{ForwardStatus, OfflinePaymentStore, OfflineStoreError, StoredOfflinePayment};
use super::{
    CardOutcome, CardPaymentRequest, CardReader, CardReaderError, CardSummary, ForwardOutcome,
    OfflineReadOutcome, SealError, SealedCardData, SealingKey,
};
use crate::text::MoneyFormat;

/// A source of the current time (a manual clock in tests and demos).
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock is never poisoned");
        *t += chrono::Duration::from_std(by).expect("test durations fit chrono");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock is never poisoned")
    }
}

/// The owner's limits on card payments accepted offline (the store carries the risk of each).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineLimits {
    /// Largest single offline payment.
    pub per_payment: Money,
    /// Largest total of offline payments not yet forwarded.
    pub total_pending: Money,
    /// Most offline payments not yet forwarded.
    pub max_pending: u32,
    /// Oldest an unforwarded payment may be before no new offline payment is accepted
    /// (acquirers refuse captures older than about a day).
    pub max_age: Duration,
}

impl Default for OfflineLimits {
    fn default() -> Self {
        OfflineLimits {
            per_payment: Money::from_centavos(30_000),    // R$ 300,00
            total_pending: Money::from_centavos(150_000), // R$ 1.500,00
            max_pending: 20,
            max_age: Duration::from_secs(24 * 3600),
        }
    }
}

/// The limit an offline payment would cross.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OfflineLimit {
    PerPayment,
    TotalPending,
    PendingCount,
    OldestPendingAge,
}

impl fmt::Display for OfflineLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OfflineLimit::PerPayment => "offline limit per payment",
            OfflineLimit::TotalPending => "offline limit on the total awaiting connection",
            OfflineLimit::PendingCount => {
                "offline limit on the number of payments awaiting connection"
            }
            OfflineLimit::OldestPendingAge => {
                "offline limit on how long a payment may await connection"
            }
        })
    }
}

/// Version of the merchant-risk notice; an acknowledgement of an older text is not accepted.
pub const OFFLINE_RISK_NOTICE_VERSION: u32 = 1;

/// The notice the UI must show (and the seller accept) before an offline card payment.
pub fn offline_risk_notice() -> &'static str {
    "Pagamento com cartão sem conexão: o cartão só será autorizado quando a conexão voltar. \
     Se for recusado, o valor NÃO será recebido e a loja assume o prejuízo (pagamento a recuperar \
     com o cliente). Aceitar o pagamento offline?"
}

/// The seller's explicit acceptance of [`offline_risk_notice`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantRiskAcknowledgement {
    pub notice_version: u32,
    /// Who accepted (user id).
    pub accepted_by: String,
    pub accepted_at: DateTime<Utc>,
}

impl MerchantRiskAcknowledgement {
    /// Records that `accepted_by` was shown the current notice and accepted it.
    pub fn accept(accepted_by: impl Into<String>, accepted_at: DateTime<Utc>) -> Self {
        MerchantRiskAcknowledgement {
            notice_version: OFFLINE_RISK_NOTICE_VERSION,
            accepted_by: accepted_by.into(),
            accepted_at,
        }
    }
}

/// Whether the store can reach the card network now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Connectivity {
    Online,
    Offline,
}

/// Result of [`CardPayments::pay`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardPaymentOutcome {
    Approved {
        authorization_code: String,
        card: CardSummary,
    },
    /// Accepted offline; authorized later. The store carries the risk until then.
    AcceptedOffline {
        payment_id: Uuid,
        card: CardSummary,
    },
    Declined {
        reason: String,
    },
    TimedOut,
    Cancelled,
}

/// A payment declined when forwarded: the sale is not paid for this amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentToRecover {
    pub payment_id: Uuid,
    pub sale_reference: String,
    pub amount: Money,
    pub card: CardSummary,
    pub captured_at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForwardedPayment {
    Approved {
        payment_id: Uuid,
        sale_reference: String,
        authorization_code: String,
    },
    ToRecover(PaymentToRecover),
}

/// Result of [`CardPayments::forward_pending`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardReport {
    /// Payments settled by this run (and any earlier ones not yet confirmed as recorded).
    pub settled: Vec<ForwardedPayment>,
    /// Payments still waiting (the link failed midway).
    pub still_pending: usize,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardPaymentError {
    /// Refused before the card was read.
    #[error("{limit} reached: {detail}")]
    OfflineLimitExceeded { limit: OfflineLimit, detail: String },
    #[error("an offline card payment needs the seller to accept the merchant risk notice first")]
    RiskNotAcknowledged,
    #[error("invalid payment: {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    #[error(transparent)]
    Reader(#[from] CardReaderError),
    #[error("stored card data cannot be sealed or opened")]
    Seal(#[source] SealError),
    #[error("offline payments cannot be stored")]
    Store(#[from] OfflineStoreError),
}

/// Card payments with store-and-forward over any [`CardReader`].
pub struct CardPayments<R: CardReader> {
    reader: R,
    limits: Mutex<OfflineLimits>,
    key: SealingKey,
    store: Box<dyn OfflinePaymentStore>,
    clock: Arc<dyn Clock>,
    /// Serialises limit checks and store updates.
    pending: tokio::sync::Mutex<()>,
}

fn binding(p: &StoredOfflinePayment) -> Vec<u8> {
    binding_of(p.payment_id, p.amount)
}

fn binding_of(payment_id: Uuid, amount: Money) -> Vec<u8> {
    let mut b = payment_id.as_bytes().to_vec();
    b.extend_from_slice(&amount.centavos().to_be_bytes());
    b
}

impl<R: CardReader> CardPayments<R> {
    pub fn new(
        reader: R,
        limits: OfflineLimits,
        key: SealingKey,
        store: Box<dyn OfflinePaymentStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        CardPayments {
            reader,
            limits: Mutex::new(limits),
            key,
            store,
            clock,
            pending: tokio::sync::Mutex::new(()),
        }
    }

    pub fn reader(&self) -> &R {
        &self.reader
    }

    pub fn limits(&self) -> OfflineLimits {
        self.limits
            .lock()
            .expect("limits lock is never poisoned")
            .clone()
    }

    /// The owner changes the limits.
    pub fn set_limits(&self, limits: OfflineLimits) {
        *self.limits.lock().expect("limits lock is never poisoned") = limits;
    }

    /// Offline payments not yet forwarded.
    pub fn pending(&self) -> Result<Vec<StoredOfflinePayment>, CardPaymentError> {
        Ok(self
            .store
            .load()?
            .into_iter()
            .filter(|p| p.status == ForwardStatus::Pending)
            .collect())
    }

    /// Whether an offline payment of `amount` would be accepted now; the UI calls this before
    /// showing the risk notice, and [`Self::pay`] calls it before the card is read.
    pub fn check_offline(&self, amount: Money) -> Result<(), CardPaymentError> {
        let limits = self.limits();
        let fmt = MoneyFormat::brl();
        let pending = self.pending()?;
        if amount > limits.per_payment {
            return Err(CardPaymentError::OfflineLimitExceeded {
                limit: OfflineLimit::PerPayment,
                detail: format!(
                    "{} is above the maximum of {} per offline payment",
                    fmt.with_symbol(amount),
                    fmt.with_symbol(limits.per_payment)
                ),
            });
        }
        let count = u32::try_from(pending.len()).unwrap_or(u32::MAX);
        if count >= limits.max_pending {
            return Err(CardPaymentError::OfflineLimitExceeded {
                limit: OfflineLimit::PendingCount,
                detail: format!(
                    "{count} payments already await connection (maximum {})",
                    limits.max_pending
                ),
            });
        }
        let total = Money::checked_sum(pending.iter().map(|p| p.amount))
            .and_then(|t| t.checked_add(amount))
            .map_err(|e| CardPaymentError::InvalidInput {
                field: "amount",
                reason: e.to_string(),
            })?;
        if total > limits.total_pending {
            return Err(CardPaymentError::OfflineLimitExceeded {
                limit: OfflineLimit::TotalPending,
                detail: format!(
                    "{} would await connection (maximum {})",
                    fmt.with_symbol(total),
                    fmt.with_symbol(limits.total_pending)
                ),
            });
        }
        let now = self.clock.now();
        if let Some(oldest) = pending.iter().map(|p| p.captured_at).min() {
            let age = (now - oldest).to_std().unwrap_or_default();
            if age >= limits.max_age {
                return Err(CardPaymentError::OfflineLimitExceeded {
                    limit: OfflineLimit::OldestPendingAge,
                    detail: format!(
                        "a payment has awaited connection for {} h (maximum {} h)",
                        age.as_secs() / 3600,
                        limits.max_age.as_secs() / 3600
                    ),
                });
            }
        }
        Ok(())
    }

    /// Takes a card payment: online authorization, or store-and-forward when offline.
    pub async fn pay(
        &self,
        request: &CardPaymentRequest,
        connectivity: Connectivity,
        risk: Option<&MerchantRiskAcknowledgement>,
    ) -> Result<CardPaymentOutcome, CardPaymentError> {
        if request.amount.centavos() <= 0 {
            return Err(CardPaymentError::InvalidInput {
                field: "amount",
                reason: "must be positive".into(),
            });
        }
        if connectivity == Connectivity::Online {
            return Ok(match self.reader.take_payment(request).await? {
                CardOutcome::Approved {
                    authorization_code,
                    card,
                } => CardPaymentOutcome::Approved {
                    authorization_code,
                    card,
                },
                CardOutcome::Declined { reason } => CardPaymentOutcome::Declined { reason },
                CardOutcome::TimedOut => CardPaymentOutcome::TimedOut,
                CardOutcome::Cancelled => CardPaymentOutcome::Cancelled,
            });
        }
        let _guard = self.pending.lock().await;
        // Limits first: the card is not read for a payment that would be refused anyway.
        self.check_offline(request.amount)?;
        let risk = risk.ok_or(CardPaymentError::RiskNotAcknowledged)?;
        if risk.notice_version != OFFLINE_RISK_NOTICE_VERSION || risk.accepted_by.trim().is_empty()
        {
            return Err(CardPaymentError::RiskNotAcknowledged);
        }
        match self.reader.capture_offline(request).await? {
            OfflineReadOutcome::Captured { card, card_data } => {
                let sealed = SealedCardData::seal(
                    &self.key,
                    &binding_of(request.payment_id, request.amount),
                    &card_data,
                )
                .map_err(CardPaymentError::Seal)?;
                let stored = StoredOfflinePayment {
                    payment_id: request.payment_id,
                    sale_reference: request.sale_reference.clone(),
                    amount: request.amount,
                    kind: request.kind,
                    card: card.clone(),
                    captured_at: self.clock.now(),
                    risk_accepted_by: risk.accepted_by.clone(),
                    sealed,
                    status: ForwardStatus::Pending,
                };
                let mut all = self.store.load()?;
                if !all.iter().any(|p| p.payment_id == stored.payment_id) {
                    all.push(stored);
                    self.store.save(&all)?;
                }
                Ok(CardPaymentOutcome::AcceptedOffline {
                    payment_id: request.payment_id,
                    card,
                })
            }
            OfflineReadOutcome::Declined { reason } => Ok(CardPaymentOutcome::Declined { reason }),
            OfflineReadOutcome::TimedOut => Ok(CardPaymentOutcome::TimedOut),
            OfflineReadOutcome::Cancelled => Ok(CardPaymentOutcome::Cancelled),
        }
    }

    /// Forwards every pending offline payment (call when the link is back). Each result is
    /// saved as it arrives; settled payments stay listed until [`Self::confirm_recorded`].
    pub async fn forward_pending(&self) -> Result<ForwardReport, CardPaymentError> {
        let _guard = self.pending.lock().await;
        let mut all = self.store.load()?;
        let mut report = ForwardReport::default();
        for i in 0..all.len() {
            if all[i].status != ForwardStatus::Pending {
                continue;
            }
            let data = all[i]
                .sealed
                .open(&self.key, &binding(&all[i]))
                .map_err(CardPaymentError::Seal)?;
            match self
                .reader
                .forward(all[i].payment_id, all[i].amount, &data)
                .await
            {
                Ok(ForwardOutcome::Approved { authorization_code }) => {
                    all[i].status = ForwardStatus::Approved { authorization_code };
                }
                Ok(ForwardOutcome::Declined { reason }) => {
                    all[i].status = ForwardStatus::Declined { reason };
                }
                Err(e) => {
                    tracing::warn!(error = %e, "forwarding offline card payments stopped; will retry");
                    break;
                }
            }
            self.store.save(&all)?;
        }
        for p in &all {
            match &p.status {
                ForwardStatus::Pending => report.still_pending += 1,
                ForwardStatus::Approved { authorization_code } => {
                    report.settled.push(ForwardedPayment::Approved {
                        payment_id: p.payment_id,
                        sale_reference: p.sale_reference.clone(),
                        authorization_code: authorization_code.clone(),
                    })
                }
                ForwardStatus::Declined { reason } => {
                    report
                        .settled
                        .push(ForwardedPayment::ToRecover(PaymentToRecover {
                            payment_id: p.payment_id,
                            sale_reference: p.sale_reference.clone(),
                            amount: p.amount,
                            card: p.card.clone(),
                            captured_at: p.captured_at,
                            reason: reason.clone(),
                        }))
                }
            }
        }
        Ok(report)
    }

    /// The point of sale recorded these settled payments on their sales: drop them (and their
    /// sealed card data).
    pub async fn confirm_recorded(&self, payment_ids: &[Uuid]) -> Result<(), CardPaymentError> {
        let _guard = self.pending.lock().await;
        let mut all = self.store.load()?;
        all.retain(|p| p.status == ForwardStatus::Pending || !payment_ids.contains(&p.payment_id));
        self.store.save(&all)?;
        Ok(())
    }
}
