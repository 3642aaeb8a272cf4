//! Fixtures for the unit tests: the public test certificate and generated certificates.

use std::sync::OnceLock;

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};

use crate::certificate::A1Certificate;

pub const TEST_PFX_PASSWORD: &str = "minhasenha";
pub const TEST_PFX_CNPJ: &str = "06157250000116";

pub fn test_pfx_bytes() -> Vec<u8> {
    crate::samples::PUBLIC_TEST_PFX.to_vec()
}

/// The public test A1 certificate, loaded once for all tests.
pub fn test_certificate() -> &'static A1Certificate {
    static CERT: OnceLock<A1Certificate> = OnceLock::new();
    CERT.get_or_init(|| {
        A1Certificate::from_pkcs12_der(&test_pfx_bytes(), TEST_PFX_PASSWORD)
            .expect("the public test certificate loads")
    })
}

/// A self-signed certificate for `cnpj` valid from `from_days` to `to_days` relative to now,
/// packed as PKCS#12 — legacy (RC2-40/3DES, SHA-1 MAC) or modern (AES-256, SHA-256 MAC).
pub fn make_pfx(cnpj: &str, from_days: i64, to_days: i64, legacy: bool, password: &str) -> Vec<u8> {
    let rsa = Rsa::generate(2048).expect("key generation");
    let key = PKey::from_rsa(rsa).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_nid(Nid::COMMONNAME, &format!("LOJA TESTE LTDA:{cnpj}"))
        .expect("cn");
    let name = name.build();
    let mut builder = X509::builder().expect("x509");
    builder.set_version(2).expect("version");
    let serial = BigNum::from_u32(7)
        .expect("bn")
        .to_asn1_integer()
        .expect("serial");
    builder.set_serial_number(&serial).expect("serial");
    builder.set_subject_name(&name).expect("subject");
    builder.set_issuer_name(&name).expect("issuer");
    builder.set_pubkey(&key).expect("pubkey");
    let now = chrono::Utc::now().timestamp();
    let not_before = Asn1Time::from_unix(now + from_days * 86_400).expect("time");
    let not_after = Asn1Time::from_unix(now + to_days * 86_400).expect("time");
    builder.set_not_before(&not_before).expect("nb");
    builder.set_not_after(&not_after).expect("na");
    builder.sign(&key, MessageDigest::sha256()).expect("sign");
    let cert = builder.build();
    let mut pkcs12 = Pkcs12::builder();
    pkcs12.name("teste").pkey(&key).cert(&cert);
    if legacy {
        // Writing RC2 needs OpenSSL's legacy provider, which the loader brings in.
        crate::certificate::load_legacy_provider();
        pkcs12
            .key_algorithm(Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC)
            .cert_algorithm(Nid::PBE_WITHSHA1AND40BITRC2_CBC)
            .mac_md(MessageDigest::sha1());
    }
    pkcs12
        .build2(password)
        .expect("pkcs12")
        .to_der()
        .expect("der")
}

#[test]
fn legacy_fixture_really_uses_rc2() {
    // Guards the legacy-format test: the generated file must be the old RC2/SHA-1 kind.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("legacy.pfx");
    std::fs::write(&path, make_pfx("11222333000181", -1, 10, true, "pw")).expect("write");
    let out = std::process::Command::new("openssl")
        .args([
            "pkcs12", "-info", "-noout", "-legacy", "-passin", "pass:pw", "-in",
        ])
        .arg(&path)
        .output()
        .expect("openssl CLI (libssl's package) is installed");
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(report.contains("RC2"), "{report}");
    assert!(report.contains("MAC: sha1"), "{report}");
}
