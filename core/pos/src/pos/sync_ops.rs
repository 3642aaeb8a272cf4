//! The device and its server: enrollment (one-time code → identity, settings, first load), the
//! sync engine running beside the register (pushing sales, pulling catalog, customers and users,
//! the daily full reload) and its status. The engine shares the store and holds its lock only
//! for short local steps, so a sale never waits on the network.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tenda_domain::{Actor, DeviceId};
use tenda_store::Store;
use tenda_sync::engine::{self, SyncHandle};
use tokio::sync::watch;

use super::{Inner, Pos, keys, lock, storage};
use crate::error::{PosError, PosResult};
use crate::host::{OpenConfig, Platform};
use crate::runtime::CoreRuntime;
use crate::status::StatusListener;
use crate::sync_link::{
    CATALOG_REFRESHED_AT, EMITTER_SETTING, ENROLLMENT_SECRET, Enrollment, EnrollmentInfo,
    EnrollmentRequest, INITIAL_LOAD_DONE, RoundState, StatusBridge, config_from_settings,
    policy_keys,
};

/// The engine and the timers running for an enrolled device. Dropping it stops them all.
pub(crate) struct SyncRuntime {
    /// Always present until `shutdown` takes it.
    handle: Option<SyncHandle>,
    timers: Vec<tokio::task::JoinHandle<()>>,
    rounds: watch::Receiver<RoundState>,
    /// Cleared when this runtime ends, so its push-on-change listener falls silent.
    active: Arc<AtomicBool>,
    /// The push-on-change listener's registration (dropped with the engine).
    _push_on_change: super::Subscription,
}

impl SyncRuntime {
    fn wake(&self) {
        if let Some(h) = &self.handle {
            h.sync_now();
        }
    }

    fn reload_all(&self) {
        if let Some(h) = &self.handle {
            h.reload_all();
        }
    }
}

impl Drop for SyncRuntime {
    fn drop(&mut self) {
        self.active.store(false, Ordering::SeqCst);
        for t in &self.timers {
            t.abort();
        }
    }
}

/// Wakes the engine whenever the register records something new to push (a sale, a note's
/// new status), so the server hears of it within a round trip instead of the next poll.
struct PushOnChange {
    inner: std::sync::Weak<Inner>,
    active: Arc<AtomicBool>,
    last_pending: Mutex<u64>,
}

impl StatusListener for PushOnChange {
    fn on_status(&self, status: crate::status::PosStatus) {
        let mut last = lock(&self.last_pending);
        let grew = status.pending_sync > *last;
        *last = status.pending_sync;
        drop(last);
        if grew
            && self.active.load(Ordering::SeqCst)
            && let Some(inner) = self.inner.upgrade()
            && let Some(rt) = lock(&inner.sync).as_ref()
        {
            rt.wake();
        }
    }
}

fn load_enrollment(store: &mut Store) -> PosResult<Option<Enrollment>> {
    match store.secret(ENROLLMENT_SECRET).map_err(storage)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| PosError::Storage {
                detail: "the stored enrollment is damaged".into(),
            }),
    }
}

/// Re-reads the store's settings (pulled from the server) and applies them to the device's
/// configuration when they changed it.
pub(crate) fn refresh_config(inner: &Arc<Inner>) -> PosResult<()> {
    let (enrollment, policies) = {
        let mut store = lock(&inner.store);
        let Some(enrollment) = load_enrollment(&mut store)? else {
            return Ok(());
        };
        let mut policies = BTreeMap::new();
        for key in policy_keys(&enrollment.settings.branch_id.to_string()) {
            // Pulled settings are kept as JSON strings.
            if let Some(value) = store.setting::<String>(&key).map_err(storage)? {
                policies.insert(key, value);
            }
        }
        (enrollment, policies)
    };
    let current = lock(&inner.config).clone();
    let next = config_from_settings(
        current.device_id,
        &enrollment.settings,
        &policies,
        Some(&current),
    )?;
    if next != current {
        let sync_changed = next.sync != current.sync;
        lock(&inner.store)
            .set_setting(keys::CONFIG, &next)
            .map_err(storage)?;
        *lock(&inner.config) = next;
        // The engine reads its timings when it starts: replace it by one with the store's new
        // ones (the old one stops when dropped, after the swap, so sync never looks stopped).
        if sync_changed && lock(&inner.sync).is_some() {
            let fresh = Pos {
                inner: inner.clone(),
            }
            .new_sync_runtime()?;
            let old = lock(&inner.sync).replace(fresh);
            drop(old);
        }
    }
    Ok(())
}

