#![doc = include_str!("../README.md")]

pub mod audit;
pub mod backup;
pub mod bulk;
mod cached;
pub mod card_captures;
pub mod catalog;
pub mod csv_import;
pub mod customers;
mod error;
pub mod fiscal;
pub mod fiscal_events;
pub mod keys;
mod library_start;
mod memory;
mod migrations;
pub mod outbox;
mod packed;
mod page_cipher;
mod pending_stock;
mod product_cache;
pub mod record;
pub mod registers;
pub mod sales;
mod schema;
pub mod secrets;
mod store;
pub mod superseded_notes;
pub mod users;

#[cfg(test)]
mod migration_tests;

pub use audit::{AuditEntry, AuditVerification, ChainBreak};
pub use backup::{BackupError, BackupInfo, BackupKey};
pub use bulk::{LoadProgress, LoadReport, PullChange, RejectedChange};
pub use card_captures::{CardCapture, DeclinedCardPayment};
pub use csv_import::{CsvFileError, CsvImportReport, CsvRowError, TextEncoding};
pub use error::{Error, Result};
pub use fiscal::{
    FiscalDocument, FiscalSeries, FiscalUpdate, IssuedFiscalDocument, SignedFiscalDocument,
    VoidedNumbers,
};
pub use fiscal_events::{FiscalEvent, FiscalEventKind};
pub use keys::{DbKey, KeyVault, KeyVaultError, KeyringVault, MemoryVault};
pub use library_start::start_sqlite;
pub use memory::{limit_sqlite_memory, sqlite_memory_in_use};
pub use migrations::{MIGRATIONS, StoreMigrations};
pub use record::{LocalChange, RecordedChange};
pub use registers::{ClosingCount, RegisterCash, RegisterClosing};
pub use sales::{CommittedSale, SaleCommit, SaleEffects, SaleStatus, StoredSale};
pub use store::{Reader, Readers, Store, wal_pages};
pub use superseded_notes::SupersededNote;
