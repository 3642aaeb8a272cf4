//! Card payments through the paired reader: online authorization when the link is up;
//! store-and-forward within the owner's offline limits when it is down (the seller is shown the
//! merchant risk and accepts it first); forwarding when the link returns, each result audited; a
//! payment declined on forwarding is listed for the store to collect — the sale stands.
//!
//! Offline captures (sealed card data only) live in the encrypted store, and so does the sealing
//! key (its `secrets` table).

use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use tenda_devices::card::{
    CardData, CardOutcome, CardPaymentOutcome, CardPaymentRequest, CardPayments, CardReader,
    CardReaderError, Connectivity, ForwardOutcome, ForwardedPayment, MerchantRiskAcknowledgement,
    OfflineLimits, OfflinePaymentStore, OfflineReadOutcome, OfflineStoreError, PaymentState,
    ReaderEvent, ReaderInfo, SealingKey, StoredOfflinePayment, SystemClock, offline_risk_notice,
};
use tenda_domain::{
    Action, Actor, AuditEvent, CardForwardOutcome, CardKind, Money, Mutation, Outcome, Payment,
    PaymentMethod, SaleId,
};
use tenda_store::LocalChange;
use uuid::Uuid;

use super::{Approval, Inner, Pos, execute, lock, storage};
use crate::checkout::payments::PaymentRequest;
use crate::error::{PosError, PosResult, card_error, cart_error, payment_error, sale_error};
use crate::status::{LinkState, PeripheralState};

/// What errors about the offline captures name (they wait in the store's `card_captures`
/// table, a row each, their card data sealed).
const OFFLINE_CAPTURES: &str = "card_captures";
/// Name of the sealing key in the store's `secrets` table.
const SEALING_KEY: &str = "pos.card_sealing_key";

/// The paired reader as the store-and-forward layer sees it.
pub(crate) type Terminal = CardPayments<SharedReader>;

/// Card state of the device: the paired terminal, the seller's acceptance of the offline risk
/// for the ticket being paid, and cards already charged for it (so a retried checkout never
/// charges twice).
#[derive(Default)]
pub(crate) struct CardState {
    pub terminal: Mutex<Option<Arc<Terminal>>>,
    /// One forwarding run at a time: results are recorded and confirmed before the next run
    /// could see them again.
    pub forwarding: tokio::sync::Mutex<()>,
    /// The forwarding started when the link came back (stopped by `shutdown`).
    pub forwarding_task: Mutex<Option<crate::runtime::TaskHandle>>,
}

/// Cards charged for the ticket being paid, by payment index, and the sale id they name.
#[derive(Clone, Debug)]
pub(crate) struct ChargedTicket {
    pub sale_id: SaleId,
    /// The ticket as it was when charged: charges are never carried to another ticket.
    pub cart: tenda_domain::Cart,
    pub cards: Vec<(usize, Money, CardKind, Payment, Option<AuditEvent>)>,
    /// The payment id used for each card payment of this ticket: a retry after a lost answer
    /// asks the reader with the same id, which never charges twice.
    pub attempts: Vec<(usize, Money, CardKind, Uuid)>,
}

/// What the checkout commit takes from the card step.
#[derive(Clone, Debug, Default)]
pub(crate) struct CardCharges {
    pub sale_id: Option<SaleId>,
    /// Domain payment per request index (card requests only).
    pub payments: Vec<(usize, Payment)>,
    /// Entries committed with the sale (offline acceptance with the seller's name).
    pub audit: Vec<AuditEvent>,
}

impl CardCharges {
    pub fn payment(&self, index: usize) -> Option<Payment> {
        self.payments
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, p)| p.clone())
    }
}

/// Any reader behind an `Arc`, so the terminal needs no type parameter at the `Pos` level.
pub struct SharedReader(pub Arc<dyn CardReader>);

