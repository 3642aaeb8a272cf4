//! The device's sync engine: pushes the outbox in order, pulls changes into the device store,
//! keeps cursors, retries with exponential backoff and jitter, refreshes customer balances while
//! online, and reports its status to a [`SyncListener`].
//!
//! It runs on tokio tasks and holds the store's lock only for short local steps (reading one
//! outbox batch, applying one pull page), so a sale never waits on the network. Dropping the
//! [`SyncHandle`] stops it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tenda_domain::{
    Customer, CustomerId, FiscalData, Gtin, Money, Product, ProductId, Quantity, Role, SaleId,
    TaxId, Unit, User, UserId,
};
use tenda_store::{PullChange, Store};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::pinning::{PinnedClient, client_for};
use crate::protocol::{
    Change, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode, HubEndpoint, PROTOCOL_VERSION,
    PullPage, PullRequest, PullScope, PushResponse, SaleFolio, WaitRequest, WaitResponse,
    encode_push, paths,
};

/// Folios written per short store step after a push (each is its own small transaction).
const FOLIOS_PER_STEP: usize = 100;

/// What the engine needs to reach its server.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `https://host:port` (or `http://127.0.0.1:port` for development and tests).
    pub base_url: String,
    pub device_id: Uuid,
    /// The device credential from enrollment.
    pub credential: String,
    /// SHA-256 (hex) of the server certificate learned at enrollment; required for `https`.
    pub pinned_fingerprint: Option<String>,
    /// Mutations per push request.
    pub push_batch: u32,
    /// Changes per pull page.
    pub pull_page: u32,
    /// How often to look for work when idle (the UI can also call [`SyncHandle::sync_now`]).
    pub poll_interval: Duration,
    /// How often to refresh customer balances while online.
    pub balance_refresh: Duration,
    /// First retry delay after a failure; doubles per failure up to `backoff_max`, with jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub request_timeout: Duration,
    /// The device setting naming this device's store hub ([`crate::protocol::hub_setting_key`]
    /// of its branch). While it names a reachable hub the engine syncs with the hub and waits
    /// on it for the other tills' changes; otherwise it syncs with `base_url` (the cloud).
    pub hub_setting: Option<String>,
    /// How long one long poll on the hub may be held.
    pub hub_wait: Duration,
}

impl EngineConfig {
    pub fn new(
        base_url: impl Into<String>,
        device_id: Uuid,
        credential: impl Into<String>,
    ) -> Self {
        EngineConfig {
            base_url: base_url.into(),
            device_id,
            credential: credential.into(),
            pinned_fingerprint: None,
            push_batch: 500,
            pull_page: 2_000,
            poll_interval: Duration::from_secs(30),
            balance_refresh: Duration::from_secs(5 * 60),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            hub_setting: None,
            hub_wait: Duration::from_secs(20),
        }
    }
}

/// Status the UI shows.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    Online,
    /// The server could not be reached or answered with a server error; the engine retries.
    Offline {
        reason: String,
        retry_in: Duration,
    },
    /// Mutations waiting to be pushed.
    Pending {
        count: u64,
    },
    PushProgress {
        applied_through: u64,
        pending: u64,
    },
    /// Folios the server gave to sales, already written onto the device's sales (which keep
    /// their local numbers too).
    Folios(Vec<SaleFolio>),
    /// `total` comes from the first page of a round.
    PullProgress {
        received: u64,
        total: Option<u64>,
    },
    PullFinished {
        applied: u64,
        rejected: u64,
    },
    /// A sync round (push, then pull) completed: everything pushed so far is on the server and
    /// the device holds the server's changes as of now (the "last sync" time).
    Synced,
    /// The server refused this device (revoked, wrong credential, bad data); retrying slowly.
    Refused {
        code: ErrorCode,
        message: String,
    },
    /// Which server the last round went to: the store hub (`hub: true`) or the cloud.
    Upstream {
        url: String,
        hub: bool,
    },
}

/// Receives [`SyncEvent`]s (called from the engine's task; keep it quick).
pub trait SyncListener: Send + Sync {
    fn on_event(&self, event: SyncEvent);
}

/// A listener that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoListener;

