//! SQLCipher's page cipher computed with RustCrypto: AES-256-CBC, the page HMAC (SHA-1, SHA-256
//! or SHA-512) and PBKDF2, registered as SQLCipher's crypto provider when SQLite starts.
//!
//! Every page a commit writes is encrypted and MACed. SQLCipher's OpenSSL provider looks the
//! algorithm up and builds fresh contexts on every call; with OpenSSL 3.0 (the system library
//! on Debian 12) that costs about as much as encrypting and MACing the 4 KiB page itself, on
//! every page of every commit. RustCrypto's AES (AES-NI, ARMv8) and SHA-2 (SHA-NI, ARMv8) do
//! the same work without it. The file format is SQLCipher's, unchanged: a file written by
//! either provider opens with the other (`tests/page_cipher.rs`).

#![allow(unsafe_code)] // the C interface SQLCipher calls its crypto provider through

use std::ffi::{CStr, c_char, c_int, c_void};

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use libsqlite3_sys as ffi;
use rand::RngCore;
use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// The SQLCipher release whose provider interface (below) this follows field by field; with any
/// other, SQLCipher keeps its own provider.
const SQLCIPHER_RELEASE: &str = "4.14.";

/// SQLCipher's `sqlcipher_provider`, in its field order.
#[repr(C)]
struct Provider {
    init: Option<unsafe extern "C" fn() -> c_int>,
    shutdown: Option<unsafe extern "C" fn()>,
    get_provider_name: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    add_random: unsafe extern "C" fn(*mut c_void, *const c_void, c_int) -> c_int,
    random: unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
    hmac: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const u8,
        c_int,
        *const u8,
        c_int,
        *const u8,
        c_int,
        *mut u8,
    ) -> c_int,
    kdf: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const u8,
        c_int,
        *const u8,
        c_int,
        c_int,
        c_int,
        *mut u8,
    ) -> c_int,
    cipher: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const u8,
        c_int,
        *const u8,
        *const u8,
        c_int,
        *mut u8,
    ) -> c_int,
    get_cipher: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    get_key_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_iv_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_block_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_hmac_sz: unsafe extern "C" fn(*mut c_void, c_int) -> c_int,
    ctx_init: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    ctx_free: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    fips_status: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_provider_version: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    next: *mut Provider,
}

unsafe extern "C" {
    fn sqlcipher_register_provider(provider: *mut Provider) -> c_int;
    fn sqlcipher_malloc(size: u64) -> *mut c_void;
    fn sqlcipher_version() -> *mut c_char;
}

// SQLCipher's constants (sqlcipher.h).
const HMAC_SHA1: c_int = 0;
const HMAC_SHA256: c_int = 1;
const HMAC_SHA512: c_int = 2;
const ENCRYPT: c_int = 1;
const DECRYPT: c_int = 0;
const KEY_BYTES: usize = 32;
const BLOCK_BYTES: usize = 16;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Makes this provider SQLCipher's default, for every database opened from now on. Call once,
/// after `sqlite3_initialize` (SQLCipher's own start registers its provider first, and frees
/// every registered one, with its allocator, when SQLite shuts down). Returns whether it did.
pub(crate) fn register() -> bool {
    if !release_matches() {
        tracing::warn!("unknown SQLCipher release: its own crypto provider stays");
        return false;
    }
    // SAFETY: SQLCipher frees providers with `sqlcipher_free`, so this one comes from its
    // allocator; every field is written before SQLCipher sees the pointer, and SQLCipher owns
    // it from then on.
    unsafe {
        let slot = sqlcipher_malloc(std::mem::size_of::<Provider>() as u64).cast::<Provider>();
        if slot.is_null() {
            return false;
        }
        slot.write(Provider {
            init: None,
            shutdown: None,
            get_provider_name,
            add_random,
            random,
            hmac,
            kdf,
            cipher,
            get_cipher,
            get_key_sz,
            get_iv_sz,
            get_block_sz,
            get_hmac_sz,
            ctx_init,
            ctx_free,
            fips_status,
            get_provider_version,
            next: std::ptr::null_mut(),
        });
        sqlcipher_register_provider(slot) == ffi::SQLITE_OK
    }
}

