//! The device's link to its server: what enrollment gives the device (kept as a secret inside the
//! encrypted store), how the store's settings become the device's [`PosConfig`], the sync
//! settings the engine runs with, and the listener that turns the engine's events into the
//! point of sale's status.
//!
//! Store settings the device reads (keys of the back office's settings, values as text):
//!
//! | key | value |
//! |-----|-------|
//! | `fiscal.emitter` | JSON of the NFC-e emitter (CNPJ, IE, names, address, CRT, environment, CSC); its `series` is ignored: each device gets its own at enrollment |
//! | `fiscal.emitter.<branch id>` | the same for one branch (a branch with its own CNPJ/IE or address) |
//! | `policy.contingency` | JSON of [`ContingencyPolicy`] |
//! | `policy.lockout` | JSON of [`LockoutPolicy`] |
//! | `policy.permissions` | JSON of the [`PermissionMatrix`] |
//! | `policy.seller_discount_limit_bp` | basis points a seller may discount without a manager |
//! | `policy.sell_without_stock_check` | `true` / `false` |
//! | `policy.utc_offset_minutes` | store's offset from UTC (Brasília −180) |
//! | `policy.sefaz_timeout_ms` | how long a sale waits for SEFAZ |
//! | `policy.scale_label` | JSON of the scale label format |
//! | `policy.card_offline_limits` | JSON of the offline card limits (per payment, total, count, age) |
//! | `sync.poll_interval_ms` | idle time between sync rounds (push + pull of changes) |
//! | `sync.catalog_refresh_ms` | time between full catalog reloads (default one day) |
//! | `sync.balance_refresh_ms` | time between customer balance refreshes |
//! | `sync.backoff_min_ms`, `sync.backoff_max_ms` | retry delays after a failure |
//! | `sync.request_timeout_ms`, `sync.push_batch`, `sync.pull_page` | transport tuning |

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenda_domain::{DeviceId, PermissionMatrix};
use tenda_fiscal::nfce::EmitterSettings;
use tenda_sync::engine::{EngineConfig, SyncEvent, SyncListener};
use tenda_sync::protocol::DeviceSettings;

use crate::checkout::scale_label::ScaleLabelFormat;
use crate::config::PosConfig;
use crate::contingency::ContingencyPolicy;
use crate::credentials::LockoutPolicy;
use crate::error::{PosError, PosResult};
use crate::pos::Inner;
use crate::status::{LinkState, PullProgress};

/// Name of the secret holding the device's [`Enrollment`].
pub(crate) const ENROLLMENT_SECRET: &str = "sync.enrollment";
/// Setting: when the last full catalog reload was started (RFC 3339).
pub(crate) const CATALOG_REFRESHED_AT: &str = "pos.catalog_refreshed_at";
/// Setting: the first full load after enrollment has completed.
pub(crate) const INITIAL_LOAD_DONE: &str = "pos.initial_load_done";

/// What the device needs to enroll with its server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EnrollmentRequest {
    /// `https://host:port` (or `http://127.0.0.1:port` on the store's own machine).
    pub server_url: String,
    /// The one-time code the owner issued in the back office.
    pub code: String,
    /// How the device shows in the back office ("Caixa 2").
    pub device_name: String,
    /// SHA-256 (hex) of the server certificate, shown beside the code; required for `https`.
    pub expected_fingerprint: Option<String>,
    /// How long to wait for the first full load (catalog, customers, users) before giving up;
    /// the device stays enrolled and finishes the load when opened again.
    pub first_load_timeout_ms: u64,
}

impl EnrollmentRequest {
    pub fn new(
        server_url: impl Into<String>,
        code: impl Into<String>,
        device_name: impl Into<String>,
    ) -> Self {
        EnrollmentRequest {
            server_url: server_url.into(),
            code: code.into(),
            device_name: device_name.into(),
            expected_fingerprint: None,
            first_load_timeout_ms: 10 * 60 * 1000,
        }
    }
}

/// The device's identity at its server, kept as a secret in the encrypted store.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Enrollment {
    pub server_url: String,
    pub device_id: uuid::Uuid,
    pub credential: String,
    pub pinned_fingerprint: Option<String>,
    pub settings: DeviceSettings,
    pub enrolled_at: DateTime<Utc>,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrollment")
            .field("server_url", &self.server_url)
            .field("device_id", &self.device_id)
            .field("credential", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Where this device syncs, as the owner's screens show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EnrollmentInfo {
    pub server_url: String,
    pub device_id: DeviceId,
    pub store_id: String,
    pub store_name: String,
    pub branch_id: String,
    pub branch_name: String,
    pub nfce_series: u32,
    /// The pinned certificate fingerprint (https only).
    pub pinned_fingerprint: Option<String>,
    pub enrolled_at: DateTime<Utc>,
}