impl SyncListener for NoListener {
    fn on_event(&self, _event: SyncEvent) {}
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    #[error("the server could not be reached: {0}")]
    Offline(#[source] reqwest::Error),
    #[error("the server refused the request ({status}): {}", body.message)]
    Refused { status: u16, body: ErrorBody },
    #[error("the server answered with something that is not the protocol: {0}")]
    Protocol(String),
    #[error("device store: {0}")]
    Store(#[source] tenda_store::Error),
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("the server expects mutation {expected}, which this device no longer has")]
    OutboxGap { expected: u64 },
    /// The server presented another certificate than the pinned one (or something is in
    /// between).
    #[error("the server certificate {seen} is not the pinned {expected}")]
    PinMismatch { expected: String, seen: String },
}

impl From<crate::pinning::PinError> for EngineError {
    fn from(e: crate::pinning::PinError) -> Self {
        match e {
            crate::pinning::PinError::Config(m) => EngineError::Config(m),
            crate::pinning::PinError::Tls(m) => EngineError::Tls(m),
        }
    }
}

impl EngineError {
    /// Worth retrying soon (network, server busy); otherwise retry slowly and tell the user.
    fn is_transient(&self) -> bool {
        match self {
            EngineError::Offline(_) | EngineError::Protocol(_) => true,
            EngineError::Refused { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            _ => false,
        }
    }
}

/// Trades a one-time code for the device identity. Returns the response and the fingerprint of
/// the server certificate seen (to pin from now on). With `expected_fingerprint` (shown beside
/// the code in the back office) a different certificate is refused. `required_settings`: see
/// [`EnrollRequest::required_settings`].
pub async fn enroll(
    base_url: &str,
    code: &str,
    device_name: &str,
    expected_fingerprint: Option<&str>,
    required_settings: &[&str],
) -> Result<(EnrollResponse, Option<String>), EngineError> {
    let client = client_for(base_url, expected_fingerprint, Duration::from_secs(30))?;
    let req = EnrollRequest {
        protocol: PROTOCOL_VERSION,
        code: code.to_owned(),
        device_name: device_name.to_owned(),
        required_settings: required_settings.iter().map(|k| (*k).to_owned()).collect(),
        hub: None,
    };
    let resp: EnrollResponse = match post(&client, base_url, paths::ENROLL, None, &req).await {
        Ok(resp) => resp,
        Err(e) => return Err(pin_refusal(&client, expected_fingerprint).unwrap_or(e)),
    };
    Ok((resp, client.seen_fingerprint()))
}

/// The typed refusal when the handshake failed because the certificate seen is not the pinned
/// one (the verifier records what it saw).
fn pin_refusal(client: &PinnedClient, expected: Option<&str>) -> Option<EngineError> {
    let expected = expected?;
    let seen = client.seen_fingerprint()?;
    (!crate::fingerprint::fingerprints_match(expected, &seen)).then(|| EngineError::PinMismatch {
        expected: expected.to_owned(),
        seen,
    })
}

async fn post<Req: serde::Serialize, Resp: serde::de::DeserializeOwned>(
    client: &PinnedClient,
    base_url: &str,
    path: &str,
    credential: Option<&str>,
    body: &Req,
) -> Result<Resp, EngineError> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| EngineError::Protocol(format!("request does not serialize: {e}")))?;
    post_json(client, base_url, path, credential, bytes).await
}

