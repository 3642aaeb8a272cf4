//! Where store-and-forward payments wait for the link: a trait (the point of sale may keep them
//! in its encrypted database), an in-memory store and a file store (atomic replace + fsync).
//! Only sealed card data is ever stored.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenda_domain::Money;
use uuid::Uuid;

use super::{CardKind, CardSummary, SealedCardData};

/// Where a stored payment is in its life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForwardStatus {
    /// Waiting for the link.
    Pending,
    /// Authorized when forwarded; kept until the point of sale records it.
    Approved { authorization_code: String },
    /// Declined when forwarded: a payment to recover from the customer.
    Declined { reason: String },
}

/// A card payment accepted offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOfflinePayment {
    pub payment_id: Uuid,
    pub sale_reference: String,
    pub amount: Money,
    pub kind: CardKind,
    pub card: CardSummary,
    pub captured_at: DateTime<Utc>,
    /// Who accepted the merchant risk.
    pub risk_accepted_by: String,
    pub sealed: SealedCardData,
    pub status: ForwardStatus,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineStoreError {
    #[error("offline payments file {path} cannot be read or written")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("offline payments file {path} is corrupt")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// Durable storage of offline payments. `save` replaces the whole list atomically.
pub trait OfflinePaymentStore: Send + Sync {
    fn load(&self) -> Result<Vec<StoredOfflinePayment>, OfflineStoreError>;
    fn save(&self, payments: &[StoredOfflinePayment]) -> Result<(), OfflineStoreError>;
}

/// In memory (tests, demos).
#[derive(Debug, Default)]
pub struct MemoryOfflineStore {
    payments: Mutex<Vec<StoredOfflinePayment>>,
}

impl OfflinePaymentStore for MemoryOfflineStore {
    fn load(&self) -> Result<Vec<StoredOfflinePayment>, OfflineStoreError> {
        Ok(self
            .payments
            .lock()
            .expect("store lock is never poisoned")
            .clone())
    }

    fn save(&self, payments: &[StoredOfflinePayment]) -> Result<(), OfflineStoreError> {
        *self.payments.lock().expect("store lock is never poisoned") = payments.to_vec();
        Ok(())
    }
}

/// A JSON file, replaced atomically (write to a temporary file, fsync, rename).
#[derive(Debug, Clone)]
pub struct FileOfflineStore {
    path: PathBuf,
}

impl FileOfflineStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileOfflineStore { path: path.into() }
    }

    fn io(&self, source: std::io::Error) -> OfflineStoreError {
        OfflineStoreError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl OfflinePaymentStore for FileOfflineStore {
    fn load(&self) -> Result<Vec<StoredOfflinePayment>, OfflineStoreError> {
        match fs::read(&self.path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| OfflineStoreError::Corrupt {
                    path: self.path.clone(),
                    source,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(self.io(e)),
        }
    }

    fn save(&self, payments: &[StoredOfflinePayment]) -> Result<(), OfflineStoreError> {
        let json =
            serde_json::to_vec_pretty(payments).map_err(|source| OfflineStoreError::Corrupt {
                path: self.path.clone(),
                source,
            })?;
        let tmp = self.path.with_extension("tmp");
        let mut f = fs::File::create(&tmp).map_err(|e| self.io(e))?;
        f.write_all(&json).map_err(|e| self.io(e))?;
        f.sync_all().map_err(|e| self.io(e))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable.
            if let Ok(d) = fs::File::open(dir) {
                d.sync_all().map_err(|e| self.io(e))?;
            }
        }
        Ok(())
    }
}
