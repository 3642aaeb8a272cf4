//! LZ4-packed JSON, the form of the store's larger records (a sale's lines and payments, outbox
//! payloads). A sale's JSON repeats keys and fiscal data on every line and shrinks to a
//! fraction, so it fits on the leaf page a commit writes anyway instead of spilling onto
//! overflow pages that would each be encrypted, MACed and written too.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, corrupt};

/// Longest record unpacked: a corrupt size prefix must not make the reader allocate wildly.
const MAX_UNPACKED: usize = 64 << 20;

pub(crate) fn pack<T: Serialize + ?Sized>(value: &T, what: &'static str) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(value).map_err(|e| corrupt(what, e))?;
    Ok(lz4_flex::block::compress_prepend_size(&json))
}

/// Reads a record back; `packed = false` marks plain JSON written before packing.
pub(crate) fn unpack<T: DeserializeOwned>(
    bytes: &[u8],
    packed: bool,
    what: &'static str,
) -> Result<T> {
    if !packed {
        return serde_json::from_slice(bytes).map_err(|e| corrupt(what, e));
    }
    let json = decompress(bytes, what)?;
    serde_json::from_slice(&json).map_err(|e| corrupt(what, e))
}

/// Size-prefixed LZ4, its announced size checked before anything is allocated for it.
fn decompress(bytes: &[u8], what: &'static str) -> Result<Vec<u8>> {
    let size = bytes
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| corrupt(what, "too short"))?;
    if usize::try_from(size).map_or(true, |n| n > MAX_UNPACKED) {
        return Err(corrupt(what, "size out of range"));
    }
    lz4_flex::block::decompress_size_prepended(bytes).map_err(|e| corrupt(what, e))
}

/// Starts a packed text: LZ4 (size-prefixed) follows. A signed NFC-e's XML shrinks to about
/// half, so it no longer spills onto overflow pages; XML never holds U+0000, so a document
/// written as plain text before packing never starts with it.
const PACKED_TEXT: &[u8] = b"\0lz4";

pub(crate) fn pack_text(text: &str) -> Vec<u8> {
    let mut packed = PACKED_TEXT.to_vec();
    packed.extend_from_slice(&lz4_flex::block::compress_prepend_size(text.as_bytes()));
    packed
}

/// Reads back [`pack_text`]'s bytes, or text stored plain.
pub(crate) fn unpack_text(bytes: Vec<u8>, what: &'static str) -> Result<String> {
    let Some(packed) = bytes.strip_prefix(PACKED_TEXT) else {
        return String::from_utf8(bytes).map_err(|e| corrupt(what, e));
    };
    String::from_utf8(decompress(packed, what)?).map_err(|e| corrupt(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_text_reads_back_beside_plain_text() {
        let xml =
            "<NFe><det nItem=\"1\"><prod><xProd>Pão Francês</xProd></prod></det></NFe>".repeat(40);
        let packed = pack_text(&xml);
        assert!(packed.len() < xml.len() / 4, "repeated markup packs small");
        assert_eq!(unpack_text(packed.clone(), "test").expect("unpacks"), xml);
        // Text stored plain before packing reads as it is.
        assert_eq!(
            unpack_text(xml.clone().into_bytes(), "test").expect("reads"),
            xml
        );
        // A size prefix claiming gigabytes is refused; a cut record is reported, not read.
        let mut huge = packed.clone();
        huge[PACKED_TEXT.len()..PACKED_TEXT.len() + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack_text(huge, "test").is_err());
        assert!(unpack_text(packed[..packed.len() / 2].to_vec(), "test").is_err());
    }

    #[test]
    fn packed_records_read_back_and_damage_is_reported() {
        let value = vec!["Pão Francês".to_owned(); 50];
        let packed = pack(&value, "test").expect("packs");
        assert!(packed.len() < serde_json::to_vec(&value).expect("json").len() / 4);
        assert_eq!(
            unpack::<Vec<String>>(&packed, true, "test").expect("unpacks"),
            value
        );
        // Plain JSON from before packing still reads.
        let plain = serde_json::to_vec(&value).expect("json");
        assert_eq!(
            unpack::<Vec<String>>(&plain, false, "test").expect("reads"),
            value
        );
        // A size prefix claiming gigabytes is refused before any allocation.
        let mut huge = packed.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack::<Vec<String>>(&huge, true, "test").is_err());
        assert!(unpack::<Vec<String>>(&packed[..packed.len() / 2], true, "test").is_err());
    }
}
