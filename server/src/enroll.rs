//! Stores, branches and device enrollment with one-time codes.

use diesel::prelude::*;
use std::collections::BTreeMap;
use tenda_sync::protocol::{DeviceSettings, EnrollRequest, EnrollResponse, PROTOCOL_VERSION};
use uuid::Uuid;

use crate::auth::{hash_password, new_secret, normalize_code, secret_hash};
use crate::db::{Conn, now_ms};
use crate::error::Error;
use crate::schema::{branches, devices, enrollment_codes, settings, stores, users};
use crate::write_tx;
use tenda_domain::{Secret, TextKind};

/// What [`create_store`] made: ids to log in with and to enroll devices into.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CreatedStore {
    pub store_id: Uuid,
    pub branch_id: Uuid,
    pub owner_id: Uuid,
}

/// Creates a store with its first branch and its owner (who logs in with `owner_password`).
pub fn create_store(
    conn: &mut Conn,
    store_name: &str,
    branch_name: &str,
    owner_name: &str,
    owner_login: &str,
    owner_password: &str,
) -> Result<CreatedStore, Error> {
    for (field, kind, v) in [
        ("store_name", TextKind::Name, store_name),
        ("branch_name", TextKind::Name, branch_name),
        ("owner_name", TextKind::Name, owner_name),
        ("owner_login", TextKind::Login, owner_login.trim()),
    ] {
        Error::check_text(field, kind, v)?;
    }
    // The owner opens the back office: a password by the domain's rule, never a till PIN.
    Secret::from_typed(owner_password)
        .validate_for_back_office()
        .map_err(|e| Error::Rule {
            field: "owner_password".into(),
            rule: e.code().into(),
            reason: e.to_string(),
            seq: None,
        })?;
    let hash = hash_password(owner_password)?;
    let created = CreatedStore {
        store_id: Uuid::now_v7(),
        branch_id: Uuid::now_v7(),
        owner_id: Uuid::now_v7(),
    };
    let now = now_ms();
    write_tx!(conn, |c| {
        diesel::insert_into(stores::table)
            .values((
                stores::id.eq(created.store_id.to_string()),
                stores::name.eq(store_name.trim()),
                stores::next_folio.eq(1i64),
                stores::change_seq.eq(1i64),
                stores::created_at.eq(now),
            ))
            .execute(c)?;
        diesel::insert_into(branches::table)
            .values((
                branches::id.eq(created.branch_id.to_string()),
                branches::store_id.eq(created.store_id.to_string()),
                branches::name.eq(branch_name.trim()),
                branches::created_at.eq(now),
            ))
            .execute(c)?;
        diesel::insert_into(users::table)
            .values((
                users::id.eq(created.owner_id.to_string()),
                users::store_id.eq(created.store_id.to_string()),
                users::name.eq(owner_name.trim()),
                users::login.eq(owner_login.trim()),
                users::role.eq("owner"),
                users::credential_hash.eq(&hash),
                users::active.eq(true),
                users::version.eq(1i64),
            ))
            .execute(c)?;
        Ok(())
    })?;
    Ok(created)
}

/// A freshly issued enrollment code; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IssuedCode {
    pub code: String,
    pub branch_id: Uuid,
    pub nfce_series: u32,
    pub expires_at: i64,
}

/// Checks an enrollment request without the database: protocol, device name, code length.
pub fn check_request(req: &EnrollRequest) -> Result<(), Error> {
    if req.protocol > PROTOCOL_VERSION {
        return Err(Error::UnsupportedProtocol(format!(
            "protocol version {} is not supported; this server speaks 1..={PROTOCOL_VERSION}",
            req.protocol
        )));
    }
    let name = req.device_name.trim();
    Error::check_text("device_name", TextKind::Name, name)?;
    // A code is 12 characters; anything much longer is not one (and is not hashed).
    if req.code.len() > 64 {
        return Err(Error::Unauthorized(
            "unknown, used or expired enrollment code".into(),
        ));
    }
    Ok(())
}

