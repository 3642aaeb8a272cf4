//! A byte link to a peripheral as a phone app implements it through the bindings (Kotlin,
//! Swift, Python), carried by the host's own Bluetooth stack: plain blocking calls with owned
//! arguments and `PosError` failures (whatever a host implementation throws comes back typed).
//! [`LinkTransport`] makes it the [`crate::PeripheralTransport`] that `attach_printer` and
//! `pair_card_reader` take.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tenda_devices::transport::{LinkInfo, Transport, TransportError, WriteMode};

use crate::error::PosError;

/// A byte link to one peripheral. Calls may block: the core makes them from blocking threads.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait PeripheralLink: Send + Sync {
    /// Opens (or reopens) the link; returns the ATT MTU (each write carries at most MTU − 3).
    fn connect(&self) -> Result<u16, PosError>;
    /// Whether the peripheral acknowledges each write (no pacing needed).
    fn acknowledges_writes(&self) -> bool;
    /// Whether the peripheral can send bytes back (status, card reader answers).
    fn can_read(&self) -> bool;
    fn disconnect(&self);
    fn write(&self, chunk: Vec<u8>) -> Result<(), PosError>;
    /// The next bytes the peripheral sent, or nothing after `timeout_ms`.
    fn read(&self, timeout_ms: u64) -> Result<Option<Vec<u8>>, PosError>;
}

/// A host link as the devices crate's transport.
pub struct LinkTransport(pub Arc<dyn PeripheralLink>);

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PosError> + Send + 'static,
) -> Result<T, TransportError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TransportError::Link(Box::new(e)))?
        .map_err(|e| TransportError::Link(Box::new(e)))
}

#[async_trait]
impl Transport for LinkTransport {
    async fn connect(&self) -> Result<LinkInfo, TransportError> {
        let link = self.0.clone();
        blocking(move || {
            let mtu = link.connect()?;
            Ok(LinkInfo {
                peripheral: "host link".into(),
                mtu,
                write_mode: if link.acknowledges_writes() {
                    WriteMode::WithResponse
                } else {
                    WriteMode::WithoutResponse
                },
                can_read: link.can_read(),
            })
        })
        .await
    }

    async fn disconnect(&self) {
        let link = self.0.clone();
        let _ = blocking(move || {
            link.disconnect();
            Ok(())
        })
        .await;
    }

    async fn write(&self, chunk: &[u8]) -> Result<(), TransportError> {
        let (link, chunk) = (self.0.clone(), chunk.to_vec());
        blocking(move || link.write(chunk)).await
    }

    async fn read(&self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        let link = self.0.clone();
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        blocking(move || link.read(ms)).await
    }
}
