//! The hub's link to the cloud: enrollment, then rounds of (1) the branch's devices, (2) the
//! relay of queued till mutations, (3) a pull of the cloud's changes into the hub's copy, and
//! (4) the levels the tills see: the cloud's stock and balances plus the deltas the cloud has
//! not received yet. Relay comes before pull, so a pulled level already holds everything the
//! cloud acknowledged.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use diesel::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tenda_sync::pinning::{PinnedClient, client_for};
use tenda_sync::protocol::{
    Change, EnrollRequest, EnrollResponse, ErrorBody, ErrorCode, HubDevicesResponse, HubEndpoint,
    PROTOCOL_VERSION, PullPage, PullRequest, PushResponse, paths,
};

use crate::db::{Conn, Db, now_ms};
use crate::error::Error;
use crate::hub::link_key::LinkKey;
use crate::schema::{
    branches, customer_balances, customers, devices, hub_cloud_levels, hub_device_progress,
    hub_link, hub_pending_deltas, hub_relay_queue, hub_sale_folios, products, settings,
    stock_levels, stores, users,
};
use crate::tx::Tx;
use crate::{with_conn, write_tx};

/// Mutations per relay request (the cloud's push limit).
const RELAY_BATCH: i64 = tenda_sync::protocol::MAX_PUSH_BATCH as i64;

/// The hub's identity at the cloud, as stored in `hub_link`.
#[derive(Debug, Clone)]
pub struct LinkRow {
    pub upstream_url: String,
    pub upstream_fingerprint: Option<String>,
    pub device_id: String,
    pub credential: String,
    pub store_id: String,
    pub branch_id: String,
    pub cloud_cursor: Option<String>,
    pub revoked: bool,
}

/// A failure talking to the cloud.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the cloud could not be reached: {0}")]
    Offline(String),
    #[error("the cloud no longer accepts this hub: {0}")]
    Revoked(String),
    #[error("the cloud refused ({status}): {}", body.message)]
    Refused { status: u16, body: ErrorBody },
    #[error("the cloud answered something unreadable: {0}")]
    Protocol(String),
    #[error(transparent)]
    Local(#[from] Error),
}

impl LinkError {
    /// The cloud says this hub is revoked (or unknown): it must stop serving its tills.
    pub fn is_revocation(&self) -> bool {
        matches!(self, LinkError::Revoked(_))
    }
}

