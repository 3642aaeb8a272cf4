//! Users repository (users come from the server with their credential hashes) and settings.

use diesel::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tenda_domain::{Role, User, UserId};

use crate::cached::PutSetting;
use crate::error::{Error, Result, corrupt};
use crate::schema::{settings, users};
use crate::store::Store;

type UserRow = (Vec<u8>, String, String, String, String, bool, i64);

fn decode(r: UserRow) -> Result<User> {
    let (id, name, login, role, credential_hash, active, version) = r;
    Ok(User {
        id: UserId::from_slice(&id).map_err(|e| corrupt("user id", e))?,
        name,
        login,
        role: Role::from_code(&role).ok_or_else(|| corrupt("user role", role.clone()))?,
        credential_hash,
        active,
        version,
    })
}

const USER_COLUMNS: (
    users::id,
    users::name,
    users::login,
    users::role,
    users::credential_hash,
    users::active,
    users::version,
) = (
    users::id,
    users::name,
    users::login,
    users::role,
    users::credential_hash,
    users::active,
    users::version,
);

pub(crate) fn upsert_user(conn: &mut SqliteConnection, u: &User, only_newer: bool) -> Result<bool> {
    u.validate()?;
    let id = u.id.as_bytes().to_vec();
    if only_newer {
        let stored: Option<i64> = users::table
            .filter(users::id.eq(&id))
            .select(users::version)
            .first(conn)
            .optional()?;
        if stored.is_some_and(|v| v > u.version) {
            return Ok(false);
        }
    }
    diesel::replace_into(users::table)
        .values((
            users::id.eq(id),
            users::name.eq(u.name.trim()),
            users::login.eq(u.login.trim()),
            users::role.eq(u.role.code()),
            users::credential_hash.eq(&u.credential_hash),
            users::active.eq(u.active),
            users::version.eq(u.version),
        ))
        .execute(conn)?;
    Ok(true)
}

pub(crate) fn put_setting(
    conn: &mut SqliteConnection,
    key: &str,
    value: &str,
    version: i64,
) -> Result<()> {
    check_setting_key(key)?;
    serde_json::from_str::<serde::de::IgnoredAny>(value).map_err(|_| Error::InvalidInput {
        field: "value",
        reason: "must be JSON".into(),
    })?;
    write_setting(conn, key, value, version)
}

pub(crate) fn check_setting_key(key: &str) -> Result<()> {
    if key.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "key",
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

/// Writes a setting whose key and JSON the caller has checked.
pub(crate) fn write_setting(
    conn: &mut SqliteConnection,
    key: &str,
    value: &str,
    version: i64,
) -> Result<()> {
    PutSetting {
        key: key.to_owned(),
        value: value.to_owned(),
        version,
    }
    .execute(conn)?;
    Ok(())
}

impl Store {
    pub fn save_user(&mut self, user: &User) -> Result<()> {
        self.write(|c| upsert_user(c, user, false).map(|_| ()))
    }

    pub fn user(&mut self, id: UserId) -> Result<Option<User>> {
        let row: Option<UserRow> = users::table
            .filter(users::id.eq(id.as_bytes().to_vec()))
            .select(USER_COLUMNS)
            .first(&mut self.conn)
            .optional()?;
        row.map(decode).transpose()
    }

    pub fn user_by_login(&mut self, login: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = users::table
            .filter(users::login.eq(login.trim()))
            .select(USER_COLUMNS)
            .first(&mut self.conn)
            .optional()?;
        row.map(decode).transpose()
    }

    /// Active users, by name (the sign-in screen).
    pub fn active_users(&mut self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = users::table
            .filter(users::active.eq(true))
            .order(users::name)
            .select(USER_COLUMNS)
            .load(&mut self.conn)?;
        rows.into_iter().map(decode).collect()
    }

    /// A setting's raw JSON text.
    pub fn setting_json(&mut self, key: &str) -> Result<Option<String>> {
        Ok(settings::table
            .filter(settings::key.eq(key))
            .select(settings::value)
            .first(&mut self.conn)
            .optional()?)
    }

    /// A setting, deserialized.
    pub fn setting<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>> {
        self.setting_json(key)?
            .map(|v| serde_json::from_str(&v).map_err(|e| corrupt("setting", e)))
            .transpose()
    }

    pub fn set_setting<T: Serialize>(&mut self, key: &str, value: &T) -> Result<()> {
        let json = serde_json::to_string(value).map_err(|e| Error::InvalidInput {
            field: "value",
            reason: e.to_string(),
        })?;
        self.write(|c| put_setting(c, key, &json, 0))
    }
}
