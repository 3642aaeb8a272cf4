//! What runs by itself once a `Pos` is open, on the core's own runtime: the SEFAZ worker
//! (status probe while not in normal mode, backlog transmission, the contingency state machine
//! fed by both), the deadline-alarm timer, the sync engine (with its balance refresh and daily
//! reload, in `sync_ops`) and card forwarding when the link returns (in `card_ops`). The core
//! builds the SEFAZ client, endpoints, trust roots and transmitter itself from the emitter
//! settings (state, environment) and the installed A1 certificate; `shutdown` stops it all.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::Utc;
use tenda_domain::FiscalStatus;
use tenda_fiscal::sefaz::{
    BackoffState, ClientIdentity, ClientSettings, Endpoints, SefazClient, TransmissionPolicy,
    Transmitter, TrustRoots,
};

use super::{Inner, Pos, lock, storage};
use crate::contingency::FiscalState;
use crate::error::{PosError, PosResult};
use crate::host::SefazRoute;
use crate::runtime::TaskHandle;
use crate::status::{LinkState, deadline_alarm};

/// Setting that keeps the transmitter's backoff across restarts (never hammer SEFAZ).
pub(crate) const BACKOFF: &str = "pos.sefaz_backoff";

/// How this device reaches SEFAZ, and the transmitter built for it.
pub(crate) struct SefazLink {
    route: Mutex<SefazRoute>,
    transmitter: Mutex<Option<Arc<Transmitter>>>,
    /// One transmission run at a time (the worker, "send now", a sale's own note).
    pub running: tokio::sync::Mutex<()>,
    /// Wakes the SEFAZ worker before its next tick.
    pub wake: tokio::sync::Notify,
    /// Wakes the deadline-alarm timer (a new contingency note may move the nearest deadline).
    pub deadlines_changed: tokio::sync::Notify,
}

impl SefazLink {
    pub fn new(route: SefazRoute) -> SefazLink {
        SefazLink {
            route: Mutex::new(route),
            transmitter: Mutex::new(None),
            running: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            deadlines_changed: tokio::sync::Notify::new(),
        }
    }

    /// Forgets the transmitter (a new certificate): the next use builds it again.
    pub fn reset(&self) {
        *lock(&self.transmitter) = None;
    }

    fn probe_interval(&self) -> Duration {
        Duration::from_millis(match &*lock(&self.route) {
            SefazRoute::At { access } => access.probe_interval_ms,
            _ => 60_000,
        })
    }
}

impl Pos {
    /// Whether notes can be sent to SEFAZ at all (a route, and the certificate installed).
    pub(crate) fn can_reach_sefaz(&self) -> bool {
        *lock(&self.inner.sefaz.route) != SefazRoute::NotConfigured
            && lock(&self.inner.certificate).is_some()
    }

    /// The transmitter for the emitter's state and environment, presenting the store's A1
    /// certificate, built the first time it is needed; its backoff comes back from the store.
    pub(crate) fn transmitter(&self, what: &str) -> PosResult<Arc<Transmitter>> {
        if let Some(t) = lock(&self.inner.sefaz.transmitter).clone() {
            return Ok(t);
        }
        let cert = lock(&self.inner.certificate)
            .clone()
            .ok_or_else(|| PosError::state(what, "the store's A1 certificate is not installed"))?;
        let emitter = lock(&self.inner.config).emitter.clone();
        let mut settings = ClientSettings::new(emitter.address.uf, emitter.environment);
        let mut policy = TransmissionPolicy::default();
        let route = lock(&self.inner.sefaz.route).clone();
        let trust = match &route {
            SefazRoute::NotConfigured => {
                return Err(PosError::offline(
                    what.to_owned(),
                    "no SEFAZ connection is configured on this device",
                ));
            }
            SefazRoute::At { access } => {
                settings.endpoints = Endpoints::at_base_url(&access.base_url);
                settings.connect_timeout = Duration::from_millis(access.connect_timeout_ms);
                settings.request_timeout = Duration::from_millis(access.request_timeout_ms);
                policy.transport_pause = Duration::from_millis(access.transport_pause_ms);
                policy.unavailable_pause = Duration::from_millis(access.unavailable_pause_ms);
                TrustRoots::only(access.trusted_roots_der.clone())
            }
            SefazRoute::Official => TrustRoots::system(),
        };
        let identity = ClientIdentity::from_der(cert.chain_der(), cert.private_key_pkcs8_der())
            .map_err(|e| PosError::invalid("certificate", e.to_string()))?;
        let client = SefazClient::new(&identity, &trust, settings)
            .map_err(|e| PosError::invalid("sefaz", e.to_string()))?;
        let backoff: BackoffState = lock(&self.inner.store)
            .setting(BACKOFF)
            .map_err(storage)?
            .unwrap_or_default();
        let built = Arc::new(Transmitter::with_state(client, policy, backoff));
        let mut slot = lock(&self.inner.sefaz.transmitter);
        Ok(slot.get_or_insert(built).clone())
    }

