//! Card data from the reader, and its sealing for storage (AES-256-GCM). Neither the key nor
//! the data ever appears in `Debug` output, logs or errors.

use std::fmt;

use aes_gcm::aead::{Aead, Generate, Key, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Card data as the reader hands it over for store-and-forward (already encrypted by the
/// reader for its acquirer, and still treated as secret here).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct CardData(Vec<u8>);

impl CardData {
    pub fn new(bytes: Vec<u8>) -> Self {
        CardData(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardData(<redacted>)")
    }
}

/// The 32-byte key stored payments are sealed with (kept in the OS keystore by the caller).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SealingKey([u8; 32]);

impl SealingKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SealingKey(bytes)
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let key = Key::<Aes256Gcm>::generate();
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(key.as_slice());
        SealingKey(bytes)
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

/// Card data sealed with AES-256-GCM, bound to its payment (id, amount) so a stored blob cannot
/// be moved to another payment or have its amount changed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedCardData {
    #[serde(with = "hex_bytes")]
    pub nonce: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedCardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedCardData(<sealed>)")
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("sealing failed")]
    Seal,
    /// Wrong key, or the blob or its payment details were altered.
    #[error("sealed card data does not open with this key and payment")]
    Open,
}

impl SealedCardData {
    pub fn seal(key: &SealingKey, binding: &[u8], data: &CardData) -> Result<Self, SealError> {
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.expose()));
        let nonce = Nonce::generate();
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: data.expose(),
                    aad: binding,
                },
            )
            .map_err(|_| SealError::Seal)?;
        Ok(SealedCardData {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    pub fn open(&self, key: &SealingKey, binding: &[u8]) -> Result<CardData, SealError> {
        if self.nonce.len() != 12 {
            return Err(SealError::Open);
        }
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.expose()));
        let nonce = Nonce::try_from(self.nonce.as_slice()).map_err(|_| SealError::Open)?;
        cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &self.ciphertext,
                    aad: binding,
                },
            )
            .map(CardData)
            .map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_the_same_key_and_binding() {
        let key = SealingKey::generate();
        let data = CardData::new(b"track2=4111111111111111=2812".to_vec());
        let sealed = SealedCardData::seal(&key, b"payment-1|1000", &data).expect("seal");
        assert!(
            !sealed
                .ciphertext
                .windows(16)
                .any(|w| w == &data.expose()[..16]),
            "ciphertext hides the data"
        );
        assert_eq!(sealed.open(&key, b"payment-1|1000").expect("opens"), data);
        assert_eq!(
            sealed.open(&key, b"payment-1|9999"),
            Err(SealError::Open),
            "amount is bound"
        );
        assert_eq!(
            sealed.open(&SealingKey::generate(), b"payment-1|1000"),
            Err(SealError::Open),
            "other key"
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let data = CardData::new(b"4111111111111111".to_vec());
        let key = SealingKey::from_bytes([7; 32]);
        let shown = format!("{data:?} {key:?}");
        assert!(!shown.contains("4111") && !shown.contains('7'), "{shown}");
    }
}
