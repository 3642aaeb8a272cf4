//! What the host gives the core: where the device's store lives, how to reach SEFAZ when not at
//! the state's official address (homologation, the simulator), and the platform's capabilities —
//! the keystore that holds the database key, the clock, and (attached later) the printer's and
//! card reader's byte transports. Everything else — the SEFAZ client, its endpoints and trust
//! roots, the transmitter, the sync engine, the timers — the core builds and runs itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenda_store::{DbKey, KeyVault, KeyVaultError};

use crate::error::PosError;

/// Where the device's encrypted store lives and how the core reaches the outside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OpenConfig {
    /// Path of the encrypted database file.
    pub db_path: String,
    /// Name under which the keystore holds the database key.
    pub key_account: String,
    /// How SEFAZ is reached: the official endpoints of the emitter's state and environment
    /// (the default), another address (homologation proxy, simulator), or not at all.
    pub sefaz: SefazRoute,
    /// Timings of the printer's and card reader's links.
    pub peripherals: crate::peripherals::PeripheralTimings,
}

impl OpenConfig {
    pub fn new(db_path: String, key_account: String) -> OpenConfig {
        OpenConfig {
            db_path,
            key_account,
            sefaz: SefazRoute::Official,
            peripherals: Default::default(),
        }
    }
}

/// How this device reaches SEFAZ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SefazRoute {
    /// The official web services of the emitter's state (UF) and environment, system roots.
    Official,
    /// Another address with its own roots (the state and environment still from the emitter).
    At { access: SefazAccess },
    /// No SEFAZ connection: every note is issued in contingency (per policy) and waits.
    NotConfigured,
}

/// SEFAZ reached at `base_url` trusting only `trusted_roots_der`, with the worker's timings.
/// The state (UF) and environment still come from the emitter settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SefazAccess {
    pub base_url: String,
    /// DER certificates of the only roots trusted for this address.
    pub trusted_roots_der: Vec<Vec<u8>>,
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
    /// Pause after a transport failure before calling again.
    pub transport_pause_ms: u64,
    /// Pause after SEFAZ said it is unavailable (108/109).
    pub unavailable_pause_ms: u64,
    /// How often the worker probes SEFAZ and sends the backlog by itself.
    pub probe_interval_ms: u64,
}

impl SefazAccess {
    pub fn new(base_url: String, trusted_roots_der: Vec<Vec<u8>>) -> SefazAccess {
        SefazAccess {
            base_url,
            trusted_roots_der,
            ..SefazAccess::official_timings()
        }
    }

    fn official_timings() -> SefazAccess {
        SefazAccess {
            base_url: String::new(),
            trusted_roots_der: Vec::new(),
            connect_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            transport_pause_ms: 30_000,
            unavailable_pause_ms: 300_000,
            probe_interval_ms: 60_000,
        }
    }
}

/// The platform's keystore (OS keyring on desktop, Android Keystore / iOS Keychain through the
/// bindings). Keys are 32 raw bytes.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait KeyStore: Send + Sync {
    fn load(&self, account: String) -> Result<Option<Vec<u8>>, PosError>;
    fn save(&self, account: String, key: Vec<u8>) -> Result<(), PosError>;
}

/// Keys kept in memory: tests, and hosts that manage the key themselves.
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    keys: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryKeyStore {
    pub fn new() -> MemoryKeyStore {
        MemoryKeyStore::default()
    }
}

impl KeyStore for MemoryKeyStore {
    fn load(&self, account: String) -> Result<Option<Vec<u8>>, PosError> {
        Ok(crate::pos::lock(&self.keys).get(&account).cloned())
    }
    fn save(&self, account: String, key: Vec<u8>) -> Result<(), PosError> {
        crate::pos::lock(&self.keys).insert(account, key);
        Ok(())
    }
}

/// The desktop's OS keyring (Secret Service, Keychain, Credential Manager).
#[derive(Debug, Default)]
pub struct OsKeyStore;

impl KeyStore for OsKeyStore {
    fn load(&self, account: String) -> Result<Option<Vec<u8>>, PosError> {
        tenda_store::KeyringVault::new("tenda")
            .load(&account)
            .map(|k| k.map(|k| k.as_bytes().to_vec()))
            .map_err(keystore_error)
    }
    fn save(&self, account: String, key: Vec<u8>) -> Result<(), PosError> {
        let key = db_key(&key)?;
        tenda_store::KeyringVault::new("tenda")
            .save(&account, &key)
            .map_err(keystore_error)
    }
}

fn keystore_error(e: KeyVaultError) -> PosError {
    PosError::Keystore {
        detail: e.to_string(),
    }
}

fn db_key(bytes: &[u8]) -> Result<DbKey, PosError> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| PosError::Keystore {
        detail: format!("the stored key has {} bytes, not 32", bytes.len()),
    })?;
    Ok(DbKey::from_bytes(arr))
}

/// The key under `account`, created and saved the first time.
pub(crate) fn load_or_create_key(store: &dyn KeyStore, account: &str) -> Result<DbKey, PosError> {
    if let Some(bytes) = store.load(account.to_owned())? {
        return db_key(&bytes);
    }
    let key = DbKey::generate();
    store.save(account.to_owned(), key.as_bytes().to_vec())?;
    Ok(key)
}

/// The time as the platform knows it (a test clock, or the device's).
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The device's own clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis()
    }
}

pub(crate) fn clock_now(clock: &dyn Clock) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(clock.now_ms()).unwrap_or_else(Utc::now)
}

/// The platform's capabilities the core needs from the moment it opens.
#[derive(Clone)]
pub struct Platform {
    pub key_store: Arc<dyn KeyStore>,
    pub clock: Arc<dyn Clock>,
}

impl Platform {
    /// `key_store` with the device's own clock.
    pub fn new(key_store: Arc<dyn KeyStore>) -> Platform {
        Platform {
            key_store,
            clock: Arc::new(SystemClock),
        }
    }
}