/// Trades a one-time code for a device identity. A used or expired code is refused (401).
pub fn enroll(conn: &mut Conn, req: &EnrollRequest) -> Result<EnrollResponse, Error> {
    check_request(req)?;
    let name = req.device_name.trim();
    let code_hash = secret_hash(&normalize_code(&req.code));
    let credential = new_secret();
    let device_id = Uuid::now_v7();
    let now = now_ms();
    write_tx!(conn, |c| {
        // Claiming the code is one conditional update: two devices racing for it cannot both win.
        let claimed = diesel::update(
            enrollment_codes::table
                .filter(enrollment_codes::code_hash.eq(&code_hash))
                .filter(enrollment_codes::used_at.is_null())
                .filter(enrollment_codes::expires_at.gt(now)),
        )
        .set((
            enrollment_codes::used_at.eq(Some(now)),
            enrollment_codes::device_id.eq(Some(device_id.to_string())),
        ))
        .execute(c)?;
        if claimed != 1 {
            return Err(Error::Unauthorized(
                "unknown, used or expired enrollment code".into(),
            ));
        }
        let (store_id, branch_id, series): (String, String, i64) = enrollment_codes::table
            .find(&code_hash)
            .select((
                enrollment_codes::store_id,
                enrollment_codes::branch_id,
                enrollment_codes::nfce_series,
            ))
            .first(c)?;
        // A series belongs to one live device: two codes issued for it before either was used
        // cannot both enroll (two devices would number notes alike). The store row is taken
        // first so concurrent enrollments of one store check this one after the other.
        diesel::update(stores::table.find(&store_id))
            .set(stores::change_seq.eq(stores::change_seq))
            .execute(c)?;
        // Series 0 marks a store hub's code: hubs issue no notes, so a branch's hubs share it.
        let taken: i64 = devices::table
            .filter(devices::store_id.eq(&store_id))
            .filter(devices::nfce_series.eq(series))
            .filter(devices::revoked.eq(false))
            .count()
            .get_result(c)?;
        if series != 0 && taken > 0 {
            return Err(Error::Conflict(format!(
                "NFC-e series {series} already belongs to an active device; revoke it or issue \
                 a code for another series"
            )));
        }
        diesel::insert_into(devices::table)
            .values((
                devices::id.eq(device_id.to_string()),
                devices::store_id.eq(&store_id),
                devices::branch_id.eq(&branch_id),
                devices::name.eq(name),
                devices::credential_hash.eq(secret_hash(&credential)),
                devices::nfce_series.eq(series),
                devices::last_seq.eq(0i64),
                devices::revoked.eq(false),
                devices::enrolled_at.eq(now),
            ))
            .execute(c)?;
        // A hub code enrolls only a store hub, which the branch's tills are then told about.
        crate::hub::cloud::HubCloudTx::register_hub(
            c,
            &device_id.to_string(),
            &store_id,
            &branch_id,
            series,
            req.hub.as_ref(),
        )?;
        let store_name: String = stores::table
            .find(&store_id)
            .select(stores::name)
            .first(c)?;
        let branch_name: String = branches::table
            .find(&branch_id)
            .select(branches::name)
            .first(c)?;
        let policies: BTreeMap<String, String> = settings::table
            .filter(settings::store_id.eq(&store_id))
            .select((settings::key, settings::value))
            .load::<(String, String)>(c)?
            .into_iter()
            .collect();
        // Refused here, inside the claim's transaction: the claim rolls back with it and the
        // owner can still use the code once the setting exists.
        if let Some(missing) = req.required_settings.iter().find(|key| {
            !policies.contains_key(key.as_str())
                && !policies.contains_key(&format!("{key}.{branch_id}"))
        }) {
            return Err(Error::Conflict(format!(
                "the store has no `{missing}` setting yet (for the store or this branch): the \
                 owner sets it in the back office, then this enrollment code still works"
            )));
        }
        Ok(EnrollResponse {
            protocol: PROTOCOL_VERSION,
            device_id,
            credential: credential.clone(),
            settings: DeviceSettings {
                store_id: store_id
                    .parse()
                    .map_err(|_| Error::Internal("malformed store id".into()))?,
                store_name,
                branch_id: branch_id
                    .parse()
                    .map_err(|_| Error::Internal("malformed branch id".into()))?,
                branch_name,
                nfce_series: u32::try_from(series)
                    .map_err(|_| Error::Internal("bad series".into()))?,
                policies,
            },
        })
    })
}
