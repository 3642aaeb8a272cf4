#![doc = include_str!("../README.md")]

pub mod authorize;
pub mod checkout;
pub mod config;
pub mod contingency;
pub mod credentials;
pub mod error;
pub mod fiscal_doc;
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