impl Pos {
    /// Enrolls this device with the store's server: trades the one-time `request.code` for the
    /// device's identity and settings, creates the encrypted store at `config.db_path` (its
    /// key in the platform's keystore; credential and server kept inside the store), starts
    /// syncing and the other workers, and waits for the first load — catalog, customers, users
    /// with their PIN hashes — so sellers can sign in offline at once. `listener` hears the
    /// load's progress (`PosStatus::pull`) and stays subscribed while the `Pos` is open. If
    /// the first load does not finish within `request.first_load_timeout_ms`, the device is
    /// still enrolled: its status says the load is incomplete and the engine keeps at it.
    pub async fn enroll(
        config: OpenConfig,
        platform: Platform,
        request: EnrollmentRequest,
        listener: Option<Arc<dyn StatusListener>>,
    ) -> PosResult<Pos> {
        let runtime = CoreRuntime::new()?;
        let handle = runtime.handle().clone();
        let work = async move {
            let path = std::path::PathBuf::from(&config.db_path);
            let existed = path.exists();
            let key =
                crate::host::load_or_create_key(platform.key_store.as_ref(), &config.key_account)?;
            let opening = path.clone();
            let store = tokio::task::spawn_blocking(move || Store::open(opening, &key))
                .await
                .map_err(|e| PosError::Internal {
                    detail: format!("opening the store: {e}"),
                })?
                .map_err(storage)?;
            let mut kept = false;
            let enrolled = Pos::enroll_store(
                store, request, runtime, &config, &platform, listener, &mut kept,
            )
            .await;
            if enrolled.is_err() && !existed && !kept {
                // Nothing was kept: leave no empty store behind to trip a retry with another key.
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            enrolled
        };
        handle.spawn(work).await.map_err(|e| PosError::Internal {
            detail: format!("enrollment task: {e}"),
        })?
    }

    /// `kept` turns true once the device's identity is saved in the store (from then on the
    /// file must stay, whatever happens next).
    async fn enroll_store(
        mut store: Store,
        request: EnrollmentRequest,
        runtime: CoreRuntime,
        open: &OpenConfig,
        platform: &Platform,
        listener: Option<Arc<dyn StatusListener>>,
        kept: &mut bool,
    ) -> PosResult<Pos> {
        let url = request.server_url.trim().trim_end_matches('/').to_owned();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(PosError::invalid(
                "server_url",
                "give the server's address, e.g. https://loja.example:8443",
            ));
        }
        let fingerprint = request
            .expected_fingerprint
            .as_deref()
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty());
        if url.starts_with("https://") && fingerprint.is_none() {
            return Err(PosError::invalid(
                "expected_fingerprint",
                "type the certificate fingerprint shown beside the code, so this device talks \
                 only to the store's server",
            ));
        }
        if request.code.trim().is_empty() {
            return Err(PosError::invalid("code", "type the enrollment code"));
        }
        if request.device_name.trim().is_empty() {
            return Err(PosError::invalid("device_name", "give the device a name"));
        }
        // A set-up device keeps its identity: enrolling again would give it a second series.
        if store.setting_json(keys::CONFIG).map_err(storage)?.is_some() {
            return Err(PosError::state(
                "enroll",
                "this device is already set up; open it instead",
            ));
        }
        let (response, seen) = engine::enroll(
            &url,
            request.code.trim(),
            request.device_name.trim(),
            fingerprint.as_deref(),
            // Without the emitter a till cannot issue a note: the server keeps the code usable
            // until the owner sets it.
            &[EMITTER_SETTING],
        )
        .await
        .map_err(|e| PosError::from_engine("enrollment", e))?;
        let device_id = DeviceId::from_uuid(response.device_id);
        let config = config_from_settings(
            device_id,
            &response.settings,
            &response.settings.policies,
            None,
        )?;
        let enrollment = Enrollment {
            server_url: url,
            device_id: response.device_id,
            credential: response.credential,
            pinned_fingerprint: seen.or(fingerprint),
            settings: response.settings,
            enrolled_at: Utc::now(),
        };
        let bytes = serde_json::to_vec(&enrollment).map_err(|e| PosError::Internal {
            detail: e.to_string(),
        })?;
        // The credential first: a crash before the configuration leaves a device that can
        // enroll again, never a configured device without its identity.
        store
            .save_secret(
                ENROLLMENT_SECRET,
                &bytes,
                Actor::Device(device_id),
                Utc::now(),
            )
            .map_err(storage)?;
        *kept = true;
        store.set_setting(keys::CONFIG, &config).map_err(storage)?;
        let pos = Pos::from_store(store, runtime, open, platform)?;
        if let Some(l) = listener {
            let kept = pos.subscribe_inner(l);
            lock(&pos.inner.kept).push(kept);
        }
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(request.first_load_timeout_ms);
        loop {
            let Ok(mut rounds) = pos.rounds() else { break };
            let waited = tokio::time::timeout_at(
                deadline,
                rounds.wait_for(|r| r.completed >= 1 || r.refused.is_some()),
            )
            .await;
            match waited {
                Ok(Ok(state)) => {
                    if let Some(reason) = state.refused.clone() {
                        return Err(PosError::Rejected {
                            code: "server_refused".into(),
                            reason,
                        });
                    }
                    break;
                }
                // The engine restarted with the store's timings: wait on the new one.
                Ok(Err(_)) => continue,
                // Still loading: the device is enrolled and its status says so.
                Err(_) => break,
            }
        }
        Ok(pos)
    }

    /// Starts the sync engine of an enrolled device on the core's runtime. Does nothing if it
    /// is running.
    fn start_sync(&self) -> PosResult<()> {
        if lock(&self.inner.sync).is_some() {
            return Ok(());
        }
        let runtime = self.new_sync_runtime()?;
        let mut slot = lock(&self.inner.sync);
        // Another caller may have started it meanwhile: keep theirs, drop ours.
        if slot.is_none() {
            *slot = Some(runtime);
        }
        Ok(())
    }

    /// Starts an engine and its timers for this device, without installing them.
    fn new_sync_runtime(&self) -> PosResult<SyncRuntime> {
        let runtime = self.inner.runtime.handle().clone();
        let _in_core = runtime.enter();
        let enrollment = load_enrollment(&mut lock(&self.inner.store))?.ok_or_else(|| {
            PosError::state("start sync", "this device is not enrolled with a server")
        })?;
        let settings = lock(&self.inner.config).sync.clone();
        let (tx, rx) = watch::channel(RoundState::default());
        let bridge = StatusBridge {
            inner: Arc::downgrade(&self.inner),
            runtime: runtime.clone(),
            rounds: tx,
        };
        let handle = engine::start(
            settings.engine_config(&enrollment),
            self.inner.store.clone(),
            Arc::new(bridge),
        )
        .map_err(|e| PosError::from_engine("sync", e))?;
        let refresher = runtime.spawn(catalog_refresh(Arc::downgrade(&self.inner)));
        let active = Arc::new(AtomicBool::new(true));
        let push_on_change = self.subscribe_inner(Arc::new(PushOnChange {
            inner: Arc::downgrade(&self.inner),
            active: active.clone(),
            last_pending: Mutex::new(self.inner.hub.current().pending_sync),
        }));
        Ok(SyncRuntime {
            handle: Some(handle),
            timers: vec![refresher],
            rounds: rx,
            active,
            _push_on_change: push_on_change,
        })
    }

    /// Called when the store is opened: an enrolled device resumes syncing.
    pub(crate) fn resume_sync(&self) -> PosResult<()> {
        let (enrolled, loaded) = {
            let mut store = lock(&self.inner.store);
            let enrolled = store.secret(ENROLLMENT_SECRET).map_err(storage)?.is_some();
            let loaded = store
                .setting::<bool>(INITIAL_LOAD_DONE)
                .map_err(storage)?
                .unwrap_or(false);
            (enrolled, loaded)
        };
        self.inner.hub.update(|s| s.initial_load_complete = loaded);
        if enrolled {
            self.start_sync()?;
        }
        Ok(())
    }

    /// Where this device syncs (`None` when it was set up without a server).
    pub fn enrollment(&self) -> PosResult<Option<EnrollmentInfo>> {
        self.alive()?;
        Ok(load_enrollment(&mut lock(&self.inner.store))?.map(|e| e.info()))
    }

    /// Whether the sync engine is running.
    pub fn is_syncing(&self) -> bool {
        lock(&self.inner.sync).is_some()
    }

    /// Asks for a sync round now (the "sync now" button); returns at once.
    pub fn sync_now(&self) -> PosResult<()> {
        self.alive()?;
        match lock(&self.inner.sync).as_ref() {
            Some(rt) => {
                rt.wake();
                Ok(())
            }
            None => Err(PosError::state(
                "sync",
                "sync is not running on this device",
            )),
        }
    }

    /// Syncs now and waits until a full round that started after this call has completed:
    /// everything recorded before it is on the server and the server's changes are here.
    pub async fn sync_and_wait(&self, timeout_ms: u64) -> PosResult<()> {
        self.on_core(move |pos| async move { pos.sync_and_wait_inner(timeout_ms).await })
            .await
    }

    async fn sync_and_wait_inner(&self, timeout_ms: u64) -> PosResult<()> {
        let work = async {
            // A round already under way may have started before this call: wait for it and
            // then for one more, which surely started after.
            let mut done = 0;
            while done < 2 {
                // Taken afresh each time: the engine restarts when the store changes its timings.
                let mut rounds = self.rounds()?;
                let seen = rounds.borrow_and_update().completed;
                self.sync_now()?;
                if rounds.wait_for(|r| r.completed > seen).await.is_ok() {
                    done += 1;
                } else if !self.is_syncing() {
                    return Err(PosError::state("sync", "sync was stopped"));
                }
            }
            Ok(())
        };
        match tokio::time::timeout(Duration::from_millis(timeout_ms), work).await {
            Ok(r) => r,
            Err(_) => Err(match self.inner.hub.current().sync_refused {
                Some(reason) => PosError::Rejected {
                    code: "server_refused".into(),
                    reason,
                },
                None => PosError::offline("sync", "the server did not answer in time"),
            }),
        }
    }

    /// Reloads everything from the server now (what the daily refresh does), in the background;
    /// progress shows in `PosStatus::pull`.
    pub fn reload_catalog(&self) -> PosResult<()> {
        self.alive()?;
        match lock(&self.inner.sync).as_ref() {
            Some(rt) => {
                rt.reload_all();
                Ok(())
            }
            None => Err(PosError::state(
                "reload",
                "sync is not running on this device",
            )),
        }
    }

    /// Stops the sync engine and its timers and waits for them (part of `shutdown`).
    pub(crate) async fn stop_sync(&self) {
        let runtime = lock(&self.inner.sync).take();
        if let Some(mut rt) = runtime {
            for t in std::mem::take(&mut rt.timers) {
                t.abort();
                let _ = t.await;
            }
            if let Some(handle) = rt.handle.take() {
                handle.stop().await;
            }
        }
    }

    fn rounds(&self) -> PosResult<watch::Receiver<RoundState>> {
        lock(&self.inner.sync)
            .as_ref()
            .map(|rt| rt.rounds.clone())
            .ok_or_else(|| PosError::state("sync", "sync is not running on this device"))
    }

    /// When the last full reload started.
    pub fn catalog_refreshed_at(&self) -> PosResult<Option<DateTime<Utc>>> {
        self.alive()?;
        lock(&self.inner.store)
            .setting(CATALOG_REFRESHED_AT)
            .map_err(storage)
    }
}

