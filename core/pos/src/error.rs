//! The one error every `Pos` method returns. Each variant is something a screen can act on; the
//! mapping from the lower crates' errors lives here and nowhere else.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contingency::{ContingencyError, ContingencyLimit};
use crate::credentials::CredentialError;
use tenda_devices::card::CardPaymentError;
use tenda_domain::{CartError, MoneyError, PaymentError};
use tenda_fiscal::nfce::EventError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
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
    /// Too many wrong attempts; try again after `until`.
    #[error("locked out until {until}")]
    LockedOut { until: DateTime<Utc> },
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    /// An outside authority (SEFAZ, the card network, the server) said no. `code` is theirs
    /// (SEFAZ's cStat, `server_…`).
    #[error("rejected ({code}): {reason}")]
    Rejected { code: String, reason: String },
    /// A store, fiscal or policy limit would be crossed. Amounts are centavos, counts are
    /// counts, durations are minutes — see [`LimitKind`].
    #[error("limit exceeded ({}): {detail}", limit.code())]
    LimitExceeded {
        limit: LimitKind,
        /// The limit's value, when known.
        limit_value: Option<i64>,
        /// What the action would have reached.
        attempted: Option<i64>,
        /// How much is missing (customer credit) or over (the excess), when known.
        shortfall: Option<i64>,
        detail: String,
    },
    /// SEFAZ is unreachable: a manager must authorize contingency (or the policy does it).
    #[error("SEFAZ unreachable: contingency must be authorized by a manager")]
    ContingencyRequired,
    #[error("not found: {what}")]
    NotFound { what: String },
    /// The action needs a state the register is not in (e.g. no open register session).
    #[error("{action} not possible: {reason}")]
    InvalidState { action: String, reason: String },
    /// Not enough stock and the store sells with closed inventory (thousandths of the unit).
    #[error("insufficient stock for {product}")]
    InsufficientStock {
        product: String,
        available_thousandths: i64,
        requested_thousandths: i64,
    },
    /// A printer or card reader problem the seller can fix (paper, cover, battery, pairing).
    #[error("{device}: {reason}")]
    Peripheral { device: String, reason: String },
    /// The fiscal document could not be built or signed (emitter data, certificate, a product's
    /// tax data): nothing was committed; fix the data, not the disk.
    #[error("fiscal document: {detail}")]
    Fiscal { detail: String },
    /// The platform keystore failed (the database key could not be read or saved).
    #[error("keystore: {detail}")]
    Keystore { detail: String },
    /// The local encrypted store failed; nothing was half-written.
    #[error("storage error: {detail}")]
    Storage { detail: String },
    /// `shutdown` has run: this `Pos` takes no more calls (open it again).
    #[error("the point of sale was shut down")]
    ShutDown,
    /// A bug or an impossible state; the message is for support, never for the customer.
    #[error("internal error: {detail}")]
    Internal { detail: String },
    /// Code the host app plugged in (a key vault, listener or transport written in Kotlin,
    /// Swift or Python) failed with something other than a `TendaError`.
    #[error("host callback failed: {detail}")]
    Host { detail: String },
}

/// Which limit refused an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum LimitKind {
    /// Contingency notes allowed before SEFAZ must be reached (count).
    ContingencyMaxNotes,
    /// Hours in contingency (value in minutes).
    ContingencyMaxHours,
    /// The customer's last-known balance plus overdraft (centavos).
    CustomerCredit,
    /// Cash in the drawer for a withdrawal (centavos).
    CashInDrawer,
    /// A note is cancelled within this window after authorization (minutes).
    CancellationWindow,
    /// Offline card payments: per payment (centavos).
    CardOfflinePerPayment,
    /// Offline card payments: total awaiting the link (centavos).
    CardOfflineTotal,
    /// Offline card payments: how many may await the link (count).
    CardOfflineCount,
    /// Offline card payments: the oldest one's age (minutes).
    CardOfflineAge,
}

