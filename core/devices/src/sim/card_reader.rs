//! A simulated card reader behind [`Transport`], speaking the framed reader protocol. Each
//! payment follows a scripted behaviour (approve, decline, customer timeout, silence, link drop
//! before or after the charge); an acquirer ledger records every charge so tests can prove no
//! payment is charged twice.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tenda_domain::Money;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::card::protocol::{
    FrameBuffer, HostMessage, ReaderMessage, Stage, WireResult, WireState, frame,
};
use crate::transport::{LinkInfo, Transport, TransportError, WriteMode};

/// What the simulated reader does with the next payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimCardBehaviour {
    /// Card read, authorized (online) or captured (offline).
    Approve,
    Decline(String),
    /// No card presented in time.
    CustomerTimeout,
    /// The reader waits for a card until the payment is cancelled.
    WaitForCancel,
    /// The reader never answers the request (frozen).
    NoAnswer,
    /// The link drops as the request arrives; nothing is charged.
    DropBeforeCardRead,
    /// The card is read and charged, then the link drops before the result is sent.
    DropAfterCharge,
}

/// What the acquirer does with a forwarded offline capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimForwardBehaviour {
    Approve,
    Decline(String),
}

/// One charge at the simulated acquirer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimCharge {
    pub payment_id: Uuid,
    pub amount: Money,
}

#[derive(Default)]
struct State {
    connected: bool,
    mtu: u16,
    frames: FrameBuffer,
    notifications: VecDeque<Vec<u8>>,
    script: VecDeque<SimCardBehaviour>,
    forward_script: VecDeque<SimForwardBehaviour>,
    payments: HashMap<Uuid, WireState>,
    forwarded: HashMap<Uuid, (bool, Option<String>, Option<String>)>,
    charges: Vec<SimCharge>,
    refuse_connects: u32,
    connects: u32,
    auth_counter: u32,
    cards_read: u32,
}

/// A simulated card reader; clones share the same device.
#[derive(Clone)]
pub struct SimulatedCardReader {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
}

