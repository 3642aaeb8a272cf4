//! TLS: the server serves its configured certificate; a device learns its fingerprint at
//! enrollment and afterwards talks only to that certificate. Plain HTTP is loopback-only.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tenda_server::{DatabaseLocation, ServerConfig, TlsFiles};
use tenda_store::{DbKey, Store};
use tenda_sync::engine::{self, EngineConfig, SyncEvent, SyncListener};

#[derive(Default)]
struct Seen {
    online: AtomicU64,
    offline: AtomicU64,
    pulled: AtomicU64,
}

impl SyncListener for Seen {
    fn on_event(&self, e: SyncEvent) {
        match e {
            SyncEvent::Online => self.online.fetch_add(1, Ordering::Relaxed),
            SyncEvent::Offline { .. } => self.offline.fetch_add(1, Ordering::Relaxed),
            SyncEvent::PullFinished { .. } => self.pulled.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_pin_the_certificate_learned_at_enrollment() {
    let dir = tempfile::tempdir().expect("dir");
    let tls = tenda_server::tls::write_self_signed(
        &dir.path().join("tls"),
        &["127.0.0.1".into(), "localhost".into()],
    )
    .expect("certificate");
    let server = tenda_server::start(ServerConfig {
        database: DatabaseLocation::Sqlite(dir.path().join("s.db")),
        listen: "127.0.0.1:0".parse().expect("addr"),
        tls: Some(tls.clone()),
    })
    .await
    .expect("TLS server starts");
    assert!(server.base_url.starts_with("https://"));
    let fingerprint = server
        .cert_fingerprint
        .clone()
        .expect("fingerprint of the configured certificate");

    let db = server.db.clone();
    let created = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("conn");
        tenda_server::create_store(
            &mut conn,
            "Loja",
            "Matriz",
            "Ana",
            "ana",
            common::OWNER_PASSWORD,
        )
    })
    .await
    .expect("join")
    .expect("store");

    // The back office, over the same pinned TLS, issues a code.
    let client = tenda_sync::pinning::client_for(
        &server.base_url,
        Some(&fingerprint),
        Duration::from_secs(10),
    )
    .expect("client");
    let login: serde_json::Value = client
        .http
        .post(format!("{}/api/v1/admin/login", server.base_url))
        .json(&json!({"store_id": created.store_id, "login": "ana", "password": common::OWNER_PASSWORD}))
        .send()
        .await
        .expect("login over TLS")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token");
    let code: serde_json::Value = client
        .http
        .post(format!("{}/api/v1/admin/enrollment-codes", server.base_url))
        .bearer_auth(token)
        .json(&json!({"branch_id": created.branch_id, "nfce_series": 1}))
        .send()
        .await
        .expect("code")
        .json()
        .await
        .expect("json");

    // Enrollment with a wrong expected fingerprint is refused before anything is sent.
    let wrong = "00".repeat(32);
    let refused = engine::enroll(
        &server.base_url,
        code["code"].as_str().expect("code"),
        "Caixa",
        Some(&wrong),
        &[],
    )
    .await;
    assert!(
        matches!(refused, Err(engine::EngineError::PinMismatch { .. })),
        "{refused:?}"
    );
    // Trust on first use: the device learns the fingerprint and keeps it.
    let (enrolled, learned) = engine::enroll(
        &server.base_url,
        code["code"].as_str().expect("code"),
        "Caixa",
        None,
        &[],
    )
    .await
    .expect("enrolls over TLS");
    assert_eq!(learned.as_deref(), Some(fingerprint.as_str()));

    // With the right pin the engine syncs; with another pin it stays offline.
    let store = Arc::new(Mutex::new(
        Store::open(dir.path().join("d.db"), &DbKey::generate()).expect("store"),
    ));
    let good = Arc::new(Seen::default());
    let mut config = EngineConfig::new(
        server.base_url.clone(),
        enrolled.device_id,
        enrolled.credential.clone(),
    );
    config.pinned_fingerprint = learned;
    let handle = engine::start(config.clone(), store.clone(), good.clone()).expect("engine");
    let started = Instant::now();
    while good.online.load(Ordering::Relaxed) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the pinned engine never came online"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.stop().await;

    let bad = Arc::new(Seen::default());
    config.pinned_fingerprint = Some(wrong);
    config.backoff_min = Duration::from_millis(10);
    let handle = engine::start(config.clone(), store.clone(), bad.clone()).expect("engine");
    let started = Instant::now();
    while bad.offline.load(Ordering::Relaxed) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "a wrong pin must fail"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        bad.online.load(Ordering::Relaxed),
        0,
        "never online against an unpinned certificate"
    );
    drop(handle); // Dropping the handle stops the engine.

    // An https engine without a pin is a configuration error.
    config.pinned_fingerprint = None;
    assert!(engine::start(config, store, Arc::new(Seen::default())).is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let dir = tempfile::tempdir().expect("dir");
    let err = tenda_server::start(ServerConfig {
        database: DatabaseLocation::Sqlite(dir.path().join("s.db")),
        listen: "0.0.0.0:0".parse().expect("addr"),
        tls: None,
    })
    .await
    .expect_err("no TLS on a public address");
    assert!(err.to_string().contains("loopback"), "{err}");
    let missing = TlsFiles {
        cert_pem: dir.path().join("none.pem"),
        key_pem: dir.path().join("none.key"),
    };
    let err = tenda_server::start(ServerConfig {
        database: DatabaseLocation::Sqlite(dir.path().join("s.db")),
        listen: "127.0.0.1:0".parse().expect("addr"),
        tls: Some(missing),
    })
    .await
    .expect_err("a missing certificate is a clear error");
    assert!(err.to_string().contains("certificate"), "{err}");
}
