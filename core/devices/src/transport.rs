//! The link to a peripheral. BLE (feature `ble`) and the simulated peripherals implement
//! [`Transport`]; printers and card readers are driven only through it.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Why Bluetooth cannot be used at all on this device (not a transient failure: retrying will
/// not help until the user acts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnavailableReason {
    /// No Bluetooth adapter on this device.
    NoAdapter,
    /// The Bluetooth system service is missing or not running (e.g. no BlueZ / no system bus).
    NoBluetoothService,
    /// The app lacks the Bluetooth permission.
    PermissionDenied,
    /// Bluetooth is switched off.
    PoweredOff,
    /// The Bluetooth stack did not answer in time.
    NotResponding,
    /// This build has no Bluetooth support (feature `ble` off).
    NotBuiltIn,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error("Bluetooth unavailable: {reason:?}")]
    BluetoothUnavailable {
        reason: UnavailableReason,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error("peripheral not found")]
    NotFound,
    #[error("the peripheral has no characteristic we can write to")]
    NoWriteCharacteristic,
    #[error("not connected")]
    NotConnected,
    #[error("the link dropped")]
    Disconnected,
    #[error("write of {len} bytes exceeds the link's {max}-byte limit")]
    ChunkTooLarge { len: usize, max: usize },
    #[error("the peripheral did not answer in time")]
    Timeout,
    #[error("link failure")]
    Link(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl TransportError {
    pub fn unavailable(reason: UnavailableReason) -> Self {
        TransportError::BluetoothUnavailable {
            reason,
            source: None,
        }
    }

    /// Whether reconnecting may help (a dropped link) or not (no Bluetooth at all).
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            TransportError::BluetoothUnavailable { .. } | TransportError::NoWriteCharacteristic
        )
    }
}

/// How writes are acknowledged on the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteMode {
    /// Each chunk is acknowledged by the peripheral: no pacing needed.
    WithResponse,
    /// No acknowledgement: chunks must be paced, or the peripheral's buffer overflows.
    WithoutResponse,
}

/// What was learned when the link was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    /// Name or address of the peripheral (not personal data).
    pub peripheral: String,
    /// ATT MTU; each write carries at most `mtu - 3` bytes.
    pub mtu: u16,
    pub write_mode: WriteMode,
    /// Whether the peripheral can send data back (a notify characteristic). Without it,
    /// printer status cannot be read.
    pub can_read: bool,
}

impl LinkInfo {
    /// Largest write on this link (ATT payload: MTU minus the 3-byte header; 20 at the default
    /// MTU of 23).
    pub fn max_write(&self) -> usize {
        usize::from(self.mtu.max(23) - 3)
    }
}

/// A byte link to one peripheral: BLE GATT (write characteristic + notifications), or a
/// simulated peripheral.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Opens the link, or reopens it after a drop.
    async fn connect(&self) -> Result<LinkInfo, TransportError>;
    /// Closes the link (idempotent).
    async fn disconnect(&self);
    /// Writes one chunk of at most [`LinkInfo::max_write`] bytes.
    async fn write(&self, chunk: &[u8]) -> Result<(), TransportError>;
    /// The next bytes the peripheral sent (a notification), or `None` after `timeout`.
    async fn read(&self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError>;
}

/// Delay between chunks on write-without-response links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pacing {
    pub between_chunks: Duration,
}

impl Default for Pacing {
    /// 10 ms per 20-byte chunk keeps cheap printers' buffers from overflowing and still
    /// outpaces their print speed.
    fn default() -> Self {
        Pacing {
            between_chunks: Duration::from_millis(10),
        }
    }
}

/// A write cut short: `sent` bytes were handed to the link before it failed.
#[derive(Debug, thiserror::Error)]
#[error("write interrupted after {sent} bytes")]
pub struct WriteInterrupted {
    pub sent: usize,
    #[source]
    pub source: TransportError,
}

/// Writes `bytes` in chunks of the link's size, pacing write-without-response links.
pub async fn write_all(
    transport: &dyn Transport,
    link: &LinkInfo,
    bytes: &[u8],
    pacing: Pacing,
) -> Result<(), WriteInterrupted> {
    let mut sent = 0;
    for chunk in bytes.chunks(link.max_write()) {
        transport
            .write(chunk)
            .await
            .map_err(|source| WriteInterrupted { sent, source })?;
        sent += chunk.len();
        if link.write_mode == WriteMode::WithoutResponse && !pacing.between_chunks.is_zero() {
            tokio::time::sleep(pacing.between_chunks).await;
        }
    }
    Ok(())
}

/// How hard to try reconnecting after a drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconnectPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
        }
    }
}

/// Connects, retrying transient failures with doubling delays. Gives up at once when
/// Bluetooth is unavailable.
pub async fn connect_with_retry(
    transport: &dyn Transport,
    policy: ReconnectPolicy,
) -> Result<LinkInfo, TransportError> {
    let mut delay = policy.first_delay;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match transport.connect().await {
            Ok(link) => return Ok(link),
            Err(e) if !e.is_transient() || attempt >= policy.attempts.max(1) => return Err(e),
            Err(e) => {
                tracing::debug!(attempt, error = %e, "reconnect failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(policy.max_delay);
            }
        }
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    async fn connect(&self) -> Result<LinkInfo, TransportError> {
        (**self).connect().await
    }
    async fn disconnect(&self) {
        (**self).disconnect().await
    }
    async fn write(&self, chunk: &[u8]) -> Result<(), TransportError> {
        (**self).write(chunk).await
    }
    async fn read(&self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        (**self).read(timeout).await
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Box<T> {
    async fn connect(&self) -> Result<LinkInfo, TransportError> {
        (**self).connect().await
    }
    async fn disconnect(&self) {
        (**self).disconnect().await
    }
    async fn write(&self, chunk: &[u8]) -> Result<(), TransportError> {
        (**self).write(chunk).await
    }
    async fn read(&self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        (**self).read(timeout).await
    }
}