impl Default for SimulatedCardReader {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedCardReader {
    pub fn new() -> Self {
        SimulatedCardReader {
            state: Arc::new(Mutex::new(State {
                mtu: 23,
                ..State::default()
            })),
            notify: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("simulated reader lock is never poisoned: no panics inside")
    }

    /// Behaviours for the next payments, in order (then: approve).
    pub fn script(&self, behaviours: impl IntoIterator<Item = SimCardBehaviour>) {
        self.lock().script.extend(behaviours);
    }

    /// Acquirer answers for the next forwarded captures, in order (then: approve).
    pub fn script_forwarding(&self, behaviours: impl IntoIterator<Item = SimForwardBehaviour>) {
        self.lock().forward_script.extend(behaviours);
    }

    pub fn refuse_next_connects(&self, n: u32) {
        self.lock().refuse_connects = n;
    }

    /// Every charge the acquirer made.
    pub fn charges(&self) -> Vec<SimCharge> {
        self.lock().charges.clone()
    }

    /// How many times a card was read (a refused offline payment must not read one).
    pub fn cards_read(&self) -> u32 {
        self.lock().cards_read
    }

    pub fn connects(&self) -> u32 {
        self.lock().connects
    }

    fn push(s: &mut State, msg: &ReaderMessage) {
        let bytes = frame(msg).expect("simulated messages are small");
        let max = usize::from(s.mtu.max(23) - 3);
        for chunk in bytes.chunks(max) {
            s.notifications.push_back(chunk.to_vec());
        }
    }

    fn stage(s: &mut State, payment_id: Uuid, stage: Stage) {
        Self::push(s, &ReaderMessage::Stage { payment_id, stage });
    }

    /// Handles one message; returns `true` when the link must drop afterwards.
    fn handle(s: &mut State, msg: HostMessage) -> bool {
        match msg {
            HostMessage::Hello => {
                Self::push(
                    s,
                    &ReaderMessage::Info {
                        model: "Tenda SimReader".into(),
                        serial: "SIM-0001".into(),
                    },
                );
                false
            }
            HostMessage::Query { payment_id } => {
                let state = s
                    .payments
                    .get(&payment_id)
                    .cloned()
                    .unwrap_or(WireState::NotStarted);
                Self::push(s, &ReaderMessage::State { payment_id, state });
                false
            }
            HostMessage::Cancel { payment_id } => {
                if matches!(s.payments.get(&payment_id), Some(WireState::InProgress)) {
                    let result = WireResult::Cancelled;
                    s.payments.insert(
                        payment_id,
                        WireState::Finished {
                            result: result.clone(),
                        },
                    );
                    Self::push(s, &ReaderMessage::Result { payment_id, result });
                }
                false
            }
            HostMessage::Pay {
                payment_id,
                amount,
                offline,
                ..
            } => {
                if let Some(state) = s.payments.get(&payment_id).cloned() {
                    // Idempotent: a repeated request gets the first answer, never a new charge.
                    if let WireState::Finished { result } = state {
                        Self::push(s, &ReaderMessage::Result { payment_id, result });
                    }
                    return false;
                }
                let behaviour = s.script.pop_front().unwrap_or(SimCardBehaviour::Approve);
                match behaviour {
                    SimCardBehaviour::NoAnswer => false,
                    SimCardBehaviour::DropBeforeCardRead => true,
                    SimCardBehaviour::WaitForCancel => {
                        s.payments.insert(payment_id, WireState::InProgress);
                        Self::stage(s, payment_id, Stage::WaitingForCard);
                        false
                    }
                    SimCardBehaviour::CustomerTimeout => {
                        Self::stage(s, payment_id, Stage::WaitingForCard);
                        let result = WireResult::TimedOut;
                        s.payments.insert(
                            payment_id,
                            WireState::Finished {
                                result: result.clone(),
                            },
                        );
                        Self::push(s, &ReaderMessage::Result { payment_id, result });
                        false
                    }
                    SimCardBehaviour::Decline(reason) => {
                        s.cards_read += 1;
                        Self::stage(s, payment_id, Stage::WaitingForCard);
                        Self::stage(s, payment_id, Stage::CardRead);
                        let result = WireResult::Declined { reason };
                        s.payments.insert(
                            payment_id,
                            WireState::Finished {
                                result: result.clone(),
                            },
                        );
                        Self::push(s, &ReaderMessage::Result { payment_id, result });
                        false
                    }
                    SimCardBehaviour::Approve | SimCardBehaviour::DropAfterCharge => {
                        s.cards_read += 1;
                        Self::stage(s, payment_id, Stage::WaitingForCard);
                        Self::stage(s, payment_id, Stage::CardRead);
                        let result = if offline {
                            let mut data = payment_id.as_bytes().to_vec();
                            data.extend_from_slice(b"|EMV-OFFLINE-CRYPTOGRAM|");
                            data.extend_from_slice(&amount.to_be_bytes());
                            WireResult::Captured {
                                brand: "VISA".into(),
                                last4: "4242".into(),
                                card_data: B64.encode(data),
                            }
                        } else {
                            Self::stage(s, payment_id, Stage::Authorizing);
                            s.auth_counter += 1;
                            s.charges.push(SimCharge {
                                payment_id,
                                amount: Money::from_centavos(amount),
                            });
                            WireResult::Approved {
                                authorization_code: format!("A{:05}", s.auth_counter),
                                brand: "VISA".into(),
                                last4: "4242".into(),
                            }
                        };
                        s.payments.insert(
                            payment_id,
                            WireState::Finished {
                                result: result.clone(),
                            },
                        );
                        if behaviour == SimCardBehaviour::DropAfterCharge {
                            return true;
                        }
                        Self::push(s, &ReaderMessage::Result { payment_id, result });
                        false
                    }
                }
            }
            HostMessage::Forward {
                payment_id,
                amount,
                card_data,
            } => {
                let answer = match s.forwarded.get(&payment_id) {
                    Some(previous) => previous.clone(),
                    None => {
                        let valid = B64
                            .decode(&card_data)
                            .is_ok_and(|d| d.starts_with(payment_id.as_bytes()));
                        let behaviour = s
                            .forward_script
                            .pop_front()
                            .unwrap_or(SimForwardBehaviour::Approve);
                        let answer = match (valid, behaviour) {
                            (false, _) => (
                                false,
                                None,
                                Some("card data does not match the payment".into()),
                            ),
                            (true, SimForwardBehaviour::Decline(reason)) => {
                                (false, None, Some(reason))
                            }
                            (true, SimForwardBehaviour::Approve) => {
                                s.auth_counter += 1;
                                s.charges.push(SimCharge {
                                    payment_id,
                                    amount: Money::from_centavos(amount),
                                });
                                (true, Some(format!("F{:05}", s.auth_counter)), None)
                            }
                        };
                        s.forwarded.insert(payment_id, answer.clone());
                        answer
                    }
                };
                let (approved, authorization_code, reason) = answer;
                Self::push(
                    s,
                    &ReaderMessage::ForwardResult {
                        payment_id,
                        approved,
                        authorization_code,
                        reason,
                    },
                );
                false
            }
        }
    }
}

#[async_trait]
impl Transport for SimulatedCardReader {
    async fn connect(&self) -> Result<LinkInfo, TransportError> {
        let mut s = self.lock();
        if s.refuse_connects > 0 {
            s.refuse_connects -= 1;
            return Err(TransportError::NotFound);
        }
        s.connected = true;
        s.connects += 1;
        s.frames.clear();
        s.notifications.clear();
        Ok(LinkInfo {
            peripheral: "Simulated card reader".into(),
            mtu: s.mtu,
            write_mode: WriteMode::WithResponse,
            can_read: true,
        })
    }

    async fn disconnect(&self) {
        self.lock().connected = false;
        self.notify.notify_waiters();
    }

    async fn write(&self, chunk: &[u8]) -> Result<(), TransportError> {
        {
            let mut s = self.lock();
            if !s.connected {
                return Err(TransportError::NotConnected);
            }
            let max = usize::from(s.mtu.max(23) - 3);
            if chunk.len() > max {
                return Err(TransportError::ChunkTooLarge {
                    len: chunk.len(),
                    max,
                });
            }
            s.frames.push(chunk);
            let mut drop_link = false;
            while let Some(msg) = s.frames.next_message::<HostMessage>() {
                match msg {
                    Ok(m) => drop_link |= Self::handle(&mut s, m),
                    Err(_) => Self::push(
                        &mut s,
                        &ReaderMessage::Error {
                            reason: "bad frame".into(),
                        },
                    ),
                }
            }
            if drop_link {
                s.connected = false;
                s.notifications.clear();
            }
        }
        self.notify.notify_waiters();
        Ok(())
    }

    async fn read(&self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let waiter = self.notify.notified();
            {
                let mut s = self.lock();
                if let Some(n) = s.notifications.pop_front() {
                    return Ok(Some(n));
                }
                if !s.connected {
                    return Err(TransportError::Disconnected);
                }
            }
            if tokio::time::timeout_at(deadline, waiter).await.is_err() {
                return Ok(None);
            }
        }
    }
}