#[async_trait]
impl CardReader for SharedReader {
    async fn connect(&self) -> Result<ReaderInfo, CardReaderError> {
        self.0.connect().await
    }
    async fn take_payment(
        &self,
        request: &CardPaymentRequest,
    ) -> Result<CardOutcome, CardReaderError> {
        self.0.take_payment(request).await
    }
    async fn capture_offline(
        &self,
        request: &CardPaymentRequest,
    ) -> Result<OfflineReadOutcome, CardReaderError> {
        self.0.capture_offline(request).await
    }
    async fn forward(
        &self,
        payment_id: Uuid,
        amount: Money,
        card_data: &CardData,
    ) -> Result<ForwardOutcome, CardReaderError> {
        self.0.forward(payment_id, amount, card_data).await
    }
    async fn cancel(&self, payment_id: Uuid) -> Result<(), CardReaderError> {
        self.0.cancel(payment_id).await
    }
    async fn payment_state(&self, payment_id: Uuid) -> Result<PaymentState, CardReaderError> {
        self.0.payment_state(payment_id).await
    }
    fn events(&self) -> tokio::sync::broadcast::Receiver<ReaderEvent> {
        self.0.events()
    }
}

/// Offline captures kept inside the device's encrypted database.
struct EncryptedCaptures(Weak<Inner>);

impl EncryptedCaptures {
    fn unavailable() -> OfflineStoreError {
        OfflineStoreError::Io {
            path: OFFLINE_CAPTURES.into(),
            source: std::io::Error::other("the point of sale was closed"),
        }
    }

    fn failed(e: impl std::fmt::Display) -> OfflineStoreError {
        OfflineStoreError::Io {
            path: OFFLINE_CAPTURES.into(),
            source: std::io::Error::other(e.to_string()),
        }
    }
}

impl OfflinePaymentStore for EncryptedCaptures {
    fn load(&self) -> Result<Vec<StoredOfflinePayment>, OfflineStoreError> {
        let inner = self.0.upgrade().ok_or_else(Self::unavailable)?;
        let rows = lock(&inner.store).card_captures().map_err(Self::failed)?;
        rows.iter()
            .map(|row| serde_json::from_str(&row.record).map_err(Self::failed))
            .collect()
    }

    fn save(&self, payments: &[StoredOfflinePayment]) -> Result<(), OfflineStoreError> {
        let inner = self.0.upgrade().ok_or_else(Self::unavailable)?;
        let rows = payments
            .iter()
            .map(|p| {
                Ok(tenda_store::CardCapture {
                    payment_id: p.payment_id.to_string(),
                    sale_reference: p.sale_reference.clone(),
                    captured_at: p.captured_at,
                    record: serde_json::to_string(p).map_err(Self::failed)?,
                })
            })
            .collect::<Result<Vec<_>, OfflineStoreError>>()?;
        lock(&inner.store)
            .save_card_captures(&rows)
            .map_err(Self::failed)
    }
}

/// What the seller sees before taking a card offline.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CardOfflineRisk {
    /// The link is down: a card payment now is stored and forwarded later.
    pub offline: bool,
    /// The notice the seller must read and accept (`accept_card_offline_risk`).
    pub notice: String,
    /// Whether an offline payment of the asked amount is within the limits.
    pub allowed: bool,
    /// Why not, naming the limit.
    pub refusal: Option<String>,
    pub per_payment_limit: Money,
    pub pending_total: Money,
    pub total_pending_limit: Money,
    pub pending_count: u32,
}

/// An offline card payment still waiting for the link.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PendingCardPayment {
    pub payment_id: String,
    pub sale_id: String,
    pub amount: Money,
    pub kind: CardKind,
    pub brand: String,
    pub last4: String,
    pub captured_at: chrono::DateTime<chrono::Utc>,
    pub risk_accepted_by: String,
}

/// A card payment declined when forwarded: the sale stands, the store must collect the amount.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CardPaymentToRecover {
    pub payment_id: String,
    pub sale_id: String,
    pub amount: Money,
    pub brand: String,
    pub last4: String,
    pub captured_at: chrono::DateTime<chrono::Utc>,
    pub declined_at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
}

/// What one forwarding run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CardForwardSummary {
    pub approved: u32,
    pub declined: u32,
    /// Still waiting (the link failed midway).
    pub still_pending: u32,
}

fn no_reader() -> PosError {
    PosError::Peripheral {
        device: "card_reader".into(),
        reason: "no card reader is paired with this register".into(),
    }
}