pub async fn post_json<Resp: DeserializeOwned>(
    client: &PinnedClient,
    url: &str,
    credential: Option<&str>,
    body: Vec<u8>,
) -> Result<Resp, LinkError> {
    let mut req = client
        .http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(c) = credential {
        req = req.bearer_auth(c);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| LinkError::Offline(e.to_string()))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| LinkError::Offline(e.to_string()))?;
    if status.is_success() {
        serde_json::from_slice(&bytes).map_err(|e| LinkError::Protocol(e.to_string()))
    } else {
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or(ErrorBody {
            code: ErrorCode::Internal,
            message: format!("HTTP {status} without an error body"),
            field: None,
            expected_seq: None,
            seq: None,
            rule: None,
        });
        Err(LinkError::Refused {
            status: status.as_u16(),
            body,
        })
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, LinkError> {
    serde_json::to_vec(v).map_err(|e| LinkError::Protocol(e.to_string()))
}

pub fn read_link(conn: &mut Conn) -> Result<Option<LinkRow>, Error> {
    type Row = (
        String,
        Option<String>,
        String,
        String,
        String,
        String,
        Option<String>,
        bool,
    );
    let row: Option<Row> = with_conn!(conn, |c| hub_link::table
        .find(1i64)
        .select((
            hub_link::upstream_url,
            hub_link::upstream_fingerprint,
            hub_link::device_id,
            hub_link::credential,
            hub_link::store_id,
            hub_link::branch_id,
            hub_link::cloud_cursor,
            hub_link::revoked,
        ))
        .first(c)
        .optional())?;
    Ok(row.map(
        |(
            upstream_url,
            upstream_fingerprint,
            device_id,
            credential,
            store_id,
            branch_id,
            cloud_cursor,
            revoked,
        )| LinkRow {
            upstream_url,
            upstream_fingerprint,
            device_id,
            credential,
            store_id,
            branch_id,
            cloud_cursor,
            revoked,
        },
    ))
}

/// The link row with its credential opened (it is read sealed); a credential an earlier version
/// kept in clear is sealed in the database now.
pub async fn open_credential(db: &Db, mut row: LinkRow, key: &LinkKey) -> Result<LinkRow, Error> {
    match key.open(&row.credential)? {
        Some(clear) => row.credential = clear,
        None => {
            let sealed = key.seal(&row.credential);
            db.run(move |conn| {
                write_tx!(conn, |c| {
                    diesel::update(hub_link::table.find(1i64))
                        .set(hub_link::credential.eq(&sealed))
                        .execute(c)?;
                    Ok(())
                })
            })
            .await?;
        }
    }
    Ok(row)
}

/// Enrolls this hub with the cloud by a one-time hub code and creates its copy of the store
/// (store and branch rows; the rest arrives by pull). The cloud's certificate seen now is pinned
/// for good (or must match `expected_fingerprint` when given).
pub async fn enroll(
    db: &Db,
    upstream: &str,
    expected_fingerprint: Option<&str>,
    code: &str,
    name: &str,
    advertise: HubEndpoint,
    key: &LinkKey,
) -> Result<LinkRow, LinkError> {
    let client = client_for(upstream, expected_fingerprint, Duration::from_secs(30))
        .map_err(|e| Error::Config(e.to_string()))?;
    let req = EnrollRequest {
        protocol: PROTOCOL_VERSION,
        code: code.to_owned(),
        device_name: name.to_owned(),
        required_settings: Vec::new(),
        hub: Some(advertise),
    };
    let resp: EnrollResponse = post_json(
        &client,
        &format!("{upstream}{}", paths::ENROLL),
        None,
        encode(&req)?,
    )
    .await?;
    let pinned = client
        .seen_fingerprint()
        .or_else(|| expected_fingerprint.map(str::to_owned));
    let link = LinkRow {
        upstream_url: upstream.to_owned(),
        upstream_fingerprint: pinned,
        device_id: resp.device_id.to_string(),
        credential: resp.credential,
        store_id: resp.settings.store_id.to_string(),
        branch_id: resp.settings.branch_id.to_string(),
        cloud_cursor: None,
        revoked: false,
    };
    let (l, settings) = (link.clone(), resp.settings);
    let sealed = key.seal(&link.credential);
    db.run(move |conn| {
        write_tx!(conn, |c| {
            diesel::insert_into(stores::table)
                .values((
                    stores::id.eq(&l.store_id),
                    stores::name.eq(&settings.store_name),
                    stores::next_folio.eq(1i64),
                    stores::change_seq.eq(1i64),
                    stores::created_at.eq(now_ms()),
                ))
                .execute(c)?;
            diesel::insert_into(branches::table)
                .values((
                    branches::id.eq(&l.branch_id),
                    branches::store_id.eq(&l.store_id),
                    branches::name.eq(&settings.branch_name),
                    branches::created_at.eq(now_ms()),
                ))
                .execute(c)?;
            diesel::insert_into(hub_link::table)
                .values((
                    hub_link::id.eq(1i64),
                    hub_link::upstream_url.eq(&l.upstream_url),
                    hub_link::upstream_fingerprint.eq(&l.upstream_fingerprint),
                    hub_link::device_id.eq(&l.device_id),
                    hub_link::credential.eq(&sealed),
                    hub_link::store_id.eq(&l.store_id),
                    hub_link::branch_id.eq(&l.branch_id),
                    hub_link::revoked.eq(false),
                ))
                .execute(c)?;
            Ok(())
        })
    })
    .await?;
    Ok(link)
}

/// What one link round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundReport {
    pub relayed: u64,
    pub pulled: u64,
    /// Something the tills can see changed (they are woken).
    pub changed: bool,
}

/// The hub's own credential refused: revoked (or forgotten) by the cloud.
fn revoked_if_refused<T>(r: Result<T, LinkError>) -> Result<T, LinkError> {
    match r {
        Err(LinkError::Refused {
            status: 401 | 403,
            body,
        }) => Err(LinkError::Revoked(body.message)),
        other => other,
    }
}

/// The link's connection to the cloud.
pub struct Link {
    pub db: Db,
    pub row: LinkRow,
    client: PinnedClient,
}