impl LimitKind {
    /// Stable snake_case name, for logs and messages.
    pub fn code(self) -> &'static str {
        match self {
            LimitKind::ContingencyMaxNotes => "contingency_max_notes",
            LimitKind::ContingencyMaxHours => "contingency_max_hours",
            LimitKind::CustomerCredit => "customer_credit",
            LimitKind::CashInDrawer => "cash_in_drawer",
            LimitKind::CancellationWindow => "cancellation_window",
            LimitKind::CardOfflinePerPayment => "card_offline_per_payment",
            LimitKind::CardOfflineTotal => "card_offline_total",
            LimitKind::CardOfflineCount => "card_offline_count",
            LimitKind::CardOfflineAge => "card_offline_age",
        }
    }
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

    pub fn limit(
        limit: LimitKind,
        limit_value: Option<i64>,
        attempted: Option<i64>,
        shortfall: Option<i64>,
        detail: impl Into<String>,
    ) -> Self {
        PosError::LimitExceeded {
            limit,
            limit_value,
            attempted,
            shortfall,
            detail: detail.into(),
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
            PosError::Fiscal { .. } => "fiscal",
            PosError::Keystore { .. } => "keystore",
            PosError::Storage { .. } => "storage",
            PosError::ShutDown => "shut_down",
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
            ContingencyError::LimitExceeded(limit) => {
                let (limit, value) = match limit {
                    ContingencyLimit::MaxNotes(n) => (LimitKind::ContingencyMaxNotes, i64::from(n)),
                    ContingencyLimit::MaxHours(h) => {
                        (LimitKind::ContingencyMaxHours, i64::from(h) * 60)
                    }
                };
                PosError::limit(limit, Some(value), None, None, e.to_string())
            }
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

/// The one place the store's errors become the screens' errors.
impl From<tenda_store::Error> for PosError {
    fn from(e: tenda_store::Error) -> Self {
        use tenda_store::Error as E;
        match e {
            E::InvalidInput { field, reason } => PosError::invalid(field, reason),
            E::NotFound(what) => PosError::NotFound {
                what: what.to_owned(),
            },
            E::Account(a) => account_error(a),
            other => PosError::Storage {
                detail: other.to_string(),
            },
        }
    }
}

/// A customer account refusing a charge.
pub(crate) fn account_error(e: tenda_domain::AccountError) -> PosError {
    use tenda_domain::AccountError as A;
    match e {
        A::OverLimit { shortfall } => PosError::limit(
            LimitKind::CustomerCredit,
            None,
            None,
            Some(shortfall.centavos()),
            "charge beyond the customer's last-known credit",
        ),
        A::Inactive => PosError::invalid("customer", "the customer's account is inactive"),
        other => PosError::invalid("customer_account", other.to_string()),
    }
}

impl PosError {
    /// The sync engine's errors, as the screens see them (`what` names the refused feature).
    pub(crate) fn from_engine(what: &str, e: tenda_sync::engine::EngineError) -> PosError {
        use tenda_sync::engine::EngineError as E;
        match e {
            E::PinMismatch { .. } => PosError::Rejected {
                code: "server_certificate".into(),
                reason: "the server's certificate is not the one whose fingerprint was given: \
                         check the fingerprint shown beside the code (or something is in between)"
                    .into(),
            },
            E::Offline(source) => {
                PosError::offline(what, format!("the server could not be reached ({source})"))
            }
            E::Refused { status, body } => PosError::Rejected {
                code: format!(
                    "server_{}",
                    serde_json::to_value(body.code)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_else(|| status.to_string())
                ),
                reason: body.message,
            },
            E::Tls(reason) => PosError::Rejected {
                code: "server_certificate".into(),
                reason,
            },
            E::Config(reason) => PosError::invalid("server_url", reason),
            E::Store(s) => PosError::from(s),
            other => PosError::Internal {
                detail: other.to_string(),
            },
        }
    }
}

// The lower crates' errors at the points where the register meets them.

pub(crate) fn event_error(e: EventError) -> PosError {
    match e {
        EventError::WindowClosed { window_minutes } => PosError::limit(
            crate::error::LimitKind::CancellationWindow,
            Some(window_minutes),
            None,
            None,
            format!("a note is cancelled within {window_minutes} minutes of its authorization"),
        ),
        EventError::NotAuthorized => {
            PosError::state("cancel the note", "cancellation only after authorization")
        }
        EventError::Invalid(e) => PosError::invalid("justification", fiscal_error_text(&e)),
        other => PosError::invalid("certificate", other.to_string()),
    }
}

pub(crate) fn card_error(e: CardPaymentError) -> PosError {
    match e {
        CardPaymentError::OfflineLimitExceeded { limit, detail } => PosError::limit(
            match limit {
                tenda_devices::card::OfflineLimit::PerPayment => LimitKind::CardOfflinePerPayment,
                tenda_devices::card::OfflineLimit::TotalPending => LimitKind::CardOfflineTotal,
                tenda_devices::card::OfflineLimit::PendingCount => LimitKind::CardOfflineCount,
                tenda_devices::card::OfflineLimit::OldestPendingAge => LimitKind::CardOfflineAge,
            },
            None,
            None,
            None,
            detail,
        ),
        CardPaymentError::RiskNotAcknowledged => PosError::state(
            "offline card payment",
            "the seller must accept the offline risk notice first (card_offline_risk)",
        ),
        CardPaymentError::InvalidInput { field, reason } => PosError::invalid(field, reason),
        CardPaymentError::Reader(e) => PosError::Peripheral {
            device: "card_reader".into(),
            reason: e.to_string(),
        },
        other => PosError::Storage {
            detail: other.to_string(),
        },
    }
}

pub(crate) fn sale_error(e: tenda_domain::SaleError) -> PosError {
    use tenda_domain::SaleError as S;
    match e {
        S::Cart(c) => cart_error(c),
        S::Payment { index, source } => payment_error(index, source),
        S::Underpaid { missing } => {
            PosError::invalid("payments", format!("{missing} still to pay"))
        }
        S::Overpaid { excess } => PosError::invalid(
            "payments",
            format!("{excess} more than the total (only cash gives change)"),
        ),
        S::Account(a) => crate::error::account_error(a),
        other => PosError::invalid("sale", other.to_string()),
    }
}

pub(crate) fn fiscal_error_text(e: &tenda_fiscal::nfce::NfceError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub(crate) fn payment_error(index: usize, e: PaymentError) -> PosError {
    PosError::invalid(format!("payments[{index}]"), e.to_string())
}

pub(crate) fn cart_error(e: CartError) -> PosError {
    match e {
        CartError::Empty => PosError::invalid("cart", "the cart is empty"),
        CartError::NoSuchLine(i) => PosError::invalid("line", format!("no line {i}")),
        CartError::InactiveProduct => PosError::invalid("product", "product is inactive"),
        CartError::Quantity(q) => PosError::invalid("quantity", q.to_string()),
        CartError::NegativePrice => PosError::invalid("price", "negative price"),
        CartError::NegativeDiscount => PosError::invalid("discount", "negative discount"),
        CartError::DiscountTooLarge => PosError::invalid("discount", "larger than the amount"),
        other => PosError::invalid("cart", other.to_string()),
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
