//! SEFAZ web services for NFC-e: SOAP 1.2 over HTTPS with the A1 certificate as the TLS client
//! identity, typed answers, and the transmission loop that turns every answer into a per-note
//! outcome (authorized, denied, rejected with a reason, already authorized, or deferred with
//! its backoff).

pub mod authorization;
pub mod client;
pub mod consult;
pub mod endpoints;
pub mod error;
pub mod event;
pub mod inutilization;
pub mod nfe_proc;
pub mod outcome;
pub mod soap;
pub mod status;
pub mod status_codes;
pub mod transmission;
pub mod xml;

pub use authorization::{NoteProtocol, Receipt, ReceiptAnswer, SubmissionAnswer};
pub use client::{ClientIdentity, ClientSettings, SefazClient, TrustRoots};
pub use consult::ProtocolQuery;
pub use endpoints::{Endpoint, Endpoints, Environment, Service, Uf};
pub use error::{RequestError, ResponseError, SefazError, TlsSetupError};
pub use event::{EventBatchAnswer, EventResult, event_proc};
pub use inutilization::{InutilizationAnswer, inutilization_proc};
pub use outcome::{
    Authorization, Availability, Deferral, DeferralReason, NoteOutcome, Rejection, RejectionKind,
};
pub use status::ServiceStatus;
pub use status_codes::Status;
pub use transmission::{
    BackoffState, NoteReport, PendingNote, TransmissionPolicy, TransmissionReport, Transmitter,
};
