#![doc = include_str!("../README.md")]

// The bindings' view of the public records (tenda-ffi): derives beside the types.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("tenda_pos");
#[cfg(feature = "uniffi")]
mod ffi_types {
    // Instants cross as milliseconds, as tenda-domain registers them.
    use chrono::{DateTime, Utc};
    uniffi::use_remote_type!(tenda_domain::DateTime<Utc>);
}

pub mod authorize;
pub mod checkout;
pub mod config;
pub mod contingency;
pub mod credentials;
pub mod error;
pub mod fiscal_doc;
pub mod host_link;
mod pos;
pub mod register;
pub mod reports;
pub mod status;
pub mod sync_link;
pub mod transmission;

pub use checkout::payments::PaymentRequest;
pub use config::PosConfig;
pub use error::{PosError, PosResult};
pub use pos::{
    Approval, NoteSummary, NoteToCorrect, Pos, ProductView, SaleOutcome, TicketLineView,
    TicketView, TransmissionSummary,
};
pub use pos::{
    AuditFilter, AuditReport, AuditRow, CancellationOutcome, CardForwardSummary, CardOfflineRisk,
    CardPaymentToRecover, ConsumerCorrection, FiscalEventRecord, LineFiscalCorrection,
    NoteCorrection, OfflineSaleRow, PendingCardPayment, ReprintOutcome, SaleDetail, SaleLineRow,
    SaleNoteState, SalePaymentRow, SyncNowOutcome, VoidedRange,
};
pub use sync_link::{EnrollmentInfo, EnrollmentRequest, SyncSettings};