impl Enrollment {
    pub fn info(&self) -> EnrollmentInfo {
        EnrollmentInfo {
            server_url: self.server_url.clone(),
            device_id: DeviceId::from_uuid(self.device_id),
            store_id: self.settings.store_id.to_string(),
            store_name: self.settings.store_name.clone(),
            branch_id: self.settings.branch_id.to_string(),
            branch_name: self.settings.branch_name.clone(),
            nfce_series: self.settings.nfce_series,
            pinned_fingerprint: self.pinned_fingerprint.clone(),
            enrolled_at: self.enrolled_at,
        }
    }
}

/// How the device syncs: set by the store (settings `sync.*`), defaults for a shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSettings {
    /// Idle time between sync rounds; a sale wakes the engine at once anyway.
    pub poll_interval_ms: u64,
    /// Time between full reloads of the catalog (and customers, users, stock): the daily
    /// refresh that corrects anything an incremental pull could have missed.
    pub catalog_refresh_ms: u64,
    /// Time between customer balance refreshes while online.
    pub balance_refresh_ms: u64,
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    pub request_timeout_ms: u64,
    pub push_batch: u32,
    pub pull_page: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            poll_interval_ms: 30_000,
            catalog_refresh_ms: 24 * 60 * 60 * 1000,
            balance_refresh_ms: 5 * 60 * 1000,
            backoff_min_ms: 500,
            backoff_max_ms: 60_000,
            request_timeout_ms: 30_000,
            push_batch: 500,
            pull_page: 2_000,
        }
    }
}