impl Link {
    pub fn new(db: Db, row: LinkRow, timeout: Duration) -> Result<Self, Error> {
        if row.upstream_url.starts_with("https://") && row.upstream_fingerprint.is_none() {
            return Err(Error::Config(
                "the cloud's certificate was not pinned at enrollment".into(),
            ));
        }
        let client = client_for(
            &row.upstream_url,
            row.upstream_fingerprint.as_deref(),
            timeout,
        )
        .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Link { db, row, client })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.row.upstream_url)
    }

    /// One round: devices, relay, pull, levels.
    pub async fn round(&mut self) -> Result<RoundReport, LinkError> {
        let mut report = RoundReport::default();
        // A new hub takes the catalog before it knows its tills: a till it knows can push, and
        // a sale naming a product the hub does not hold yet would be refused.
        if self.row.cloud_cursor.is_none() {
            report.pulled = revoked_if_refused(self.pull_all().await)?;
        }
        report.changed |= revoked_if_refused(self.refresh_devices().await)?;
        report.relayed = self.relay_all().await?;
        report.changed |= report.relayed > 0;
        report.pulled += self.pull_all().await?;
        report.changed |= report.pulled > 0;
        report.changed |= self.recompute_levels().await?;
        Ok(report)
    }

    /// Mirrors the branch's devices: credentials, revocations, and how far the cloud has each
    /// till (a till that pushed straight to the cloud while the hub was away resumes here
    /// from there; queued entries the cloud already has are dropped).
    async fn refresh_devices(&mut self) -> Result<bool, LinkError> {
        let resp: HubDevicesResponse = post_json(
            &self.client,
            &self.url(paths::HUB_DEVICES),
            Some(&self.row.credential),
            b"{}".to_vec(),
        )
        .await?;
        let row = self.row.clone();
        let changed = self
            .db
            .run(move |conn| {
                write_tx!(conn, |c| {
                    let mut changed = false;
                    for d in &resp.devices {
                        let id = d.id.to_string();
                        let cloud_seq = i64::try_from(d.last_seq)
                            .map_err(|_| Error::Internal("seq beyond i64".into()))?;
                        let existing: Option<(i64, bool, String)> = devices::table
                            .find(&id)
                            .select((
                                devices::last_seq,
                                devices::revoked,
                                devices::credential_hash,
                            ))
                            .first(c)
                            .optional()?;
                        match existing {
                            None => {
                                diesel::insert_into(devices::table)
                                    .values((
                                        devices::id.eq(&id),
                                        devices::store_id.eq(&row.store_id),
                                        devices::branch_id.eq(&row.branch_id),
                                        devices::name.eq(&d.name),
                                        devices::credential_hash.eq(&d.credential_hash),
                                        devices::nfce_series.eq(i64::from(d.nfce_series)),
                                        devices::last_seq.eq(cloud_seq),
                                        devices::revoked.eq(d.revoked),
                                        devices::enrolled_at.eq(now_ms()),
                                    ))
                                    .execute(c)?;
                                changed = true;
                            }
                            Some((seq, revoked, hash)) => {
                                if seq < cloud_seq
                                    || revoked != d.revoked
                                    || hash != d.credential_hash
                                {
                                    diesel::update(devices::table.find(&id))
                                        .set((
                                            devices::last_seq.eq(seq.max(cloud_seq)),
                                            devices::revoked.eq(d.revoked),
                                            devices::credential_hash.eq(&d.credential_hash),
                                        ))
                                        .execute(c)?;
                                }
                            }
                        }
                        diesel::insert_into(hub_device_progress::table)
                            .values((
                                hub_device_progress::device_id.eq(&id),
                                hub_device_progress::cloud_last_seq.eq(cloud_seq),
                            ))
                            .on_conflict(hub_device_progress::device_id)
                            .do_update()
                            .set(hub_device_progress::cloud_last_seq.eq(cloud_seq))
                            .execute(c)?;
                        let dropped = diesel::delete(
                            hub_relay_queue::table
                                .filter(hub_relay_queue::device_id.eq(&id))
                                .filter(hub_relay_queue::seq.le(cloud_seq)),
                        )
                        .execute(c)?;
                        diesel::delete(
                            hub_pending_deltas::table
                                .filter(hub_pending_deltas::device_id.eq(&id))
                                .filter(hub_pending_deltas::seq.le(cloud_seq)),
                        )
                        .execute(c)?;
                        changed |= dropped > 0;
                    }
                    Ok(changed)
                })
            })
            .await?;
        Ok(changed)
    }

    /// Relays every queued mutation, device by device in seq order, in batches. Each till
    /// keeps its own (device, seq): the cloud applies each once, however it arrives.
    async fn relay_all(&mut self) -> Result<u64, LinkError> {
        let waiting: Vec<String> = self
            .db
            .run(|conn| {
                with_conn!(conn, |c| hub_relay_queue::table
                    .select(hub_relay_queue::device_id)
                    .distinct()
                    .load(c))
                .map_err(Error::from)
            })
            .await?;
        let mut relayed = 0u64;
        for device in waiting {
            match self.relay_device(&device).await {
                Ok(n) => relayed += n,
                // That till was revoked (or moved): its entries stay queued, in sight of the
                // back office; the other tills' go on.
                Err(LinkError::Refused { status: 403, body }) => {
                    tracing::warn!(%device, reason = %body.message, "the cloud refuses this till's relay");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(relayed)
    }

    async fn relay_device(&mut self, device: &str) -> Result<u64, LinkError> {
        let mut relayed = 0u64;
        loop {
            let d = device.to_owned();
            let rows: Vec<(i64, String, String)> = self
                .db
                .run(move |conn| {
                    with_conn!(conn, |c| hub_relay_queue::table
                        .filter(hub_relay_queue::device_id.eq(&d))
                        .order(hub_relay_queue::seq.asc())
                        .limit(RELAY_BATCH)
                        .select((
                            hub_relay_queue::seq,
                            hub_relay_queue::kind,
                            hub_relay_queue::payload,
                        ))
                        .load(c))
                    .map_err(Error::from)
                })
                .await?;
            if rows.is_empty() {
                return Ok(relayed);
            }
            let first = rows.first().map_or(0, |r| r.0);
            let n = rows.len() as u64;
            let body = relay_body(device, &rows)?;
            drop(rows);
            let result: Result<PushResponse, LinkError> = post_json(
                &self.client,
                &self.url(paths::HUB_RELAY),
                Some(&self.row.credential),
                body,
            )
            .await;
            let (through, folios) = match result {
                Ok(resp) => (resp.applied_through, resp.folios),
                Err(LinkError::Refused { body, .. })
                    if body.code == ErrorCode::SequenceGap
                        && body.expected_seq.is_some_and(|e| e > first as u64) =>
                {
                    // The cloud already has these (the till pushed them directly).
                    (body.expected_seq.unwrap_or(1) - 1, Vec::new())
                }
                Err(e) => return Err(e),
            };
            relayed += n;
            let store_id = self.row.store_id.clone();
            let device = device.to_owned();
            self.db
                .run(move |conn| {
                    let through = i64::try_from(through)
                        .map_err(|_| Error::Internal("seq beyond i64".into()))?;
                    write_tx!(conn, |c| {
                        diesel::delete(
                            hub_relay_queue::table
                                .filter(hub_relay_queue::device_id.eq(&device))
                                .filter(hub_relay_queue::seq.le(through)),
                        )
                        .execute(c)?;
                        diesel::delete(
                            hub_pending_deltas::table
                                .filter(hub_pending_deltas::device_id.eq(&device))
                                .filter(hub_pending_deltas::seq.le(through)),
                        )
                        .execute(c)?;
                        diesel::insert_into(hub_device_progress::table)
                            .values((
                                hub_device_progress::device_id.eq(&device),
                                hub_device_progress::cloud_last_seq.eq(through),
                            ))
                            .on_conflict(hub_device_progress::device_id)
                            .do_update()
                            .set(hub_device_progress::cloud_last_seq.eq(through))
                            .execute(c)?;
                        if !folios.is_empty() {
                            // Learned now: the tills pull them past their cursors.
                            let version = c.next_version(&store_id, 1)?;
                            for f in &folios {
                                let folio = i64::try_from(f.folio)
                                    .map_err(|_| Error::Internal("folio beyond i64".into()))?;
                                diesel::insert_into(hub_sale_folios::table)
                                    .values((
                                        hub_sale_folios::sale_id.eq(f.sale_id.to_string()),
                                        hub_sale_folios::device_id.eq(&device),
                                        hub_sale_folios::folio.eq(folio),
                                        hub_sale_folios::version.eq(version),
                                    ))
                                    .on_conflict_do_nothing()
                                    .execute(c)?;
                            }
                        }
                        Ok(())
                    })
                })
                .await?;
        }
    }

    /// Pulls the cloud's changes since the saved cursor into the hub's copy.
    async fn pull_all(&mut self) -> Result<u64, LinkError> {
        let mut pulled = 0u64;
        loop {
            let req = PullRequest {
                protocol: PROTOCOL_VERSION,
                cursor: self.row.cloud_cursor.clone(),
                page_size: Some(5_000),
                only: None,
            };
            let page: PullPage = post_json(
                &self.client,
                &self.url(paths::PULL),
                Some(&self.row.credential),
                encode(&req)?,
            )
            .await?;
            pulled += page.changes.len() as u64;
            let more = page.more;
            let cursor = page.cursor.clone();
            let row = self.row.clone();
            self.db
                .run(move |conn| apply_page(conn, &row, page))
                .await?;
            self.row.cloud_cursor = Some(cursor);
            if !more {
                return Ok(pulled);
            }
        }
    }

    /// The levels the tills see: the cloud's, plus the deltas queued for it. Only levels that
    /// differ are written (with a new version, so the tills pull them).
    async fn recompute_levels(&mut self) -> Result<bool, LinkError> {
        let row = self.row.clone();
        Ok(self
            .db
            .run(move |conn| {
                write_tx!(conn, |c| {
                    let mut target: BTreeMap<(String, String), i64> = BTreeMap::new();
                    let cloud: Vec<(String, String, i64)> = hub_cloud_levels::table
                        .select((
                            hub_cloud_levels::subject_kind,
                            hub_cloud_levels::subject_id,
                            hub_cloud_levels::amount,
                        ))
                        .load(c)?;
                    for (k, s, a) in cloud {
                        target.insert((k, s), a);
                    }
                    let pending: Vec<(String, String, i64)> = hub_pending_deltas::table
                        .select((
                            hub_pending_deltas::subject_kind,
                            hub_pending_deltas::subject_id,
                            hub_pending_deltas::amount,
                        ))
                        .load(c)?;
                    for (k, s, a) in pending {
                        let slot = target.entry((k, s)).or_default();
                        *slot = slot.saturating_add(a);
                    }
                    let stock: HashMap<String, i64> = stock_levels::table
                        .filter(stock_levels::branch_id.eq(&row.branch_id))
                        .select((stock_levels::product_id, stock_levels::quantity))
                        .load::<(String, i64)>(c)?
                        .into_iter()
                        .collect();
                    let balances: HashMap<String, i64> = customer_balances::table
                        .filter(customer_balances::store_id.eq(&row.store_id))
                        .select((
                            customer_balances::customer_id,
                            customer_balances::balance_cents,
                        ))
                        .load::<(String, i64)>(c)?
                        .into_iter()
                        .collect();
                    let differs: Vec<(&(String, String), &i64)> = target
                        .iter()
                        .filter(|((k, s), a)| {
                            let now = if k == "stock" {
                                stock.get(s)
                            } else {
                                balances.get(s)
                            };
                            now != Some(*a)
                        })
                        .collect();
                    if differs.is_empty() {
                        return Ok(false);
                    }
                    let version = c.next_version(&row.store_id, 1)?;
                    for ((kind, subject), amount) in differs {
                        if kind == "stock" {
                            diesel::insert_into(stock_levels::table)
                                .values((
                                    stock_levels::branch_id.eq(&row.branch_id),
                                    stock_levels::product_id.eq(subject),
                                    stock_levels::store_id.eq(&row.store_id),
                                    stock_levels::quantity.eq(amount),
                                    stock_levels::version.eq(version),
                                ))
                                .on_conflict((stock_levels::branch_id, stock_levels::product_id))
                                .do_update()
                                .set((
                                    stock_levels::quantity.eq(amount),
                                    stock_levels::version.eq(version),
                                ))
                                .execute(c)?;
                        } else {
                            diesel::insert_into(customer_balances::table)
                                .values((
                                    customer_balances::customer_id.eq(subject),
                                    customer_balances::store_id.eq(&row.store_id),
                                    customer_balances::balance_cents.eq(amount),
                                    customer_balances::version.eq(version),
                                ))
                                .on_conflict(customer_balances::customer_id)
                                .do_update()
                                .set((
                                    customer_balances::balance_cents.eq(amount),
                                    customer_balances::version.eq(version),
                                ))
                                .execute(c)?;
                        }
                    }
                    Ok(true)
                })
            })
            .await?)
    }
}

/// The relay request for one till, written from the queued rows (payloads as pushed).
fn relay_body(device: &str, rows: &[(i64, String, String)]) -> Result<Vec<u8>, LinkError> {
    #[derive(Serialize)]
    struct Entry<'a> {
        seq: i64,
        kind: &'a str,
        payload: &'a RawValue,
    }
    #[derive(Serialize)]
    struct Body<'a> {
        protocol: u32,
        device: &'a str,
        mutations: Vec<Entry<'a>>,
    }
    let mutations = rows
        .iter()
        .map(|(seq, kind, payload)| {
            let payload: &RawValue = serde_json::from_str(payload)
                .map_err(|e| LinkError::Protocol(format!("queued payload: {e}")))?;
            Ok(Entry {
                seq: *seq,
                kind,
                payload,
            })
        })
        .collect::<Result<Vec<_>, LinkError>>()?;
    encode(&Body {
        protocol: PROTOCOL_VERSION,
        device,
        mutations,
    })
}

