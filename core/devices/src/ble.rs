//! Bluetooth LE transport (btleplug): scan for printers by their service UUIDs, connect,
//! find the write characteristic, learn the MTU, write chunks, read notifications, reconnect.
//! Every path that touches the Bluetooth stack is bounded by a timeout, and a missing stack,
//! adapter or permission is [`TransportError::BluetoothUnavailable`], never a panic or a hang.
//!
//! **Android:** btleplug needs the JVM before any Bluetooth call. The host's bindings must call
//! [`android_init`] once, from `JNI_OnLoad` (with the `JNIEnv` it receives), before
//! [`BleCentral::open`].

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use btleplug::api::{
    Central, CharPropFlags, Characteristic, Manager as _, Peripheral as _,
    ScanFilter as BtScanFilter, ValueNotification, WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::transport::{LinkInfo, Transport, TransportError, UnavailableReason, WriteMode};

#[cfg(target_os = "android")]
pub use btleplug::platform::init as android_init;

/// Service and write-characteristic pairs of common BLE receipt printers.
pub const KNOWN_PRINTER_SERVICES: [(Uuid, Uuid); 3] = [
    (
        uuid::uuid!("000018f0-0000-1000-8000-00805f9b34fb"),
        uuid::uuid!("00002af1-0000-1000-8000-00805f9b34fb"),
    ),
    (
        uuid::uuid!("e7810a71-73ae-499d-8c15-faa9aef0c3f2"),
        uuid::uuid!("bef8d6c9-9c21-4c9e-b632-bd58c1009f9f"),
    ),
    (
        uuid::uuid!("49535343-fe7d-4ae5-8fa9-9fafd205e455"),
        uuid::uuid!("49535343-8841-43f4-a8d4-ecbe34729bb3"),
    ),
];

/// How long any single call into the Bluetooth stack may take.
const STACK_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Which peripherals a scan keeps: those advertising one of these services.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanFilter {
    pub services: Vec<Uuid>,
}

impl ScanFilter {
    /// The known printer services.
    pub fn printers() -> Self {
        ScanFilter {
            services: KNOWN_PRINTER_SERVICES.iter().map(|(s, _)| *s).collect(),
        }
    }

    /// Adds services (a printer model not in the known list, a card reader's service).
    pub fn with_services(mut self, extra: impl IntoIterator<Item = Uuid>) -> Self {
        for s in extra {
            if !self.services.contains(&s) {
                self.services.push(s);
            }
        }
        self
    }
}

/// A peripheral found by a scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveredPeripheral {
    /// Stable id to connect to later.
    pub id: String,
    pub name: Option<String>,
    pub services: Vec<Uuid>,
    pub rssi: Option<i16>,
}

fn unavailable(reason: UnavailableReason, e: btleplug::Error) -> TransportError {
    TransportError::BluetoothUnavailable {
        reason,
        source: Some(Box::new(e)),
    }
}

fn map_err(e: btleplug::Error) -> TransportError {
    match e {
        btleplug::Error::PermissionDenied => unavailable(UnavailableReason::PermissionDenied, e),
        btleplug::Error::NoAdapterAvailable => unavailable(UnavailableReason::NoAdapter, e),
        btleplug::Error::NotConnected => TransportError::Disconnected,
        btleplug::Error::DeviceNotFound => TransportError::NotFound,
        btleplug::Error::TimedOut(_) => TransportError::Timeout,
        other => TransportError::Link(Box::new(other)),
    }
}

async fn bounded<T>(
    limit: Duration,
    f: impl Future<Output = Result<T, btleplug::Error>>,
) -> Result<Result<T, btleplug::Error>, TransportError> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| TransportError::Timeout)
}

/// The device's Bluetooth adapter.
#[derive(Clone)]
pub struct BleCentral {
    adapter: Adapter,
}

