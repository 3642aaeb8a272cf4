//! A card reader driven over a [`Transport`] with the framed protocol of [`super::protocol`].
//! The payment id is the idempotency key: after a dropped link the driver reconnects and asks
//! the reader what became of the payment rather than starting it again.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use tenda_domain::Money;
use tokio::sync::{Mutex, broadcast};
use uuid::Uuid;

use super::protocol::{
    FrameBuffer, HostMessage, ProtocolError, ReaderMessage, Stage, WireResult, WireState, frame,
};
use super::{
    CardData, CardOutcome, CardPaymentRequest, CardReader, CardReaderError, CardSummary,
    ForwardOutcome, OfflineReadOutcome, PaymentState, ReaderEvent, ReaderInfo,
};
use crate::transport::{
    LinkInfo, Pacing, ReconnectPolicy, Transport, TransportError, connect_with_retry, write_all,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderSettings {
    /// Longest silence from the reader during a payment (the customer may take a while; the
    /// reader sends stage updates meanwhile).
    pub silence_timeout: Duration,
    /// Wait for answers to queries.
    pub query_timeout: Duration,
    pub reconnect: ReconnectPolicy,
    pub pacing: Pacing,
}

impl Default for ReaderSettings {
    fn default() -> Self {
        ReaderSettings {
            silence_timeout: Duration::from_secs(90),
            query_timeout: Duration::from_secs(5),
            reconnect: ReconnectPolicy::default(),
            pacing: Pacing::default(),
        }
    }
}

struct Io {
    link: Option<LinkInfo>,
    frames: FrameBuffer,
}

/// A card reader over a byte link.
pub struct LinkCardReader<T: Transport> {
    transport: T,
    settings: ReaderSettings,
    /// Serialises conversations (one payment, query or forward at a time).
    io: Mutex<Io>,
    /// Written to by `cancel` while a payment holds `io`.
    cancel_link: Mutex<Option<LinkInfo>>,
    /// Payment ids already sent to the reader (so a retry asks before paying).
    sent: std::sync::Mutex<HashSet<Uuid>>,
    events: broadcast::Sender<ReaderEvent>,
}

fn card_data(b64: &str) -> Result<CardData, CardReaderError> {
    B64.decode(b64)
        .map(CardData::new)
        .map_err(|_| CardReaderError::Rejected("card data is not base64".into()))
}

fn online_outcome(r: WireResult) -> Result<CardOutcome, CardReaderError> {
    Ok(match r {
        WireResult::Approved {
            authorization_code,
            brand,
            last4,
        } => CardOutcome::Approved {
            authorization_code,
            card: CardSummary { brand, last4 },
        },
        WireResult::Declined { reason } => CardOutcome::Declined { reason },
        WireResult::TimedOut => CardOutcome::TimedOut,
        WireResult::Cancelled => CardOutcome::Cancelled,
        WireResult::Captured { .. } => {
            return Err(CardReaderError::Rejected(
                "reader captured offline when asked to authorize".into(),
            ));
        }
    })
}

fn offline_outcome(r: WireResult) -> Result<OfflineReadOutcome, CardReaderError> {
    Ok(match r {
        WireResult::Captured {
            brand,
            last4,
            card_data: data,
        } => OfflineReadOutcome::Captured {
            card: CardSummary { brand, last4 },
            card_data: card_data(&data)?,
        },
        WireResult::Declined { reason } => OfflineReadOutcome::Declined { reason },
        WireResult::TimedOut => OfflineReadOutcome::TimedOut,
        WireResult::Cancelled => OfflineReadOutcome::Cancelled,
        WireResult::Approved { .. } => {
            return Err(CardReaderError::Rejected(
                "reader authorized online when asked to capture offline".into(),
            ));
        }
    })
}

fn state_of(s: WireState) -> Result<PaymentState, CardReaderError> {
    Ok(match s {
        WireState::NotStarted => PaymentState::NotStarted,
        WireState::InProgress => PaymentState::InProgress,
        WireState::Finished {
            result:
                WireResult::Captured {
                    brand,
                    last4,
                    card_data: data,
                },
        } => PaymentState::CapturedOffline {
            card: CardSummary { brand, last4 },
            card_data: card_data(&data)?,
        },
        WireState::Finished { result } => PaymentState::Finished(online_outcome(result)?),
    })
}

enum Ended {
    Result(WireResult),
    Dropped(TransportError),
    Silent,
}

impl<T: Transport> LinkCardReader<T> {
    pub fn new(transport: T, settings: ReaderSettings) -> Self {
        let (events, _) = broadcast::channel(64);
        LinkCardReader {
            transport,
            settings,
            io: Mutex::new(Io {
                link: None,
                frames: FrameBuffer::default(),
            }),
            cancel_link: Mutex::new(None),
            sent: std::sync::Mutex::new(HashSet::new()),
            events,
        }
    }

    fn emit(&self, e: ReaderEvent) {
        // No subscriber is fine: events are for the UI when it listens.
        let _ = self.events.send(e);
    }

    async fn ensure_link(&self, io: &mut Io) -> Result<LinkInfo, TransportError> {
        if let Some(l) = &io.link {
            return Ok(l.clone());
        }
        let l = connect_with_retry(&self.transport, self.settings.reconnect).await?;
        io.frames.clear();
        io.link = Some(l.clone());
        *self.cancel_link.lock().await = Some(l.clone());
        self.emit(ReaderEvent::Connected);
        Ok(l)
    }

    async fn lost(&self, io: &mut Io) {
        io.link = None;
        *self.cancel_link.lock().await = None;
        self.transport.disconnect().await;
        self.emit(ReaderEvent::Disconnected);
    }

    async fn send(&self, link: &LinkInfo, msg: &HostMessage) -> Result<(), TransportError> {
        let bytes = frame(msg).map_err(|e| TransportError::Link(Box::new(e)))?;
        write_all(&self.transport, link, &bytes, self.settings.pacing)
            .await
            .map_err(|e| e.source)
    }

    /// Next message, waiting at most `timeout` of silence.
    async fn receive(
        &self,
        io: &mut Io,
        timeout: Duration,
    ) -> Result<Option<ReaderMessage>, TransportError> {
        loop {
            match io.frames.next_message::<ReaderMessage>() {
                Some(Ok(m)) => return Ok(Some(m)),
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "unreadable frame from the card reader; skipped");
                    continue;
                }
                None => {}
            }
            match self.transport.read(timeout).await? {
                Some(bytes) => io.frames.push(&bytes),
                None => return Ok(None),
            }
        }
    }

    /// Waits for the result of `payment_id`, relaying stages as events.
    async fn await_result(&self, io: &mut Io, payment_id: Uuid) -> Ended {
        loop {
            match self.receive(io, self.settings.silence_timeout).await {
                Err(e) => return Ended::Dropped(e),
                Ok(None) => return Ended::Silent,
                Ok(Some(ReaderMessage::Stage {
                    payment_id: id,
                    stage,
                })) if id == payment_id => {
                    self.emit(match stage {
                        Stage::WaitingForCard => ReaderEvent::WaitingForCard { payment_id },
                        Stage::CardRead => ReaderEvent::CardRead { payment_id },
                        Stage::PinEntry => ReaderEvent::PinEntry { payment_id },
                        Stage::Authorizing => ReaderEvent::Authorizing { payment_id },
                    });
                }
                Ok(Some(ReaderMessage::Result {
                    payment_id: id,
                    result,
                })) if id == payment_id => {
                    self.emit(ReaderEvent::Finished { payment_id });
                    return Ended::Result(result);
                }
                Ok(Some(ReaderMessage::State {
                    payment_id: id,
                    state: WireState::Finished { result },
                })) if id == payment_id => {
                    return Ended::Result(result);
                }
                Ok(Some(_)) => {} // stale answer to an earlier conversation
            }
        }
    }

    async fn query(&self, io: &mut Io, payment_id: Uuid) -> Result<WireState, TransportError> {
        let link = self.ensure_link(io).await?;
        self.send(&link, &HostMessage::Query { payment_id }).await?;
        loop {
            match self.receive(io, self.settings.query_timeout).await? {
                None => return Err(TransportError::Timeout),
                Some(ReaderMessage::State {
                    payment_id: id,
                    state,
                }) if id == payment_id => return Ok(state),
                Some(_) => {}
            }
        }
    }

    /// Runs one payment conversation; returns the reader's final result.
    async fn run_payment(
        &self,
        request: &CardPaymentRequest,
        offline: bool,
    ) -> Result<WireResult, CardReaderError> {
        let payment_id = request.payment_id;
        let mut io = self.io.lock().await;
        let already_sent = self
            .sent
            .lock()
            .expect("sent-set lock is never poisoned")
            .contains(&payment_id);
        if already_sent {
            // A retry: the reader may have charged already. Ask before doing anything.
            match self.query(&mut io, payment_id).await {
                Ok(WireState::Finished { result }) => return Ok(result),
                Ok(WireState::InProgress) => {
                    return match self.await_result(&mut io, payment_id).await {
                        Ended::Result(r) => Ok(r),
                        Ended::Silent => Err(CardReaderError::NoResponse { payment_id }),
                        Ended::Dropped(e) => {
                            self.lost(&mut io).await;
                            Err(CardReaderError::LinkLost {
                                payment_id,
                                state: None,
                                source: e,
                            })
                        }
                    };
                }
                Ok(WireState::NotStarted) => {}
                Err(e) => {
                    self.lost(&mut io).await;
                    return Err(CardReaderError::LinkLost {
                        payment_id,
                        state: None,
                        source: e,
                    });
                }
            }
        }
        let link = self
            .ensure_link(&mut io)
            .await
            .map_err(CardReaderError::Unreachable)?;
        let amount = request.amount.centavos();
        if amount <= 0 {
            return Err(CardReaderError::Rejected("amount must be positive".into()));
        }
        let pay = HostMessage::Pay {
            payment_id,
            amount,
            kind: request.kind,
            installments: request.installments.max(1),
            offline,
        };
        self.sent
            .lock()
            .expect("sent-set lock is never poisoned")
            .insert(payment_id);
        let ended = match self.send(&link, &pay).await {
            Ok(()) => self.await_result(&mut io, payment_id).await,
            Err(e) => Ended::Dropped(e),
        };
        match ended {
            Ended::Result(r) => Ok(r),
            Ended::Silent => Err(CardReaderError::NoResponse { payment_id }),
            Ended::Dropped(source) => {
                tracing::warn!(
                    "card reader link dropped mid-payment; reconnecting to learn its state"
                );
                self.lost(&mut io).await;
                match self.query(&mut io, payment_id).await {
                    Ok(WireState::Finished { result }) => Ok(result),
                    Ok(WireState::InProgress) => match self.await_result(&mut io, payment_id).await
                    {
                        Ended::Result(r) => Ok(r),
                        Ended::Silent => Err(CardReaderError::NoResponse { payment_id }),
                        Ended::Dropped(e) => {
                            self.lost(&mut io).await;
                            Err(CardReaderError::LinkLost {
                                payment_id,
                                state: None,
                                source: e,
                            })
                        }
                    },
                    Ok(s @ WireState::NotStarted) => Err(CardReaderError::LinkLost {
                        payment_id,
                        state: Some(state_of(s)?),
                        source,
                    }),
                    Err(_) => {
                        self.lost(&mut io).await;
                        Err(CardReaderError::LinkLost {
                            payment_id,
                            state: None,
                            source,
                        })
                    }
                }
            }
        }
    }
}

