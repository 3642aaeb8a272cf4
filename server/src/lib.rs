#![doc = include_str!("../README.md")]

pub mod auth;
pub mod backoffice;
pub mod bulk;
pub mod catalog;
pub mod db;
pub mod device_records;
pub mod enroll;
pub mod error;
pub mod http;
pub mod hub;
pub mod mutation;
pub mod pull;
pub mod push;
pub mod reports;
pub mod schema;
pub mod throttle;
pub mod tls;
pub mod tx;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use db::{DatabaseLocation, Db};
pub use enroll::{CreatedStore, IssuedCode, create_store};
pub use error::Error;

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub database: DatabaseLocation,
    /// Port 0 picks a free port (see [`RunningServer::addr`]).
    pub listen: SocketAddr,
    /// Certificate and key (PEM). Without them the server only listens on loopback.
    pub tls: Option<TlsFiles>,
}

/// A PEM certificate chain and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    /// `https://127.0.0.1:PORT` or `http://…`.
    pub base_url: String,
    /// SHA-256 of the server certificate (hex), for devices to pin; `None` on plain HTTP.
    pub cert_fingerprint: Option<String>,
    /// The server's database (tests and tools use it to bootstrap a store and to check results).
    pub db: Db,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(self) {
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        let _ = self.task.await;
    }

    /// Runs until the server task ends (by a signal or an error).
    pub async fn wait(self) -> Result<(), Error> {
        match self.task.await {
            Ok(r) => r.map_err(|source| Error::Io {
                context: "serving".into(),
                source,
            }),
            Err(e) => Err(Error::Internal(format!("server task: {e}"))),
        }
    }

    /// A handle that stops the server (e.g. on Ctrl-C).
    pub fn stopper(&self) -> axum_server::Handle<SocketAddr> {
        self.handle.clone()
    }
}

/// Opens the database (running migrations) and starts serving.
pub async fn start(config: ServerConfig) -> Result<RunningServer, Error> {
    if config.tls.is_none() && !config.listen.ip().is_loopback() {
        return Err(Error::Config(
            "plain HTTP is only allowed on loopback; configure a TLS certificate and key".into(),
        ));
    }
    let database = config.database.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&database))
        .await
        .map_err(|e| Error::Internal(format!("opening the database: {e}")))??;
    start_with_db(db, config).await
}

/// Starts serving an already opened database.
pub async fn start_with_db(db: Db, config: ServerConfig) -> Result<RunningServer, Error> {
    start_serving(db, config, None).await
}

/// Starts serving; with `hub`, as a store hub (see [`hub::start_hub`]).
pub(crate) async fn start_serving(
    db: Db,
    config: ServerConfig,
    hub: Option<std::sync::Arc<hub::HubState>>,
) -> Result<RunningServer, Error> {
    if config.tls.is_none() && !config.listen.ip().is_loopback() {
        return Err(Error::Config(
            "plain HTTP is only allowed on loopback; configure a TLS certificate and key".into(),
        ));
    }
    let listener = std::net::TcpListener::bind(config.listen).map_err(|source| Error::Io {
        context: format!("binding {}", config.listen),
        source,
    })?;
    listener.set_nonblocking(true).map_err(|source| Error::Io {
        context: "configuring the listener".into(),
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| Error::Io {
        context: "reading the bound address".into(),
        source,
    })?;
    let app = http::router(http::AppState {
        db: db.clone(),
        hub,
    });
    let handle = axum_server::Handle::new();
    let (task, base_url, cert_fingerprint) = match &config.tls {
        Some(files) => {
            let (rustls_config, fingerprint) = tls::server_config(files)?;
            let server = axum_server::tls_rustls::from_tcp_rustls(listener, rustls_config)
                .map_err(|source| Error::Io {
                    context: "starting TLS listener".into(),
                    source,
                })?
                .handle(handle.clone());
            let task =
                tokio::spawn(server.serve(app.into_make_service_with_connect_info::<SocketAddr>()));
            (task, format!("https://{addr}"), Some(fingerprint))
        }
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(|source| Error::Io {
                    context: "starting listener".into(),
                    source,
                })?
                .handle(handle.clone());
            let task =
                tokio::spawn(server.serve(app.into_make_service_with_connect_info::<SocketAddr>()));
            (task, format!("http://{addr}"), None)
        }
    };
    tracing::info!(%addr, backend = db.backend_name(), "tenda-server listening");
    Ok(RunningServer {
        addr,
        base_url,
        cert_fingerprint,
        db,
        handle,
        task,
    })
}
