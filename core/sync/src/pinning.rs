//! HTTPS with certificate pinning: the device trusts exactly the certificate whose SHA-256 it
//! learned at enrollment, whoever signed it (stores run self-signed LAN hubs).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::fingerprint::{fingerprints_match, sha256_fingerprint};

/// Why a pinned client could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinError {
    /// The URL is not http(s).
    Config(String),
    Tls(String),
}

impl std::fmt::Display for PinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinError::Config(m) => write!(f, "configuration: {m}"),
            PinError::Tls(m) => write!(f, "TLS setup: {m}"),
        }
    }
}

impl std::error::Error for PinError {}

/// An HTTP client plus the fingerprint of the last server certificate it saw.
#[derive(Debug, Clone)]
pub struct PinnedClient {
    pub http: reqwest::Client,
    seen: Arc<Mutex<Option<String>>>,
}

impl PinnedClient {
    pub fn seen_fingerprint(&self) -> Option<String> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[derive(Debug)]
struct PinVerifier {
    /// `None` only while enrolling: trust on first use, and remember what was seen.
    pin: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fingerprint = sha256_fingerprint(end_entity);
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(fingerprint.clone());
        match &self.pin {
            Some(pin) if !fingerprints_match(pin, &fingerprint) => Err(rustls::Error::General(
                "the server certificate does not match the pinned fingerprint".into(),
            )),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client for `base_url`; for `https` it accepts only the certificate matching `pin`
/// (or, with no pin, any certificate — enrollment only — remembering its fingerprint).
pub fn client_for(
    base_url: &str,
    pin: Option<&str>,
    timeout: Duration,
) -> Result<PinnedClient, PinError> {
    if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
        return Err(PinError::Config(format!(
            "`{base_url}` is not an http(s) URL"
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let seen = Arc::new(Mutex::new(None));
    let verifier = Arc::new(PinVerifier {
        pin: pin.map(str::to_owned),
        seen: seen.clone(),
        provider: provider.clone(),
    });
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PinError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| PinError::Tls(e.to_string()))?;
    Ok(PinnedClient { http, seen })
}
