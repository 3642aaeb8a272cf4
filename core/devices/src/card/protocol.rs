//! The framed message protocol between the point of sale and a card reader over a byte link:
//! each frame is `0x02`, a big-endian `u16` length, then that many bytes of JSON. Frames may be
//! split across link writes/notifications; [`FrameBuffer`] reassembles them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::CardKind;

const START: u8 = 0x02;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    #[error("frame does not start with STX")]
    BadStart,
    #[error("frame payload is not a valid message")]
    BadPayload(#[source] serde_json::Error),
    #[error("message too long for a frame")]
    TooLong,
}

/// Point of sale → reader.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostMessage {
    Hello,
    Pay {
        payment_id: Uuid,
        amount: i64,
        kind: CardKind,
        installments: u8,
        offline: bool,
    },
    Cancel {
        payment_id: Uuid,
    },
    Query {
        payment_id: Uuid,
    },
    /// `card_data` is base64 of the stored capture.
    Forward {
        payment_id: Uuid,
        amount: i64,
        card_data: String,
    },
}

/// Reader → point of sale.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReaderMessage {
    Info {
        model: String,
        serial: String,
    },
    Stage {
        payment_id: Uuid,
        stage: Stage,
    },
    Result {
        payment_id: Uuid,
        result: WireResult,
    },
    State {
        payment_id: Uuid,
        state: WireState,
    },
    ForwardResult {
        payment_id: Uuid,
        approved: bool,
        authorization_code: Option<String>,
        reason: Option<String>,
    },
    Error {
        reason: String,
    },
}

// Messages carry card data: never print them.
impl std::fmt::Debug for HostMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostMessage(<redacted>)")
    }
}

impl std::fmt::Debug for ReaderMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReaderMessage(<redacted>)")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    WaitingForCard,
    CardRead,
    PinEntry,
    Authorizing,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum WireResult {
    Approved {
        authorization_code: String,
        brand: String,
        last4: String,
    },
    Declined {
        reason: String,
    },
    TimedOut,
    Cancelled,
    /// Store-and-forward capture: `card_data` is base64.
    Captured {
        brand: String,
        last4: String,
        card_data: String,
    },
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WireState {
    NotStarted,
    InProgress,
    Finished { result: WireResult },
}

/// Encodes one message as a frame.
pub fn frame<M: Serialize>(message: &M) -> Result<Vec<u8>, ProtocolError> {
    let json = serde_json::to_vec(message).map_err(ProtocolError::BadPayload)?;
    let len = u16::try_from(json.len()).map_err(|_| ProtocolError::TooLong)?;
    let mut out = Vec::with_capacity(json.len() + 3);
    out.push(START);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

/// Reassembles frames from link chunks.
#[derive(Default)]
pub struct FrameBuffer {
    buf: Vec<u8>,
}

impl FrameBuffer {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, if one has arrived.
    pub fn next_message<M: for<'de> Deserialize<'de>>(
        &mut self,
    ) -> Option<Result<M, ProtocolError>> {
        if self.buf.is_empty() {
            return None;
        }
        if self.buf[0] != START {
            // Resynchronise on the next start byte; report the garbage once.
            let skip = self
                .buf
                .iter()
                .position(|&b| b == START)
                .unwrap_or(self.buf.len());
            self.buf.drain(..skip);
            return Some(Err(ProtocolError::BadStart));
        }
        if self.buf.len() < 3 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([self.buf[1], self.buf[2]]));
        if self.buf.len() < 3 + len {
            return None;
        }
        let payload: Vec<u8> = self.buf.drain(..3 + len).skip(3).collect();
        Some(serde_json::from_slice(&payload).map_err(ProtocolError::BadPayload))
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_being_split_into_tiny_chunks() {
        let msg = HostMessage::Pay {
            payment_id: Uuid::nil(),
            amount: 1234,
            kind: CardKind::Debit,
            installments: 1,
            offline: false,
        };
        let bytes = frame(&msg).expect("frames");
        let mut fb = FrameBuffer::default();
        for chunk in bytes.chunks(5) {
            assert!(
                fb.next_message::<HostMessage>().is_none(),
                "incomplete frame yields nothing"
            );
            fb.push(chunk);
        }
        let got: HostMessage = fb.next_message().expect("complete").expect("valid");
        assert!(got == msg);
        assert!(format!("{got:?}").contains("redacted"));
    }

    #[test]
    fn wire_format_snapshot() {
        // The reader protocol is a wire format: changing it must be a deliberate act.
        let id = Uuid::from_u128(1);
        let pay = HostMessage::Pay {
            payment_id: id,
            amount: 1050,
            kind: CardKind::Credit,
            installments: 1,
            offline: true,
        };
        assert_eq!(
            serde_json::to_string(&pay).expect("serializes"),
            r#"{"type":"pay","payment_id":"00000000-0000-0000-0000-000000000001","amount":1050,"kind":"credit","installments":1,"offline":true}"#
        );
        let result = ReaderMessage::Result {
            payment_id: id,
            result: WireResult::Approved {
                authorization_code: "A1".into(),
                brand: "VISA".into(),
                last4: "4242".into(),
            },
        };
        assert_eq!(
            serde_json::to_string(&result).expect("serializes"),
            r#"{"type":"result","payment_id":"00000000-0000-0000-0000-000000000001","result":{"outcome":"approved","authorization_code":"A1","brand":"VISA","last4":"4242"}}"#
        );
        let state = ReaderMessage::State {
            payment_id: id,
            state: WireState::Finished {
                result: WireResult::TimedOut,
            },
        };
        assert_eq!(
            serde_json::to_string(&state).expect("serializes"),
            r#"{"type":"state","payment_id":"00000000-0000-0000-0000-000000000001","state":{"state":"finished","result":{"outcome":"timed_out"}}}"#
        );
        assert_eq!(
            frame(&HostMessage::Hello).expect("frames"),
            b"\x02\x00\x10{\"type\":\"hello\"}".to_vec()
        );
    }
}
