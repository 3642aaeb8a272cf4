//! A register as a scenario sets it up: enrolled with the store's server, a simulated 80 mm
//! printer, the store's A1 certificate installed by the owner, and SEFAZ reached through the
//! store's (cuttable) link.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tenda_devices::sim::SimulatedPrinter;
use tenda_devices::transport::{Pacing, WriteMode};
use tenda_devices::{EscPosPrinter, PrinterProfile, PrinterSettings};
use tenda_fiscal::sefaz::{
    ClientSettings, Endpoints, Environment, TransmissionPolicy, Transmitter, TrustRoots, Uf,
};
use tenda_pos::credentials::Secret;
use tenda_pos::status::StatusListener;
use tenda_pos::{Approval, EnrollmentRequest, Pos};
use tenda_store::DbKey;

use crate::backoffice::Result;

/// The test A1 certificate (CNPJ 06.157.250/0001-16) and its password.
pub fn test_certificate() -> Result<(Vec<u8>, &'static str)> {
    Ok((
        tenda_fiscal::samples::PUBLIC_TEST_PFX.to_vec(),
        tenda_fiscal::samples::PUBLIC_TEST_PFX_PASSWORD,
    ))
}

/// How a device reaches SEFAZ (the simulator behind the store's link).
#[derive(Clone, Debug)]
pub struct SefazAccess {
    /// `https://127.0.0.1:PORT` of the link in front of the simulator.
    pub base_url: String,
    /// The simulator's CA certificate (DER), the only root trusted.
    pub ca_der: Vec<u8>,
}

/// Enrolls a device at `path` with `code` and waits for its first load.
pub async fn enroll(
    path: &Path,
    key: &DbKey,
    server_url: &str,
    code: &str,
    name: &str,
    listener: Option<Arc<dyn StatusListener>>,
) -> Result<Pos> {
    let mut request = EnrollmentRequest::new(server_url, code, name);
    request.first_load_timeout_ms = 60_000;
    Ok(Pos::enroll(path, key, request, listener).await?)
}

/// The owner installs the store's certificate on the device (owner credentials were synced).
pub fn install_certificate(pos: &Pos, owner: &Approval) -> Result<()> {
    let (pfx, password) = test_certificate()?;
    pos.install_certificate(&pfx, password, owner)?;
    Ok(())
}

/// A simulated 80 mm printer on a fast link, attached to the register.
pub fn attach_printer(pos: &Pos) -> SimulatedPrinter {
    let profile = PrinterProfile::mm80();
    let printer = SimulatedPrinter::new(&profile);
    printer.set_link(512, WriteMode::WithResponse);
    let settings = PrinterSettings {
        pacing: Pacing {
            between_chunks: Duration::ZERO,
        },
        ..Default::default()
    };
    pos.set_printer(Arc::new(EscPosPrinter::new(
        printer.clone(),
        profile,
        settings,
    )));
    printer
}

/// Connects the register to SEFAZ through `access`, with short pauses after failures (a scenario
/// restores the link within seconds, a store within minutes).
pub fn attach_sefaz(pos: &Pos, access: &SefazAccess) -> Result<Arc<Transmitter>> {
    let mut settings = ClientSettings::new(Uf::SP, Environment::Homologation);
    settings.endpoints = Endpoints::at_base_url(&access.base_url);
    settings.request_timeout = Duration::from_secs(2);
    settings.connect_timeout = Duration::from_secs(1);
    let client = pos.sefaz_client(&TrustRoots::only(vec![access.ca_der.clone()]), settings)?;
    let policy = TransmissionPolicy {
        transport_pause: Duration::from_millis(10),
        unavailable_pause: Duration::from_millis(10),
        ..TransmissionPolicy::default()
    };
    let transmitter = Arc::new(Transmitter::new(client, policy));
    pos.set_transmitter(transmitter.clone());
    Ok(transmitter)
}

/// A user's PIN approval.
pub fn approval(login: &str, pin: &str) -> Approval {
    Approval {
        login: login.into(),
        secret: Secret::Pin(pin.into()),
    }
}

/// A simulated card reader (behind the same transport as a BLE one), paired with the register.
/// It approves online payments and forwarded offline ones unless scripted otherwise.
pub fn attach_card_reader(pos: &Pos) -> Result<tenda_devices::sim::SimulatedCardReader> {
    use tenda_devices::card::{LinkCardReader, ReaderSettings};
    use tenda_devices::{Pacing as ReaderPacing, ReconnectPolicy};
    let sim = tenda_devices::sim::SimulatedCardReader::new();
    let settings = ReaderSettings {
        silence_timeout: Duration::from_secs(2),
        query_timeout: Duration::from_secs(1),
        reconnect: ReconnectPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        pacing: ReaderPacing {
            between_chunks: Duration::ZERO,
        },
    };
    pos.pair_card_reader(Arc::new(LinkCardReader::new(sim.clone(), settings)))?;
    Ok(sim)
}
