//! A register and its server: enrollment with a one-time code (and what is refused), the first
//! load with progress, offline sign-in with the synced PIN hashes, store settings reaching the
//! register's configuration, the daily full reload, the engine resuming when the register is
//! reopened and stopping on shutdown, and a revoked register told so.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_pos::credentials::Secret;
use tenda_pos::status::{LinkState, PosStatus, StatusListener};
use tenda_pos::{EnrollmentRequest, Pos, PosError};
use tenda_scenarios::backoffice::{StoreServer, catalog_csv};
use tenda_scenarios::device;
use tenda_scenarios::sample;
use tenda_store::DbKey;

const CATALOG: usize = 300;

#[derive(Default)]
struct Recorder(Mutex<Vec<PosStatus>>);

impl StatusListener for Recorder {
    fn on_status(&self, status: PosStatus) {
        self.0.lock().expect("not poisoned").push(status);
    }
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_enrolls_loads_follows_the_store_and_stops() {
    let dir = tempfile::tempdir().expect("dir");
    let server = StoreServer::start(dir.path(), "Mercado")
        .await
        .expect("server");
    let bo = server.owner().await.expect("owner");
    bo.create_user("Bia", "bia", "seller", "1357")
        .await
        .expect("seller");
    bo.import_catalog(catalog_csv(sample::catalog(CATALOG)))
        .await
        .expect("catalog");
    let branch = server.created.branch_id;
    let url = server.base_url().to_owned();

    // Without the store's emitter settings a register cannot issue notes: the server refuses,
    // naming the setting, and the code stays usable (the register below enrolls with it).
    let code = bo.enrollment_code(branch, 3).await.expect("code");
    let err = enroll_at(
        &dir.path().join("no-emitter.db"),
        &DbKey::generate(),
        EnrollmentRequest::new(&url, &code, "Caixa 0"),
        None,
    )
    .await
    .map(|_| ())
    .expect_err("no emitter");
    assert!(
        matches!(&err, PosError::Rejected { code, reason }
            if code == "server_conflict" && reason.contains("fiscal.emitter")),
        "{err:?}"
    );

    bo.configure_store(
        &sample_emitter(Crt::SimplesNacional),
        &[
            ("sync.backoff_min_ms", "50"),
            ("sync.backoff_max_ms", "200"),
            ("sync.poll_interval_ms", "200"),
            ("sync.pull_page", "100"),
        ],
    )
    .await
    .expect("settings");

    // A wrong code and an https server without the pinned fingerprint are refused.
    let err = enroll_at(
        &dir.path().join("wrong.db"),
        &DbKey::generate(),
        EnrollmentRequest::new(&url, "AAAA-BBBB-CCCC", "Caixa 9"),
        None,
    )
    .await
    .map(|_| ())
    .expect_err("wrong code");
    assert!(
        matches!(&err, PosError::Rejected { code, .. } if code == "server_unauthorized"),
        "{err:?}"
    );
    assert!(
        !dir.path().join("wrong.db").exists(),
        "a failed enrollment leaves no empty store behind"
    );
    let err = enroll_at(
        &dir.path().join("https.db"),
        &DbKey::generate(),
        EnrollmentRequest::new("https://127.0.0.1:1", "AAAA-BBBB-CCCC", "Caixa 9"),
        None,
    )
    .await
    .map(|_| ())
    .expect_err("no fingerprint");
    assert!(
        matches!(&err, PosError::InvalidInput { field, .. } if field == "expected_fingerprint"),
        "{err:?}"
    );

    // Enrollment: the first load comes with progress and ends with people who can sign in.
    let key = DbKey::generate();
    let path = dir.path().join("caixa.db");
    let recorder = Arc::new(Recorder::default());
    let pos = enroll_at(
        &path,
        &key,
        EnrollmentRequest::new(&url, &code, "Caixa 3"),
        Some(recorder.clone()),
    )
    .await
    .expect("enrolled");
    {
        let seen = recorder.0.lock().expect("not poisoned");
        let progress: Vec<_> = seen.iter().filter_map(|s| s.pull).collect();
        assert!(
            progress.len() >= 3,
            "pages of 100 give several progress steps: {progress:?}"
        );
        let total = progress
            .iter()
            .find_map(|p| p.total)
            .expect("the first page tells the total");
        assert!(
            total >= CATALOG as u64,
            "catalog, users and settings: {total}"
        );
        assert!(
            progress
                .iter()
                .all(|p| p.total.is_none_or(|t| p.received <= t)),
            "never more than the total"
        );
    }
    let status = pos.status();
    assert!(status.initial_load_complete);
    assert_eq!(status.link, LinkState::Online);
    assert!(status.last_sync.is_some());
    assert_eq!(pos.config().emitter.series, 3);
    assert_eq!(
        pos.config().sync.pull_page,
        100,
        "sync settings come from the store"
    );
    assert_eq!(
        pos.inspect_store(|s| s.product_count()).expect("count"),
        CATALOG as u64
    );
    let info = pos.enrollment().expect("read").expect("enrolled");
    assert_eq!(info.branch_id, branch.to_string());
    assert_eq!(info.nfce_series, 3);
    pos.sign_in("bia".into(), Secret::Pin("1357".into()))
        .expect("the seller's PIN hash arrived");
    assert!(
        pos.catalog_refreshed_at().expect("read").is_some(),
        "the first load counts as the first full load"
    );

    // Enrolling the same register again would give it a second identity: refused.
    let again = bo.enrollment_code(branch, 4).await.expect("code");
    let err = enroll_at(&path, &key, EnrollmentRequest::new(&url, &again, "x"), None)
        .await
        .map(|_| ())
        .expect_err("already set up");
    assert_eq!(err.code(), "invalid_state");

    // A store setting reaches the register's configuration with the next round.
    assert!(pos.config().sell_without_stock_check);
    bo.put_setting("policy.sell_without_stock_check", "false")
        .await
        .expect("setting");
    pos.sync_and_wait(10_000).await.expect("synced");
    let p = pos.clone();
    wait_until("the setting to apply", Duration::from_secs(5), || {
        !p.config().sell_without_stock_check
    })
    .await;

    // The daily full reload, with the interval the store sets (short here).
    bo.put_setting("sync.catalog_refresh_ms", "300")
        .await
        .expect("setting");
    pos.sync_and_wait(10_000).await.expect("synced");
    let p = pos.clone();
    wait_until("the interval to apply", Duration::from_secs(5), || {
        p.config().sync.catalog_refresh_ms == 300
    })
    .await;
    // Reopened, so the refresh timer reads the new interval at once.
    pos.shutdown().await.expect("shutdown");
    assert!(!pos.is_syncing(), "shutdown stops the engine");
    drop(pos);
    let before = Instant::now();
    let recorder = Arc::new(Recorder::default());
    let pos = device::reopen(&device::access(&path, &key, None)).expect("reopen");
    assert!(
        pos.is_syncing(),
        "an enrolled register resumes syncing when opened"
    );
    let _subscription = pos.subscribe(recorder.clone()).expect("subscribe");
    let r = recorder.clone();
    wait_until(
        "a full reload with the whole catalog",
        Duration::from_secs(10),
        || {
            r.0.lock()
                .expect("not poisoned")
                .iter()
                .filter_map(|s| s.pull)
                .any(|p| p.total.is_some_and(|t| t >= CATALOG as u64))
        },
    )
    .await;
    let refreshed = pos
        .catalog_refreshed_at()
        .expect("read")
        .expect("refreshed");
    assert!(
        refreshed.timestamp_millis()
            >= chrono::Utc::now().timestamp_millis() - before.elapsed().as_millis() as i64 - 1000,
        "the reload is recorded"
    );

    // The owner revokes the register: it is told, and keeps selling offline meanwhile.
    let device = pos.enrollment().expect("read").expect("enrolled").device_id;
    bo.revoke_device(device.as_uuid()).await.expect("revoke");
    pos.sync_now().expect("sync");
    let p = pos.clone();
    wait_until("the refusal to show", Duration::from_secs(10), || {
        p.status().sync_refused.is_some()
    })
    .await;
    let err = pos.sync_and_wait(1_000).await.expect_err("refused");
    assert_eq!(err.code(), "rejected", "{err:?}");
    pos.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_server_is_pinned_at_enrollment() {
    let dir = tempfile::tempdir().expect("dir");
    let server = StoreServer::start(dir.path(), "Mercado")
        .await
        .expect("server");
    // The same database served over TLS, as a store's server on the internet is.
    let tls_files = tenda_server::tls::write_self_signed(
        &dir.path().join("tls"),
        &["127.0.0.1".into(), "localhost".into()],
    )
    .expect("certificate");
    let tls = tenda_server::start_with_db(
        server.server.db.clone(),
        tenda_server::ServerConfig {
            database: tenda_server::DatabaseLocation::Sqlite(dir.path().join("server.db")),
            listen: "127.0.0.1:0".parse().expect("addr"),
            tls: Some(tls_files),
        },
    )
    .await
    .expect("TLS server");
    let fingerprint = tls.cert_fingerprint.clone().expect("fingerprint");
    let bo = server.owner().await.expect("owner");
    bo.configure_store(&sample_emitter(Crt::SimplesNacional), &[])
        .await
        .expect("settings");
    let branch = server.created.branch_id;

    // Someone else's certificate: refused as such, not as "offline".
    let code = bo.enrollment_code(branch, 1).await.expect("code");
    let mut request = EnrollmentRequest::new(&tls.base_url, &code, "Caixa 1");
    request.expected_fingerprint = Some("ab".repeat(32));
    let err = enroll_at(&dir.path().join("a.db"), &DbKey::generate(), request, None)
        .await
        .map(|_| ())
        .expect_err("wrong certificate");
    assert!(
        matches!(&err, PosError::Rejected { code, .. } if code == "server_certificate"),
        "{err:?}"
    );

    // The right one: enrolled, loaded over TLS, and the fingerprint kept for every later call.
    let mut request = EnrollmentRequest::new(&tls.base_url, &code, "Caixa 1");
    request.expected_fingerprint = Some(fingerprint.clone());
    let pos = enroll_at(&dir.path().join("b.db"), &DbKey::generate(), request, None)
        .await
        .expect("the code was not used by the refused attempt");
    assert!(pos.status().initial_load_complete);
    let info = pos.enrollment().expect("read").expect("enrolled");
    assert_eq!(
        info.pinned_fingerprint.as_deref(),
        Some(fingerprint.as_str())
    );
    assert!(info.server_url.starts_with("https://"));
    pos.sync_and_wait(10_000)
        .await
        .expect("syncs over the pinned link");
    pos.shutdown().await.expect("shutdown");
}

/// Enrolls the register at `path` whose keystore holds `key`.
async fn enroll_at(
    path: &std::path::Path,
    key: &DbKey,
    request: EnrollmentRequest,
    listener: Option<Arc<dyn tenda_pos::status::StatusListener>>,
) -> Result<Pos, PosError> {
    let (open, platform) = device::access(path, key, None);
    Pos::enroll(open, platform, request, listener).await
}
