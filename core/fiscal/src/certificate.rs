//! The emitter's ICP-Brasil A1 certificate, loaded from a PKCS#12 (`.pfx`) file.
//!
//! Both the OpenSSL-3 default format (AES-256/SHA-256 MAC) and the legacy format still issued by
//! many certificate authorities (RC2-40 / 3DES, SHA-1 MAC) load: OpenSSL's legacy provider is
//! loaded once on first use.

use std::fmt;
use std::path::Path;
use std::sync::Once;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use openssl::asn1::Asn1Time;
use openssl::error::ErrorStack;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

/// ICP-Brasil OID 2.16.76.1.3.3: the company's CNPJ inside a legal-entity certificate.
const OID_ICP_BRASIL_CNPJ: &[u8] = &[0x06, 0x05, 0x60, 0x4C, 0x01, 0x03, 0x03];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    #[error("could not read the certificate file")]
    Read(#[source] std::io::Error),
    #[error("the certificate file is not a PKCS#12 (.pfx/.p12) file")]
    NotPkcs12(#[source] ErrorStack),
    #[error("wrong password for the certificate file")]
    WrongPassword(#[source] ErrorStack),
    #[error("the certificate file uses an encryption this system cannot read")]
    UnsupportedEncryption(#[source] ErrorStack),
    #[error("the certificate file holds no {0}")]
    Missing(&'static str),
    #[error("the certificate expired on {not_after}")]
    Expired { not_after: DateTime<Utc> },
    #[error("the certificate is only valid from {not_before}")]
    NotYetValid { not_before: DateTime<Utc> },
    #[error("the certificate carries no CNPJ (ICP-Brasil OID 2.16.76.1.3.3 or subject CN)")]
    NoCnpj,
    #[error("the certificate belongs to CNPJ {certificate}, not to the emitter {emitter}")]
    CnpjMismatch {
        certificate: String,
        emitter: String,
    },
    #[error("the private key does not match the certificate")]
    KeyMismatch,
    #[error("OpenSSL failed while reading the certificate")]
    OpenSsl(#[source] ErrorStack),
}

/// An A1 certificate with its private key. `Debug` never prints key material.
#[derive(Clone)]
pub struct A1Certificate {
    key: PKey<Private>,
    certificate: X509,
    chain: Vec<X509>,
    cnpj: String,
    certificate_base64: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

impl fmt::Debug for A1Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A1Certificate")
            .field("cnpj", &self.cnpj)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("key", &"<redacted>")
            .finish()
    }
}

pub(crate) fn load_legacy_provider() {
    static LEGACY: Once = Once::new();
    LEGACY.call_once(|| {
        // The provider must stay loaded for the whole process (older .pfx files use RC2/3DES),
        // so its handle is deliberately leaked. `retain_fallbacks` keeps the default provider.
        if let Ok(provider) = openssl::provider::Provider::try_load(None, "legacy", true) {
            std::mem::forget(provider);
        }
    });
}

fn has_reason(stack: &ErrorStack, needle: &str) -> bool {
    stack.errors().iter().any(|e| {
        e.reason()
            .is_some_and(|r| r.to_ascii_lowercase().contains(needle))
    })
}

impl A1Certificate {
    /// Reads a `.pfx` file. Validity and CNPJ are not checked here: see [`Self::load_for_emitter`].
    pub fn from_pfx_file(path: &Path, password: &str) -> Result<Self, CertificateError> {
        let der = std::fs::read(path).map_err(CertificateError::Read)?;
        Self::from_pkcs12_der(&der, password)
    }

    /// Parses PKCS#12 bytes (modern AES or legacy RC2/3DES).
    pub fn from_pkcs12_der(der: &[u8], password: &str) -> Result<Self, CertificateError> {
        load_legacy_provider();
        let pkcs12 = Pkcs12::from_der(der).map_err(CertificateError::NotPkcs12)?;
        let parsed = pkcs12.parse2(password).map_err(|e| {
            if has_reason(&e, "mac verify failure") || has_reason(&e, "bad decrypt") {
                CertificateError::WrongPassword(e)
            } else if has_reason(&e, "unsupported") || has_reason(&e, "fetch failed") {
                CertificateError::UnsupportedEncryption(e)
            } else {
                CertificateError::OpenSsl(e)
            }
        })?;
        let key = parsed
            .pkey
            .ok_or(CertificateError::Missing("private key"))?;
        let certificate = parsed
            .cert
            .ok_or(CertificateError::Missing("certificate"))?;
        let chain = parsed
            .ca
            .map(|stack| stack.into_iter().collect())
            .unwrap_or_default();
        Self::from_parts(key, certificate, chain)
    }

    /// Builds from an already parsed key and certificate (e.g. read from the encrypted store).
    pub fn from_parts(
        key: PKey<Private>,
        certificate: X509,
        chain: Vec<X509>,
    ) -> Result<Self, CertificateError> {
        let public = certificate
            .public_key()
            .map_err(CertificateError::OpenSsl)?;
        if !key.public_eq(&public) {
            return Err(CertificateError::KeyMismatch);
        }
        let der = certificate.to_der().map_err(CertificateError::OpenSsl)?;
        let cnpj = cnpj_of_certificate(&certificate, &der).ok_or(CertificateError::NoCnpj)?;
        let not_before = asn1_to_utc(certificate.not_before())?;
        let not_after = asn1_to_utc(certificate.not_after())?;
        Ok(Self {
            key,
            certificate,
            chain,
            cnpj,
            certificate_base64: base64::engine::general_purpose::STANDARD.encode(&der),
            not_before,
            not_after,
        })
    }

    /// Loads a `.pfx` for signing the emitter's documents: checks the password, that the
    /// certificate is valid at `now` and that it belongs to `emitter_cnpj`.
    pub fn load_for_emitter(
        der: &[u8],
        password: &str,
        emitter_cnpj: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, CertificateError> {
        let certificate = Self::from_pkcs12_der(der, password)?;
        certificate.check_valid_at(now)?;
        certificate.check_cnpj(emitter_cnpj)?;
        Ok(certificate)
    }

    pub fn check_valid_at(&self, now: DateTime<Utc>) -> Result<(), CertificateError> {
        if now > self.not_after {
            return Err(CertificateError::Expired {
                not_after: self.not_after,
            });
        }
        if now < self.not_before {
            return Err(CertificateError::NotYetValid {
                not_before: self.not_before,
            });
        }
        Ok(())
    }

    /// The CNPJ root (8 first characters) must match: one certificate serves every branch.
    pub fn check_cnpj(&self, emitter_cnpj: &str) -> Result<(), CertificateError> {
        let emitter = normalize_cnpj(emitter_cnpj);
        if emitter.len() != 14 || emitter[..8] != self.cnpj[..8] {
            return Err(CertificateError::CnpjMismatch {
                certificate: self.cnpj.clone(),
                emitter,
            });
        }
        Ok(())
    }

    /// The 14-character CNPJ (digits, or letters and digits for the alphanumeric CNPJ).
    pub fn cnpj(&self) -> &str {
        &self.cnpj
    }

    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }

    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    pub fn private_key(&self) -> &PKey<Private> {
        &self.key
    }

    pub fn certificate(&self) -> &X509 {
        &self.certificate
    }

    /// Intermediate certificates shipped in the `.pfx` (may be empty).
    pub fn chain(&self) -> &[X509] {
        &self.chain
    }

    /// The certificate as DER (for a rustls client identity: `CertificateDer::from(..)`).
    pub fn certificate_der(&self) -> Vec<u8> {
        self.certificate
            .to_der()
            .expect("a certificate parsed from DER re-encodes")
    }

    /// The chain (leaf first) as DER, for a TLS client identity.
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        std::iter::once(&self.certificate)
            .chain(self.chain.iter())
            .map(|c| {
                c.to_der()
                    .expect("a certificate parsed from DER re-encodes")
            })
            .collect()
    }

    /// The private key as PKCS#8 DER (for rustls: `PrivatePkcs8KeyDer::from(..)`).
    pub fn private_key_pkcs8_der(&self) -> Vec<u8> {
        self.key
            .private_key_to_pkcs8()
            .expect("an RSA key in memory encodes as PKCS#8")
    }

    /// Base64 of the certificate DER, as written in `<X509Certificate>`.
    pub fn certificate_base64(&self) -> &str {
        &self.certificate_base64
    }
}

/// Keeps letters and digits, uppercased (alphanumeric CNPJ), dropping `.`, `/` and `-`.
pub(crate) fn normalize_cnpj(cnpj: &str) -> String {
    cnpj.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn asn1_to_utc(time: &openssl::asn1::Asn1TimeRef) -> Result<DateTime<Utc>, CertificateError> {
    let epoch = Asn1Time::from_unix(0).map_err(CertificateError::OpenSsl)?;
    let diff = epoch.diff(time).map_err(CertificateError::OpenSsl)?;
    let seconds = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    DateTime::from_timestamp(seconds, 0).ok_or(CertificateError::Missing("valid date"))
}

/// ICP-Brasil puts the CNPJ under OID 2.16.76.1.3.3 (in subjectAltName otherName, or as an
/// extension); some test certificates only have it in the CN (`NAME:CNPJ` or `00.000.000/0000-00`).
pub(crate) fn cnpj_of_certificate(certificate: &X509, der: &[u8]) -> Option<String> {
    if let Some(cnpj) = cnpj_after_oid(der) {
        return Some(cnpj);
    }
    let cn = certificate
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()?
        .data()
        .to_string()
        .ok()?;
    let tail = cn.rsplit(':').next().unwrap_or(&cn);
    let cnpj = normalize_cnpj(tail);
    (cnpj.len() == 14).then_some(cnpj)
}

fn cnpj_after_oid(der: &[u8]) -> Option<String> {
    let start = der
        .windows(OID_ICP_BRASIL_CNPJ.len())
        .position(|w| w == OID_ICP_BRASIL_CNPJ)?
        + OID_ICP_BRASIL_CNPJ.len();
    let mut rest = der.get(start..)?;
    // Descend through [0] EXPLICIT and OCTET STRING wrappers down to the string value.
    for _ in 0..4 {
        let (tag, value, _) = read_tlv(rest)?;
        match tag {
            0xA0 => rest = value,
            0x04 if read_tlv(value).is_some_and(|(t, _, r)| is_string_tag(t) && r.is_empty()) => {
                rest = value
            }
            t if t == 0x04 || is_string_tag(t) => {
                let text = std::str::from_utf8(value).ok()?;
                let cnpj = normalize_cnpj(text);
                return (cnpj.len() == 14).then_some(cnpj);
            }
            _ => return None,
        }
    }
    None
}

fn is_string_tag(tag: u8) -> bool {
    matches!(tag, 0x0C | 0x13 | 0x16)
}

/// One DER tag-length-value: (tag, value, bytes after it).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..count {
            len = (len << 8) | usize::from(*input.get(2 + i)?);
        }
        (len, 2 + count)
    };
    let value = input.get(header..header.checked_add(len)?)?;
    Some((tag, value, &input[header + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn loads_the_public_test_certificate_with_its_cnpj() {
        let cert = A1Certificate::load_for_emitter(
            &test_pfx_bytes(),
            TEST_PFX_PASSWORD,
            "06.157.250/0001-16",
            "2026-01-01T00:00:00Z".parse().expect("date"),
        )
        .expect("valid until 2034 and issued to this CNPJ");
        assert_eq!(cert.cnpj(), TEST_PFX_CNPJ);
        assert_eq!(cert.not_after().to_rfc3339(), "2034-06-05T14:56:44+00:00");
        // The DER forms feed a rustls identity; they must round-trip through OpenSSL.
        X509::from_der(&cert.certificate_der()).expect("certificate DER");
        PKey::private_key_from_pkcs8(&cert.private_key_pkcs8_der()).expect("PKCS#8 DER");
        assert!(
            !format!("{cert:?}").contains("BEGIN"),
            "Debug must not leak key material"
        );
    }

    #[test]
    fn wrong_password_is_a_typed_error() {
        let err = A1Certificate::from_pkcs12_der(&test_pfx_bytes(), "senhaerrada")
            .expect_err("the MAC cannot verify with another password");
        assert!(matches!(err, CertificateError::WrongPassword(_)), "{err:?}");
    }

    #[test]
    fn garbage_is_not_pkcs12() {
        let err = A1Certificate::from_pkcs12_der(b"not a pfx", "x").expect_err("garbage");
        assert!(matches!(err, CertificateError::NotPkcs12(_)), "{err:?}");
    }

    #[test]
    fn legacy_rc2_and_modern_files_both_load() {
        for legacy in [true, false] {
            let pfx = make_pfx("11222333000181", -1, 365, legacy, "segredo");
            let cert = A1Certificate::from_pkcs12_der(&pfx, "segredo")
                .unwrap_or_else(|e| panic!("legacy={legacy}: {e:?}"));
            assert_eq!(
                cert.cnpj(),
                "11222333000181",
                "CNPJ taken from `NAME:CNPJ` CN"
            );
            let wrong = A1Certificate::from_pkcs12_der(&pfx, "outra").expect_err("wrong pw");
            assert!(
                matches!(wrong, CertificateError::WrongPassword(_)),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn expired_and_not_yet_valid_certificates_are_refused() {
        let now = chrono::Utc::now();
        let expired = make_pfx("11222333000181", -400, -1, false, "pw");
        let err = A1Certificate::load_for_emitter(&expired, "pw", "11222333000181", now)
            .expect_err("expired yesterday");
        assert!(matches!(err, CertificateError::Expired { .. }), "{err:?}");
        let future = make_pfx("11222333000181", 2, 400, false, "pw");
        let err = A1Certificate::load_for_emitter(&future, "pw", "11222333000181", now)
            .expect_err("valid only from the day after tomorrow");
        assert!(
            matches!(err, CertificateError::NotYetValid { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn cnpj_mismatch_is_refused_but_another_branch_is_accepted() {
        let cert = test_certificate();
        let err = cert
            .check_cnpj("11222333000181")
            .expect_err("another company");
        assert!(
            matches!(err, CertificateError::CnpjMismatch { .. }),
            "{err:?}"
        );
        // Same root (06157250), branch 0002: one e-CNPJ certificate signs for every branch.
        cert.check_cnpj("06157250000205")
            .expect("same company root");
    }

    #[test]
    fn alphanumeric_cnpj_is_read_from_the_certificate() {
        let pfx = make_pfx("12ABC34501DE35", -1, 10, false, "pw");
        let cert = A1Certificate::from_pkcs12_der(&pfx, "pw").expect("loads");
        assert_eq!(cert.cnpj(), "12ABC34501DE35");
    }
}
