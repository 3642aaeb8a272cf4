//! `tenda-server`: serve, create a store, or write a self-signed certificate.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use tenda_server::{DatabaseLocation, Db, ServerConfig, TlsFiles};

#[derive(Parser)]
#[command(name = "tenda-server", about = "Tenda sync and back-office server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync and back-office API.
    Serve {
        /// A SQLite file path, or a postgres:// URL.
        #[arg(long, env = "TENDA_DATABASE", default_value = "tenda-server.db")]
        database: String,
        #[arg(long, env = "TENDA_LISTEN", default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// PEM certificate chain (with --key); required unless listening on loopback.
        #[arg(long, env = "TENDA_CERT", requires = "key")]
        cert: Option<PathBuf>,
        #[arg(long, env = "TENDA_KEY", requires = "cert")]
        key: Option<PathBuf>,
    },
    /// Run a store hub: serve the store's tills on the LAN, relay to the cloud.
    Hub {
        /// The cloud's base URL (`https://…`).
        #[arg(long, env = "TENDA_UPSTREAM")]
        upstream: String,
        /// The hub code from the cloud's back office (first start only).
        #[arg(long, env = "TENDA_HUB_CODE")]
        code: Option<String>,
        /// The cloud certificate's SHA-256, if known; otherwise the one seen at enrollment is pinned.
        #[arg(long, env = "TENDA_UPSTREAM_FINGERPRINT")]
        upstream_fingerprint: Option<String>,
        /// The hub's own SQLite file (or postgres:// URL).
        #[arg(long, env = "TENDA_DATABASE", default_value = "tenda-hub.db")]
        database: String,
        #[arg(long, env = "TENDA_LISTEN", default_value = "127.0.0.1:8444")]
        listen: SocketAddr,
        /// PEM certificate chain (with --key), e.g. from `self-signed-cert`.
        #[arg(long, env = "TENDA_CERT", requires = "key")]
        cert: Option<PathBuf>,
        #[arg(long, env = "TENDA_KEY", requires = "cert")]
        key: Option<PathBuf>,
        /// The URL tills use to reach this hub (default: the listening address).
        #[arg(long, env = "TENDA_ADVERTISE")]
        advertise: Option<String>,
        /// Shown in the back office.
        #[arg(long, default_value = "Hub")]
        name: String,
        /// Milliseconds between rounds with the cloud when nothing wakes the hub.
        #[arg(long, default_value_t = 2000)]
        round_ms: u64,
        /// The file holding the key that seals the hub's cloud credential in its database
        /// (created the first time, mode 0600). Default: beside a SQLite database
        /// (`tenda-hub.link-key`); required with PostgreSQL.
        #[arg(long, env = "TENDA_LINK_KEY")]
        link_key: Option<PathBuf>,
    },
    /// Create a store with its first branch and owner; prints the ids as JSON.
    InitStore {
        #[arg(long, env = "TENDA_DATABASE", default_value = "tenda-server.db")]
        database: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "Matriz")]
        branch: String,
        #[arg(long)]
        owner: String,
        /// What the owner types to log in.
        #[arg(long)]
        owner_login: String,
        /// The owner's password (at least 8 characters).
        #[arg(long, env = "TENDA_OWNER_PASSWORD")]
        owner_password: String,
    },
    /// Write a self-signed certificate (cert.pem, key.pem) for the given host names or IPs.
    SelfSignedCert {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tenda-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), tenda_server::Error> {
    match cli.command {
        Command::Serve {
            database,
            listen,
            cert,
            key,
        } => {
            let tls = match (cert, key) {
                (Some(cert_pem), Some(key_pem)) => Some(TlsFiles { cert_pem, key_pem }),
                _ => None,
            };
            let server = tenda_server::start(ServerConfig {
                database: DatabaseLocation::parse(&database),
                listen,
                tls,
            })
            .await?;
            // A hub's database served as a plain server would take pushes it never relays.
            let db = server.db.clone();
            let is_hub = db.run(tenda_server::hub::is_hub_database).await?;
            if is_hub {
                server.shutdown().await;
                return Err(tenda_server::Error::Config(
                    "this database belongs to a store hub: run `tenda-server hub`".into(),
                ));
            }
            if let Some(f) = &server.cert_fingerprint {
                println!("certificate sha256 fingerprint: {f}");
            }
            println!("listening on {}", server.base_url);
            let stopper = server.stopper();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            server.wait().await
        }
        Command::Hub {
            upstream,
            code,
            upstream_fingerprint,
            database,
            listen,
            cert,
            key,
            advertise,
            name,
            round_ms,
            link_key,
        } => {
            let tls = match (cert, key) {
                (Some(cert_pem), Some(key_pem)) => Some(TlsFiles { cert_pem, key_pem }),
                _ => None,
            };
            let mut config = tenda_server::hub::HubConfig::new(
                DatabaseLocation::parse(&database),
                listen,
                upstream,
            );
            config.tls = tls;
            config.code = code;
            config.upstream_fingerprint = upstream_fingerprint;
            config.advertise_url = advertise;
            config.name = name;
            config.round_interval = std::time::Duration::from_millis(round_ms.max(100));
            if link_key.is_some() {
                config.link_key = link_key;
            }
            let hub = tenda_server::hub::start_hub(config).await?;
            if let Some(f) = &hub.server.cert_fingerprint {
                println!("certificate sha256 fingerprint: {f}");
            }
            println!("hub listening on {}", hub.base_url());
            let stopper = hub.server.stopper();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            hub.wait().await
        }
        Command::InitStore {
            database,
            name,
            branch,
            owner,
            owner_login,
            owner_password,
        } => {
            let location = DatabaseLocation::parse(&database);
            let created = tokio::task::spawn_blocking(move || {
                let db = Db::open(&location)?;
                let mut conn = db.get()?;
                tenda_server::create_store(
                    &mut conn,
                    &name,
                    &branch,
                    &owner,
                    &owner_login,
                    &owner_password,
                )
            })
            .await
            .map_err(|e| tenda_server::Error::Internal(e.to_string()))??;
            println!(
                "{}",
                serde_json::to_string_pretty(&created)
                    .map_err(|e| tenda_server::Error::Internal(e.to_string()))?
            );
            Ok(())
        }
        Command::SelfSignedCert { dir, hosts } => {
            let files = tenda_server::tls::write_self_signed(&dir, &hosts)?;
            println!(
                "wrote {} and {}",
                files.cert_pem.display(),
                files.key_pem.display()
            );
            Ok(())
        }
    }
}
