#![doc = include_str!("../README.md")]

// The bindings' view of the public records (tenda-ffi): derives beside the types.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("tenda_pos");
#[cfg(feature = "uniffi")]
mod ffi_types {
    // Instants cross as milliseconds and days as ISO text, as tenda-domain registers them.
    use chrono::{DateTime, NaiveDate, Utc};
    uniffi::use_remote_type!(tenda_domain::DateTime<Utc>);
    uniffi::use_remote_type!(tenda_domain::NaiveDate);
}

pub mod authorize;
pub mod checkout;
pub mod config;
pub mod contingency;
pub mod credentials;
pub mod error;
pub mod fiscal_doc;
pub mod host;
pub mod host_link;
pub mod peripherals;
mod pos;
pub mod register;
pub mod reports;
mod runtime;
pub mod screen_figures;
pub mod status;
pub mod sync_link;
pub mod transmission;

pub use checkout::payments::PaymentRequest;
pub use config::PosConfig;
pub use error::{LimitKind, PosError, PosResult};
pub use host::{
    Clock, KeyStore, MemoryKeyStore, OpenConfig, OsKeyStore, Platform, SefazAccess, SefazRoute,
    SystemClock,
};
pub use peripherals::{PeripheralTimings, PeripheralTransport};
pub use pos::{
    Approval, CodeMatch, CountedAmount, CustomerView, FiscalStateView, NoteSummary, NoteToCorrect,
    Pos, ProductView, SaleOutcome, Subscription, TicketLineView, TicketView, TransmissionSummary,
};
pub use pos::{
    AuditFilter, AuditReport, AuditRow, AuditVerificationView, CancellationOutcome,
    CardForwardSummary, CardOfflineRisk, CardPaymentToRecover, ConsumerCorrection,
    FiscalEventRecord, LineFiscalCorrection, NoteCorrection, NoteLineFiscal, OfflineSaleRow,
    PendingCardPayment, ReprintOutcome, SaleDetail, SaleLineRow, SaleNoteState, SalePaymentRow,
    SyncNowOutcome, VoidedRange,
};
pub use sync_link::{EnrollmentInfo, EnrollmentRequest, SyncSettings};
