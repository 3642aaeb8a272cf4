//! The cloud's side of store hubs: hub enrollment codes, the hub's registration when it enrolls
//! (the branch's `sync.hub.<branch>` setting then tells the tills where it is), the relay of a
//! till's mutations through its hub, and the list of the branch's devices a hub mirrors.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use diesel::prelude::*;
use serde::Deserialize;
use tenda_sync::protocol::{
    HubDeviceRecord, HubDevicesResponse, HubEndpoint, PROTOCOL_VERSION, PushResponse,
    hub_setting_key, paths,
};
use uuid::Uuid;

use crate::auth::{
    AuthedDevice, Permission, authenticate_device, bearer, new_enrollment_code, normalize_code,
    secret_hash,
};
use crate::backoffice::as_user;
use crate::db::{Conn, now_ms};
use crate::enroll::IssuedCode;
use crate::error::Error;
use crate::http::{AppState, JsonBody};
use crate::mutation::PushBody;
use crate::schema::{branches, devices, enrollment_codes, hub_endpoints, settings};
use crate::tx::Tx;
use crate::{with_conn, write_tx};

/// NFC-e series 0 does not exist: a code (and a device) with it is a store hub, which issues
/// no notes.
pub const HUB_SERIES: i64 = 0;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(paths::HUB_RELAY, post(relay))
        .route(paths::HUB_DEVICES, post(branch_devices))
        .route("/api/v1/admin/hub-codes", post(issue_hub_code))
}

/// Steps of hub enrollment and revocation inside the caller's transaction.
pub trait HubCloudTx {
    /// Called by enrollment once the code is claimed: a hub code enrolls only a hub (a device
    /// that says where its tills reach it), a till code only a till.
    fn register_hub(
        &mut self,
        device_id: &str,
        store_id: &str,
        branch_id: &str,
        series: i64,
        hub: Option<&HubEndpoint>,
    ) -> Result<(), Error>;

    /// Called when a device is revoked: if it is its branch's hub, the tills stop using it.
    fn forget_hub(&mut self, store_id: &str, device_id: &str) -> Result<(), Error>;
}

macro_rules! impl_hub_cloud_tx {
    ($conn:ty) => {
        impl HubCloudTx for $conn {
            fn register_hub(
                &mut self,
                device_id: &str,
                store_id: &str,
                branch_id: &str,
                series: i64,
                hub: Option<&HubEndpoint>,
            ) -> Result<(), Error> {
                let c = self;
                let hub = match (series == HUB_SERIES, hub) {
                    (false, None) => return Ok(()),
                    (true, Some(h)) => h,
                    (true, None) => {
                        return Err(Error::invalid(
                            "code",
                            "this code enrolls a store hub (`tenda-server hub`), not a till",
                        ));
                    }
                    (false, Some(_)) => {
                        return Err(Error::invalid(
                            "hub",
                            "a store hub enrolls with a hub code (back office: hub-codes)",
                        ));
                    }
                };
                if !(hub.url.starts_with("https://") || hub.url.starts_with("http://"))
                    || hub.url.len() > 200
                {
                    return Err(Error::invalid(
                        "hub.url",
                        "an http(s) URL of at most 200 characters",
                    ));
                }
                if hub.url.starts_with("https://")
                    && !hub
                        .fingerprint
                        .as_deref()
                        .is_some_and(|f| tenda_sync::fingerprint::fingerprints_match(f, f))
                {
                    return Err(Error::invalid(
                        "hub.fingerprint",
                        "an https hub gives the SHA-256 of its certificate for tills to pin",
                    ));
                }
                diesel::insert_into(hub_endpoints::table)
                    .values((
                        hub_endpoints::device_id.eq(device_id),
                        hub_endpoints::store_id.eq(store_id),
                        hub_endpoints::branch_id.eq(branch_id),
                        hub_endpoints::url.eq(&hub.url),
                        hub_endpoints::fingerprint.eq(&hub.fingerprint),
                        hub_endpoints::enrolled_at.eq(now_ms()),
                    ))
                    .execute(c)?;
                let value =
                    serde_json::to_string(hub).map_err(|e| Error::Internal(e.to_string()))?;
                let branch: Uuid = branch_id
                    .parse()
                    .map_err(|_| Error::Internal("malformed branch id".into()))?;
                put_store_setting(c, store_id, &hub_setting_key(branch), &value)?;
                c.audit(store_id, device_id, "hub.enroll", branch_id, "ok")
            }

            fn forget_hub(&mut self, store_id: &str, device_id: &str) -> Result<(), Error> {
                let c = self;
                let row: Option<(String, String)> = hub_endpoints::table
                    .find(device_id)
                    .filter(hub_endpoints::store_id.eq(store_id))
                    .select((hub_endpoints::branch_id, hub_endpoints::url))
                    .first(c)
                    .optional()?;
                let Some((branch_id, url)) = row else {
                    return Ok(());
                };
                let branch: Uuid = branch_id
                    .parse()
                    .map_err(|_| Error::Internal("malformed branch id".into()))?;
                let key = hub_setting_key(branch);
                let current: Option<String> = settings::table
                    .filter(settings::store_id.eq(store_id))
                    .filter(settings::key.eq(&key))
                    .select(settings::value)
                    .first(c)
                    .optional()?;
                // Only if the setting still names this hub (a newer hub may have replaced it).
                let names_it = current
                    .and_then(|v| serde_json::from_str::<HubEndpoint>(&v).ok())
                    .is_some_and(|h| h.url == url);
                if names_it {
                    put_store_setting(c, store_id, &key, "")?;
                }
                Ok(())
            }
        }

        impl PutStoreSetting for $conn {
            fn put_store_setting(
                &mut self,
                store_id: &str,
                key: &str,
                value: &str,
            ) -> Result<(), Error> {
                let version = self.next_version(store_id, 1)?;
                diesel::insert_into(settings::table)
                    .values((
                        settings::store_id.eq(store_id),
                        settings::key.eq(key),
                        settings::value.eq(value),
                        settings::version.eq(version),
                    ))
                    .on_conflict((settings::store_id, settings::key))
                    .do_update()
                    .set((settings::value.eq(value), settings::version.eq(version)))
                    .execute(self)?;
                Ok(())
            }
        }
    };
}

