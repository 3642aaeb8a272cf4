//! Stores opened on several threads at once as a process's very first SQLite work: each key is
//! accepted and each backup finds `sqlcipher_export`. SQLCipher finishes starting after SQLite
//! already reports itself started, so without the crate's one-time start a thread racing the
//! first one meets a half-started library. The race only exists once per process, so the test
//! runs fresh child processes of itself.

use std::process::Command;
use std::sync::{Arc, Barrier};

use tenda_store::{BackupKey, DbKey, Store};

const CHILD_ENV: &str = "TENDA_FIRST_OPEN_CHILD";
const THREADS: usize = 8;
const PROCESSES: usize = 12;

#[test]
fn stores_opened_at_once_on_a_fresh_process_all_work() {
    if std::env::var_os(CHILD_ENV).is_some() {
        open_at_once_from_every_thread();
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    for run in 0..PROCESSES {
        let out = Command::new(&exe)
            .args([
                "--exact",
                "stores_opened_at_once_on_a_fresh_process_all_work",
                "--nocapture",
            ])
            .env(CHILD_ENV, "1")
            .output()
            .expect("child runs");
        assert!(
            out.status.success(),
            "process {run}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn open_at_once_from_every_thread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let start = Arc::clone(&start);
            let path = dir.path().join(format!("store-{i}.db"));
            let backup = dir.path().join(format!("store-{i}.backup"));
            std::thread::spawn(move || {
                start.wait();
                let mut store = Store::open(&path, &DbKey::generate())
                    .unwrap_or_else(|e| panic!("thread {i}: store opens: {e:?}"));
                store
                    .write_backup(&backup, &BackupKey::generate())
                    .unwrap_or_else(|e| panic!("thread {i}: backup written: {e:?}"));
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread finished without a panic");
    }
}
