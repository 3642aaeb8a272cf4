//! A register as a scenario sets it up: enrolled with the store's server, a simulated 80 mm
//! printer, the store's A1 certificate installed by the owner, and SEFAZ reached through the
//! store's (cuttable) link.

use std::path::Path;
use std::sync::Arc;

use tenda_devices::PrinterProfile;
use tenda_devices::sim::SimulatedPrinter;
use tenda_devices::transport::WriteMode;
use tenda_pos::credentials::Secret;
use tenda_pos::status::StatusListener;
use tenda_pos::{
    Approval, EnrollmentRequest, KeyStore, MemoryKeyStore, OpenConfig, PeripheralTimings, Platform,
    Pos, SefazRoute,
};

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

/// Where a scenario's device lives and how it reaches SEFAZ: its file, a keystore in memory
/// (the same one every time it is opened), the simulator behind the store's link with short
/// pauses after failures (a scenario restores the link within seconds, a store within minutes;
/// the scenario sends the backlog itself, so the worker's own round is rare) and fast
/// peripheral links.
/// `key` is the database key the keystore holds (a child process opens the same file with it).
pub fn access(
    path: &Path,
    key: &tenda_store::DbKey,
    sefaz: Option<&SefazAccess>,
) -> (OpenConfig, Platform) {
    let mut open = OpenConfig::new(path.display().to_string(), "device".into());
    open.sefaz = match sefaz {
        Some(s) => SefazRoute::At {
            access: tenda_pos::SefazAccess {
                base_url: s.base_url.clone(),
                trusted_roots_der: vec![s.ca_der.clone()],
                connect_timeout_ms: 1_000,
                request_timeout_ms: 2_000,
                transport_pause_ms: 10,
                unavailable_pause_ms: 10,
                probe_interval_ms: 3_600_000,
            },
        },
        None => SefazRoute::NotConfigured,
    };
    open.peripherals = PeripheralTimings {
        chunk_pause_ms: 0,
        reconnect_attempts: 3,
        reconnect_first_delay_ms: 1,
        reconnect_max_delay_ms: 5,
        reader_silence_timeout_ms: 2_000,
        reader_query_timeout_ms: 1_000,
    };
    let keys = MemoryKeyStore::new();
    keys.save("device".into(), key.as_bytes().to_vec())
        .expect("a memory keystore takes the key");
    (open, Platform::new(Arc::new(keys)))
}

/// Enrolls the device of `access` with `code` and waits for its first load.
pub async fn enroll(
    access: &(OpenConfig, Platform),
    server_url: &str,
    code: &str,
    name: &str,
    listener: Option<Arc<dyn StatusListener>>,
) -> Result<Pos> {
    let mut request = EnrollmentRequest::new(server_url, code, name);
    request.first_load_timeout_ms = 60_000;
    Ok(Pos::enroll(access.0.clone(), access.1.clone(), request, listener).await?)
}

/// Opens the device of `access` again (after a restart).
pub fn reopen(access: &(OpenConfig, Platform)) -> Result<Pos> {
    Ok(Pos::open(access.0.clone(), access.1.clone())?)
}

/// The owner installs the store's certificate on the device (owner credentials were synced).
pub fn install_certificate(pos: &Pos, owner: &Approval) -> Result<()> {
    let (pfx, password) = test_certificate()?;
    pos.install_certificate(pfx, password.into(), owner.clone())?;
    Ok(())
}

/// A simulated 80 mm printer on a fast link, attached to the register.
pub fn attach_printer(pos: &Pos) -> SimulatedPrinter {
    let printer = SimulatedPrinter::new(&PrinterProfile::mm80());
    printer.set_link(512, WriteMode::WithResponse);
    pos.attach_printer(Arc::new(printer.clone()))
        .expect("a fresh register takes a printer");
    printer
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
    let sim = tenda_devices::sim::SimulatedCardReader::new();
    pos.pair_card_reader(Arc::new(sim.clone()))?;
    Ok(sim)
}