trait PutStoreSetting {
    fn put_store_setting(&mut self, store_id: &str, key: &str, value: &str) -> Result<(), Error>;
}

fn put_store_setting<C: PutStoreSetting>(
    c: &mut C,
    store_id: &str,
    key: &str,
    value: &str,
) -> Result<(), Error> {
    c.put_store_setting(store_id, key, value)
}

impl_hub_cloud_tx!(diesel::sqlite::SqliteConnection);
impl_hub_cloud_tx!(diesel::pg::PgConnection);

/// An enrolled, not revoked store hub, as proven by its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthedHub {
    pub device: AuthedDevice,
}

pub fn authenticate_hub(conn: &mut Conn, secret: &str) -> Result<AuthedHub, Error> {
    let device = authenticate_device(conn, secret)?;
    let is_hub: i64 = with_conn!(conn, |c| hub_endpoints::table
        .filter(hub_endpoints::device_id.eq(&device.id))
        .count()
        .get_result(c))?;
    if is_hub == 0 {
        return Err(Error::Forbidden(
            "only a store hub may relay for other devices".into(),
        ));
    }
    Ok(AuthedHub { device })
}

/// The till a hub relays for: a live device of the hub's own store and branch.
fn till_of_hub(conn: &mut Conn, hub: &AuthedHub, till: Uuid) -> Result<AuthedDevice, Error> {
    let row: Option<(String, String, bool, i64)> = with_conn!(conn, |c| devices::table
        .find(till.to_string())
        .select((
            devices::store_id,
            devices::branch_id,
            devices::revoked,
            devices::nfce_series
        ))
        .first(c)
        .optional())?;
    match row {
        Some((store, branch, revoked, series))
            if store == hub.device.store_id
                && branch == hub.device.branch_id
                && series != HUB_SERIES =>
        {
            if revoked {
                Err(Error::Forbidden("this device has been revoked".into()))
            } else {
                Ok(AuthedDevice {
                    id: till.to_string(),
                    store_id: store,
                    branch_id: branch,
                })
            }
        }
        // Another branch's or store's device is refused like an unknown one.
        _ => Err(Error::Forbidden(
            "this hub relays only for the devices of its own branch".into(),
        )),
    }
}