fn release_matches() -> bool {
    // SAFETY: `sqlcipher_version` returns a string from `sqlite3_mprintf` (or null), read and
    // then released with `sqlite3_free`.
    unsafe {
        let version = sqlcipher_version();
        if version.is_null() {
            return false;
        }
        let matches = CStr::from_ptr(version)
            .to_str()
            .is_ok_and(|v| v.starts_with(SQLCIPHER_RELEASE));
        ffi::sqlite3_free(version.cast());
        matches
    }
}

/// A byte slice from a C pointer and length (empty for a null pointer or a length below 1).
///
/// # Safety
/// `ptr` must point to `len` readable bytes that outlive the slice.
unsafe fn bytes<'a>(ptr: *const u8, len: c_int) -> &'a [u8] {
    match usize::try_from(len) {
        Ok(len) if len > 0 && !ptr.is_null() => unsafe { std::slice::from_raw_parts(ptr, len) },
        _ => &[],
    }
}

unsafe extern "C" fn get_provider_name(_: *mut c_void) -> *const c_char {
    c"rustcrypto".as_ptr()
}

unsafe extern "C" fn get_provider_version(_: *mut c_void) -> *const c_char {
    c"aes 0.8, sha1 0.10, sha2 0.10, hmac 0.12, pbkdf2 0.12".as_ptr()
}

/// Entropy SQLCipher offers: the generator below reseeds itself from the operating system.
unsafe extern "C" fn add_random(_: *mut c_void, _: *const c_void, _: c_int) -> c_int {
    ffi::SQLITE_OK
}

/// Random bytes (a page's IV, salts) from the thread's CSPRNG, seeded by the operating system.
unsafe extern "C" fn random(_: *mut c_void, buffer: *mut c_void, length: c_int) -> c_int {
    let Ok(len) = usize::try_from(length) else {
        return ffi::SQLITE_ERROR;
    };
    if buffer.is_null() {
        return if len == 0 {
            ffi::SQLITE_OK
        } else {
            ffi::SQLITE_ERROR
        };
    }
    // SAFETY: SQLCipher hands a buffer of `length` writable bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(buffer.cast::<u8>(), len) };
    rand::rng().fill_bytes(out);
    ffi::SQLITE_OK
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: [&[u8]; 2], out: &mut [u8]) -> c_int {
    let Ok(mut m) = <M as Mac>::new_from_slice(key) else {
        return ffi::SQLITE_ERROR;
    };
    for part in parts {
        m.update(part);
    }
    let tag = m.finalize().into_bytes();
    out.copy_from_slice(&tag);
    ffi::SQLITE_OK
}

/// HMAC of `in` followed by `in2` (a page and its number) with `algorithm`, into `out`.
#[allow(clippy::too_many_arguments)] // SQLCipher's signature
unsafe extern "C" fn hmac(
    _: *mut c_void,
    algorithm: c_int,
    key: *const u8,
    key_sz: c_int,
    input: *const u8,
    input_sz: c_int,
    input2: *const u8,
    input2_sz: c_int,
    out: *mut u8,
) -> c_int {
    let size = hmac_size(algorithm);
    if input.is_null() || out.is_null() || size == 0 {
        return ffi::SQLITE_ERROR;
    }
    // SAFETY: SQLCipher passes its key, the input buffers with their lengths, and an output of
    // the MAC's size (`get_hmac_sz`).
    let (key, parts, out) = unsafe {
        (
            bytes(key, key_sz),
            [bytes(input, input_sz), bytes(input2, input2_sz)],
            std::slice::from_raw_parts_mut(out, size),
        )
    };
    match algorithm {
        HMAC_SHA1 => mac::<Hmac<Sha1>>(key, parts, out),
        HMAC_SHA256 => mac::<Hmac<Sha256>>(key, parts, out),
        HMAC_SHA512 => mac::<Hmac<Sha512>>(key, parts, out),
        _ => ffi::SQLITE_ERROR,
    }
}