/// Writes one pulled page into the hub's copy, with its cursor, in one transaction. Records
/// keep a version at least the cloud's (so a till moving between hub and cloud never holds a
/// newer version than what it is sent) and at least the hub's next one (so the tills' cursors
/// see them).
fn apply_page(conn: &mut Conn, row: &LinkRow, page: PullPage) -> Result<(), Error> {
    write_tx!(conn, |c| {
        // An empty page only moves the cursor: the tills' versions stay put (nothing to pull).
        let base = if page.changes.is_empty() {
            0
        } else {
            c.next_version(&row.store_id, 1)?
        };
        let mut top = base;
        let now = now_ms();
        for change in &page.changes {
            let v = |cloud: u64| -> i64 { i64::try_from(cloud).unwrap_or(i64::MAX).max(base) };
            match change {
                Change::Setting(s) => {
                    let version = v(s.version);
                    top = top.max(version);
                    diesel::insert_into(settings::table)
                        .values((
                            settings::store_id.eq(&row.store_id),
                            settings::key.eq(&s.key),
                            settings::value.eq(&s.value),
                            settings::version.eq(version),
                        ))
                        .on_conflict((settings::store_id, settings::key))
                        .do_update()
                        .set((settings::value.eq(&s.value), settings::version.eq(version)))
                        .execute(c)?;
                }
                Change::User(u) => {
                    let version = v(u.version);
                    top = top.max(version);
                    diesel::insert_into(users::table)
                        .values((
                            users::id.eq(u.id.to_string()),
                            users::store_id.eq(&row.store_id),
                            users::name.eq(&u.name),
                            users::login.eq(&u.login),
                            users::role.eq(&u.role),
                            users::credential_hash.eq(&u.credential_hash),
                            users::active.eq(u.active),
                            users::version.eq(version),
                        ))
                        .on_conflict(users::id)
                        .do_update()
                        .set((
                            users::name.eq(&u.name),
                            users::login.eq(&u.login),
                            users::role.eq(&u.role),
                            users::credential_hash.eq(&u.credential_hash),
                            users::active.eq(u.active),
                            users::version.eq(version),
                        ))
                        .execute(c)?;
                }
                Change::Product(p) => {
                    let version = v(p.version);
                    top = top.max(version);
                    let fiscal = p.fiscal.to_string();
                    diesel::insert_into(products::table)
                        .values((
                            products::id.eq(p.id.to_string()),
                            products::store_id.eq(&row.store_id),
                            products::sku.eq(&p.sku),
                            products::gtin.eq(&p.gtin),
                            products::name.eq(&p.name),
                            products::unit.eq(&p.unit),
                            products::price_cents.eq(p.price_cents),
                            products::fiscal.eq(&fiscal),
                            products::active.eq(p.active),
                            products::version.eq(version),
                            products::updated_at.eq(now),
                        ))
                        .on_conflict(products::id)
                        .do_update()
                        .set((
                            products::sku.eq(&p.sku),
                            products::gtin.eq(&p.gtin),
                            products::name.eq(&p.name),
                            products::unit.eq(&p.unit),
                            products::price_cents.eq(p.price_cents),
                            products::fiscal.eq(&fiscal),
                            products::active.eq(p.active),
                            products::version.eq(version),
                            products::updated_at.eq(now),
                        ))
                        .execute(c)?;
                }
                Change::Customer(cu) => {
                    let version = v(cu.version);
                    top = top.max(version);
                    diesel::insert_into(customers::table)
                        .values((
                            customers::id.eq(cu.id.to_string()),
                            customers::store_id.eq(&row.store_id),
                            customers::name.eq(&cu.name),
                            customers::tax_id.eq(&cu.tax_id),
                            customers::phone.eq(&cu.phone),
                            customers::overdraft_limit_cents.eq(cu.overdraft_limit_cents),
                            customers::active.eq(cu.active),
                            customers::version.eq(version),
                            customers::updated_at.eq(now),
                        ))
                        .on_conflict(customers::id)
                        .do_update()
                        .set((
                            customers::name.eq(&cu.name),
                            customers::tax_id.eq(&cu.tax_id),
                            customers::phone.eq(&cu.phone),
                            customers::overdraft_limit_cents.eq(cu.overdraft_limit_cents),
                            customers::active.eq(cu.active),
                            customers::version.eq(version),
                            customers::updated_at.eq(now),
                        ))
                        .execute(c)?;
                    c.set_cloud_level("balance", &cu.id.to_string(), cu.balance_cents)?;
                }
                Change::StockLevel(l) => {
                    c.set_cloud_level("stock", &l.product_id.to_string(), l.quantity)?;
                }
                // The cloud does not relay folios to a hub through pull.
                Change::SaleFolio(_) => {}
            }
        }
        diesel::update(stores::table.find(&row.store_id))
            .set(stores::change_seq.eq(top))
            .filter(stores::change_seq.lt(top))
            .execute(c)?;
        diesel::update(hub_link::table.find(1i64))
            .set((
                hub_link::cloud_cursor.eq(Some(&page.cursor)),
                hub_link::last_contact_at.eq(Some(now)),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// Records the cloud's level of one subject (`stock` or `balance`).
trait CloudLevel {
    fn set_cloud_level(&mut self, kind: &str, subject: &str, amount: i64) -> Result<(), Error>;
}

macro_rules! impl_cloud_level {
    ($conn:ty) => {
        impl CloudLevel for $conn {
            fn set_cloud_level(
                &mut self,
                kind: &str,
                subject: &str,
                amount: i64,
            ) -> Result<(), Error> {
                diesel::insert_into(hub_cloud_levels::table)
                    .values((
                        hub_cloud_levels::subject_kind.eq(kind),
                        hub_cloud_levels::subject_id.eq(subject),
                        hub_cloud_levels::amount.eq(amount),
                    ))
                    .on_conflict((hub_cloud_levels::subject_kind, hub_cloud_levels::subject_id))
                    .do_update()
                    .set(hub_cloud_levels::amount.eq(amount))
                    .execute(self)?;
                Ok(())
            }
        }
    };
}

impl_cloud_level!(diesel::sqlite::SqliteConnection);
impl_cloud_level!(diesel::pg::PgConnection);

/// Marks the link's last contact and error (shown in the back office).
pub fn record_contact(conn: &mut Conn, error: Option<&str>, revoked: bool) -> Result<(), Error> {
    let now = now_ms();
    with_conn!(conn, |c| {
        if error.is_none() {
            diesel::update(hub_link::table.find(1i64))
                .set((
                    hub_link::last_contact_at.eq(Some(now)),
                    hub_link::last_error.eq(None::<String>),
                ))
                .execute(c)?;
        } else {
            diesel::update(hub_link::table.find(1i64))
                .set((
                    hub_link::last_error.eq(error),
                    hub_link::revoked.eq(revoked),
                ))
                .execute(c)?;
        }
        Ok::<_, Error>(())
    })
}