#[async_trait]
impl<T: Transport> CardReader for LinkCardReader<T> {
    async fn connect(&self) -> Result<ReaderInfo, CardReaderError> {
        let mut io = self.io.lock().await;
        let link = self
            .ensure_link(&mut io)
            .await
            .map_err(CardReaderError::Unreachable)?;
        self.send(&link, &HostMessage::Hello)
            .await
            .map_err(CardReaderError::Unreachable)?;
        loop {
            match self
                .receive(&mut io, self.settings.query_timeout)
                .await
                .map_err(CardReaderError::Unreachable)?
            {
                None => return Err(CardReaderError::Unreachable(TransportError::Timeout)),
                Some(ReaderMessage::Info { model, serial }) => {
                    return Ok(ReaderInfo { model, serial });
                }
                Some(_) => {}
            }
        }
    }

    async fn take_payment(
        &self,
        request: &CardPaymentRequest,
    ) -> Result<CardOutcome, CardReaderError> {
        online_outcome(self.run_payment(request, false).await?)
    }

    async fn capture_offline(
        &self,
        request: &CardPaymentRequest,
    ) -> Result<OfflineReadOutcome, CardReaderError> {
        offline_outcome(self.run_payment(request, true).await?)
    }

    async fn forward(
        &self,
        payment_id: Uuid,
        amount: Money,
        data: &CardData,
    ) -> Result<ForwardOutcome, CardReaderError> {
        let mut io = self.io.lock().await;
        let link = self
            .ensure_link(&mut io)
            .await
            .map_err(CardReaderError::Unreachable)?;
        let msg = HostMessage::Forward {
            payment_id,
            amount: amount.centavos(),
            card_data: B64.encode(data.expose()),
        };
        if let Err(e) = self.send(&link, &msg).await {
            self.lost(&mut io).await;
            return Err(CardReaderError::Unreachable(e));
        }
        loop {
            match self.receive(&mut io, self.settings.silence_timeout).await {
                Err(e) => {
                    self.lost(&mut io).await;
                    return Err(CardReaderError::Unreachable(e));
                }
                Ok(None) => return Err(CardReaderError::NoResponse { payment_id }),
                Ok(Some(ReaderMessage::ForwardResult {
                    payment_id: id,
                    approved,
                    authorization_code,
                    reason,
                })) if id == payment_id => {
                    return Ok(if approved {
                        ForwardOutcome::Approved {
                            authorization_code: authorization_code.unwrap_or_default(),
                        }
                    } else {
                        ForwardOutcome::Declined {
                            reason: reason.unwrap_or_else(|| "declined".into()),
                        }
                    });
                }
                Ok(Some(_)) => {}
            }
        }
    }

    async fn cancel(&self, payment_id: Uuid) -> Result<(), CardReaderError> {
        let link = self.cancel_link.lock().await.clone();
        let Some(link) = link else {
            return Err(CardReaderError::Unreachable(TransportError::NotConnected));
        };
        self.send(&link, &HostMessage::Cancel { payment_id })
            .await
            .map_err(CardReaderError::Unreachable)
    }

    async fn payment_state(&self, payment_id: Uuid) -> Result<PaymentState, CardReaderError> {
        let mut io = self.io.lock().await;
        match self.query(&mut io, payment_id).await {
            Ok(s) => state_of(s),
            Err(e) => {
                self.lost(&mut io).await;
                Err(CardReaderError::Unreachable(e))
            }
        }
    }

    fn events(&self) -> broadcast::Receiver<ReaderEvent> {
        self.events.subscribe()
    }
}

impl From<ProtocolError> for CardReaderError {
    fn from(e: ProtocolError) -> Self {
        CardReaderError::Protocol(e)
    }
}
