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
    let size = bytes
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| corrupt(what, "too short"))?;
    if usize::try_from(size).map_or(true, |n| n > MAX_UNPACKED) {
        return Err(corrupt(what, "size out of range"));
    }
    let json = lz4_flex::block::decompress_size_prepended(bytes).map_err(|e| corrupt(what, e))?;
    serde_json::from_slice(&json).map_err(|e| corrupt(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

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