    /// Reaches SEFAZ by `route` from now on (a settings screen switching to homologation, a
    /// test's simulator); the transmitter is built afresh, keeping the backoff in the store.
    pub fn set_sefaz_route(&self, route: SefazRoute) -> PosResult<()> {
        self.alive()?;
        *lock(&self.inner.sefaz.route) = route;
        self.inner.sefaz.reset();
        self.inner.sefaz.wake.notify_one();
        Ok(())
    }

    /// Starts the workers that run on their own (the sync engine starts in `resume_sync`).
    pub(crate) fn start_workers(&self) {
        let rt = self.inner.runtime.handle();
        let sefaz = rt.spawn(sefaz_worker(Arc::downgrade(&self.inner)));
        let alarms = rt.spawn(deadline_alarms(Arc::downgrade(&self.inner)));
        let mut workers = lock(&self.inner.workers);
        workers.push(TaskHandle::new(sefaz));
        workers.push(TaskHandle::new(alarms));
    }

    /// Stops everything that runs by itself — the SEFAZ worker, the deadline alarms, the sync
    /// engine and its timers, card forwarding — and waits for them. Every call after it is
    /// refused with `shut_down`. Sales already committed are safe in the store.
    pub async fn shutdown(&self) -> PosResult<()> {
        if self
            .inner
            .closed
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(());
        }
        let pos = self.clone();
        self.inner
            .runtime
            .run(async move {
                let workers = std::mem::take(&mut *lock(&pos.inner.workers));
                for w in workers {
                    w.stop().await;
                }
                let forwarding = lock(&pos.inner.cards.forwarding_task).take();
                if let Some(f) = forwarding {
                    f.stop().await;
                }
                pos.stop_sync().await;
                lock(&pos.inner.kept).clear();
                Ok(())
            })
            .await
    }

    /// One round of the SEFAZ worker: with the link up, send the backlog; with no backlog but
    /// SEFAZ thought down, probe its status and return to normal when it answers.
    pub(crate) async fn sefaz_round(&self) -> PosResult<()> {
        if self.link() == LinkState::Offline || !self.can_reach_sefaz() {
            return Ok(());
        }
        let pending = self.notes_awaiting()?;
        if pending > 0 {
            self.transmit_notes(None).await?;
            return Ok(());
        }
        if self.fiscal_state_inner() == FiscalState::Normal {
            return Ok(());
        }
        let transmitter = self.transmitter("probe SEFAZ")?;
        match transmitter.client().service_status().await {
            Ok(status) if status.is_operating() => {
                self.sefaz_available(0)?;
            }
            Ok(_) | Err(_) => {}
        }
        Ok(())
    }

    fn notes_awaiting(&self) -> PosResult<usize> {
        Ok(lock(&self.inner.store)
            .fiscal_documents_awaiting_transmission(10_000)
            .map_err(storage)?
            .iter()
            .filter(|d| d.status != FiscalStatus::Rejected)
            .count())
    }
}

/// The SEFAZ worker: a round every probe interval, or sooner when woken.
async fn sefaz_worker(inner: Weak<Inner>) {
    loop {
        let (interval, wake) = {
            let Some(inner) = inner.upgrade() else { return };
            (inner.sefaz.probe_interval(), inner.clone())
        };
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = wake.sefaz.wake.notified() => {}
        }
        drop(wake);
        let Some(inner) = inner.upgrade() else { return };
        let pos = Pos { inner };
        if let Err(e) = pos.sefaz_round().await {
            tracing::warn!(error = %e, "SEFAZ round failed; next round retries");
        }
    }
}

/// Recomputes the status when the nearest deadline crosses its next alarm (half, 80 %,
/// overdue), so the screens show it without anybody asking.
async fn deadline_alarms(inner: Weak<Inner>) {
    loop {
        let (wait, strong) = {
            let Some(inner) = inner.upgrade() else { return };
            let wait = next_alarm_in(&inner).unwrap_or(Duration::from_secs(3600));
            (wait, inner)
        };
        tokio::select! {
            _ = tokio::time::sleep(wait.clamp(Duration::from_millis(10), Duration::from_secs(3600))) => {}
            _ = strong.sefaz.deadlines_changed.notified() => {}
        }
        drop(strong);
        let Some(inner) = inner.upgrade() else { return };
        if let Err(e) = (Pos { inner }).refresh_fiscal_status() {
            tracing::warn!(error = %e, "refreshing the deadline alarms failed");
        }
    }
}

/// Time until the next alarm boundary of any pending contingency note.
fn next_alarm_in(inner: &Arc<Inner>) -> Option<Duration> {
    let docs = lock(&inner.store)
        .fiscal_documents_awaiting_transmission(10_000)
        .ok()?;
    let now = Utc::now();
    docs.iter()
        .filter(|d| d.status != FiscalStatus::Rejected)
        .filter_map(|d| {
            let deadline = d.deadline?;
            let window = deadline - d.issued_at;
            [window / 2, window * 4 / 5, window]
                .into_iter()
                .map(|offset| d.issued_at + offset)
                .find(|at| *at > now)
                .filter(|at| deadline_alarm(d.issued_at, deadline, *at).is_some())
        })
        .min()
        .and_then(|at| (at - now).to_std().ok())
}
