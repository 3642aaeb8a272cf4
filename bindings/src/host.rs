//! What the host app plugs into the core: its keystore and its byte links to the printer and
//! the card reader. Each is a foreign trait (Kotlin, Swift and Python implement it); whatever a
//! host implementation throws comes back to the core as a typed `TendaError`, never a panic.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tenda_devices::transport::{LinkInfo, Transport, TransportError};
use tenda_pos::PosError;

/// The platform keystore (Android Keystore, iOS Keychain) holding the 32-byte database key.
#[uniffi::export(with_foreign)]
pub trait KeyVault: Send + Sync {
    /// The key kept under `account`, if any.
    fn load(&self, account: String) -> Result<Option<Vec<u8>>, PosError>;
    fn save(&self, account: String, key: Vec<u8>) -> Result<(), PosError>;
}

/// A byte link to one peripheral, carried by the host's own Bluetooth stack (or a simulator in
/// tests). The core speaks ESC/POS to printers and its reader protocol to card readers over it.
/// Calls may block: the core makes them from its blocking threads.
#[uniffi::export(with_foreign)]
pub trait PeripheralLink: Send + Sync {
    /// Opens (or reopens) the link.
    fn connect(&self) -> Result<LinkInfo, PosError>;
    fn disconnect(&self);
    /// Writes one chunk of at most `mtu - 3` bytes.
    fn write(&self, chunk: Vec<u8>) -> Result<(), PosError>;
    /// The next bytes the peripheral sent, or nothing after `timeout_ms`.
    fn read(&self, timeout_ms: u64) -> Result<Option<Vec<u8>>, PosError>;
}

/// A host link seen as the devices crate's transport.
pub(crate) struct HostTransport(pub Arc<dyn PeripheralLink>);

fn host_failure(e: PosError) -> TransportError {
    TransportError::Link(Box::new(e))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PosError> + Send + 'static,
) -> Result<T, TransportError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| TransportError::Link(Box::new(e)))?
        .map_err(host_failure)
}

#[async_trait]
impl Transport for HostTransport {
    async fn connect(&self) -> Result<LinkInfo, TransportError> {
        let link = self.0.clone();
        blocking(move || link.connect()).await
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