impl SyncSettings {
    pub(crate) fn engine_config(&self, enrollment: &Enrollment) -> EngineConfig {
        let mut c = EngineConfig::new(
            enrollment.server_url.clone(),
            enrollment.device_id,
            enrollment.credential.clone(),
        );
        c.pinned_fingerprint = enrollment.pinned_fingerprint.clone();
        c.poll_interval = Duration::from_millis(self.poll_interval_ms.max(100));
        c.balance_refresh = Duration::from_millis(self.balance_refresh_ms);
        c.backoff_min = Duration::from_millis(self.backoff_min_ms.max(10));
        c.backoff_max = Duration::from_millis(self.backoff_max_ms.max(self.backoff_min_ms));
        c.request_timeout = Duration::from_millis(self.request_timeout_ms.max(100));
        c.push_batch = self.push_batch.clamp(1, 1_000);
        c.pull_page = self.pull_page.clamp(1, 10_000);
        // The cloud names the branch's store hub in this setting; the engine prefers the hub.
        c.hub_setting = Some(tenda_sync::protocol::hub_setting_key(
            enrollment.settings.branch_id,
        ));
        c
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(key: &str, value: &str) -> PosResult<T> {
    serde_json::from_str(value).map_err(|e| PosError::invalid(key, format!("not readable: {e}")))
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str) -> PosResult<T> {
    value
        .trim()
        .parse()
        .map_err(|_| PosError::invalid(key, format!("`{value}` is not a number")))
}

fn parse_bool(key: &str, value: &str) -> PosResult<bool> {
    tenda_domain::settings::parse_bool(key, value).map_err(|e| PosError::invalid(key, e.reason))
}

/// The store setting with the NFC-e emitter; a till is not enrolled without it.
pub(crate) const EMITTER_SETTING: &str = "fiscal.emitter";

/// Every setting key the device reads from the store's settings, for `branch`.
pub(crate) fn policy_keys(branch: &str) -> Vec<String> {
    let mut keys: Vec<String> = [
        EMITTER_SETTING,
        "policy.contingency",
        "policy.lockout",
        "policy.permissions",
        "policy.seller_discount_limit_bp",
        "policy.sell_without_stock_check",
        "policy.utc_offset_minutes",
        "policy.sefaz_timeout_ms",
        "policy.scale_label",
        "policy.card_offline_limits",
        "sync.poll_interval_ms",
        "sync.catalog_refresh_ms",
        "sync.balance_refresh_ms",
        "sync.backoff_min_ms",
        "sync.backoff_max_ms",
        "sync.request_timeout_ms",
        "sync.push_batch",
        "sync.pull_page",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .collect();
    keys.push(format!("fiscal.emitter.{branch}"));
    keys
}

/// The device's configuration from its enrollment and the store's settings. `previous` keeps
/// what the store does not set (a device's local choices, e.g. its printer); without it the
/// defaults apply. Every unreadable setting is refused with its key.
pub(crate) fn config_from_settings(
    device_id: DeviceId,
    settings: &DeviceSettings,
    policies: &BTreeMap<String, String>,
    previous: Option<&PosConfig>,
) -> PosResult<PosConfig> {
    let branch_key = format!("{EMITTER_SETTING}.{}", settings.branch_id);
    let (key, emitter_json) = match (policies.get(&branch_key), policies.get(EMITTER_SETTING)) {
        (Some(v), _) => (branch_key.as_str(), v),
        (None, Some(v)) => (EMITTER_SETTING, v),
        (None, None) => {
            return match previous {
                Some(p) => Ok(p.clone()),
                None => Err(PosError::state(
                    "enroll",
                    "the store has no NFC-e emitter settings: the owner sets `fiscal.emitter` in \
                     the back office and issues a new enrollment code",
                )),
            };
        }
    };
    let mut emitter: EmitterSettings = parse_json(key, emitter_json)?;
    emitter.series = u16::try_from(settings.nfce_series)
        .ok()
        .filter(|s| (1..=999).contains(s))
        .ok_or_else(|| PosError::invalid("nfce_series", "must be between 1 and 999"))?;
    let mut config = match previous {
        Some(p) => PosConfig {
            emitter,
            ..p.clone()
        },
        None => PosConfig::new(device_id, emitter),
    };
    config.device_id = device_id;
    for (key, value) in policies {
        // The store-settings schema, the one the server checks values against.
        tenda_domain::settings::check(key, value).map_err(|e| PosError::invalid(key, e.reason))?;
        match key.as_str() {
            "policy.contingency" => {
                config.contingency = parse_json::<ContingencyPolicy>(key, value)?
            }
            "policy.lockout" => config.lockout = parse_json::<LockoutPolicy>(key, value)?,
            "policy.permissions" => {
                config.permissions = parse_json::<PermissionMatrix>(key, value)?
            }
            "policy.scale_label" => {
                config.scale_label = parse_json::<ScaleLabelFormat>(key, value)?
            }
            "policy.card_offline_limits" => config.card_offline_limits = parse_json(key, value)?,
            "policy.seller_discount_limit_bp" => {
                config.permissions.seller_discount_limit_bp = parse_num(key, value)?
            }
            "policy.sell_without_stock_check" => {
                config.sell_without_stock_check = parse_bool(key, value)?
            }
            "policy.utc_offset_minutes" => config.utc_offset_minutes = parse_num(key, value)?,
            "policy.sefaz_timeout_ms" => config.sefaz_timeout_ms = parse_num(key, value)?,
            "sync.poll_interval_ms" => config.sync.poll_interval_ms = parse_num(key, value)?,
            "sync.catalog_refresh_ms" => config.sync.catalog_refresh_ms = parse_num(key, value)?,
            "sync.balance_refresh_ms" => config.sync.balance_refresh_ms = parse_num(key, value)?,
            "sync.backoff_min_ms" => config.sync.backoff_min_ms = parse_num(key, value)?,
            "sync.backoff_max_ms" => config.sync.backoff_max_ms = parse_num(key, value)?,
            "sync.request_timeout_ms" => config.sync.request_timeout_ms = parse_num(key, value)?,
            "sync.push_batch" => config.sync.push_batch = parse_num(key, value)?,
            "sync.pull_page" => config.sync.pull_page = parse_num(key, value)?,
            _ => {}
        }
    }
    Ok(config)
}

/// Turns the engine's events into the point of sale's status. Holds the `Pos` weakly: the
/// engine must not keep a dropped register alive.
pub(crate) struct StatusBridge {
    pub inner: Weak<Inner>,
    pub runtime: tokio::runtime::Handle,
    /// Tells `Pos::enroll` (and tests) that a sync round completed or the server refused us.
    pub rounds: tokio::sync::watch::Sender<RoundState>,
}

/// What the engine has achieved since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RoundState {
    /// Completed sync rounds (push + pull).
    pub completed: u64,
    /// The server's refusal, if it refuses this device.
    pub refused: Option<String>,
}

impl SyncListener for StatusBridge {
    fn on_event(&self, event: SyncEvent) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let hub = &inner.hub;
        match event {
            SyncEvent::Online => {
                crate::pos::card_ops::link_restored_by_engine(&inner);
                hub.update(|s| {
                    s.link = LinkState::Online;
                    s.sync_refused = None;
                });
            }
            SyncEvent::Offline { .. } => {
                crate::pos::lock(&inner.device).link = LinkState::Offline;
                hub.update(|s| {
                    s.link = LinkState::Offline;
                    s.pull = None;
                });
            }
            SyncEvent::Pending { count } => hub.update(|s| s.pending_sync = count),
            SyncEvent::PushProgress { pending, .. } => hub.update(|s| {
                s.pending_sync = pending;
                s.last_sync = Some(Utc::now());
            }),
            // The engine keeps the folios in the store itself.
            SyncEvent::Folios(_) => {}
            // Whether the engine syncs with the store hub or the cloud directly; either way the
            // link state above says online or offline.
            SyncEvent::Upstream { .. } => {}
            SyncEvent::PullProgress { received, total } => {
                hub.update(|s| s.pull = Some(PullProgress { received, total }))
            }
            SyncEvent::PullFinished { .. } => {
                hub.update(|s| {
                    s.pull = None;
                    s.last_sync = Some(Utc::now());
                });
                // The store's settings may have changed: apply them to the configuration.
                let inner = inner.clone();
                self.runtime.spawn_blocking(move || {
                    if let Err(e) = crate::pos::sync_ops::refresh_config(&inner) {
                        tracing::warn!(error = %e, "store settings not applied");
                    }
                });
            }
            SyncEvent::Synced => {
                crate::pos::card_ops::link_restored_by_engine(&inner);
                hub.update(|s| {
                    s.link = LinkState::Online;
                    s.pull = None;
                    s.last_sync = Some(Utc::now());
                    s.sync_refused = None;
                });
                let first = !hub.current().initial_load_complete;
                if first {
                    let store = inner.store.clone();
                    let done = self.runtime.spawn_blocking(move || {
                        crate::pos::lock(&store).set_setting(INITIAL_LOAD_DONE, &true)
                    });
                    let inner = Arc::downgrade(&inner);
                    let rounds = self.rounds.clone();
                    self.runtime.spawn(async move {
                        let saved = matches!(done.await, Ok(Ok(())));
                        if let (true, Some(inner)) = (saved, inner.upgrade()) {
                            inner.hub.update(|s| s.initial_load_complete = true);
                        }
                        rounds.send_modify(|r| r.completed += 1);
                    });
                    return;
                }
                self.rounds.send_modify(|r| r.completed += 1);
            }
            SyncEvent::Refused { message, .. } => {
                hub.update(|s| s.sync_refused = Some(message.clone()));
                self.rounds.send_modify(|r| r.refused = Some(message));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenda_fiscal::nfce::Crt;
    use tenda_fiscal::samples::sample_emitter;

    fn device_settings(series: u32) -> DeviceSettings {
        DeviceSettings {
            store_id: uuid::Uuid::now_v7(),
            store_name: "Mercado".into(),
            branch_id: uuid::Uuid::now_v7(),
            branch_name: "Matriz".into(),
            nfce_series: series,
            policies: BTreeMap::new(),
        }
    }

    #[test]
    fn store_settings_become_the_device_configuration() {
        let ds = device_settings(7);
        let emitter = serde_json::to_string(&sample_emitter(Crt::SimplesNacional)).expect("json");
        let policies: BTreeMap<String, String> = [
            ("fiscal.emitter", emitter.as_str()),
            ("policy.sell_without_stock_check", "false"),
            ("policy.seller_discount_limit_bp", "500"),
            ("policy.utc_offset_minutes", "-240"),
            ("sync.catalog_refresh_ms", "3600000"),
            ("something.else", "ignored"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let device = DeviceId::new();
        let c = config_from_settings(device, &ds, &policies, None).expect("config");
        assert_eq!(c.device_id, device);
        assert_eq!(
            c.emitter.series, 7,
            "the series comes from enrollment, never the emitter"
        );
        assert!(!c.sell_without_stock_check);
        assert_eq!(c.permissions.seller_discount_limit_bp, 500);
        assert_eq!(c.utc_offset_minutes, -240);
        assert_eq!(c.sync.catalog_refresh_ms, 3_600_000);
        assert_eq!(
            c.sync.poll_interval_ms,
            SyncSettings::default().poll_interval_ms
        );
    }

    #[test]
    fn a_branch_emitter_wins_and_bad_values_name_their_key() {
        let ds = device_settings(2);
        let mut store_emitter = sample_emitter(Crt::SimplesNacional);
        store_emitter.legal_name = "LOJA MATRIZ".into();
        let mut branch_emitter = store_emitter.clone();
        branch_emitter.legal_name = "LOJA FILIAL".into();
        let mut policies = BTreeMap::new();
        policies.insert(
            "fiscal.emitter".to_owned(),
            serde_json::to_string(&store_emitter).expect("json"),
        );
        policies.insert(
            format!("fiscal.emitter.{}", ds.branch_id),
            serde_json::to_string(&branch_emitter).expect("json"),
        );
        let c = config_from_settings(DeviceId::new(), &ds, &policies, None).expect("config");
        assert_eq!(c.emitter.legal_name, "LOJA FILIAL");

        policies.insert("policy.sefaz_timeout_ms".into(), "soon".into());
        let err = config_from_settings(DeviceId::new(), &ds, &policies, None).expect_err("bad");
        assert!(
            matches!(&err, PosError::InvalidInput { field, .. } if field == "policy.sefaz_timeout_ms"),
            "{err:?}"
        );
    }

    #[test]
    fn without_an_emitter_a_new_device_is_refused_but_a_configured_one_keeps_its_own() {
        let ds = device_settings(1);
        let err = config_from_settings(DeviceId::new(), &ds, &BTreeMap::new(), None)
            .expect_err("no emitter");
        assert_eq!(err.code(), "invalid_state");
        let previous = PosConfig::new(DeviceId::new(), sample_emitter(Crt::SimplesNacional));
        let kept = config_from_settings(previous.device_id, &ds, &BTreeMap::new(), Some(&previous))
            .expect("kept");
        assert_eq!(kept, previous);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn engine_events_become_the_registers_status() {
        let dir = tempfile::tempdir().expect("dir");
        let config = PosConfig::new(DeviceId::new(), sample_emitter(Crt::SimplesNacional));
        let pos = crate::pos::test_pos(dir.path(), config);
        let (tx, mut rx) = tokio::sync::watch::channel(RoundState::default());
        let bridge = StatusBridge {
            inner: Arc::downgrade(&pos.inner),
            runtime: tokio::runtime::Handle::current(),
            rounds: tx,
        };
        assert_eq!(pos.link(), LinkState::Offline);
        bridge.on_event(SyncEvent::Pending { count: 7 });
        bridge.on_event(SyncEvent::PullProgress {
            received: 40,
            total: Some(100),
        });
        let s = pos.status();
        assert_eq!(s.pending_sync, 7);
        assert_eq!(
            s.pull,
            Some(PullProgress {
                received: 40,
                total: Some(100)
            })
        );
        bridge.on_event(SyncEvent::PushProgress {
            applied_through: 7,
            pending: 0,
        });
        bridge.on_event(SyncEvent::Online);
        bridge.on_event(SyncEvent::Synced);
        rx.wait_for(|r| r.completed == 1).await.expect("a round");
        let s = pos.status();
        assert_eq!(
            pos.link(),
            LinkState::Online,
            "PIX and online notes follow sync"
        );
        assert_eq!(
            (s.link, s.pending_sync, s.pull),
            (LinkState::Online, 0, None)
        );
        assert!(s.last_sync.is_some() && s.initial_load_complete);
        assert!(s.unavailable.is_empty(), "nothing is refused while online");
        assert_eq!(
            pos.inspect_store(|st| st.setting::<bool>(INITIAL_LOAD_DONE))
                .expect("read"),
            Some(true),
            "the first load is remembered across restarts"
        );

        bridge.on_event(SyncEvent::Offline {
            reason: "connection refused".into(),
            retry_in: std::time::Duration::from_millis(500),
        });
        assert_eq!(pos.link(), LinkState::Offline);
        assert!(!pos.status().unavailable.is_empty());
        bridge.on_event(SyncEvent::Refused {
            code: tenda_sync::protocol::ErrorCode::Forbidden,
            message: "device revoked".into(),
        });
        assert_eq!(pos.status().sync_refused.as_deref(), Some("device revoked"));
        assert_eq!(rx.borrow().refused.as_deref(), Some("device revoked"));

        // A dropped register is not kept alive by the engine's listener.
        drop(pos);
        bridge.on_event(SyncEvent::Online);
    }

    #[test]
    fn the_credential_never_shows_in_debug_output() {
        let e = Enrollment {
            server_url: "http://127.0.0.1:1".into(),
            device_id: uuid::Uuid::now_v7(),
            credential: "s3cr3t-credential".into(),
            pinned_fingerprint: None,
            settings: device_settings(1),
            enrolled_at: Utc::now(),
        };
        assert!(!format!("{e:?}").contains("s3cr3t"));
    }
}
