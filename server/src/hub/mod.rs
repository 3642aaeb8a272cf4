//! The store hub: a `tenda-server` on the store's LAN, enrolled with the cloud like a till,
//! that keeps the store's tills in sync with each other while the internet is down and relays
//! their mutations to the cloud exactly once.
//!
//! - [`cloud`]: what the cloud serves hubs (hub codes, relay, the branch's devices).
//! - [`link`]: the hub's rounds with the cloud (devices, relay, pull, levels).
//! - [`queue`]: what a hub writes beside each till mutation it applies.
//! - here: starting a hub, and what it serves its tills beyond a plain server (pushes queued
//!   for relay and answered with the cloud's folios, a long poll for the next change, its
//!   state for the back office).

pub mod cloud;
pub mod link;
pub mod link_key;
pub mod queue;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tenda_sync::protocol::{
    HubEndpoint, PROTOCOL_VERSION, PushResponse, SaleFolio, WaitRequest, WaitResponse, paths,
};
use tokio::sync::{Notify, watch};

use crate::auth::{AuthedDevice, Permission, authenticate_device, bearer};
use crate::backoffice::as_user;
use crate::db::{Conn, DatabaseLocation, Db, now_ms};
use crate::error::Error;
use crate::http::{AppState, JsonBody};
use crate::mutation::PushBody;
use crate::schema::{devices, hub_endpoints, hub_link, hub_relay_queue, hub_sale_folios, stores};
use crate::{RunningServer, ServerConfig, TlsFiles, with_conn};

/// The longest a till's long poll is held.
const MAX_WAIT: Duration = Duration::from_secs(25);

/// A till that asked anything within this long counts as connected.
const CONNECTED_MS: i64 = 60_000;

/// How the link to the cloud stands, for the back office.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LinkState {
    pub upstream: String,
    /// The last round with the cloud succeeded.
    pub online: bool,
    pub last_contact_at: Option<i64>,
    pub last_error: Option<String>,
    /// The cloud revoked this hub: it refuses its tills, which then sync with the cloud.
    pub revoked: bool,
    /// Till mutations relayed since the hub started.
    pub relayed: u64,
}

/// A running hub's shared state.
#[derive(Debug)]
pub struct HubState {
    pub db: Db,
    /// Bumped after every change the tills can see; their long polls wait on it.
    changes: watch::Sender<u64>,
    /// Wakes the link (a till pushed: relay now).
    wake: Notify,
    link: Mutex<LinkState>,
    /// When each till last asked anything (ms).
    seen: Mutex<HashMap<String, i64>>,
}