impl BleCentral {
    /// Opens the first Bluetooth adapter. Fails fast with `BluetoothUnavailable` when there is
    /// no Bluetooth service, no adapter, or no permission.
    pub async fn open() -> Result<Self, TransportError> {
        let not_responding = |_| TransportError::unavailable(UnavailableReason::NotResponding);
        let manager = bounded(STACK_TIMEOUT, Manager::new())
            .await
            .map_err(not_responding)?
            .map_err(|e| match e {
                btleplug::Error::PermissionDenied => {
                    unavailable(UnavailableReason::PermissionDenied, e)
                }
                other => unavailable(UnavailableReason::NoBluetoothService, other),
            })?;
        let adapters = bounded(STACK_TIMEOUT, manager.adapters())
            .await
            .map_err(not_responding)?
            .map_err(|e| match e {
                btleplug::Error::PermissionDenied => {
                    unavailable(UnavailableReason::PermissionDenied, e)
                }
                btleplug::Error::NoAdapterAvailable => unavailable(UnavailableReason::NoAdapter, e),
                other => unavailable(UnavailableReason::NoBluetoothService, other),
            })?;
        let adapter = adapters
            .into_iter()
            .next()
            .ok_or(TransportError::unavailable(UnavailableReason::NoAdapter))?;
        Ok(BleCentral { adapter })
    }

    /// Scans for `duration` and returns the peripherals advertising a service of `filter`.
    pub async fn scan(
        &self,
        filter: &ScanFilter,
        duration: Duration,
    ) -> Result<Vec<DiscoveredPeripheral>, TransportError> {
        bounded(
            STACK_TIMEOUT,
            self.adapter.start_scan(BtScanFilter {
                services: filter.services.clone(),
            }),
        )
        .await?
        .map_err(map_err)?;
        tokio::time::sleep(duration).await;
        // Stopping may fail if the adapter went away; the results are still good.
        let _ = bounded(STACK_TIMEOUT, self.adapter.stop_scan()).await;
        let peripherals = bounded(STACK_TIMEOUT, self.adapter.peripherals())
            .await?
            .map_err(map_err)?;
        let mut found = Vec::new();
        for p in peripherals {
            let Ok(Ok(Some(props))) = bounded(STACK_TIMEOUT, p.properties()).await else {
                continue;
            };
            // Some platforms ignore the scan filter: filter again here.
            if !filter.services.is_empty()
                && !props.services.iter().any(|s| filter.services.contains(s))
            {
                continue;
            }
            found.push(DiscoveredPeripheral {
                id: p.id().to_string(),
                name: props.local_name.or(props.advertisement_name),
                services: props.services,
                rssi: props.rssi,
            });
        }
        Ok(found)
    }

    /// A transport to the peripheral `id` (from [`Self::scan`]); connects on first use.
    pub fn transport(&self, id: impl Into<String>, filter: ScanFilter) -> BleTransport {
        BleTransport {
            adapter: self.adapter.clone(),
            peripheral_id: id.into(),
            filter,
            conn: Mutex::new(None),
            notifications: Mutex::new(None),
        }
    }
}

#[derive(Clone)]
struct Connection {
    peripheral: Peripheral,
    write_char: Characteristic,
    write_type: WriteType,
}

type Notifications = Pin<Box<dyn Stream<Item = ValueNotification> + Send>>;

/// A GATT link to one peripheral.
pub struct BleTransport {
    adapter: Adapter,
    peripheral_id: String,
    filter: ScanFilter,
    conn: Mutex<Option<Connection>>,
    notifications: Mutex<Option<Notifications>>,
}

impl BleTransport {
    async fn find(&self) -> Result<Peripheral, TransportError> {
        let lookup = |list: Vec<Peripheral>| {
            list.into_iter()
                .find(|p| p.id().to_string() == self.peripheral_id)
        };
        let list = bounded(STACK_TIMEOUT, self.adapter.peripherals())
            .await?
            .map_err(map_err)?;
        if let Some(p) = lookup(list) {
            return Ok(p);
        }
        // Not seen since the adapter started: scan briefly.
        bounded(
            STACK_TIMEOUT,
            self.adapter.start_scan(BtScanFilter {
                services: self.filter.services.clone(),
            }),
        )
        .await?
        .map_err(map_err)?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let _ = bounded(STACK_TIMEOUT, self.adapter.stop_scan()).await;
        let list = bounded(STACK_TIMEOUT, self.adapter.peripherals())
            .await?
            .map_err(map_err)?;
        lookup(list).ok_or(TransportError::NotFound)
    }

    /// The characteristic to write to: a known printer pair first, then any writable
    /// characteristic of a filtered service, then any writable characteristic.
    fn pick_write_characteristic(&self, chars: &[Characteristic]) -> Option<Characteristic> {
        let writable = |c: &&Characteristic| {
            c.properties
                .intersects(CharPropFlags::WRITE | CharPropFlags::WRITE_WITHOUT_RESPONSE)
        };
        KNOWN_PRINTER_SERVICES
            .iter()
            .find_map(|(s, w)| chars.iter().find(|c| c.service_uuid == *s && c.uuid == *w))
            .or_else(|| {
                chars
                    .iter()
                    .filter(writable)
                    .find(|c| self.filter.services.contains(&c.service_uuid))
            })
            .or_else(|| chars.iter().find(writable))
            .cloned()
    }
}