impl Pos {
    /// Pairs the card reader on `transport` with this register: card payments go through it
    /// from now on. The key that seals offline captures is created once and kept in the
    /// encrypted store.
    pub fn pair_card_reader(
        &self,
        transport: Arc<dyn crate::peripherals::PeripheralTransport>,
    ) -> PosResult<()> {
        self.alive()?;
        let reader =
            tenda_devices::card::LinkCardReader::new(transport, self.inner.peripherals.reader());
        self.pair_reader(Arc::new(reader))
    }

    /// Pairs any reader (the protocol already on top of its transport).
    pub(crate) fn pair_reader(&self, reader: Arc<dyn CardReader>) -> PosResult<()> {
        let device = Actor::Device(lock(&self.inner.config).device_id);
        let key = {
            let mut store = lock(&self.inner.store);
            match store.secret(SEALING_KEY).map_err(storage)? {
                Some(bytes) => {
                    let arr: [u8; 32] =
                        bytes.as_slice().try_into().map_err(|_| PosError::Storage {
                            detail: "the card sealing key is damaged".into(),
                        })?;
                    SealingKey::from_bytes(arr)
                }
                None => {
                    let key = SealingKey::generate();
                    store
                        .save_secret(SEALING_KEY, key.expose(), device, self.now())
                        .map_err(storage)?;
                    key
                }
            }
        };
        let limits = lock(&self.inner.config).card_offline_limits.clone();
        let terminal = CardPayments::new(
            SharedReader(reader),
            limits,
            key,
            Box::new(EncryptedCaptures(Arc::downgrade(&self.inner))),
            Arc::new(SystemClock),
        );
        *lock(&self.inner.cards.terminal) = Some(Arc::new(terminal));
        self.inner
            .hub
            .update(|s| s.card_reader = PeripheralState::Ready);
        Ok(())
    }

    fn terminal(&self) -> PosResult<Arc<Terminal>> {
        lock(&self.inner.cards.terminal)
            .clone()
            .ok_or_else(no_reader)
    }

    /// The offline risk of a card payment of `amount` now: whether the link is down, the notice
    /// to show, and whether the owner's limits allow it (and if not, which limit and why).
    pub fn card_offline_risk(&self, amount: Money) -> PosResult<CardOfflineRisk> {
        self.alive()?;
        let terminal = self.terminal()?;
        let limits: OfflineLimits = terminal.limits();
        let pending = terminal.pending().map_err(card_error)?;
        let pending_total = Money::checked_sum(pending.iter().map(|p| p.amount))?;
        let check = terminal.check_offline(amount);
        Ok(CardOfflineRisk {
            offline: self.link() == LinkState::Offline,
            notice: offline_risk_notice().to_owned(),
            allowed: check.is_ok(),
            refusal: check.err().map(|e| e.to_string()),
            per_payment_limit: limits.per_payment,
            pending_total,
            total_pending_limit: limits.total_pending,
            pending_count: u32::try_from(pending.len()).unwrap_or(u32::MAX),
        })
    }

    /// The signed-in seller accepts the offline risk notice for the ticket being paid.
    pub fn accept_card_offline_risk(&self) -> PosResult<()> {
        self.alive()?;
        let seller = self
            .signed_in()
            .ok_or_else(|| PosError::state("accept the card risk", "nobody is signed in"))?;
        let cart = self.current_cart()?;
        self.device().card_risk = Some((
            MerchantRiskAcknowledgement::accept(seller.user_id.to_string(), self.now()),
            cart,
        ));
        Ok(())
    }

    fn current_cart(&self) -> PosResult<tenda_domain::Cart> {
        Ok(self
            .device()
            .session
            .as_ref()
            .ok_or_else(|| PosError::state("checkout", "nobody is signed in"))?
            .ticket
            .cart
            .clone())
    }

