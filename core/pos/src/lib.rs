#![doc = include_str!("../README.md")]

pub mod authorize;
pub mod checkout;
pub mod config;
pub mod contingency;
pub mod credentials;
pub mod error;
pub mod fiscal_doc;
pub mod host;
pub mod peripherals;
mod pos;
pub mod register;
pub mod reports;
mod runtime;
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
    FiscalEventRecord, LineFiscalCorrection, NoteCorrection, OfflineSaleRow, PendingCardPayment,
    ReprintOutcome, SaleDetail, SaleLineRow, SaleNoteState, SalePaymentRow, SyncNowOutcome,
    VoidedRange,
};
pub use sync_link::{EnrollmentInfo, EnrollmentRequest, SyncSettings};
