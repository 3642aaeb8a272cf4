//! TLS: the server's rustls configuration from PEM files, and self-signed certificates for a
//! store's LAN hub, development and tests.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

use crate::TlsFiles;
use crate::error::Error;

/// Builds the rustls configuration; also returns the leaf certificate's SHA-256 fingerprint.
pub fn server_config(
    files: &TlsFiles,
) -> Result<(axum_server::tls_rustls::RustlsConfig, String), Error> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert_pem)
        .map_err(|e| Error::Config(format!("cannot read the certificate file: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Config(format!("malformed certificate PEM: {e}")))?;
    let leaf = certs
        .first()
        .ok_or_else(|| Error::Config("the certificate file has no certificate".into()))?;
    let fingerprint = tenda_sync::fingerprint::sha256_fingerprint(leaf);
    let key = PrivateKeyDer::from_pem_file(&files.key_pem)
        .map_err(|e| Error::Config(format!("cannot read the private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            Error::Config(format!(
                "certificate and key do not form a TLS identity: {e}"
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config)),
        fingerprint,
    ))
}

/// Writes a self-signed certificate for `hosts` (names or IPs) into `dir` as `cert.pem`/`key.pem`.
/// Devices trust it by pinning its fingerprint at enrollment.
pub fn write_self_signed(dir: &Path, hosts: &[String]) -> Result<TlsFiles, Error> {
    let certified = rcgen::generate_simple_self_signed(hosts.to_vec())
        .map_err(|e| Error::Config(format!("cannot generate a certificate: {e}")))?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        context: "creating the certificate directory".into(),
        source,
    })?;
    let files = TlsFiles {
        cert_pem: dir.join("cert.pem"),
        key_pem: dir.join("key.pem"),
    };
    std::fs::write(&files.cert_pem, certified.cert.pem()).map_err(|source| Error::Io {
        context: "writing cert.pem".into(),
        source,
    })?;
    write_private(
        &files.key_pem,
        certified.signing_key.serialize_pem().as_bytes(),
    )?;
    Ok(files)
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| Error::Io {
            context: "writing key.pem".into(),
            source,
        })?;
    f.write_all(bytes).map_err(|source| Error::Io {
        context: "writing key.pem".into(),
        source,
    })
}
