//! NFC-e (model 65), layout 4.00.

pub mod build;
pub mod deadline;
pub mod events;
pub mod from_domain;
pub mod input;
pub mod key;
pub mod lote;
pub mod qr;
pub mod state;
pub mod stored;
pub(crate) mod text;
pub(crate) mod writer;

pub use build::{SignedNfce, build_and_sign, resign_correction};
pub use deadline::{DeadlineRule, DeadlineStatus, deadline_status};
pub use events::{
    Cancellation, CancellationWindow, EventError, Inutilizacao, SignedEvent, SignedInutilizacao,
    SubstitutionCancellation, build_cancellation, build_inutilizacao,
    build_substitution_cancellation, env_evento_xml,
};
pub use input::*;
pub use key::{AccessKey, AccessKeyError, AccessKeyParts};
pub use lote::{envi_nfe_xml, nfe_proc_xml};
pub use qr::{QrError, QrVersion};
pub use state::{StateRules, Uf, UnknownUf};

use tenda_domain::MoneyError;

/// The NFC-e homologation text that replaces the first item's description (and a recipient's
/// name) outside production.
pub const HOMOLOGATION_ITEM_TEXT: &str =
    "NOTA FISCAL EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL";
pub const HOMOLOGATION_RECIPIENT_TEXT: &str =
    "NF-E EMITIDA EM AMBIENTE DE HOMOLOGACAO - SEM VALOR FISCAL";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NfceError {
    /// A field that cannot be written as the schema requires; `field` names it the way the
    /// layout does (`det[3].prod.xProd`), `reason` says what is wrong.
    #[error("{field}: {reason}")]
    InvalidField { field: String, reason: String },
    #[error("amount out of range")]
    Money(#[source] MoneyError),
    #[error("access key")]
    AccessKey(#[source] AccessKeyError),
    #[error("QR code")]
    Qr(#[source] QrError),
    #[error("signing")]
    Sign(#[source] crate::xmldsig::SignError),
    #[error("certificate cannot sign this note")]
    Certificate(#[source] crate::certificate::CertificateError),
    #[error("no {what} URL known for {uf} in {environment:?}")]
    MissingUrl {
        what: &'static str,
        uf: Uf,
        environment: Environment,
    },
    #[error("a correction must keep {0} of the rejected note")]
    CorrectionChanges(&'static str),
}

impl NfceError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        NfceError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<MoneyError> for NfceError {
    fn from(e: MoneyError) -> Self {
        NfceError::Money(e)
    }
}

#[cfg(test)]
mod tests;