/// The daily full reload: when `sync.catalog_refresh_ms` has passed since the last one (kept in
/// the store, so a device restarted every night still reloads), ask the engine to pull
/// everything again.
async fn catalog_refresh(inner: std::sync::Weak<Inner>) {
    loop {
        let wait = {
            let Some(inner) = inner.upgrade() else { return };
            let interval = lock(&inner.config).sync.catalog_refresh_ms;
            let last: Option<DateTime<Utc>> = {
                let store = inner.store.clone();
                match tokio::task::spawn_blocking(move || {
                    lock(&store).setting(CATALOG_REFRESHED_AT)
                })
                .await
                {
                    Ok(Ok(v)) => v,
                    _ => None,
                }
            };
            match last {
                // Just enrolled or upgraded: the first load counts as the first refresh.
                None => {
                    mark_refreshed(&inner).await;
                    Duration::from_millis(interval)
                }
                Some(at) => {
                    let due = at + chrono::Duration::milliseconds(interval as i64);
                    let left = (due - Utc::now()).num_milliseconds();
                    if left <= 0 {
                        if let Some(rt) = lock(&inner.sync).as_ref() {
                            rt.reload_all();
                        }
                        mark_refreshed(&inner).await;
                        Duration::from_millis(interval)
                    } else {
                        Duration::from_millis(left as u64)
                    }
                }
            }
        };
        // Re-read the interval at least hourly: the store may change it.
        tokio::time::sleep(wait.clamp(Duration::from_millis(50), Duration::from_secs(3600))).await;
    }
}

async fn mark_refreshed(inner: &Arc<Inner>) {
    let store = inner.store.clone();
    let now = Utc::now();
    let saved =
        tokio::task::spawn_blocking(move || lock(&store).set_setting(CATALOG_REFRESHED_AT, &now))
            .await;
    if !matches!(saved, Ok(Ok(()))) {
        tracing::warn!("could not record the catalog refresh time");
    }
}
