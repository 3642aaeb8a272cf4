//! What happened to each note sent to SEFAZ, in terms the POS acts on.

use chrono::{DateTime, FixedOffset, Utc};

use super::status_codes::Status;

/// The final or provisional result for one note.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NoteOutcome {
    /// 100, or 150 (authorized late). Store `nfe_proc`; the note is done.
    Authorized(Authorization),
    /// 110/301/302/303: use denied. The number is consumed; store `nfe_proc`; do not resend.
    Denied(Authorization),
    /// SEFAZ holds an authorized document for this sale that is not this XML: 539 (same
    /// series and number under another key) or 204 with a different digest. Never issue this
    /// XML; the sale's document is the one with `authorized_key`.
    AlreadyAuthorized {
        authorized_key: String,
        protocol_number: Option<String>,
        status: Status,
    },
    /// Rejected: the document must be corrected and re-signed (same number and series) before
    /// it is sent again. Sending it unchanged is refused locally.
    Rejected(Rejection),
    /// Not settled yet: try again after `retry_after`.
    Deferred(Deferral),
}

impl NoteOutcome {
    /// Whether the note needs no further transmission.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Authorized(_) | Self::Denied(_) | Self::AlreadyAuthorized { .. }
        )
    }
}

/// An authorization (or denial) protocol and the `nfeProc` to store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Authorization {
    pub status: Status,
    pub protocol_number: Option<String>,
    pub received_at: DateTime<FixedOffset>,
    /// cStat 150: authorized after the contingency deadline.
    pub late: bool,
    /// `nfeProc` (signed `NFe` + `protNFe`), the document to keep.
    pub nfe_proc: String,
}

/// Why a note was rejected, kept for the user to correct.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejection {
    pub status: Status,
    pub kind: RejectionKind,
    /// The public table's hint on how to correct it.
    pub correction_hint: Option<String>,
    /// The same XML had already been rejected; it was not sent again.
    pub repeated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RejectionKind {
    /// 225 (and 215/243): the XML does not match the schema.
    Schema,
    /// The note was refused before sending: its key or XML is not a signed note.
    Invalid,
    /// Any other rejection (data, tax rules, dates, certificate…).
    Other,
}

/// Why a note is not settled, and what to do next.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deferral {
    pub reason: DeferralReason,
    pub retry_after: DateTime<Utc>,
    /// SEFAZ may have received it: consult the protocol before sending it again
    /// (pass `consult_first: true` in the next `PendingNote`).
    pub consult_first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DeferralReason {
    /// 108/109: the authorizer is paused. Issue in contingency.
    SefazUnavailable { status: Status },
    /// 656: too many requests; the emitter is blocked for a while.
    Throttled { status: Status },
    /// No connection, a timeout, or an answer that could not be read.
    Transport { detail: String },
    /// SEFAZ kept processing the lote longer than we polled, or answered something that does
    /// not settle the note.
    Unsettled { detail: String },
}

/// How SEFAZ looked during a transmission run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Availability {
    Available,
    /// 108/109 answered: SEFAZ unavailable, issue notes in contingency.
    Unavailable {
        status: Status,
    },
    /// Could not reach SEFAZ (connection, timeouts, unreadable answers).
    Unreachable {
        detail: String,
    },
    /// 656: consumption block until the given time.
    Throttled {
        until: DateTime<Utc>,
    },
}

impl Availability {
    /// Whether new sales should be issued in contingency (tpEmis 9).
    pub fn contingency_advised(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Unreachable { .. })
    }
}
