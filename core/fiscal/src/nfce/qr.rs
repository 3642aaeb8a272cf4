//! The NFC-e QR code: version 2 (CSC hash, NT 2015.002) and version 3 (the emitter's RSA
//! signature, NT 2025.001), each online (normal emission) or offline (contingency).

use base64::Engine as _;
use openssl::sha::Sha1;
use serde::{Deserialize, Serialize};
use tenda_domain::Money;

use super::input::{ConsumerId, Csc, Environment};
use super::key::AccessKey;
use crate::certificate::A1Certificate;
use crate::xmldsig::SignError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QrVersion {
    V2,
    V3,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    #[error("QR code v2 needs the store's CSC and its id")]
    MissingCsc,
    #[error("the CSC must be 1 to 64 printable ASCII characters")]
    BadCsc,
    #[error("signing the offline QR code failed")]
    Sign(#[source] SignError),
}

/// What an offline QR carries besides the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineQrData {
    /// Day of the month of dhEmi.
    pub day_of_month: u32,
    /// vNF.
    pub total: Money,
    /// The note's DigestValue (base64), for v2.
    pub digest_value: String,
    /// The recipient, for v3.
    pub consumer: Option<ConsumerId>,
}

fn upper_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

fn csc_hash(parameters: &str, csc: &Csc) -> Result<String, QrError> {
    let token = csc.token.trim();
    if token.is_empty() || token.len() > 64 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(QrError::BadCsc);
    }
    let mut sha = Sha1::new();
    sha.update(parameters.as_bytes());
    sha.update(token.as_bytes());
    Ok(upper_hex(&sha.finish()))
}

/// The `p=` parameter of a v2 QR code. `offline` is `None` for normal emission.
pub fn qr_v2_parameters(
    key: &AccessKey,
    environment: Environment,
    csc: &Csc,
    offline: Option<&OfflineQrData>,
) -> Result<String, QrError> {
    let mut p = format!("{key}|2|{}", environment.code());
    if let Some(off) = offline {
        let digest_hex = hex::encode(off.digest_value.as_bytes());
        p.push_str(&format!(
            "|{:02}|{}|{digest_hex}",
            off.day_of_month, off.total
        ));
    }
    // cIdToken without leading zeros.
    p.push_str(&format!("|{}", csc.id));
    let hash = csc_hash(&p, csc)?;
    p.push('|');
    p.push_str(&hash);
    Ok(p)
}

/// The `p=` parameter of a v3 QR code; offline it carries the RSA-SHA1 signature of its own
/// fields (not of the URL) with the emitter's certificate.
pub fn qr_v3_parameters(
    key: &AccessKey,
    environment: Environment,
    offline: Option<&OfflineQrData>,
    certificate: &A1Certificate,
) -> Result<String, QrError> {
    let fields = qr_v3_fields(key, environment, offline);
    match offline {
        Some(_) => {
            let signature = crate::xmldsig::sign::rsa_sha1_sign(certificate, fields.as_bytes())
                .map_err(QrError::Sign)?;
            Ok(qr_v3_signed(fields, &signature))
        }
        None => Ok(fields),
    }
}

/// The fields of a v3 `p=` parameter; offline, what its signature covers.
pub(crate) fn qr_v3_fields(
    key: &AccessKey,
    environment: Environment,
    offline: Option<&OfflineQrData>,
) -> String {
    let mut p = format!("{key}|3|{}", environment.code());
    if let Some(off) = offline {
        let (kind, document) = match &off.consumer {
            Some(ConsumerId::Cnpj(d)) => ("1", d.as_str()),
            Some(ConsumerId::Cpf(d)) => ("2", d.as_str()),
            Some(ConsumerId::Foreign(_)) => ("3", ""),
            None => ("", ""),
        };
        p.push_str(&format!(
            "|{:02}|{}|{kind}|{document}",
            off.day_of_month, off.total
        ));
    }
    p
}

/// An offline v3 `p=` parameter: its fields and their RSA-SHA1 signature (base64).
pub(crate) fn qr_v3_signed(mut fields: String, signature: &[u8]) -> String {
    fields.push('|');
    fields.push_str(&base64::engine::general_purpose::STANDARD.encode(signature));
    fields
}

