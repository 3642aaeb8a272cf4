//! The printer and the card reader as the host hands them over: a byte transport each (BLE on a
//! phone or desktop, a simulated peripheral in tests). The core puts its ESC/POS driver and its
//! card-reader protocol on top, with these timings.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tenda_devices::PrinterSettings;
use tenda_devices::card::ReaderSettings;
use tenda_devices::transport::{Pacing, ReconnectPolicy};

/// A byte link to one peripheral (the platform's BLE, or a simulator).
pub use tenda_devices::transport::Transport as PeripheralTransport;
pub use tenda_devices::transport::{LinkInfo, TransportError, WriteMode};

/// Timings of the peripheral links (device-local; the defaults suit BLE peripherals).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PeripheralTimings {
    /// Pause between chunks on links without write acknowledgement.
    pub chunk_pause_ms: u64,
    /// Reconnection: attempts, first delay, longest delay (doubling in between).
    pub reconnect_attempts: u32,
    pub reconnect_first_delay_ms: u64,
    pub reconnect_max_delay_ms: u64,
    /// Longest silence from the card reader during a payment.
    pub reader_silence_timeout_ms: u64,
    /// Wait for the card reader's answer to a query.
    pub reader_query_timeout_ms: u64,
}

impl Default for PeripheralTimings {
    fn default() -> Self {
        let reader = ReaderSettings::default();
        let reconnect = ReconnectPolicy::default();
        PeripheralTimings {
            chunk_pause_ms: millis(Pacing::default().between_chunks),
            reconnect_attempts: reconnect.attempts,
            reconnect_first_delay_ms: millis(reconnect.first_delay),
            reconnect_max_delay_ms: millis(reconnect.max_delay),
            reader_silence_timeout_ms: millis(reader.silence_timeout),
            reader_query_timeout_ms: millis(reader.query_timeout),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl PeripheralTimings {
    fn reconnect(&self) -> ReconnectPolicy {
        ReconnectPolicy {
            attempts: self.reconnect_attempts,
            first_delay: Duration::from_millis(self.reconnect_first_delay_ms),
            max_delay: Duration::from_millis(self.reconnect_max_delay_ms),
        }
    }

    fn pacing(&self) -> Pacing {
        Pacing {
            between_chunks: Duration::from_millis(self.chunk_pause_ms),
        }
    }

    pub(crate) fn printer(&self) -> PrinterSettings {
        PrinterSettings {
            pacing: self.pacing(),
            reconnect: self.reconnect(),
            ..PrinterSettings::default()
        }
    }

    pub(crate) fn reader(&self) -> ReaderSettings {
        ReaderSettings {
            silence_timeout: Duration::from_millis(self.reader_silence_timeout_ms),
            query_timeout: Duration::from_millis(self.reader_query_timeout_ms),
            reconnect: self.reconnect(),
            pacing: self.pacing(),
        }
    }
}