    /// Everything the commit would refuse, checked before a card is charged: who sells, the
    /// register, the ticket, the payments against the total, closed inventory.
    pub(crate) fn checkout_validate(&self, requests: &[PaymentRequest]) -> PosResult<()> {
        let sell = self.authorize_with(Action::Sell, None)?;
        let ticket = self
            .device()
            .session
            .as_ref()
            .ok_or_else(|| PosError::state("checkout", "nobody is signed in"))?
            .ticket
            .clone();
        if ticket.cart.lines.is_empty() {
            return Err(cart_error(tenda_domain::CartError::Empty));
        }
        if self.device().register.is_none() {
            return Err(PosError::state("checkout", "open the register first"));
        }
        let customer = match ticket.cart.customer_id {
            Some(id) => lock(&self.inner.store).customer(id).map_err(storage)?,
            None => None,
        };
        crate::checkout::payments::precheck(requests, self.link(), customer.as_ref())?;
        if !lock(&self.inner.config).sell_without_stock_check {
            self.check_stock(&ticket.cart)?;
        }
        // The same sale the commit builds, with stand-in card payments, to check the amounts.
        let payments = requests
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                PaymentRequest::Cash { amount, tendered } => {
                    Payment::cash(*amount, *tendered).map_err(|e| payment_error(i, e))
                }
                PaymentRequest::Pix { amount, txid } => Ok(Payment::pix(*amount, txid.clone())),
                PaymentRequest::CustomerAccount { amount } => Ok(Payment::on_account(
                    *amount,
                    customer.as_ref().map(|c| c.id).ok_or_else(|| {
                        PosError::invalid(
                            "customer",
                            "choose the customer whose account is charged",
                        )
                    })?,
                )),
                PaymentRequest::Card { amount, kind } => {
                    Ok(Payment::card(*amount, *kind, None, None))
                }
            })
            .collect::<PosResult<Vec<_>>>()?;
        let header = tenda_domain::SaleHeader {
            id: SaleId::new(),
            device_id: lock(&self.inner.config).device_id,
            seller_id: sell.performer().user_id,
            created_at: self.now(),
        };
        ticket
            .cart
            .checkout(header, payments)
            .map(|_| ())
            .map_err(sale_error)
    }

    /// Charges the card requests of a checkout (after the sale was validated), reusing cards
    /// already charged for this ticket. Online: authorized at once. Offline: within limits and
    /// with the seller's acceptance, stored for forwarding.
    pub(crate) async fn charge_cards(&self, requests: &[PaymentRequest]) -> PosResult<CardCharges> {
        let cards: Vec<(usize, Money, CardKind)> = requests
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r {
                PaymentRequest::Card { amount, kind } => Some((i, *amount, *kind)),
                _ => None,
            })
            .collect();
        if cards.is_empty() {
            return Ok(CardCharges::default());
        }
        let terminal = self.terminal()?;
        // The card is taken by the person the grant names, even if the session changes while
        // the reader works.
        let take_card = self.authorize_with(Action::TakeCard, None)?;
        let seller = take_card.require(Action::TakeCard)?.performer().clone();
        let cart = self.current_cart()?;
        let mut ticket = self
            .device()
            .card_charged
            .clone()
            .unwrap_or_else(|| ChargedTicket {
                sale_id: SaleId::new(),
                cart: cart.clone(),
                cards: Vec::new(),
                attempts: Vec::new(),
            });
        // A card already charged (or captured) is never forgotten: the checkout must carry it,
        // for the same ticket, or a manager must settle it with the acquirer.
        let stray: Vec<String> = ticket
            .cards
            .iter()
            .filter(|(i, amount, kind, ..)| {
                ticket.cart != cart || !cards.contains(&(*i, *amount, *kind))
            })
            .map(|(i, amount, _, p, _)| {
                let auth = match &p.method {
                    PaymentMethod::Card {
                        authorization: Some(a),
                        ..
                    } => format!("authorization {a}"),
                    _ => "stored offline".to_owned(),
                };
                format!("payment {i}: {amount} ({auth})")
            })
            .collect();
        if !stray.is_empty() {
            return Err(PosError::state(
                "checkout",
                format!(
                    "a card was already charged for this ticket and is not in these payments — {}; \
                     pay the same ticket with the same card payments, or have a manager reverse it \
                     at the acquirer (abandon_card_charges)",
                    stray.join(", ")
                ),
            ));
        }
        if ticket.cart != cart {
            // Nothing was charged for the old ticket: this is a new one.
            ticket.attempts.clear();
            ticket.sale_id = SaleId::new();
        }
        ticket.cart = cart.clone();
        let connectivity = match self.link() {
            LinkState::Online => Connectivity::Online,
            LinkState::Offline => Connectivity::Offline,
        };
        for (index, amount, kind) in cards {
            if ticket.cards.iter().any(|(i, ..)| *i == index) {
                continue;
            }
            let risk = self
                .device()
                .card_risk
                .clone()
                .filter(|(r, for_cart)| {
                    r.accepted_by == seller.user_id.to_string() && *for_cart == cart
                })
                .map(|(r, _)| r);
            let payment_id = match ticket
                .attempts
                .iter()
                .find(|(i, a, k, _)| (*i, *a, *k) == (index, amount, kind))
            {
                Some((.., id)) => *id,
                None => {
                    let id = Uuid::now_v7();
                    ticket.attempts.push((index, amount, kind, id));
                    id
                }
            };
            let request = CardPaymentRequest {
                payment_id,
                sale_reference: ticket.sale_id.to_string(),
                amount,
                kind,
                installments: 1,
            };
            let outcome = terminal
                .pay(&request, connectivity, risk.as_ref())
                .await
                .map_err(card_error);
            let outcome = match outcome {
                Ok(o) => {
                    self.inner
                        .hub
                        .update(|s| s.card_reader = PeripheralState::Ready);
                    o
                }
                Err(e) => {
                    if let PosError::Peripheral { reason, .. } = &e {
                        let reason = reason.clone();
                        self.inner
                            .hub
                            .update(|s| s.card_reader = PeripheralState::NeedsAttention { reason });
                    }
                    self.device().card_charged = Some(ticket);
                    return Err(e);
                }
            };
            let (payment, audit) = match outcome {
                CardPaymentOutcome::Approved {
                    authorization_code,
                    card,
                } => (
                    Payment {
                        amount,
                        method: PaymentMethod::Card {
                            kind,
                            brand: Some(card.brand),
                            authorization: Some(authorization_code),
                            nsu: Some(request.payment_id.to_string()),
                        },
                    },
                    None,
                ),
                CardPaymentOutcome::AcceptedOffline { payment_id, card } => (
                    Payment {
                        amount,
                        method: PaymentMethod::Card {
                            kind,
                            brand: Some(card.brand),
                            authorization: None,
                            nsu: Some(payment_id.to_string()),
                        },
                    },
                    Some(AuditEvent {
                        actor: Actor::User(seller.user_id),
                        action: "card.accepted_offline".into(),
                        subject: format!(
                            "sale:{} payment:{payment_id} amount:{}",
                            ticket.sale_id,
                            amount.centavos()
                        ),
                        outcome: Outcome::Succeeded,
                        at: self.now(),
                    }),
                ),
                CardPaymentOutcome::Declined { reason } => {
                    // Settled: another try is a new payment.
                    ticket.attempts.retain(|(i, ..)| *i != index);
                    self.device().card_charged = Some(ticket);
                    return Err(PosError::Rejected {
                        code: "card_declined".into(),
                        reason,
                    });
                }
                CardPaymentOutcome::TimedOut | CardPaymentOutcome::Cancelled => {
                    ticket.attempts.retain(|(i, ..)| *i != index);
                    self.device().card_charged = Some(ticket);
                    return Err(PosError::Peripheral {
                        device: "card_reader".into(),
                        reason: "no card was presented (timed out or cancelled); try again".into(),
                    });
                }
            };
            ticket.cards.push((index, amount, kind, payment, audit));
        }
        self.device().card_charged = Some(ticket.clone());
        Ok(CardCharges {
            sale_id: Some(ticket.sale_id),
            payments: ticket
                .cards
                .iter()
                .map(|(i, _, _, p, _)| (*i, p.clone()))
                .collect(),
            audit: ticket
                .cards
                .iter()
                .filter_map(|(.., a)| a.clone())
                .collect(),
        })
    }

    /// A manager drops the cards charged for the current ticket (audited; offline captures
    /// dropped, online ones to reverse at the acquirer). Returns how many were dropped.
    pub async fn abandon_card_charges(&self, approval: Option<Approval>) -> PosResult<u32> {
        self.on_core(
            move |pos| async move { pos.abandon_card_charges_on_core(approval.as_ref()).await },
        )
        .await
    }

    /// Forgets the cards charged for a ticket that will not be paid (the sale was abandoned after
    /// a card went through): a manager's decision, audited with each charge, to be reversed at
    /// the acquirer. Returns how many charges were dropped.
    async fn abandon_card_charges_on_core(&self, approval: Option<&Approval>) -> PosResult<u32> {
        let auth = self.authorize_with(Action::VoidSale, approval)?;
        // No forwarding run may hold a copy of the captures while they are dropped.
        let _no_forwarding = self.inner.cards.forwarding.lock().await;
        let Some(ticket) = self.device().card_charged.take() else {
            return Ok(0);
        };
        let dropped: Vec<String> = ticket
            .cards
            .iter()
            .filter_map(|(.., p, _)| match &p.method {
                PaymentMethod::Card {
                    authorization: None,
                    nsu: Some(id),
                    ..
                } => Some(id.clone()),
                _ => None,
            })
            .collect();
        let charges: Vec<String> = ticket
            .cards
            .iter()
            .map(|(_, amount, _, p, _)| {
                let reference = match &p.method {
                    PaymentMethod::Card {
                        authorization, nsu, ..
                    } => format!(
                        "payment:{} authorization:{}",
                        nsu.as_deref().unwrap_or("-"),
                        authorization.as_deref().unwrap_or("offline")
                    ),
                    _ => String::new(),
                };
                format!("{reference} amount:{}", amount.centavos())
            })
            .collect();
        // One decision, one entry naming every charge to reverse at the acquirer. Offline
        // captures of the abandoned ticket must never be forwarded (that would charge the
        // customer for a sale that does not exist): dropped in the same transaction.
        let execution = auth.execution(
            Action::VoidSale,
            format!(
                "sale:{} abandoned cards [{}]",
                ticket.sale_id,
                charges.join("; ")
            ),
            self.now(),
        );
        let change = LocalChange {
            card_captures_dropped: dropped,
            ..Default::default()
        };
        self.execute(execution, change, execute::record)?;
        Ok(u32::try_from(ticket.cards.len()).unwrap_or(u32::MAX))
    }

    /// Offline card payments still waiting for the link.
    pub fn pending_card_payments(&self) -> PosResult<Vec<PendingCardPayment>> {
        self.alive()?;
        let terminal = self.terminal()?;
        Ok(terminal
            .pending()
            .map_err(card_error)?
            .into_iter()
            .map(|p| PendingCardPayment {
                payment_id: p.payment_id.to_string(),
                sale_id: p.sale_reference,
                amount: p.amount,
                kind: p.kind,
                brand: p.card.brand,
                last4: p.card.last4,
                captured_at: p.captured_at,
                risk_accepted_by: p.risk_accepted_by,
            })
            .collect())
    }

    /// Forwards the offline card captures now (the core also does it when the link returns).
    pub async fn forward_pending_card_payments(&self) -> PosResult<CardForwardSummary> {
        self.on_core(|pos| async move { pos.forward_pending().await })
            .await
    }

    /// Sends the offline card payments for authorization (call when the link returns). Each
    /// result is audited; a decline is listed in [`Pos::card_payments_to_recover`].
    async fn forward_pending(&self) -> PosResult<CardForwardSummary> {
        let terminal = self.terminal()?;
        if self.link() == LinkState::Offline {
            return Err(PosError::offline(
                "card_forwarding",
                "offline card payments are forwarded when the link returns",
            ));
        }
        let _one_run = self.inner.cards.forwarding.lock().await;
        let report = terminal.forward_pending().await.map_err(card_error)?;
        let device = Actor::Device(lock(&self.inner.config).device_id);
        let at = self.now();
        let mut summary = CardForwardSummary {
            still_pending: u32::try_from(report.still_pending).unwrap_or(u32::MAX),
            ..Default::default()
        };
        let known: Vec<String> = lock(&self.inner.store)
            .card_payments_to_recover()
            .map_err(storage)?
            .into_iter()
            .map(|r| r.payment_id)
            .collect();
        let mut declined: Vec<tenda_store::DeclinedCardPayment> = Vec::new();
        let mut audit = Vec::new();
        let mut mutations = Vec::new();
        let mut recorded = Vec::new();
        for settled in &report.settled {
            match settled {
                ForwardedPayment::Approved {
                    payment_id,
                    sale_reference,
                    authorization_code,
                } => {
                    summary.approved += 1;
                    recorded.push(*payment_id);
                    mutations.extend(forwarded(
                        sale_reference,
                        *payment_id,
                        CardForwardOutcome::Approved {
                            authorization_code: authorization_code.clone(),
                        },
                        at,
                    ));
                    audit.push(AuditEvent {
                        actor: device,
                        action: "card.forward_approved".into(),
                        subject: format!(
                            "sale:{sale_reference} payment:{payment_id} authorization:{authorization_code}"
                        ),
                        outcome: Outcome::Succeeded,
                        at,
                    });
                }
                ForwardedPayment::ToRecover(p) => {
                    summary.declined += 1;
                    recorded.push(p.payment_id);
                    mutations.extend(forwarded(
                        &p.sale_reference,
                        p.payment_id,
                        CardForwardOutcome::Declined {
                            amount: p.amount,
                            reason: p.reason.clone(),
                        },
                        at,
                    ));
                    audit.push(AuditEvent {
                        actor: device,
                        action: "card.forward_declined".into(),
                        subject: format!(
                            "sale:{} payment:{} amount:{}",
                            p.sale_reference,
                            p.payment_id,
                            p.amount.centavos()
                        ),
                        outcome: Outcome::Failed,
                        at,
                    });
                    let id = p.payment_id.to_string();
                    if !known.contains(&id) && !declined.iter().any(|r| r.payment_id == id) {
                        declined.push(tenda_store::DeclinedCardPayment {
                            payment_id: id,
                            sale_id: p.sale_reference.clone(),
                            amount: p.amount,
                            brand: p.card.brand.clone(),
                            last4: p.card.last4.clone(),
                            captured_at: p.captured_at,
                            declined_at: at,
                            reason: p.reason.clone(),
                        });
                    }
                }
            }
        }
        if !recorded.is_empty() {
            // The list to collect, the results for the server and their audit entries: one
            // transaction.
            let change = LocalChange {
                card_payments_declined: declined,
                mutations,
                audit,
                ..Default::default()
            };
            lock(&self.inner.store)
                .record_local_change(&change)
                .map_err(storage)?;
            // Recorded durably: the terminal may forget them now.
            terminal
                .confirm_recorded(&recorded)
                .await
                .map_err(card_error)?;
        }
        Ok(summary)
    }

    /// The link came back: forward the offline card payments in the background (when a reader
    /// is paired, captures wait, and a tokio runtime runs). Failures stay pending for the next
    /// call; each result is audited by [`Pos::forward_pending_card_payments`].
    pub(crate) fn forward_cards_in_background(&self) {
        let Some(terminal) = lock(&self.inner.cards.terminal).clone() else {
            return;
        };
        if terminal.pending().map(|p| p.is_empty()).unwrap_or(true) {
            return;
        }
        let inner = Arc::downgrade(&self.inner);
        let task = self.inner.runtime.handle().spawn(async move {
            let Some(inner) = inner.upgrade() else { return };
            if let Err(e) = (Pos { inner }).forward_pending().await {
                tracing::warn!(error = %e, "forwarding offline card payments failed; will retry");
            }
        });
        *lock(&self.inner.cards.forwarding_task) = Some(crate::runtime::TaskHandle::new(task));
    }

    /// Card payments declined when forwarded: amounts the store must collect from the customer.
    pub fn card_payments_to_recover(&self) -> PosResult<Vec<CardPaymentToRecover>> {
        self.alive()?;
        Ok(self
            .reader()?
            .card_payments_to_recover()
            .map_err(storage)?
            .into_iter()
            .map(|r| CardPaymentToRecover {
                payment_id: r.payment_id,
                sale_id: r.sale_id,
                amount: r.amount,
                brand: r.brand,
                last4: r.last4,
                captured_at: r.captured_at,
                declined_at: r.declined_at,
                reason: r.reason,
            })
            .collect())
    }
}

