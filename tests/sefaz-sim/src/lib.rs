#![doc = include_str!("../README.md")]

mod authority;
mod faults;
mod http;
mod pki;

use std::net::SocketAddr;
use std::sync::Arc;

pub use authority::{Authority, Call, NoteRecord, SimulatorConfig, Stats};
pub use faults::{Faults, Malformation};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulatorError {
    #[error("test certificates could not be generated")]
    Certificates(#[source] rcgen::Error),
    #[error("TLS configuration failed")]
    Tls(#[source] rustls::Error),
    #[error("could not listen on {address}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Where to listen.
#[derive(Debug, Clone)]
pub struct StartOptions {
    pub config: SimulatorConfig,
    /// SOAP endpoints (HTTPS, client certificate required). Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Admin API (plain HTTP); keep it on loopback.
    pub admin: Option<SocketAddr>,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self {
            config: SimulatorConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: None,
        }
    }
}

/// A running simulator. Dropping it stops the servers.
pub struct Simulator {
    authority: Arc<Authority>,
    address: SocketAddr,
    admin_address: Option<SocketAddr>,
    ca_der: Vec<u8>,
    ca_pem: String,
    handle: axum_server::Handle<SocketAddr>,
    admin_task: Option<tokio::task::JoinHandle<()>>,
}

impl Simulator {
    /// Starts on a free loopback port with `config`, without the admin API.
    pub async fn start(config: SimulatorConfig) -> Result<Simulator, SimulatorError> {
        Self::start_with(StartOptions {
            config,
            ..StartOptions::default()
        })
        .await
    }

    pub async fn start_with(options: StartOptions) -> Result<Simulator, SimulatorError> {
        let pki = pki::ServerPki::generate().map_err(SimulatorError::Certificates)?;
        let tls = pki.server_config().map_err(SimulatorError::Tls)?;
        let authority = Arc::new(Authority::new(options.config));

        let listener =
            std::net::TcpListener::bind(options.listen).map_err(|source| SimulatorError::Bind {
                address: options.listen,
                source,
            })?;
        let address = listener
            .local_addr()
            .map_err(|source| SimulatorError::Bind {
                address: options.listen,
                source,
            })?;
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp_rustls(
            listener,
            axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls)),
        )
        .map_err(|source| SimulatorError::Bind {
            address: options.listen,
            source,
        })?
        .handle(handle.clone());
        let app = http::soap_router(authority.clone());
        tokio::spawn(async move {
            // Errors here are per-connection (bad handshakes), which the server survives.
            let _ = server.serve(app.into_make_service()).await;
        });

        let (admin_address, admin_task) = match options.admin {
            Some(admin) => {
                let listener = tokio::net::TcpListener::bind(admin)
                    .await
                    .map_err(|source| SimulatorError::Bind {
                        address: admin,
                        source,
                    })?;
                let bound = listener
                    .local_addr()
                    .map_err(|source| SimulatorError::Bind {
                        address: admin,
                        source,
                    })?;
                let app = http::admin_router(authority.clone());
                let task = tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                });
                (Some(bound), Some(task))
            }
            None => (None, None),
        };

        Ok(Simulator {
            authority,
            address,
            admin_address,
            ca_der: pki.ca_der,
            ca_pem: pki.ca_pem,
            handle,
            admin_task,
        })
    }

    /// `https://127.0.0.1:<port>`; services live at `/ws/<Operation>.asmx`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn admin_url(&self) -> Option<String> {
        self.admin_address.map(|a| format!("http://{a}"))
    }

    /// The CA that issued the server certificate (clients add it to their trust roots).
    pub fn ca_certificate_der(&self) -> &[u8] {
        &self.ca_der
    }

    pub fn ca_certificate_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    pub fn faults(&self) -> Faults {
        self.authority.faults()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.authority.set_faults(faults);
    }

    pub fn update_faults(&self, change: impl FnOnce(&mut Faults)) {
        self.authority.update_faults(change);
    }

    pub fn stats(&self) -> Stats {
        self.authority.stats()
    }

    pub fn note(&self, access_key: &str) -> Option<NoteRecord> {
        self.authority.note(access_key)
    }

    /// Stops listening: new connections are refused (the "network down" case).
    pub fn stop(&self) {
        self.handle.shutdown();
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(task) = &self.admin_task {
            task.abort();
        }
    }
}

/// Access-key check digit: mod 11 over the first 43 characters, weights 2..9 from the right,
/// each character valued ASCII − 48 (so alphanumeric CNPJs work too).
pub fn access_key_check_digit(first43: &str) -> u8 {
    let sum: u32 = first43
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b.saturating_sub(b'0')) * (2 + (i as u32 % 8)))
        .sum();
    match sum % 11 {
        0 | 1 => 0,
        r => u8::try_from(11 - r).expect("11 - r is below 10"),
    }
}

/// The CNPJ (14 digits) in the signer's certificate, if it carries one.
fn signer_cnpj(signature: &tenda_fiscal::xmldsig::VerifiedSignature) -> Option<String> {
    signature.cnpj.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_matches_public_vectors() {
        // From core/fiscal/testdata/VECTORS.md.
        for key in [
            "41190408187168000160653990000000269000000227",
            "13181017921427000125650010000000309887251170",
            "28140300156225000131650110000151341562040824",
            "432505AB123456789012550010000000011000000011",
        ] {
            assert_eq!(
                access_key_check_digit(&key[..43]),
                key.as_bytes()[43] - b'0',
                "{key}"
            );
        }
        assert_eq!(
            access_key_check_digit("4321110573092800014565001000000240171726812"),
            9
        );
    }
}