/// Posts an already encoded JSON body.
async fn post_json<Resp: serde::de::DeserializeOwned>(
    client: &PinnedClient,
    base_url: &str,
    path: &str,
    credential: Option<&str>,
    body: Vec<u8>,
) -> Result<Resp, EngineError> {
    let mut req = client
        .http
        .post(format!("{base_url}{path}"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(c) = credential {
        req = req.bearer_auth(c);
    }
    let resp = req.send().await.map_err(EngineError::Offline)?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(EngineError::Offline)?;
    if status.is_success() {
        serde_json::from_slice(&bytes)
            .map_err(|e| EngineError::Protocol(format!("unreadable reply: {e}")))
    } else {
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(EngineError::Refused {
                status: status.as_u16(),
                body,
            }),
            Err(_) => Err(EngineError::Refused {
                status: status.as_u16(),
                body: ErrorBody {
                    code: ErrorCode::Internal,
                    message: format!("HTTP {status} without an error body"),
                    field: None,
                    expected_seq: None,
                    seq: None,
                    rule: None,
                },
            }),
        }
    }
}

/// The running engine. Dropping it stops the engine.
#[derive(Debug)]
pub struct SyncHandle {
    wake: Arc<Notify>,
    reload: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SyncHandle {
    /// Asks for a sync round now (after a sale, or when the user taps "sync").
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }

    /// Asks for a full reload: the next round pulls everything from the start (with totals for
    /// a progress bar) instead of only the changes since the last cursor. Records the device
    /// already holds are skipped by version, so a reload corrects without duplicating.
    pub fn reload_all(&self) {
        self.reload.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Stops the engine and waits until its task has ended.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// One server the engine can sync with.
#[derive(Debug, Clone)]
struct Upstream {
    base_url: String,
    client: PinnedClient,
    hub: bool,
}

/// Stored cursors name the server that issued them (`@<url>` and a newline first): a cursor is
/// meaningful only to its own server, so a device switching between hub and cloud starts a
/// fresh round instead of sending one server another's cursor.
fn tag_cursor(url: &str, cursor: &str) -> String {
    format!("@{url}\n{cursor}")
}

/// The stored cursor if it belongs to `url`. Cursors stored before hubs existed carry no tag
/// and belong to `cloud_url`.
fn cursor_for(stored: Option<String>, url: &str, cloud_url: &str) -> Option<String> {
    let stored = stored?;
    match stored
        .strip_prefix('@')
        .and_then(|rest| rest.split_once('\n'))
    {
        Some((owner, cursor)) => (owner == url).then(|| cursor.to_owned()),
        None => (url == cloud_url).then_some(stored),
    }
}

struct Engine {
    config: EngineConfig,
    /// The server of the current round.
    target: Upstream,
    cloud: Upstream,
    /// The store hub named by the device's settings, with its pinned client.
    hub: Option<(HubEndpoint, Upstream)>,
    /// The hub's change version last seen (the long poll answers when it moves).
    hub_version: Option<u64>,
    /// The round goes to another server than the last: it first re-sends the last entry the
    /// other acknowledged, so the new one says (by a sequence gap) if it lacks any.
    confirm_pushed: bool,
    store: Arc<Mutex<Store>>,
    listener: Arc<dyn SyncListener>,
    reload: Arc<AtomicBool>,
    /// (server, cursor) of the balance refresh.
    balance_cursor: Option<(String, String)>,
    last_balance_refresh: Option<tokio::time::Instant>,
}

/// Starts the engine on the current tokio runtime. `store` is the device store the POS also
/// uses; the engine locks it only for short local steps.
pub fn start(
    config: EngineConfig,
    store: Arc<Mutex<Store>>,
    listener: Arc<dyn SyncListener>,
) -> Result<SyncHandle, EngineError> {
    if config.base_url.starts_with("https://") && config.pinned_fingerprint.is_none() {
        return Err(EngineError::Config(
            "an https server needs the certificate fingerprint pinned at enrollment".into(),
        ));
    }
    let client = client_for(
        &config.base_url,
        config.pinned_fingerprint.as_deref(),
        config.request_timeout,
    )?;
    let wake = Arc::new(Notify::new());
    let reload = Arc::new(AtomicBool::new(false));
    let cloud = Upstream {
        base_url: config.base_url.clone(),
        client,
        hub: false,
    };
    let engine = Engine {
        config,
        target: cloud.clone(),
        cloud,
        hub: None,
        hub_version: None,
        confirm_pushed: false,
        store,
        listener,
        reload: reload.clone(),
        balance_cursor: None,
        last_balance_refresh: None,
    };
    let task = tokio::spawn(engine.run(wake.clone()));
    Ok(SyncHandle {
        wake,
        reload,
        task: Some(task),
    })
}

/// The delay before retry number `failures` (1-based): exponential, capped, with full jitter
/// in its upper half so many devices coming back online do not hammer the server together.
pub fn backoff_delay(failures: u32, min: Duration, max: Duration) -> Duration {
    let exp = min.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let capped = exp.min(max);
    let half = capped / 2;
    let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
    half + Duration::from_millis(jitter)
}

impl Engine {
    async fn run(mut self, wake: Arc<Notify>) {
        let mut failures: u32 = 0;
        let mut online: Option<bool> = None;
        loop {
            match self.cycle().await {
                Ok(()) => {
                    failures = 0;
                    if online != Some(true) {
                        online = Some(true);
                        self.listener.on_event(SyncEvent::Online);
                    }
                    self.listener.on_event(SyncEvent::Synced);
                    let hub_wait = self.hub_waiter();
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                        v = hub_wait => self.hub_version = Some(v),
                    }
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let transient = e.is_transient();
                    let delay = if transient {
                        backoff_delay(failures, self.config.backoff_min, self.config.backoff_max)
                    } else {
                        self.config.backoff_max
                    };
                    if let EngineError::Refused { body, .. } = &e
                        && !transient
                    {
                        self.listener.on_event(SyncEvent::Refused {
                            code: body.code,
                            message: body.message.clone(),
                        });
                    }
                    if transient || online != Some(false) {
                        online = Some(false);
                        self.listener.on_event(SyncEvent::Offline {
                            reason: e.to_string(),
                            retry_in: delay,
                        });
                    }
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    async fn local<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, tenda_store::Error> + Send + 'static,
    ) -> Result<T, EngineError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| EngineError::Config(format!("store task: {e}")))?
        .map_err(EngineError::Store)
    }

    /// A long poll on the hub (when the last round went there) that resolves with the hub's
    /// new change version; never resolves otherwise, or when the hub fails (the poll interval
    /// and the next round take over).
    fn hub_waiter(&self) -> impl std::future::Future<Output = u64> + Send + 'static {
        let target = self.target.clone();
        let credential = self.config.credential.clone();
        let after = self.hub_version;
        let wait = self.config.hub_wait;
        async move {
            if !target.hub {
                return std::future::pending().await;
            }
            let req = WaitRequest {
                protocol: PROTOCOL_VERSION,
                after,
                timeout_ms: Some(wait.as_millis() as u64),
            };
            loop {
                let resp: Result<WaitResponse, EngineError> = post(
                    &target.client,
                    &target.base_url,
                    paths::WAIT,
                    Some(&credential),
                    &req,
                )
                .await;
                match resp {
                    Ok(r) if after.is_none_or(|a| r.version > a) => return r.version,
                    // Timed out without a change: ask again.
                    Ok(_) => continue,
                    Err(_) => return std::future::pending().await,
                }
            }
        }
    }

    /// Reads the device's hub setting and keeps a pinned client for the hub it names.
    async fn refresh_hub(&mut self) -> Result<(), EngineError> {
        let Some(key) = self.config.hub_setting.clone() else {
            self.hub = None;
            return Ok(());
        };
        let value = self.local(move |s| s.setting::<String>(&key)).await?;
        let endpoint = value
            .filter(|v| !v.trim().is_empty())
            .and_then(|v| serde_json::from_str::<HubEndpoint>(&v).ok());
        let Some(endpoint) = endpoint else {
            self.hub = None;
            return Ok(());
        };
        if self.hub.as_ref().is_some_and(|(e, _)| *e == endpoint) {
            return Ok(());
        }
        if endpoint.url.starts_with("https://") && endpoint.fingerprint.is_none() {
            tracing::warn!(url = %endpoint.url, "the store hub has no pinned certificate; not used");
            self.hub = None;
            return Ok(());
        }
        let client = client_for(
            &endpoint.url,
            endpoint.fingerprint.as_deref(),
            self.config.request_timeout,
        )?;
        let upstream = Upstream {
            base_url: endpoint.url.clone(),
            client,
            hub: true,
        };
        self.hub = Some((endpoint, upstream));
        self.hub_version = None;
        Ok(())
    }

    /// A round with the store hub when the device has one, else (or when the hub cannot be
    /// used: unreachable, refusing, revoked) with the cloud. The hub and the cloud keep the same
    /// exactly-once numbering of this device's mutations, so moving between them applies
    /// nothing twice.
    async fn cycle(&mut self) -> Result<(), EngineError> {
        self.refresh_hub().await?;
        if let Some((_, hub)) = self.hub.clone() {
            self.switch_to(hub);
            match self.round().await {
                Ok(()) => return Ok(()),
                Err(e @ (EngineError::Store(_) | EngineError::Config(_))) => return Err(e),
                Err(e) => {
                    tracing::info!(error = %e, "store hub unusable; syncing with the cloud");
                }
            }
        }
        let cloud = self.cloud.clone();
        self.switch_to(cloud);
        self.round().await
    }

    fn switch_to(&mut self, upstream: Upstream) {
        if upstream.base_url != self.target.base_url {
            self.confirm_pushed = true;
            self.listener.on_event(SyncEvent::Upstream {
                url: upstream.base_url.clone(),
                hub: upstream.hub,
            });
        }
        self.target = upstream;
    }

    async fn round(&mut self) -> Result<(), EngineError> {
        self.push_all().await?;
        self.pull_round(None).await?;
        let due = self
            .last_balance_refresh
            .is_none_or(|t| t.elapsed() >= self.config.balance_refresh);
        if due {
            self.pull_round(Some(PullScope::Balances)).await?;
            self.last_balance_refresh = Some(tokio::time::Instant::now());
        }
        Ok(())
    }

    async fn push_all(&mut self) -> Result<(), EngineError> {
        let batch = self.config.push_batch.max(1);
        let pending = self.local(|s| s.outbox_pending_count()).await?;
        self.listener
            .on_event(SyncEvent::Pending { count: pending });
        // A hub that was revoked or lost its disk may hold entries it never relayed; the cloud
        // answers the re-sent entry with a gap, and the entries go again from there.
        let mut resend_after: Option<u64> = if self.confirm_pushed {
            self.local(|s| s.outbox_pushed_through())
                .await?
                .checked_sub(1)
        } else {
            None
        };
        loop {
            let entries = match resend_after.take() {
                Some(after) => self.local(move |s| s.outbox_after(after, batch)).await?,
                None => self.local(move |s| s.outbox_pending(batch)).await?,
            };
            if entries.is_empty() {
                self.confirm_pushed = false;
                return Ok(());
            }
            let first = entries[0].seq;
            // Written straight from the typed entries: no JSON tree per entry on the device.
            let body = encode_push(self.config.device_id, &entries).map_err(|e| {
                EngineError::Protocol(format!("outbox entry does not serialize: {e}"))
            })?;
            drop(entries);
            let result: Result<PushResponse, EngineError> = post_json(
                &self.target.client,
                &self.target.base_url,
                paths::PUSH,
                Some(&self.config.credential),
                body,
            )
            .await;
            match result {
                Ok(resp) => {
                    let through = resp.applied_through;
                    // Folios are written before the entries are marked pushed: should the app
                    // stop in between, the entries go again and the server (which applies them
                    // once) hands the same folios back.
                    self.record_folios(&resp.folios).await?;
                    let pending = self
                        .local(move |s| {
                            s.outbox_mark_pushed(through)?;
                            s.outbox_pending_count()
                        })
                        .await?;
                    if !resp.folios.is_empty() {
                        self.listener.on_event(SyncEvent::Folios(resp.folios));
                    }
                    self.listener.on_event(SyncEvent::PushProgress {
                        applied_through: through,
                        pending,
                    });
                }
                Err(EngineError::Refused {
                    body:
                        ErrorBody {
                            code: ErrorCode::SequenceGap,
                            expected_seq: Some(expected),
                            ..
                        },
                    ..
                }) => {
                    if expected > first {
                        // The server has more than we knew (a reply was lost): catch up locally.
                        let through = expected - 1;
                        self.local(move |s| s.outbox_mark_pushed(through)).await?;
                    } else {
                        // The server lacks entries we thought pushed: send them again from there.
                        let have = self.local(move |s| s.outbox_after(expected - 1, 1)).await?;
                        if have.first().map(|e| e.seq) != Some(expected) {
                            return Err(EngineError::OutboxGap { expected });
                        }
                        resend_after = Some(expected - 1);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes the server's folios onto the device's sales, a few at a time so a sale being
    /// rung up never waits long for the store.
    async fn record_folios(&self, folios: &[SaleFolio]) -> Result<(), EngineError> {
        for chunk in folios.chunks(FOLIOS_PER_STEP) {
            let chunk = chunk.to_vec();
            self.local(move |s| {
                for f in chunk {
                    match s.set_sale_folio(SaleId::from_uuid(f.sale_id), f.folio) {
                        Ok(()) => {}
                        // Not a sale of this store file (the outbox outlived a restore), or it
                        // already holds another folio: the server's record stands; nothing on
                        // the device to correct, and retrying would not change the answer.
                        Err(
                            e @ (tenda_store::Error::NotFound(_)
                            | tenda_store::Error::InvalidInput { .. }),
                        ) => {
                            tracing::warn!(sale = %f.sale_id, folio = f.folio, error = %e, "folio not recorded on the device");
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// One pull round (all pages until `more` is false).
    async fn pull_round(&mut self, scope: Option<PullScope>) -> Result<(), EngineError> {
        let url = self.target.base_url.clone();
        let mut cursor = match scope {
            Some(PullScope::Balances) => self
                .balance_cursor
                .clone()
                .filter(|(owner, _)| *owner == url)
                .map(|(_, c)| c),
            None if self.reload.swap(false, Ordering::SeqCst) => None,
            None => {
                let stored = self.local(|s| s.sync_cursor()).await?;
                cursor_for(stored, &url, &self.cloud.base_url)
            }
        };
        let mut received = 0u64;
        let mut total = None;
        let mut applied = 0u64;
        let mut rejected = 0u64;
        loop {
            let req = PullRequest {
                protocol: PROTOCOL_VERSION,
                cursor: cursor.clone(),
                page_size: Some(self.config.pull_page),
                only: scope,
            };
            let page: PullPage = post(
                &self.target.client,
                &self.target.base_url,
                paths::PULL,
                Some(&self.config.credential),
                &req,
            )
            .await?;
            if let Some(t) = page.totals {
                total = Some(t.total());
            }
            let page_len = page.changes.len() as u64;
            received += page_len;
            let folios: Vec<SaleFolio> = page
                .changes
                .iter()
                .filter_map(|c| match c {
                    Change::SaleFolio(f) => Some(*f),
                    _ => None,
                })
                .collect();
            // Folios before the cursor that covers them: a crash between pulls them again.
            self.record_folios(&folios).await?;
            if !folios.is_empty() {
                self.listener.on_event(SyncEvent::Folios(folios));
            }
            let (mut changes, bad) = to_store_changes(page.changes);
            rejected += bad;
            let is_full = scope.is_none();
            if is_full {
                // Saved in the same batch as the records before it.
                changes.push(PullChange::Cursor(tag_cursor(&url, &page.cursor)));
            }
            let listener = self.listener.clone();
            let before = received - page_len;
            let report = self
                .local(move |s| {
                    s.apply_changes(changes, &mut |p| {
                        let done = p.applied + p.skipped_older + p.rejected;
                        // `done` also counts the page's cursor, which is not a record.
                        listener.on_event(SyncEvent::PullProgress {
                            received: before + done.min(page_len),
                            total,
                        });
                    })
                })
                .await?;
            applied += report.applied;
            rejected += report.rejected.len() as u64;
            self.listener
                .on_event(SyncEvent::PullProgress { received, total });
            cursor = Some(page.cursor);
            if !page.more {
                break;
            }
        }
        if scope == Some(PullScope::Balances) {
            self.balance_cursor = cursor.map(|c| (url, c));
        }
        if received > 0 {
            self.listener
                .on_event(SyncEvent::PullFinished { applied, rejected });
        }
        Ok(())
    }
}

/// Converts wire records into the store's pull changes; returns how many could not be read.
pub fn to_store_changes(changes: Vec<Change>) -> (Vec<PullChange>, u64) {
    let mut out = Vec::with_capacity(changes.len() + 1);
    let mut bad = 0u64;
    for change in changes {
        let converted = match change {
            Change::Setting(s) => Some(PullChange::Setting {
                key: s.key,
                value_json: serde_json::Value::String(s.value).to_string(),
                version: s.version as i64,
            }),
            Change::User(u) => {
                let role = serde_json::from_value::<Role>(serde_json::Value::String(u.role));
                role.ok().map(|role| {
                    PullChange::User(User {
                        id: UserId::from_uuid(u.id),
                        name: u.name,
                        login: u.login,
                        role,
                        credential_hash: u.credential_hash,
                        active: u.active,
                        version: u.version as i64,
                    })
                })
            }
            Change::Product(p) => {
                let fiscal = serde_json::from_value::<FiscalData>(p.fiscal);
                let unit = Unit::from_code(&p.unit);
                match (fiscal, unit) {
                    (Ok(fiscal), Ok(unit)) => Some(PullChange::Product(Product {
                        id: ProductId::from_uuid(p.id),
                        sku: p.sku,
                        gtin: p.gtin.and_then(|g| Gtin::parse(&g).ok()),
                        name: p.name,
                        unit,
                        price: Money::from_centavos(p.price_cents),
                        fiscal,
                        active: p.active,
                        version: p.version as i64,
                    })),
                    _ => None,
                }
            }
            Change::Customer(c) => Some(PullChange::Customer(Customer {
                id: CustomerId::from_uuid(c.id),
                name: c.name,
                tax_id: c.tax_id.and_then(|t| TaxId::parse(&t).ok()),
                phone: c.phone,
                email: None,
                balance: Money::from_centavos(c.balance_cents),
                overdraft_limit: Money::from_centavos(c.overdraft_limit_cents),
                active: c.active,
                version: c.version as i64,
            })),
            Change::StockLevel(l) => Some(PullChange::StockLevel {
                product_id: ProductId::from_uuid(l.product_id),
                quantity: Quantity::from_thousandths(l.quantity),
            }),
            // Not a record of the store: the engine writes folios onto the sales themselves.
            Change::SaleFolio(_) => continue,
        };
        match converted {
            Some(c) => out.push(c),
            None => bad += 1,
        }
    }
    (out, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ProductRecord, StockLevelRecord, UserRecord};

    #[test]
    fn a_cursor_goes_only_to_the_server_that_issued_it() {
        let (cloud, hub) = ("https://cloud", "https://10.0.0.2:8444");
        let stored = tag_cursor(hub, "v1.f.0.9.6.");
        assert_eq!(
            cursor_for(Some(stored.clone()), hub, cloud).as_deref(),
            Some("v1.f.0.9.6.")
        );
        // Another server's cursor means a fresh round there.
        assert_eq!(cursor_for(Some(stored), cloud, cloud), None);
        // Cursors stored before hubs existed are the cloud's.
        let legacy = Some("v1.f.0.4.6.".to_owned());
        assert_eq!(
            cursor_for(legacy.clone(), cloud, cloud).as_deref(),
            Some("v1.f.0.4.6.")
        );
        assert_eq!(cursor_for(legacy, hub, cloud), None);
        assert_eq!(cursor_for(None, cloud, cloud), None);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for failures in 1..40 {
            let d = backoff_delay(failures, min, max);
            let ceiling = min.saturating_mul(1 << (failures - 1).min(20)).min(max);
            // Full jitter in the upper half: never more than the ceiling, never less than half.
            assert!(
                d <= ceiling && d >= ceiling / 2,
                "failure {failures}: {d:?} vs {ceiling:?}"
            );
        }
        let samples: std::collections::HashSet<_> =
            (0..50).map(|_| backoff_delay(5, min, max)).collect();
        assert!(samples.len() > 1, "devices must not retry in lockstep");
    }

    #[test]
    fn wire_records_become_store_changes_and_bad_ones_are_counted() {
        let fiscal = serde_json::to_value(FiscalData::simples_nacional("19052090")).expect("json");
        let good = ProductRecord {
            id: Uuid::now_v7(),
            sku: "A".into(),
            gtin: Some("7891000315507".into()),
            name: "Arroz".into(),
            unit: "KG".into(),
            price_cents: 2_590,
            fiscal,
            active: true,
            version: 7,
        };
        let bad = ProductRecord {
            fiscal: serde_json::json!({"ncm": 5}),
            ..good.clone()
        };
        let user = UserRecord {
            id: Uuid::now_v7(),
            name: "Caio".into(),
            login: "caio".into(),
            role: "manager".into(),
            credential_hash: "$argon2id$x".into(),
            active: true,
            version: 3,
        };
        let level = StockLevelRecord {
            product_id: good.id,
            quantity: -1_000,
            version: 9,
        };
        let (changes, rejected) = to_store_changes(vec![
            Change::Product(good.clone()),
            Change::Product(bad),
            Change::User(user),
            Change::StockLevel(level),
        ]);
        assert_eq!(rejected, 1, "the product without readable fiscal data");
        match &changes[0] {
            PullChange::Product(p) => {
                assert_eq!(
                    (p.unit, p.price.centavos(), p.version),
                    (Unit::Kilogram, 2_590, 7)
                );
                assert!(p.gtin.is_some());
            }
            other => panic!("expected a product, got {other:?}"),
        }
        assert!(matches!(&changes[1], PullChange::User(u) if u.role == Role::Manager));
        assert!(
            matches!(&changes[2], PullChange::StockLevel { quantity, .. } if quantity.thousandths() == -1_000)
        );
    }
}