/// The `CardPaymentForwarded` mutation of one forwarding result. Captures name the sale they were
/// taken for by its id; one that does not (never written by this device) is still audited, but
/// has no sale to report to the server under.
fn forwarded(
    sale_reference: &str,
    payment_id: Uuid,
    outcome: CardForwardOutcome,
    at: chrono::DateTime<chrono::Utc>,
) -> Option<Mutation> {
    let Ok(sale_id) = sale_reference.parse::<SaleId>() else {
        tracing::warn!("forwarded card payment names no sale id; audited only");
        return None;
    };
    Some(Mutation::CardPaymentForwarded {
        sale_id,
        payment_id: payment_id.to_string(),
        outcome,
        at,
    })
}

/// The sync engine restored the link: the same as [`Pos::set_link`] online (offline card
/// captures start forwarding), inside the engine's runtime so the forwarding can be spawned from
/// whatever thread reports the event.
pub(crate) fn link_restored_by_engine(inner: &Arc<Inner>) {
    Pos {
        inner: inner.clone(),
    }
    .link_changed(LinkState::Online);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tenda_devices::card::{LinkCardReader, ReaderSettings};
    use tenda_devices::sim::{SimForwardBehaviour, SimulatedCardReader};
    use tenda_devices::{Pacing, ReconnectPolicy};
    use tenda_domain::{DeviceId, Mutation};
    use tenda_fiscal::nfce::Crt;
    use tenda_fiscal::samples::sample_emitter;
    use tenda_sync::engine::{SyncEvent, SyncListener};

    use super::*;
    use crate::config::PosConfig;
    use crate::sync_link::{RoundState, StatusBridge};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_link_restored_by_the_sync_engine_forwards_stored_card_captures() {
        let dir = tempfile::tempdir().expect("dir");
        let config = PosConfig::new(DeviceId::new(), sample_emitter(Crt::SimplesNacional));
        let pos = crate::pos::test_pos(dir.path(), config);
        let sim = SimulatedCardReader::new();
        let settings = ReaderSettings {
            silence_timeout: Duration::from_secs(2),
            query_timeout: Duration::from_secs(1),
            reconnect: ReconnectPolicy {
                attempts: 3,
                first_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
            },
            pacing: Pacing {
                between_chunks: Duration::ZERO,
            },
        };
        pos.pair_reader(Arc::new(LinkCardReader::new(sim.clone(), settings)))
            .expect("pair");
        // A capture taken while offline, waiting in the encrypted store.
        let sale = SaleId::new();
        let outcome = pos
            .terminal()
            .expect("paired")
            .pay(
                &CardPaymentRequest {
                    payment_id: Uuid::now_v7(),
                    sale_reference: sale.to_string(),
                    amount: Money::from_centavos(18_90),
                    kind: CardKind::Credit,
                    installments: 1,
                },
                Connectivity::Offline,
                Some(&MerchantRiskAcknowledgement::accept("bia", pos.now())),
            )
            .await
            .expect("captured");
        assert!(
            matches!(outcome, CardPaymentOutcome::AcceptedOffline { .. }),
            "{outcome:?}"
        );
        assert_eq!(pos.pending_card_payments().expect("pending").len(), 1);

        // The engine (not `Pos::set_link`) reports the link back.
        sim.script_forwarding([SimForwardBehaviour::Approve]);
        let (rounds, _) = tokio::sync::watch::channel(RoundState::default());
        let bridge = StatusBridge {
            inner: Arc::downgrade(&pos.inner),
            runtime: tokio::runtime::Handle::current(),
            rounds,
        };
        assert_eq!(pos.link(), LinkState::Offline);
        bridge.on_event(SyncEvent::Online);
        assert_eq!(pos.link(), LinkState::Online);
        // The reader clears its pending list before the result's mutation is recorded: wait
        // for both.
        let forwarded = |pos: &Pos| {
            pos.inspect_store(|s| s.outbox_after(0, 1_000))
                .expect("outbox")
                .into_iter()
                .any(|e| {
                    matches!(e.mutation, Mutation::CardPaymentForwarded { sale_id, .. } if sale_id == sale)
                })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !(pos.pending_card_payments().expect("pending").is_empty() && forwarded(&pos)) {
            assert!(
                std::time::Instant::now() < deadline,
                "forwarded, and the result recorded for the server, once the engine restored the link"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
