//! On a machine without Bluetooth (no adapter, no BlueZ, no system bus), opening the adapter
//! is a typed "Bluetooth unavailable" error, returned quickly: never a panic or a hang.
#![cfg(feature = "ble")]

use std::time::{Duration, Instant};

use tenda_devices::ble::{BleCentral, ScanFilter};
use tenda_devices::{TransportError, UnavailableReason};

#[tokio::test]
async fn no_bluetooth_is_a_typed_error_not_a_hang() {
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(20), BleCentral::open())
        .await
        .expect("BleCentral::open bounds every stack call, so it cannot hang");
    let elapsed = started.elapsed();
    match result {
        Err(TransportError::BluetoothUnavailable { reason, .. }) => {
            assert!(
                matches!(
                    reason,
                    UnavailableReason::NoBluetoothService
                        | UnavailableReason::NoAdapter
                        | UnavailableReason::NotResponding
                ),
                "{reason:?}"
            );
        }
        Err(other) => panic!("expected BluetoothUnavailable, got {other:?}"),
        Ok(central) => {
            // A machine with Bluetooth: scanning must still work within its bounds.
            central
                .scan(&ScanFilter::printers(), Duration::from_millis(200))
                .await
                .expect("scan");
        }
    }
    assert!(
        elapsed < Duration::from_secs(6),
        "took {elapsed:?}; each stack call is bounded to 5 s"
    );
}

#[test]
fn printer_scan_filter_has_the_known_services_plus_configured_ones() {
    let extra = uuid::uuid!("0000ffe0-0000-1000-8000-00805f9b34fb");
    let f = ScanFilter::printers().with_services([extra, extra]);
    assert_eq!(
        f.services.len(),
        4,
        "3 known printer services + 1 configured, no duplicates"
    );
    assert!(
        f.services
            .contains(&uuid::uuid!("000018f0-0000-1000-8000-00805f9b34fb"))
    );
}
