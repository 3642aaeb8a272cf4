//! The one error every `Pos` method returns. Each variant is something a screen can act on; the
//! mapping from the lower crates' errors lives here and nowhere else.

use crate::contingency::{ContingencyError, ContingencyLimit};
use crate::credentials::CredentialError;
use tenda_domain::MoneyError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error), uniffi(name = "TendaError"))]
pub enum PosError {
    /// Needs the network (or SEFAZ) and it is not there. `what` is the refused feature.
    #[error("{what} is not available offline: {why}")]
    Offline { what: String, why: String },
    /// The signed-in user lacks the permission; a manager may override.
    #[error("not allowed: requires permission `{permission}`")]
    Forbidden { permission: String },
    /// Wrong PIN/password. `remaining_attempts` before the lockout.
    #[error("wrong credentials ({remaining_attempts} attempts left)")]
    WrongCredentials { remaining_attempts: u32 },
    /// Too many wrong attempts; try again after `until` (RFC 3339).
    #[error("locked out until {until}")]
    LockedOut { until: String },
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    /// An outside authority (SEFAZ, the card network, the server) said no.
    #[error("rejected ({code}): {reason}")]
    Rejected { code: String, reason: String },
    /// A store or fiscal limit would be crossed (contingency notes/hours, discount, offline card…).
    #[error("limit exceeded: {limit}")]
    LimitExceeded { limit: String },
    /// SEFAZ is unreachable: a manager must authorize contingency (or the policy does it).
    #[error("SEFAZ unreachable: contingency must be authorized by a manager")]
    ContingencyRequired,
    #[error("not found: {what}")]
    NotFound { what: String },
    /// The action needs a state the register is not in (e.g. no open register session).
    #[error("{action} not possible: {reason}")]
    InvalidState { action: String, reason: String },
    /// Not enough stock and the store sells with closed inventory.
    #[error("insufficient stock for {product}")]
    InsufficientStock { product: String },
    /// A printer or card reader problem the seller can fix (paper, cover, battery, pairing).
    #[error("{device}: {reason}")]
    Peripheral { device: String, reason: String },
    /// The local encrypted store failed; nothing was half-written.
    #[error("storage error: {detail}")]
    Storage { detail: String },
    /// A bug or an impossible state; the message is for support, never for the customer.
    #[error("internal error: {detail}")]
    Internal { detail: String },
    /// Code the host app plugged in (a key vault, listener or transport written in Kotlin,
    /// Swift or Python) failed with something other than a `TendaError`.
    #[error("host callback failed: {detail}")]
    Host { detail: String },
}

pub type PosResult<T> = Result<T, PosError>;

impl PosError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        PosError::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn offline(what: impl Into<String>, why: impl Into<String>) -> Self {
        PosError::Offline {
            what: what.into(),
            why: why.into(),
        }
    }

    pub fn state(action: impl Into<String>, reason: impl Into<String>) -> Self {
        PosError::InvalidState {
            action: action.into(),
            reason: reason.into(),
        }
    }

    /// A stable code the UI branches on (never the message).
    pub fn code(&self) -> &'static str {
        match self {
            PosError::Offline { .. } => "offline",
            PosError::Forbidden { .. } => "forbidden",
            PosError::WrongCredentials { .. } => "wrong_credentials",
            PosError::LockedOut { .. } => "locked_out",
            PosError::InvalidInput { .. } => "invalid_input",
            PosError::Rejected { .. } => "rejected",
            PosError::LimitExceeded { .. } => "limit_exceeded",
            PosError::ContingencyRequired => "contingency_required",
            PosError::NotFound { .. } => "not_found",
            PosError::InvalidState { .. } => "invalid_state",
            PosError::InsufficientStock { .. } => "insufficient_stock",
            PosError::Peripheral { .. } => "peripheral",
            PosError::Storage { .. } => "storage",
            PosError::Internal { .. } => "internal",
            PosError::Host { .. } => "host",
        }
    }
}

impl From<MoneyError> for PosError {
    fn from(e: MoneyError) -> Self {
        PosError::invalid("amount", e.to_string())
    }
}

impl From<ContingencyError> for PosError {
    fn from(e: ContingencyError) -> Self {
        match e {
            ContingencyError::Justification(_) => PosError::invalid("justification", e.to_string()),
            ContingencyError::AuthorizationRequired => PosError::ContingencyRequired,
            ContingencyError::LimitExceeded(limit) => PosError::LimitExceeded {
                limit: match limit {
                    ContingencyLimit::MaxNotes(_) => "contingency_max_notes".into(),
                    ContingencyLimit::MaxHours(_) => "contingency_max_hours".into(),
                },
            },
            ContingencyError::NotInContingency => {
                PosError::state("contingency note", e.to_string())
            }
        }
    }
}

impl From<CredentialError> for PosError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::PinFormat => PosError::invalid("pin", e.to_string()),
            CredentialError::PasswordFormat => PosError::invalid("password", e.to_string()),
            CredentialError::StoredHash | CredentialError::Hashing => PosError::Internal {
                detail: e.to_string(),
            },
        }
    }
}

/// A host callback (key vault, status listener, transport) threw something other than a
/// `TendaError`: it comes back as this typed error, never as a panic.
#[cfg(feature = "uniffi")]
impl From<uniffi::UnexpectedUniFFICallbackError> for PosError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        PosError::Host { detail: e.reason }
    }
}

#[cfg(feature = "uniffi")]
#[uniffi::export(name = "TendaError")]
impl PosError {
    /// The stable code (see [`PosError::code`]) as the bindings give it: `e.code()`.
    #[uniffi::method(name = "code")]
    pub fn code_for_bindings(&self) -> String {
        self.code().to_owned()
    }
}
