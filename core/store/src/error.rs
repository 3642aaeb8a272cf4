use tenda_domain::{AccountError, FieldError, SaleError};

use crate::backup::BackupError;
use crate::keys::KeyVaultError;

/// Everything a store operation can fail with. Messages never contain personal data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the database key is wrong, or the file is not a Tenda database")]
    WrongKey,
    #[error("cannot open the database file")]
    Open(#[source] diesel::ConnectionError),
    #[error("database operation failed")]
    Database(#[source] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("{field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("stored {what} is unreadable: {reason}")]
    Corrupt { what: &'static str, reason: String },
    #[error("sale was already recorded")]
    DuplicateSale,
    #[error("a product with this {field} already exists")]
    Duplicate { field: &'static str },
    #[error("sale is not valid")]
    Sale(#[source] SaleError),
    #[error("customer account refused the charge")]
    Account(#[source] AccountError),
    #[error("fiscal number {number} of series {series} is not reserved and unused")]
    FiscalNumberNotReserved { series: u16, number: u32 },
    #[error("signing the fiscal document failed: {0}")]
    FiscalSigning(String),
    #[error("outbox: {0}")]
    Outbox(String),
    #[error("key vault")]
    KeyVault(#[source] KeyVaultError),
    #[error("backup")]
    Backup(#[source] BackupError),
    #[error("file operation failed")]
    Io(#[source] std::io::Error),
    #[error("a reader connection cannot write")]
    ReaderCannotWrite,
    #[error("CSV import: {0}")]
    Csv(#[source] crate::csv_import::CsvFileError),
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match &e {
            D::DatabaseError(_, info) if info.message().contains("file is not a database") => {
                Error::WrongKey
            }
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let m = info.message();
                if m.contains("sales.id") {
                    Error::DuplicateSale
                } else if m.contains("products.sku") {
                    Error::Duplicate { field: "sku" }
                } else if m.contains("products.gtin") {
                    Error::Duplicate { field: "gtin" }
                } else if m.contains("customers.tax_id") {
                    Error::Duplicate { field: "tax_id" }
                } else if m.contains("users.login") {
                    Error::Duplicate { field: "login" }
                } else {
                    Error::Database(e)
                }
            }
            _ => Error::Database(e),
        }
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::InvalidInput {
            field: e.field,
            reason: e.reason,
        }
    }
}

impl From<SaleError> for Error {
    fn from(e: SaleError) -> Self {
        Error::Sale(e)
    }
}

impl From<KeyVaultError> for Error {
    fn from(e: KeyVaultError) -> Self {
        Error::KeyVault(e)
    }
}

impl From<BackupError> for Error {
    fn from(e: BackupError) -> Self {
        Error::Backup(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn corrupt(what: &'static str, reason: impl ToString) -> Error {
    Error::Corrupt {
        what,
        reason: reason.to_string(),
    }
}