#[async_trait]
impl Transport for BleTransport {
    async fn connect(&self) -> Result<LinkInfo, TransportError> {
        let peripheral = self.find().await?;
        if !matches!(
            bounded(STACK_TIMEOUT, peripheral.is_connected()).await?,
            Ok(true)
        ) {
            bounded(CONNECT_TIMEOUT, peripheral.connect())
                .await?
                .map_err(map_err)?;
        }
        bounded(CONNECT_TIMEOUT, peripheral.discover_services())
            .await?
            .map_err(map_err)?;
        let chars: Vec<Characteristic> = peripheral.characteristics().into_iter().collect();
        let write_char = self
            .pick_write_characteristic(&chars)
            .ok_or(TransportError::NoWriteCharacteristic)?;
        let write_type = if write_char
            .properties
            .contains(CharPropFlags::WRITE_WITHOUT_RESPONSE)
        {
            WriteType::WithoutResponse
        } else {
            WriteType::WithResponse
        };
        // Status answers come back as notifications on the same service.
        let notify_char = chars.iter().find(|c| {
            c.service_uuid == write_char.service_uuid
                && c.properties
                    .intersects(CharPropFlags::NOTIFY | CharPropFlags::INDICATE)
        });
        let mut notifications = None;
        if let Some(nc) = notify_char {
            bounded(STACK_TIMEOUT, peripheral.subscribe(nc))
                .await?
                .map_err(map_err)?;
            notifications = Some(
                bounded(STACK_TIMEOUT, peripheral.notifications())
                    .await?
                    .map_err(map_err)?,
            );
        }
        let mtu = peripheral.mtu().max(23);
        let name = match bounded(STACK_TIMEOUT, peripheral.properties()).await {
            Ok(Ok(Some(p))) => p.local_name.unwrap_or_else(|| self.peripheral_id.clone()),
            _ => self.peripheral_id.clone(),
        };
        let can_read = notifications.is_some();
        *self.notifications.lock().await = notifications;
        *self.conn.lock().await = Some(Connection {
            peripheral,
            write_char,
            write_type,
        });
        Ok(LinkInfo {
            peripheral: name,
            mtu,
            write_mode: match write_type {
                WriteType::WithResponse => WriteMode::WithResponse,
                WriteType::WithoutResponse => WriteMode::WithoutResponse,
            },
            can_read,
        })
    }

    async fn disconnect(&self) {
        let conn = self.conn.lock().await.take();
        *self.notifications.lock().await = None;
        if let Some(c) = conn {
            let _ = bounded(STACK_TIMEOUT, c.peripheral.disconnect()).await;
        }
    }

    async fn write(&self, chunk: &[u8]) -> Result<(), TransportError> {
        let conn = self
            .conn
            .lock()
            .await
            .clone()
            .ok_or(TransportError::NotConnected)?;
        let max = usize::from(conn.peripheral.mtu().max(23) - 3);
        if chunk.len() > max {
            return Err(TransportError::ChunkTooLarge {
                len: chunk.len(),
                max,
            });
        }
        match bounded(
            STACK_TIMEOUT,
            conn.peripheral
                .write(&conn.write_char, chunk, conn.write_type),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                let mapped = map_err(e);
                if matches!(mapped, TransportError::Disconnected) {
                    *self.conn.lock().await = None;
                }
                Err(mapped)
            }
            Err(timeout) => Err(timeout),
        }
    }

    async fn read(&self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        if self.conn.lock().await.is_none() {
            return Err(TransportError::NotConnected);
        }
        let mut guard = self.notifications.lock().await;
        let Some(stream) = guard.as_mut() else {
            // A write-only peripheral never sends anything.
            drop(guard);
            tokio::time::sleep(timeout).await;
            return Ok(None);
        };
        match tokio::time::timeout(timeout, stream.next()).await {
            Ok(Some(n)) => Ok(Some(n.value)),
            Ok(None) => {
                *guard = None;
                Err(TransportError::Disconnected)
            }
            Err(_) => Ok(None),
        }
    }
}