/// The full QR-code text: the state's URL, `?p=` and the parameters.
pub fn qr_code_text(base_url: &str, parameters: &str) -> String {
    let separator = if base_url.contains('?') { '&' } else { '?' };
    format!("{base_url}{separator}p={parameters}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::test_certificate;

    const CSC: &str = "SEU-CODIGO-CSC-CONTRIBUINTE-36-CARACTERES";

    fn csc(id: u32) -> Csc {
        Csc {
            id,
            token: CSC.to_owned(),
        }
    }

    #[test]
    fn v2_online_public_vectors() {
        // core/fiscal/testdata/VECTORS.md, "QR code v2 (manual examples)".
        // The manual's example key does not carry a valid DV; the hash is defined over the text.
        let key = AccessKey::unchecked("28170800156225000131650110000151341562040824");
        assert_eq!(
            qr_v2_parameters(&key, Environment::Production, &csc(1), None).expect("qr"),
            "28170800156225000131650110000151341562040824|2|1|1|DC6AE2C2B9A992BE59679AC365E29922DE6B7511"
        );
        let key: AccessKey = "28140300156225000131650110000151341562040824"
            .parse()
            .expect("key");
        assert_eq!(
            qr_v2_parameters(&key, Environment::Homologation, &csc(1), None).expect("qr"),
            "28140300156225000131650110000151341562040824|2|2|1|AAAC2CECE0A2182091DC4DDF52400ACE74C33ECC"
        );
    }

    #[test]
    fn v2_offline_public_vector() {
        // The manual's example key carries a wrong DV (the vector list says so); the QR hash is
        // still defined over the text as printed.
        let key = AccessKey::unchecked("28170800156225000131650110000151349562040824");
        let offline = OfflineQrData {
            day_of_month: 2,
            total: Money::from_centavos(6090),
            digest_value: "yzGYhUx1/XYYzksWB+fPR3Qc50c=".into(),
            consumer: None,
        };
        assert_eq!(
            qr_v2_parameters(&key, Environment::Production, &csc(1), Some(&offline)).expect("qr"),
            "28170800156225000131650110000151349562040824|2|1|02|60.90|797a4759685578312f5859597a6b7357422b6650523351633530633d|1|4615A93BB0D7C4E780F8D30EE77EDD5BA55C7D66"
        );
    }

    #[test]
    fn v3_online_and_offline() {
        let key: AccessKey = "41190408187168000160653990000000269000000227"
            .parse()
            .expect("key");
        assert_eq!(
            qr_v3_parameters(&key, Environment::Homologation, None, test_certificate())
                .expect("qr"),
            "41190408187168000160653990000000269000000227|3|2"
        );
        let consumer = ConsumerId::Cpf("12345678909".into());
        let offline = OfflineQrData {
            day_of_month: 9,
            total: Money::from_centavos(12_345),
            digest_value: String::new(),
            consumer: Some(consumer),
        };
        let p = qr_v3_parameters(
            &key,
            Environment::Homologation,
            Some(&offline),
            test_certificate(),
        )
        .expect("qr");
        let (signed, signature) = p.rsplit_once('|').expect("signature field");
        assert_eq!(
            signed,
            "41190408187168000160653990000000269000000227|3|2|09|123.45|2|12345678909"
        );
        assert_eq!(
            signature.len(),
            344,
            "a 2048-bit RSA signature is 344 base64 chars"
        );
        // The signature covers the fields, not the URL, and verifies with the certificate.
        let raw = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .expect("base64");
        let public = test_certificate().certificate().public_key().expect("pk");
        let mut verifier =
            openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha1(), &public)
                .expect("verifier");
        verifier.update(signed.as_bytes()).expect("update");
        assert!(verifier.verify(&raw).expect("verify"));
    }

    #[test]
    fn v3_offline_without_recipient_leaves_both_fields_empty() {
        let key: AccessKey = "41190408187168000160653990000000269000000227"
            .parse()
            .expect("key");
        let offline = OfflineQrData {
            day_of_month: 30,
            total: Money::from_centavos(5),
            digest_value: String::new(),
            consumer: None,
        };
        let p = qr_v3_parameters(
            &key,
            Environment::Production,
            Some(&offline),
            test_certificate(),
        )
        .expect("qr");
        assert!(p.starts_with("41190408187168000160653990000000269000000227|3|1|30|0.05|||"));
    }

    #[test]
    fn missing_or_bad_csc_is_an_error() {
        let key: AccessKey = "28140300156225000131650110000151341562040824"
            .parse()
            .expect("key");
        let short = Csc {
            id: 1,
            token: "com espaço".into(),
        };
        assert!(matches!(
            qr_v2_parameters(&key, Environment::Production, &short, None),
            Err(QrError::BadCsc)
        ));
    }
}
