//! Platform setup the core does not do by itself yet: the database key from the host's vault,
//! the SEFAZ transmitter at the host-given address, the printer and reader drivers over the
//! host's links, and a runtime for the core's background work when the caller has none.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tenda_devices::card::{LinkCardReader, ReaderSettings};
use tenda_devices::transport::Pacing;
use tenda_devices::{EscPosPrinter, PrinterSettings};
use tenda_fiscal::sefaz::{
    ClientSettings, Endpoints, Transmitter, TransmissionPolicy, TrustRoots,
};
use tenda_pos::PosError;
use tenda_store::DbKey;

use crate::host::{HostTransport, KeyVault};

/// SEFAZ somewhere else than the state's official address (homologation proxy, simulator).
#[derive(Clone, Debug, uniffi::Record)]
pub struct SefazAccess {
    pub base_url: String,
    /// DER certificates of the only roots trusted at that address.
    pub trusted_roots_der: Vec<Vec<u8>>,
}

/// The key under `account`, created and kept by the vault the first time.
pub(crate) fn database_key(vault: &dyn KeyVault, account: &str) -> Result<DbKey, PosError> {
    if let Some(bytes) = vault.load(account.to_owned())? {
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            PosError::invalid("key", format!("the vault's key has {} bytes, not 32", bytes.len()))
        })?;
        return Ok(DbKey::from_bytes(arr));
    }
    let key = DbKey::generate();
    vault.save(account.to_owned(), key.as_bytes().to_vec())?;
    Ok(key)
}

/// The bindings' runtime: the core's background work (sync engine, card forwarding) starts
/// from it when the caller's thread has none, and the simulated peripherals run on it.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tenda-ffi")
            .enable_all()
            .build()
            .expect("a runtime with two worker threads can be built")
    })
}

pub(crate) fn in_runtime<T>(work: impl FnOnce() -> T) -> T {
    let _entered = runtime().enter();
    work()
}

/// A transmitter to `access` once the store's certificate is installed (`None` before).
pub(crate) fn transmitter(
    pos: &tenda_pos::Pos,
    access: &SefazAccess,
) -> Result<Option<Arc<Transmitter>>, PosError> {
    let config = pos.config();
    let mut settings = ClientSettings::new(config.emitter.address.uf, config.emitter.environment);
    settings.endpoints = Endpoints::at_base_url(&access.base_url);
    settings.request_timeout = Duration::from_millis(config.sefaz_timeout_ms.max(1_000));
    settings.connect_timeout = Duration::from_secs(1);
    let client = match pos.sefaz_client(&TrustRoots::only(access.trusted_roots_der.clone()), settings)
    {
        Ok(c) => c,
        Err(PosError::InvalidState { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let policy = TransmissionPolicy {
        transport_pause: Duration::from_millis(10),
        unavailable_pause: Duration::from_millis(10),
        ..TransmissionPolicy::default()
    };
    let t = Arc::new(Transmitter::new(client, policy));
    pos.set_transmitter(t.clone());
    Ok(Some(t))
}

pub(crate) fn attach_printer(pos: &tenda_pos::Pos, link: HostTransport) {
    let settings = PrinterSettings {
        pacing: Pacing {
            between_chunks: Duration::ZERO,
        },
        ..Default::default()
    };
    let profile = pos.config().printer_profile;
    pos.set_printer(Arc::new(EscPosPrinter::new(link, profile, settings)));
}

pub(crate) fn pair_card_reader(pos: &tenda_pos::Pos, link: HostTransport) -> Result<(), PosError> {
    let settings = ReaderSettings {
        pacing: Pacing {
            between_chunks: Duration::ZERO,
        },
        ..Default::default()
    };
    in_runtime(|| pos.pair_card_reader(Arc::new(LinkCardReader::new(link, settings))))
}