/// PBKDF2 with HMAC-`algorithm`: a passphrase's key, and the page MAC's key from the cipher key.
#[allow(clippy::too_many_arguments)] // SQLCipher's signature
unsafe extern "C" fn kdf(
    _: *mut c_void,
    algorithm: c_int,
    pass: *const u8,
    pass_sz: c_int,
    salt: *const u8,
    salt_sz: c_int,
    rounds: c_int,
    key_sz: c_int,
    key: *mut u8,
) -> c_int {
    let (Ok(rounds), Ok(len)) = (u32::try_from(rounds), usize::try_from(key_sz)) else {
        return ffi::SQLITE_ERROR;
    };
    if key.is_null() || rounds == 0 {
        return ffi::SQLITE_ERROR;
    }
    // SAFETY: SQLCipher passes the passphrase and salt with their lengths, and `key_sz`
    // writable bytes for the key.
    let (pass, salt, out) = unsafe {
        (
            bytes(pass, pass_sz),
            bytes(salt, salt_sz),
            std::slice::from_raw_parts_mut(key, len),
        )
    };
    match algorithm {
        HMAC_SHA1 => pbkdf2::pbkdf2_hmac::<Sha1>(pass, salt, rounds, out),
        HMAC_SHA256 => pbkdf2::pbkdf2_hmac::<Sha256>(pass, salt, rounds, out),
        HMAC_SHA512 => pbkdf2::pbkdf2_hmac::<Sha512>(pass, salt, rounds, out),
        _ => return ffi::SQLITE_ERROR,
    }
    ffi::SQLITE_OK
}

/// AES-256-CBC without padding over `in_sz` bytes (a whole number of blocks), into `out`.
#[allow(clippy::too_many_arguments)] // SQLCipher's signature
unsafe extern "C" fn cipher(
    _: *mut c_void,
    mode: c_int,
    key: *const u8,
    key_sz: c_int,
    iv: *const u8,
    input: *const u8,
    input_sz: c_int,
    out: *mut u8,
) -> c_int {
    let Ok(len) = usize::try_from(input_sz) else {
        return ffi::SQLITE_ERROR;
    };
    if key.is_null() || iv.is_null() || input.is_null() || out.is_null() || len % BLOCK_BYTES != 0 {
        return ffi::SQLITE_ERROR;
    }
    // SAFETY: SQLCipher passes a 32-byte key, a 16-byte IV, and `input_sz` bytes to read and
    // as many to write, in separate buffers (the page and the codec's own).
    let (key, iv, input, out) = unsafe {
        (
            bytes(key, key_sz),
            std::slice::from_raw_parts(iv, BLOCK_BYTES),
            std::slice::from_raw_parts(input, len),
            std::slice::from_raw_parts_mut(out, len),
        )
    };
    let done = match mode {
        ENCRYPT => Aes256CbcEnc::new_from_slices(key, iv)
            .ok()
            .and_then(|c| c.encrypt_padded_b2b_mut::<NoPadding>(input, out).ok())
            .is_some(),
        DECRYPT => Aes256CbcDec::new_from_slices(key, iv)
            .ok()
            .and_then(|c| c.decrypt_padded_b2b_mut::<NoPadding>(input, out).ok())
            .is_some(),
        _ => false,
    };
    if done {
        ffi::SQLITE_OK
    } else {
        ffi::SQLITE_ERROR
    }
}

unsafe extern "C" fn get_cipher(_: *mut c_void) -> *const c_char {
    c"AES-256-CBC".as_ptr()
}

unsafe extern "C" fn get_key_sz(_: *mut c_void) -> c_int {
    KEY_BYTES as c_int
}

unsafe extern "C" fn get_iv_sz(_: *mut c_void) -> c_int {
    BLOCK_BYTES as c_int
}

unsafe extern "C" fn get_block_sz(_: *mut c_void) -> c_int {
    BLOCK_BYTES as c_int
}

fn hmac_size(algorithm: c_int) -> usize {
    match algorithm {
        HMAC_SHA1 => 20,
        HMAC_SHA256 => 32,
        HMAC_SHA512 => 64,
        _ => 0,
    }
}

unsafe extern "C" fn get_hmac_sz(_: *mut c_void, algorithm: c_int) -> c_int {
    hmac_size(algorithm) as c_int
}

/// The provider keeps no state per database.
unsafe extern "C" fn ctx_init(_: *mut *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn ctx_free(_: *mut *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn fips_status(_: *mut c_void) -> c_int {
    0
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use crate::keys::DbKey;
    use crate::store::Store;

    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        cipher_provider: String,
    }

    #[test]
    fn stores_encrypt_their_pages_with_this_provider() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path().join("p.db"), &DbKey::generate()).expect("opens");
        let names: Vec<Name> = diesel::sql_query("PRAGMA cipher_provider")
            .load(&mut store.conn)
            .expect("reads");
        assert_eq!(
            names
                .iter()
                .map(|n| n.cipher_provider.as_str())
                .collect::<Vec<_>>(),
            ["rustcrypto"]
        );
    }
}
