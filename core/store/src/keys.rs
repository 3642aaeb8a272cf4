//! The database key: 32 random bytes held by the OS keystore, never a passphrase.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A raw 32-byte SQLCipher key. Zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct DbKey([u8; 32]);

impl DbKey {
    /// A fresh key from the OS random source.
    pub fn generate() -> DbKey {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        DbKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> DbKey {
        DbKey(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<DbKey, KeyVaultError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyVaultError::Malformed { len: bytes.len() })?;
        Ok(DbKey(array))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, for handing the key to a child process or a host keystore.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Result<DbKey, KeyVaultError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyVaultError::Malformed {
            len: text.len() / 2,
        })?;
        DbKey::from_slice(&bytes)
    }

    /// The SQLCipher statement that applies this raw key (no key derivation).
    pub(crate) fn pragma(&self) -> String {
        format!("PRAGMA key = \"x'{}'\"", hex::encode(self.0))
    }
}

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyVaultError {
    #[error("stored key has {len} bytes, expected 32")]
    Malformed { len: usize },
    #[error("the OS keystore is not reachable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the OS keystore refused the operation")]
    Keystore(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where database keys live. Desktop: the OS keystore ([`KeyringVault`]); mobile: the host's
/// keystore through a callback; tests: [`MemoryVault`].
pub trait KeyVault: Send + Sync {
    /// The key stored under `account`, if any.
    fn load(&self, account: &str) -> Result<Option<DbKey>, KeyVaultError>;
    fn save(&self, account: &str, key: &DbKey) -> Result<(), KeyVaultError>;
    /// Removes the key; removing a missing key is not an error.
    fn delete(&self, account: &str) -> Result<(), KeyVaultError>;

    /// The key under `account`, generating and saving a new one the first time.
    fn load_or_create(&self, account: &str) -> Result<DbKey, KeyVaultError> {
        if let Some(key) = self.load(account)? {
            return Ok(key);
        }
        let key = DbKey::generate();
        self.save(account, &key)?;
        // Read back: a keystore that silently drops writes would otherwise lose the database.
        match self.load(account)? {
            Some(stored) if stored == key => Ok(key),
            Some(stored) => Ok(stored),
            None => Err(KeyVaultError::Keystore(
                "the key was not kept by the keystore".into(),
            )),
        }
    }
}

/// Keys in the OS keystore (Secret Service on Linux desktops) via the `keyring` crate.
#[derive(Debug, Clone)]
pub struct KeyringVault {
    service: String,
}

impl KeyringVault {
    /// `service` names the application entry in the keystore (e.g. `tenda`).
    pub fn new(service: impl Into<String>) -> KeyringVault {
        KeyringVault {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, KeyVaultError> {
        keyring::Entry::new(&self.service, account).map_err(classify)
    }
}

fn classify(e: keyring::Error) -> KeyVaultError {
    match e {
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            KeyVaultError::Unavailable(Box::new(e))
        }
        other => KeyVaultError::Keystore(Box::new(other)),
    }
}

impl KeyVault for KeyringVault {
    fn load(&self, account: &str) -> Result<Option<DbKey>, KeyVaultError> {
        match self.entry(account)?.get_secret() {
            Ok(mut bytes) => {
                let key = DbKey::from_slice(&bytes);
                bytes.zeroize();
                key.map(Some)
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    fn save(&self, account: &str, key: &DbKey) -> Result<(), KeyVaultError> {
        self.entry(account)?
            .set_secret(key.as_bytes())
            .map_err(classify)
    }

    fn delete(&self, account: &str) -> Result<(), KeyVaultError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// Keys in memory, for tests and for hosts that manage keys themselves.
#[derive(Debug, Default)]
pub struct MemoryVault {
    keys: Mutex<HashMap<String, DbKey>>,
}

impl MemoryVault {
    pub fn new() -> MemoryVault {
        MemoryVault::default()
    }
}

impl KeyVault for MemoryVault {
    fn load(&self, account: &str) -> Result<Option<DbKey>, KeyVaultError> {
        Ok(self
            .keys
            .lock()
            .expect("vault lock is never poisoned: no panics while held")
            .get(account)
            .cloned())
    }

    fn save(&self, account: &str, key: &DbKey) -> Result<(), KeyVaultError> {
        self.keys
            .lock()
            .expect("vault lock is never poisoned: no panics while held")
            .insert(account.to_owned(), key.clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), KeyVaultError> {
        self.keys
            .lock()
            .expect("vault lock is never poisoned: no panics while held")
            .remove(account);
        Ok(())
    }
}
