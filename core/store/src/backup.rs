//! Sealed backups: the database is exported to a copy encrypted with a one-off key, and that
//! copy plus its key are sealed with AES-256-GCM under the store's backup key. Nothing is ever
//! written in clear; any change to the file (or a truncation) fails authentication; a restore
//! re-encrypts the data under the new device's own database key.

use std::fmt;
use std::path::{Path, PathBuf};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use diesel::connection::SimpleConnection;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::keys::DbKey;
use crate::store::{CipherProfile, Store, open_connection};

const MAGIC: &[u8; 8] = b"TENDABAK";
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + 1 + NONCE_LEN;

/// The 32-byte key that seals backups. The owner keeps it (it is what lets a new device read
/// the backup); it is not the database key.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct BackupKey([u8; 32]);

impl BackupKey {
    pub fn generate() -> BackupKey {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        BackupKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> BackupKey {
        BackupKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BackupKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error("the file is too short to be a backup (truncated?)")]
    Truncated,
    #[error("the file is not a Tenda backup")]
    NotABackup,
    #[error("backup format version {0} is not supported")]
    UnsupportedVersion(u8),
    #[error("the backup was altered or the backup key is wrong")]
    Tampered,
    #[error("restore destination already exists")]
    DestinationExists,
    #[error("the database could not be exported")]
    Export(#[source] diesel::result::Error),
}

/// What a written backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    pub path: PathBuf,
    pub bytes: u64,
}

fn sql_path(p: &Path) -> Result<String> {
    let s = p.to_str().ok_or_else(|| Error::InvalidInput {
        field: "path",
        reason: "not valid UTF-8".into(),
    })?;
    Ok(s.replace('\'', "''"))
}

/// A file path beside `near` that is removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn beside(near: &Path, tag: &str) -> TempPath {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("the OS random source is available");
        let dir = near
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        TempPath(dir.join(format!(".tenda-{tag}-{}.tmp", hex::encode(random))))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
}

/// Copies every table of `conn`'s main database into a new file encrypted with `key`.
fn export_to(conn: &mut diesel::SqliteConnection, dest: &Path, key: &DbKey) -> Result<()> {
    let attach = format!(
        "ATTACH DATABASE '{}' AS export KEY \"x'{}'\";",
        sql_path(dest)?,
        hex::encode(key.as_bytes())
    );
    conn.batch_execute(&attach)
        .and_then(|()| conn.batch_execute(&CipherProfile::HmacSha256.pragmas("export")))
        .map_err(|e| Error::Backup(BackupError::Export(e)))?;
    let exported = conn
        .batch_execute("SELECT sqlcipher_export('export'); PRAGMA export.user_version = 0;")
        .map_err(|e| Error::Backup(BackupError::Export(e)));
    let detached = conn
        .batch_execute("DETACH DATABASE export;")
        .map_err(|e| Error::Backup(BackupError::Export(e)));
    exported.and(detached)
}

impl Store {
    /// Writes a sealed backup of the whole database to `dest`.
    pub fn write_backup(&mut self, dest: impl AsRef<Path>, key: &BackupKey) -> Result<BackupInfo> {
        let dest = dest.as_ref();
        let export_key = DbKey::generate();
        let tmp = TempPath::beside(dest, "export");
        export_to(&mut self.conn, &tmp.0, &export_key)?;
        let mut payload = Zeroizing::new(Vec::new());
        payload.extend_from_slice(export_key.as_bytes());
        payload.extend_from_slice(&std::fs::read(&tmp.0)?);

        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the OS random source is available");
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.extend_from_slice(&nonce);
        let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).expect("32-byte key");
        let sealed = cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &payload,
                    aad: &header,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = header;
        out.extend_from_slice(&sealed);
        // Write beside, then rename: a crash never leaves a half-written backup under `dest`.
        let partial = TempPath::beside(dest, "backup");
        std::fs::write(&partial.0, &out)?;
        std::fs::File::open(&partial.0)?.sync_all()?;
        std::fs::rename(&partial.0, dest)?;
        Ok(BackupInfo {
            path: dest.to_path_buf(),
            bytes: out.len() as u64,
        })
    }

    /// Restores a sealed backup into a new database at `dest_db`, encrypted with `new_key`
    /// (the new device's own key), and opens it. `dest_db` must not exist.
    pub fn restore_backup(
        backup: impl AsRef<Path>,
        key: &BackupKey,
        dest_db: impl AsRef<Path>,
        new_key: &DbKey,
    ) -> Result<Store> {
        let dest_db = dest_db.as_ref();
        if dest_db.exists() {
            return Err(Error::Backup(BackupError::DestinationExists));
        }
        let data = std::fs::read(backup.as_ref())?;
        let payload = open_sealed(&data, key)?;
        if payload.len() < 32 {
            return Err(Error::Backup(BackupError::Truncated));
        }
        let export_key =
            DbKey::from_slice(&payload[..32]).map_err(|_| Error::Backup(BackupError::Truncated))?;
        let tmp = TempPath::beside(dest_db, "restore");
        std::fs::write(&tmp.0, &payload[32..])?;
        {
            let mut conn = open_connection(&tmp.0, &export_key)?;
            export_to(&mut conn, dest_db, new_key)?;
        }
        Store::open(dest_db, new_key)
    }
}

/// Checks and opens a sealed file, returning the plaintext payload.
fn open_sealed(data: &[u8], key: &BackupKey) -> Result<Zeroizing<Vec<u8>>> {
    if data.len() < MAGIC.len() + 1 {
        return Err(Error::Backup(if MAGIC.starts_with(data) {
            BackupError::Truncated
        } else {
            BackupError::NotABackup
        }));
    }
    if &data[..MAGIC.len()] != MAGIC {
        return Err(Error::Backup(BackupError::NotABackup));
    }
    if data[MAGIC.len()] != VERSION {
        return Err(Error::Backup(BackupError::UnsupportedVersion(
            data[MAGIC.len()],
        )));
    }
    if data.len() < HEADER_LEN + TAG_LEN {
        return Err(Error::Backup(BackupError::Truncated));
    }
    let (header, sealed) = data.split_at(HEADER_LEN);
    let nonce: [u8; NONCE_LEN] = header[MAGIC.len() + 1..]
        .try_into()
        .expect("header holds 12 nonce bytes");
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).expect("32-byte key");
    cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: sealed,
                aad: header,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| Error::Backup(BackupError::Tampered))
}
