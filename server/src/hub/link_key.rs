//! The hub's cloud credential at rest. It proves the hub to the cloud, so whoever holds it can
//! relay for the whole branch: the hub's database (and every copy or backup of it) keeps it
//! sealed with AES-256-GCM under a key kept in a file of its own, readable by the hub's user
//! only, beside the hub's certificate key rather than inside the database.

use std::path::{Path, PathBuf};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};

use crate::Error;

/// How a sealed credential starts in `hub_link.credential`; anything else is a credential
/// stored in clear by an earlier version, sealed again when the hub starts.
const SEALED: &str = "sealed:v1:";
/// Binds the ciphertext to its use: a sealed value copied to another column does not open.
const PURPOSE: &[u8] = b"tenda hub link credential";
const NONCE_LEN: usize = 12;

/// The key that seals the hub's cloud credential.
pub struct LinkKey {
    path: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LinkKey {
    /// Reads the key at `path`, creating it (32 random bytes, mode 0600) the first time.
    pub fn load_or_create(path: &Path) -> Result<LinkKey, Error> {
        let key = match std::fs::read(path) {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                Error::Config(format!(
                    "{} is not a hub link key ({} bytes, not 32)",
                    path.display(),
                    bytes.len()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                        context: "creating the hub link key's directory".into(),
                        source,
                    })?;
                }
                crate::tls::write_private(path, &key)?;
                key
            }
            Err(source) => {
                return Err(Error::Io {
                    context: format!("reading the hub link key {}", path.display()),
                    source,
                });
            }
        };
        Ok(LinkKey {
            path: path.to_owned(),
            key,
        })
    }

    /// The credential as the database keeps it.
    pub fn seal(&self, credential: &str) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher()
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: credential.as_bytes(),
                    aad: PURPOSE,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED}{}", hex::encode(out))
    }

    /// The credential from what the database keeps: `Ok(None)` when it was kept in clear (to
    /// be sealed now); an error when it is sealed under another key or was altered.
    pub fn open(&self, stored: &str) -> Result<Option<String>, Error> {
        let Some(body) = stored.strip_prefix(SEALED) else {
            return Ok(None);
        };
        let refused = || {
            Error::Config(format!(
                "the hub's cloud credential does not open with {}: not the key it was sealed with, \
                 or the database was altered",
                self.path.display()
            ))
        };
        let bytes = hex::decode(body).map_err(|_| refused())?;
        if bytes.len() <= NONCE_LEN {
            return Err(refused());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().expect("split at the nonce's length");
        let clear = self
            .cipher()
            .decrypt(
                nonce.into(),
                Payload {
                    msg: sealed,
                    aad: PURPOSE,
                },
            )
            .map_err(|_| refused())?;
        String::from_utf8(clear).map(Some).map_err(|_| refused())
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(&self.key).expect("32-byte key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_credential_opens_only_with_its_key_and_unaltered() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = LinkKey::load_or_create(&dir.path().join("link.key")).expect("created");
        let sealed = key.seal("hub-secret-credential");
        assert!(
            !sealed.contains("hub-secret-credential"),
            "nothing in clear"
        );
        assert_eq!(
            key.open(&sealed).expect("opens").as_deref(),
            Some("hub-secret-credential")
        );
        // The same file read again is the same key.
        let again = LinkKey::load_or_create(&dir.path().join("link.key")).expect("read");
        assert!(again.open(&sealed).is_ok());
        // Another key, or one changed character, does not open it.
        let other = LinkKey::load_or_create(&dir.path().join("other.key")).expect("created");
        assert!(other.open(&sealed).is_err());
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
        assert!(key.open(&String::from_utf8(altered).expect("hex")).is_err());
        // A credential an earlier version kept in clear is recognised as such.
        assert_eq!(key.open("clear-credential").expect("read"), None);
        // The key file is the hub user's alone.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("link.key"))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "no access for group or others");
    }

    #[test]
    fn a_key_file_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("link.key");
        std::fs::write(&path, b"short").expect("written");
        assert!(matches!(
            LinkKey::load_or_create(&path),
            Err(Error::Config(_))
        ));
    }
}
