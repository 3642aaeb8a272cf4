//! The SEFAZ SOAP client: HTTPS with the A1 certificate as TLS client identity.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::authorization::{self, ReceiptAnswer, SubmissionAnswer};
use super::consult::{self, ProtocolQuery};
use super::endpoints::{Endpoints, Environment, Service, Uf};
use super::error::{RequestError, ResponseError, SefazError, TlsSetupError};
use super::event::{self, EventBatchAnswer};
use super::inutilization::{self, InutilizationAnswer};
use super::soap;
use super::status::{self, ServiceStatus};

/// The certificate chain and private key presented to SEFAZ during the TLS handshake.
#[derive(Clone)]
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("certificates", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ClientIdentity {
    /// The A1 certificate's chain and key.
    pub fn from_certificate(certificate: &crate::A1Certificate) -> Result<Self, TlsSetupError> {
        Self::from_der(certificate.chain_der(), certificate.private_key_pkcs8_der())
    }

    /// From DER: the end-entity certificate first, then intermediates; the key as PKCS#8,
    /// PKCS#1 (RSA) or SEC1.
    pub fn from_der(chain: Vec<Vec<u8>>, private_key: Vec<u8>) -> Result<Self, TlsSetupError> {
        if chain.is_empty() {
            return Err(TlsSetupError::Identity(rustls::Error::General(
                "no certificate".into(),
            )));
        }
        let key = PrivateKeyDer::try_from(private_key)
            .map_err(|reason| TlsSetupError::Identity(rustls::Error::General(reason.into())))?;
        Ok(Self {
            chain: chain.into_iter().map(CertificateDer::from).collect(),
            key: Arc::new(key),
        })
    }
}

/// Which server certificates the client trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustRoots {
    /// Include the operating system's store. SEFAZ servers chain to ICP-Brasil, which is not
    /// in common stores: add its roots with `with_root_der` (or install them in the system).
    pub system: bool,
    pub extra_der: Vec<Vec<u8>>,
}

impl TrustRoots {
    pub fn system() -> Self {
        Self {
            system: true,
            extra_der: Vec::new(),
        }
    }

    /// Only the given roots (a private PKI, e.g. the simulator's).
    pub fn only(roots_der: Vec<Vec<u8>>) -> Self {
        Self {
            system: false,
            extra_der: roots_der,
        }
    }

    pub fn with_root_der(mut self, der: Vec<u8>) -> Self {
        self.extra_der.push(der);
        self
    }
}

/// Where and how the client talks to SEFAZ.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The emitter's state: its authorizer receives every call.
    pub uf: Uf,
    pub environment: Environment,
    pub endpoints: Endpoints,
    pub connect_timeout: Duration,
    /// Whole-exchange limit for one call.
    pub request_timeout: Duration,
    /// Answers larger than this are refused (a consult with many events stays far below).
    pub max_answer_bytes: usize,
}

