//! Stand-ins for the peripherals a test host has no hardware for: a simulated 80 mm ESC/POS
//! printer and a simulated card reader (approving every payment unless scripted), the same ones
//! the Rust scenarios use. A host's `PeripheralLink` carries the core's bytes to them, so the
//! whole path core → host link → peripheral is exercised from Kotlin or Python.

use std::sync::Arc;
use std::time::Duration;

use tenda_devices::PrinterProfile;
use tenda_devices::sim::{SimulatedCardReader, SimulatedPrinter};
use tenda_devices::transport::{Transport, TransportError, WriteMode};
use tenda_pos::PosError;

/// The simulators run on their own small runtime: the host calls them from its own threads.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a one-thread runtime can be built")
    })
}

enum Device {
    Printer(SimulatedPrinter),
    CardReader(SimulatedCardReader),
}

/// A simulated peripheral, driven through the same calls as a `PeripheralLink`.
#[derive(uniffi::Object)]
pub struct SimulatedPeripheral {
    device: Device,
}

fn peripheral_error(e: TransportError) -> PosError {
    PosError::Peripheral {
        device: "simulated peripheral".into(),
        reason: e.to_string(),
    }
}

impl SimulatedPeripheral {
    fn transport(&self) -> &dyn Transport {
        match &self.device {
            Device::Printer(p) => p,
            Device::CardReader(r) => r,
        }
    }
}

#[uniffi::export]
impl SimulatedPeripheral {
    /// An 80 mm printer on a 512-byte MTU link with write acknowledgements.
    #[uniffi::constructor]
    pub fn printer() -> Arc<SimulatedPeripheral> {
        let printer = SimulatedPrinter::new(&PrinterProfile::mm80());
        printer.set_link(512, WriteMode::WithResponse);
        Arc::new(SimulatedPeripheral {
            device: Device::Printer(printer),
        })
    }

    /// A card reader that approves payments (online, and forwarded offline ones).
    #[uniffi::constructor]
    pub fn card_reader() -> Arc<SimulatedPeripheral> {
        Arc::new(SimulatedPeripheral {
            device: Device::CardReader(SimulatedCardReader::new()),
        })
    }

    /// Opens the link; returns its MTU (the simulators acknowledge writes and answer back).
    pub fn connect(&self) -> Result<u16, PosError> {
        runtime()
            .block_on(self.transport().connect())
            .map(|info| info.mtu)
            .map_err(peripheral_error)
    }

    pub fn disconnect(&self) {
        runtime().block_on(self.transport().disconnect());
    }

    pub fn write(&self, chunk: Vec<u8>) -> Result<(), PosError> {
        runtime()
            .block_on(self.transport().write(&chunk))
            .map_err(peripheral_error)
    }

    pub fn read(&self, timeout_ms: u64) -> Result<Option<Vec<u8>>, PosError> {
        runtime()
            .block_on(self.transport().read(Duration::from_millis(timeout_ms)))
            .map_err(peripheral_error)
    }

    /// Receipts the printer has printed completely (cut after them).
    pub fn receipts_printed(&self) -> u32 {
        match &self.device {
            Device::Printer(p) => u32::try_from(p.receipts().len()).unwrap_or(u32::MAX),
            Device::CardReader(_) => 0,
        }
    }

    /// Bytes the peripheral received.
    pub fn bytes_received(&self) -> u64 {
        match &self.device {
            Device::Printer(p) => p.bytes_received() as u64,
            Device::CardReader(_) => 0,
        }
    }

    /// Payments the card reader charged.
    pub fn charges(&self) -> u32 {
        match &self.device {
            Device::Printer(_) => 0,
            Device::CardReader(r) => u32::try_from(r.charges().len()).unwrap_or(u32::MAX),
        }
    }
}

/// Delivers `count` status changes to `listener` (the pending-sync count going 1, 2, …, `count`),
/// one call with the whole status per change, as a subscription to `Pos` does, and returns how
/// long the deliveries took in microseconds. For the bench of status delivery across the
/// foreign-language boundary (`ffi_status_events_per_s`): the last status the listener sees
/// must carry `count`.
#[uniffi::export]
pub fn status_event_burst(listener: Arc<dyn tenda_pos::status::StatusListener>, count: u64) -> u64 {
    let mut status = tenda_pos::status::PosStatus::default();
    let started = std::time::Instant::now();
    for i in 1..=count {
        status.pending_sync = i;
        listener.on_status(status.clone());
    }
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}
