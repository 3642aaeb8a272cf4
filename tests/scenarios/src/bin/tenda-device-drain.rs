//! A register process that opens an enrolled device and drains it: the sync engine pushes its
//! outbox to the server while the backlog of contingency notes goes to SEFAZ. It prints one
//! line per step (`pending_sync N`, `transmitted …`, `drained`) so a scenario can kill it in
//! the middle of the drain and reopen the device from the same file.
//!
//! Usage: `tenda-device-drain DB_PATH KEY_HEX SEFAZ_BASE_URL SEFAZ_CA_DER_PATH`

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tenda_pos::status::{PosStatus, StatusListener};
use tenda_scenarios::device::{self, SefazAccess};
use tenda_store::DbKey;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Prints every change of the number of changes waiting for the server.
struct PendingPrinter {
    last: Mutex<Option<u64>>,
}

impl StatusListener for PendingPrinter {
    fn on_status(&self, status: PosStatus) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if *last != Some(status.pending_sync) {
            *last = Some(status.pending_sync);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "pending_sync {}", status.pending_sync);
            let _ = out.flush();
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, key, sefaz_url, ca] = args.as_slice() else {
        return Err(
            "usage: tenda-device-drain DB_PATH KEY_HEX SEFAZ_BASE_URL SEFAZ_CA_DER_PATH".into(),
        );
    };
    let key = DbKey::from_hex(key)?;
    let sefaz = SefazAccess {
        base_url: sefaz_url.clone(),
        ca_der: std::fs::read(ca)?,
    };
    // Opening an enrolled device resumes its sync engine at once.
    let pos = device::reopen(&device::access(Path::new(db), &key, Some(&sefaz)))?;
    let _printing = pos.subscribe(Arc::new(PendingPrinter {
        last: Mutex::new(None),
    }))?;
    for _ in 0..20 {
        let s = pos.transmit_backlog(true).await?;
        println!(
            "transmitted {} authorized {} rejected {} remaining {}",
            s.sent, s.authorized, s.rejected, s.remaining
        );
        if s.remaining == 0 {
            break;
        }
    }
    pos.sync_and_wait(30_000).await?;
    println!("drained");
    pos.shutdown().await?;
    Ok(())
}