impl ClientSettings {
    pub fn new(uf: Uf, environment: Environment) -> Self {
        Self {
            uf,
            environment,
            endpoints: Endpoints::official().clone(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_answer_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Calls SEFAZ web services. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct SefazClient {
    http: reqwest::Client,
    settings: Arc<ClientSettings>,
}

impl SefazClient {
    pub fn new(
        identity: &ClientIdentity,
        trust: &TrustRoots,
        settings: ClientSettings,
    ) -> Result<Self, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        if trust.system {
            // Unreadable system certificates are skipped: the extra roots may still suffice.
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
        for der in &trust.extra_der {
            roots
                .add(CertificateDer::from(der.clone()))
                .map_err(TlsSetupError::TrustRoot)?;
        }
        if roots.is_empty() {
            return Err(TlsSetupError::NoTrustRoots);
        }
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsSetupError::Identity)?
            .with_root_certificates(roots)
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(TlsSetupError::Identity)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(TlsSetupError::HttpClient)?;
        Ok(Self {
            http,
            settings: Arc::new(settings),
        })
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// NFeStatusServico4.
    pub async fn service_status(&self) -> Result<ServiceStatus, SefazError> {
        let message = status::request(self.settings.environment, self.settings.uf);
        let answer = self.call(Service::ServiceStatus, &message).await?;
        Ok(status::parse(&answer)?)
    }

    /// NFeAutorizacao4: sends a lote of signed `<NFe>` documents (1–50, ≤ 500 KB).
    /// `synchronous` (indSinc=1) asks for the protocol in the answer; only for one note.
    pub async fn submit(
        &self,
        lote_id: u64,
        synchronous: bool,
        signed_notes: &[&str],
    ) -> Result<SubmissionAnswer, SefazError> {
        let message = authorization::submission_request(lote_id, synchronous, signed_notes)?;
        let answer = self.call(Service::Authorization, &message).await?;
        Ok(authorization::parse_submission(&answer)?)
    }

    /// NFeRetAutorizacao4: the result of a lote sent asynchronously.
    pub async fn receipt_result(&self, receipt: &str) -> Result<ReceiptAnswer, SefazError> {
        let message = authorization::receipt_request(self.settings.environment, receipt)?;
        let answer = self.call(Service::AuthorizationResult, &message).await?;
        Ok(authorization::parse_receipt(&answer)?)
    }

    /// NFeConsultaProtocolo4: what SEFAZ knows about one access key.
    pub async fn consult(&self, access_key: &str) -> Result<ProtocolQuery, SefazError> {
        let message = consult::request(self.settings.environment, access_key)?;
        let answer = self.call(Service::ProtocolQuery, &message).await?;
        let query = consult::parse(&answer)?;
        if query.access_key != access_key {
            return Err(ResponseError::InvalidValue {
                element: "chNFe".into(),
                value: query.access_key,
                reason: "answer is about another access key".into(),
            }
            .into());
        }
        Ok(query)
    }

    /// NFeRecepcaoEvento4: sends signed `<evento>` documents (1–20).
    pub async fn send_events(
        &self,
        lote_id: u64,
        signed_events: &[&str],
    ) -> Result<EventBatchAnswer, SefazError> {
        let message = event::request(lote_id, signed_events)?;
        let answer = self.call(Service::EventReception, &message).await?;
        Ok(event::parse(&answer)?)
    }

    /// NFeInutilizacao4: sends a signed `<inutNFe>`.
    pub async fn inutilize(&self, signed_inut: &str) -> Result<InutilizationAnswer, SefazError> {
        let message = inutilization::request(signed_inut)?;
        let answer = self.call(Service::Inutilization, &message).await?;
        Ok(inutilization::parse(&answer)?)
    }

    async fn call(&self, service: Service, message: &str) -> Result<soap::Answer, SefazError> {
        let endpoint = self.settings.endpoints.endpoint(
            self.settings.uf,
            self.settings.environment,
            service,
        )?;
        let body = soap::envelope(endpoint, message);
        let response = self
            .http
            .post(&endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, soap::content_type(endpoint))
            .body(body)
            .send()
            .await
            .map_err(classify)?;
        let http_status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let limit = self.settings.max_answer_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(ResponseError::TooLarge { limit }.into());
        }
        let mut response = response;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if bytes.len() + chunk.len() > limit {
                return Err(ResponseError::TooLarge { limit }.into());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(soap::read_answer(http_status, &content_type, &bytes)?)
    }
}

fn classify(error: reqwest::Error) -> SefazError {
    if error.is_connect() {
        SefazError::Connect(error)
    } else if error.is_timeout() {
        SefazError::Timeout(error)
    } else if error.is_builder() {
        SefazError::Request(RequestError::InvalidInput {
            field: "url".into(),
            reason: error.to_string(),
        })
    } else {
        SefazError::Transport(error)
    }
}