/// A till's push, relayed by its hub: applied exactly as if the till had pushed it (its own
/// device and numbering), so whichever way a mutation arrives first, it counts once.
async fn relay(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<PushBody>, Error>,
) -> Result<Json<PushResponse>, Error> {
    let secret = bearer(&headers)?;
    let hub = st
        .db
        .run(move |conn| authenticate_hub(conn, &secret))
        .await?;
    let JsonBody(req) = body?;
    st.db
        .run(move |conn| {
            let till = till_of_hub(conn, &hub, req.device)?;
            crate::push::push(conn, &till, &req)
        })
        .await
        .map(Json)
}

/// The devices of the hub's branch (tills only), with how far the cloud has applied each.
async fn branch_devices(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<HubDevicesResponse>, Error> {
    let secret = bearer(&headers)?;
    st.db
        .run(move |conn| {
            let hub = authenticate_hub(conn, &secret)?;
            let rows: Vec<(String, String, String, i64, bool, i64)> =
                with_conn!(conn, |c| devices::table
                    .filter(devices::store_id.eq(&hub.device.store_id))
                    .filter(devices::branch_id.eq(&hub.device.branch_id))
                    .filter(devices::nfce_series.ne(HUB_SERIES))
                    .order(devices::id.asc())
                    .select((
                        devices::id,
                        devices::name,
                        devices::credential_hash,
                        devices::nfce_series,
                        devices::revoked,
                        devices::last_seq,
                    ))
                    .load(c))?;
            let devices = rows
                .into_iter()
                .map(|(id, name, hash, series, revoked, last_seq)| {
                    Ok(HubDeviceRecord {
                        id: id
                            .parse()
                            .map_err(|_| Error::Internal("malformed device id".into()))?,
                        name,
                        credential_hash: hash,
                        nfce_series: u32::try_from(series)
                            .map_err(|_| Error::Internal("bad series".into()))?,
                        revoked,
                        last_seq: u64::try_from(last_seq)
                            .map_err(|_| Error::Internal("negative seq".into()))?,
                    })
                })
                .collect::<Result<_, Error>>()?;
            Ok(HubDevicesResponse {
                protocol: PROTOCOL_VERSION,
                devices,
            })
        })
        .await
        .map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HubCodeRequest {
    branch_id: Uuid,
    #[serde(default)]
    ttl_minutes: Option<i64>,
}

/// A one-time code for a branch's store hub (`tenda-server hub --code …`).
async fn issue_hub_code(
    State(st): State<AppState>,
    h: HeaderMap,
    JsonBody(r): JsonBody<HubCodeRequest>,
) -> Result<Json<IssuedCode>, Error> {
    as_user(
        &st,
        &h,
        Permission::WriteDevices,
        "hub.enrollment_code",
        move |conn, u| {
            let ttl_ms = r.ttl_minutes.unwrap_or(24 * 60).clamp(1, 7 * 24 * 60) * 60_000;
            let branch_id = r.branch_id.to_string();
            let code = new_enrollment_code();
            let now = now_ms();
            let expires_at = now + ttl_ms;
            write_tx!(conn, |c| {
                let branch_store: Option<String> = branches::table
                    .find(&branch_id)
                    .select(branches::store_id)
                    .first(c)
                    .optional()?;
                if branch_store.as_deref() != Some(u.store_id.as_str()) {
                    return Err(Error::NotFound("branch".into()));
                }
                diesel::insert_into(enrollment_codes::table)
                    .values((
                        enrollment_codes::code_hash.eq(secret_hash(&normalize_code(&code))),
                        enrollment_codes::store_id.eq(&u.store_id),
                        enrollment_codes::branch_id.eq(&branch_id),
                        enrollment_codes::nfce_series.eq(HUB_SERIES),
                        enrollment_codes::created_by.eq(&u.id),
                        enrollment_codes::created_at.eq(now),
                        enrollment_codes::expires_at.eq(expires_at),
                    ))
                    .execute(c)?;
                c.audit(&u.store_id, &u.id, "hub.enrollment_code", &branch_id, "ok")?;
                Ok(IssuedCode {
                    code: code.clone(),
                    branch_id: r.branch_id,
                    nfce_series: 0,
                    expires_at,
                })
            })
        },
    )
    .await
    .map(Json)
}