impl HubState {
    pub fn new(db: Db) -> Self {
        HubState {
            db,
            changes: watch::channel(0).0,
            wake: Notify::new(),
            link: Mutex::new(LinkState::default()),
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn changed(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Moves whenever something the tills can see changed (a push, a relay, a pull).
    pub fn subscribe_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Till mutations waiting to be relayed to the cloud.
    pub async fn backlog(&self) -> Result<u64, Error> {
        let n: i64 = self
            .db
            .run(|conn| {
                with_conn!(conn, |c| hub_relay_queue::table.count().get_result(c))
                    .map_err(Error::from)
            })
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub fn link_state(&self) -> LinkState {
        self.link.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn update_link(&self, f: impl FnOnce(&mut LinkState)) {
        f(&mut self.link.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Refuses tills once the cloud has revoked this hub (they then go to the cloud directly).
    pub fn check_serving(&self) -> Result<(), Error> {
        if self.link_state().revoked {
            return Err(Error::Forbidden(
                "this store hub has been revoked by the cloud; sync with the cloud".into(),
            ));
        }
        Ok(())
    }

    pub fn touch(&self, device: &AuthedDevice) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(device.id.clone(), now_ms());
    }
}

/// The routes a hub serves beyond a plain server's (the push and pull handlers consult
/// [`AppState::hub`] themselves).
pub fn hub_routes() -> Router<AppState> {
    Router::new().route(paths::WAIT, post(wait))
}

/// Routes every server serves: the cloud's hub endpoints and the back office's hub view.
pub fn routes() -> Router<AppState> {
    cloud::routes().route("/api/v1/admin/hub", get(status))
}

/// A till's push at the hub: applied here exactly once and queued for the cloud in the same
/// transaction; the reply's folios are the cloud's (known once the hub has relayed), never the
/// hub's own numbering.
pub async fn push(
    hub: Arc<HubState>,
    device: AuthedDevice,
    req: PushBody,
) -> Result<PushResponse, Error> {
    hub.check_serving()?;
    hub.touch(&device);
    let resp = hub
        .db
        .run(move |conn| {
            let mut resp = crate::push::push_relayed(conn, &device, &req, true)?;
            let ids: Vec<String> = resp.folios.iter().map(|f| f.sale_id.to_string()).collect();
            resp.folios = cloud_folios(conn, &ids)?;
            Ok(resp)
        })
        .await?;
    hub.changed();
    hub.wake.notify_one();
    Ok(resp)
}

fn cloud_folios(conn: &mut Conn, sale_ids: &[String]) -> Result<Vec<SaleFolio>, Error> {
    let mut out = Vec::new();
    for chunk in sale_ids.chunks(500) {
        let rows: Vec<(String, i64)> = with_conn!(&mut *conn, |c| hub_sale_folios::table
            .filter(hub_sale_folios::sale_id.eq_any(chunk))
            .select((hub_sale_folios::sale_id, hub_sale_folios::folio))
            .load(c))?;
        for (id, folio) in rows {
            out.push(SaleFolio {
                sale_id: id
                    .parse()
                    .map_err(|_| Error::Internal("malformed sale id".into()))?,
                folio: u64::try_from(folio).map_err(|_| Error::Internal("bad folio".into()))?,
            });
        }
    }
    Ok(out)
}

/// Answers once the store's change version passes `after` (or at the timeout with the same).
async fn wait(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<WaitRequest>, Error>,
) -> Result<Json<WaitResponse>, Error> {
    let secret = bearer(&headers)?;
    let device = st
        .db
        .run(move |conn| authenticate_device(conn, &secret))
        .await?;
    let JsonBody(req) = body?;
    let hub = st
        .hub
        .clone()
        .ok_or_else(|| Error::NotFound("long poll (only a store hub answers it)".into()))?;
    hub.check_serving()?;
    hub.touch(&device);
    let mut rx = hub.changes.subscribe();
    let timeout = req
        .timeout_ms
        .map_or(MAX_WAIT, Duration::from_millis)
        .min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        rx.borrow_and_update();
        let store = device.store_id.clone();
        let version: i64 = st
            .db
            .run(move |conn| {
                with_conn!(conn, |c| stores::table
                    .find(&store)
                    .select(stores::change_seq)
                    .first(c))
                .map_err(Error::from)
            })
            .await?;
        let version = u64::try_from(version).unwrap_or(0);
        if req.after.is_none_or(|a| version > a) {
            return Ok(Json(WaitResponse {
                protocol: PROTOCOL_VERSION,
                version,
            }));
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return Ok(Json(WaitResponse {
                protocol: PROTOCOL_VERSION,
                version,
            }));
        }
    }
}

/// A till as the hub's back office shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TillState {
    pub device_id: String,
    pub name: String,
    pub revoked: bool,
    /// When the till last asked the hub anything (ms), since the hub started.
    pub last_contact_at: Option<i64>,
    pub connected: bool,
    /// Its mutations applied here and not yet acknowledged by the cloud.
    pub backlog: u64,
}

/// `GET /api/v1/admin/hub`: on a hub, its tills, relay backlog and cloud link; on the cloud,
/// the store's hubs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum HubStatus {
    Hub {
        link: LinkState,
        tills: Vec<TillState>,
        /// Till mutations waiting to be relayed, and when the oldest was queued.
        backlog: u64,
        oldest_queued_at: Option<i64>,
    },
    Cloud {
        hubs: Vec<CloudHub>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CloudHub {
    pub device_id: String,
    pub branch_id: String,
    pub url: String,
    pub revoked: bool,
    pub last_seen_at: Option<i64>,
}

async fn status(State(st): State<AppState>, h: HeaderMap) -> Result<Json<HubStatus>, Error> {
    let hub = st.hub.clone();
    as_user(
        &st,
        &h,
        Permission::ReadReports,
        "read.hub",
        move |conn, u| {
            let Some(hub) = hub else {
                type Row = (String, String, String, bool, Option<i64>);
                let rows: Vec<Row> = with_conn!(conn, |c| hub_endpoints::table
                    .inner_join(devices::table.on(devices::id.eq(hub_endpoints::device_id)))
                    .filter(hub_endpoints::store_id.eq(&u.store_id))
                    .select((
                        hub_endpoints::device_id,
                        hub_endpoints::branch_id,
                        hub_endpoints::url,
                        devices::revoked,
                        devices::last_seen_at,
                    ))
                    .load(c))?;
                return Ok(HubStatus::Cloud {
                    hubs: rows
                        .into_iter()
                        .map(
                            |(device_id, branch_id, url, revoked, last_seen_at)| CloudHub {
                                device_id,
                                branch_id,
                                url,
                                revoked,
                                last_seen_at,
                            },
                        )
                        .collect(),
                });
            };
            type Tills = Vec<(String, String, bool)>;
            type Queued = Vec<(String, i64)>;
            let (tills, queued, oldest): (Tills, Queued, Option<i64>) = with_conn!(conn, |c| {
                let tills = devices::table
                    .filter(devices::store_id.eq(&u.store_id))
                    .order(devices::name.asc())
                    .select((devices::id, devices::name, devices::revoked))
                    .load(c)?;
                let queued = hub_relay_queue::table
                    .group_by(hub_relay_queue::device_id)
                    .select((hub_relay_queue::device_id, diesel::dsl::count_star()))
                    .load(c)?;
                let oldest = hub_relay_queue::table
                    .select(diesel::dsl::min(hub_relay_queue::queued_at))
                    .first(c)?;
                Ok::<_, Error>((tills, queued, oldest))
            })?;
            let queued: HashMap<String, i64> = queued.into_iter().collect();
            let seen = hub.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let now = now_ms();
            let tills = tills
                .into_iter()
                .map(|(device_id, name, revoked)| {
                    let last = seen.get(&device_id).copied();
                    TillState {
                        backlog: queued
                            .get(&device_id)
                            .copied()
                            .and_then(|n| u64::try_from(n).ok())
                            .unwrap_or(0),
                        connected: last.is_some_and(|t| now - t <= CONNECTED_MS),
                        last_contact_at: last,
                        device_id,
                        name,
                        revoked,
                    }
                })
                .collect::<Vec<_>>();
            Ok(HubStatus::Hub {
                link: hub.link_state(),
                backlog: tills.iter().map(|t| t.backlog).sum(),
                tills,
                oldest_queued_at: oldest,
            })
        },
    )
    .await
    .map(Json)
}

/// How to run a hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The hub's own database (SQLite on the store's machine, typically).
    pub database: DatabaseLocation,
    pub listen: SocketAddr,
    /// The hub's certificate (self-signed; tills pin it). Without it, loopback only.
    pub tls: Option<TlsFiles>,
    /// The cloud's base URL.
    pub upstream: String,
    /// The cloud certificate's SHA-256, if known beforehand; otherwise the one seen at
    /// enrollment is pinned.
    pub upstream_fingerprint: Option<String>,
    /// The one-time hub code (needed only the first time).
    pub code: Option<String>,
    /// Shown in the back office.
    pub name: String,
    /// The URL the tills use to reach the hub (default: the listening address).
    pub advertise_url: Option<String>,
    /// How often the hub syncs with the cloud when nothing wakes it.
    pub round_interval: Duration,
    /// The file holding the key that seals the hub's cloud credential in its database (created
    /// the first time). Beside a SQLite database by default; a hub on PostgreSQL names one.
    pub link_key: Option<PathBuf>,
}

impl HubConfig {
    pub fn new(
        database: DatabaseLocation,
        listen: SocketAddr,
        upstream: impl Into<String>,
    ) -> Self {
        HubConfig {
            listen,
            tls: None,
            upstream: upstream.into(),
            upstream_fingerprint: None,
            code: None,
            name: "Hub".into(),
            advertise_url: None,
            round_interval: Duration::from_secs(2),
            link_key: match &database {
                DatabaseLocation::Sqlite(path) => Some(path.with_extension("link-key")),
                DatabaseLocation::Postgres(_) => None,
            },
            database,
        }
    }
}

/// A running hub: its server and the link task.
#[derive(Debug)]
pub struct RunningHub {
    pub server: RunningServer,
    pub state: Arc<HubState>,
    link: tokio::task::JoinHandle<()>,
}

impl RunningHub {
    pub fn base_url(&self) -> &str {
        &self.server.base_url
    }

    /// Stops the link and the server.
    pub async fn shutdown(self) {
        self.link.abort();
        let _ = self.link.await;
        self.server.shutdown().await;
    }

    /// Runs until the server ends.
    pub async fn wait(self) -> Result<(), Error> {
        let r = self.server.wait().await;
        self.link.abort();
        r
    }
}

/// Opens the hub's database, starts serving, enrolls with the cloud the first time (by
/// `config.code`), and starts the link.
pub async fn start_hub(config: HubConfig) -> Result<RunningHub, Error> {
    let key = match config.link_key.as_deref() {
        Some(path) => link_key::LinkKey::load_or_create(path)?,
        None => {
            return Err(Error::Config(
                "a hub on PostgreSQL needs a file for its link key (--link-key)".into(),
            ));
        }
    };
    let database = config.database.clone();
    let db = tokio::task::spawn_blocking(move || Db::open(&database))
        .await
        .map_err(|e| Error::Internal(format!("opening the database: {e}")))??;
    let state = Arc::new(HubState::new(db.clone()));
    let server = crate::start_serving(
        db.clone(),
        ServerConfig {
            database: config.database.clone(),
            listen: config.listen,
            tls: config.tls.clone(),
        },
        Some(state.clone()),
    )
    .await?;
    let row = match identity(&db, &config, &server, &key).await {
        Ok(row) => row,
        Err(e) => {
            // Not enrolled, or its identity unreadable: nothing to serve the tills yet.
            server.shutdown().await;
            return Err(e);
        }
    };
    state.update_link(|l| {
        l.upstream = row.upstream_url.clone();
        l.revoked = row.revoked;
    });
    let link = link::Link::new(db, row, Duration::from_secs(30))?;
    let task = tokio::spawn(run_link(link, state.clone(), config.round_interval));
    Ok(RunningHub {
        server,
        state,
        link: task,
    })
}

/// The hub's identity at the cloud: the stored one (its credential opened with `key`), or, the
/// first time, the one its hub code is traded for.
async fn identity(
    db: &Db,
    config: &HubConfig,
    server: &RunningServer,
    key: &link_key::LinkKey,
) -> Result<link::LinkRow, Error> {
    match db.run(link::read_link).await? {
        Some(row) => link::open_credential(db, row, key).await,
        None => enroll_first(db, config, server, key).await,
    }
}

/// The hub's first start: trades the hub code for its identity at the cloud.
async fn enroll_first(
    db: &Db,
    config: &HubConfig,
    server: &RunningServer,
    key: &link_key::LinkKey,
) -> Result<link::LinkRow, Error> {
    let code = config.code.as_deref().ok_or_else(|| {
        Error::Config(
            "this hub is not enrolled yet: give the hub code from the cloud's back office".into(),
        )
    })?;
    let advertise = HubEndpoint {
        url: config
            .advertise_url
            .clone()
            .unwrap_or_else(|| server.base_url.clone()),
        fingerprint: server.cert_fingerprint.clone(),
    };
    link::enroll(
        db,
        &config.upstream,
        config.upstream_fingerprint.as_deref(),
        code,
        &config.name,
        advertise,
        key,
    )
    .await
    .map_err(|e| match e {
        link::LinkError::Local(e) => e,
        other => Error::Config(format!("enrolling with the cloud: {other}")),
    })
}

async fn run_link(mut link: link::Link, state: Arc<HubState>, interval: Duration) {
    let mut failures: u32 = 0;
    loop {
        let result = link.round().await;
        let ok = result.is_ok();
        match result {
            Ok(report) => {
                failures = 0;
                state.update_link(|l| {
                    l.online = true;
                    l.revoked = false;
                    l.last_contact_at = Some(now_ms());
                    l.last_error = None;
                    l.relayed += report.relayed;
                });
                let _ = link
                    .db
                    .run(|conn| link::record_contact(conn, None, false))
                    .await;
                if report.changed {
                    state.changed();
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let revoked = e.is_revocation();
                let message = e.to_string();
                tracing::warn!(error = %message, "hub link round failed");
                state.update_link(|l| {
                    l.online = false;
                    l.revoked = revoked;
                    l.last_error = Some(message.clone());
                });
                let _ = link
                    .db
                    .run(move |conn| link::record_contact(conn, Some(&message), revoked))
                    .await;
            }
        }
        if ok {
            tokio::select! {
                _ = state.wake.notified() => {}
                _ = tokio::time::sleep(interval) => {}
            }
        } else {
            // Not sooner, whatever wakes it: the cloud is away or refusing.
            let backoff = Duration::from_millis(200u64.saturating_mul(1 << failures.min(5)));
            tokio::time::sleep(backoff.min(Duration::from_secs(5))).await;
        }
    }
}

/// Whether this database belongs to an enrolled hub (the CLI's `serve` refuses to run one as
/// a plain server, which would not relay).
pub fn is_hub_database(conn: &mut Conn) -> Result<bool, Error> {
    let n: i64 = with_conn!(conn, |c| hub_link::table.count().get_result(c))?;
    Ok(n > 0)
}
