//! Credentials: device secrets and back-office tokens (random, stored only as SHA-256),
//! user passwords/PINs (argon2id), and the role → permission rules of the back office.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::http::HeaderMap;
use base64::Engine;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::Conn;
use crate::error::Error;
use crate::schema::{api_tokens, devices, users};
use crate::with_conn;

/// A fresh 256-bit secret, URL-safe base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Enrollment codes are typed by people: 12 characters without look-alikes, in groups of four.
pub fn new_enrollment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Codes are compared without dashes, spaces or case.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Secrets with 256 bits of entropy need no slow hash: SHA-256 is enough and keeps every request
/// cheap. (People's passwords use argon2 below.)
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String, Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The `Authorization: Bearer <secret>` of a request.
pub fn bearer(headers: &HeaderMap) -> Result<String, Error> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthorized("missing Authorization: Bearer credential".into()))?
        .to_str()
        .map_err(|_| Error::Unauthorized("malformed Authorization header".into()))?;
    let secret = value
        .strip_prefix("Bearer ")
        .ok_or_else(|| Error::Unauthorized("Authorization must be `Bearer <credential>`".into()))?
        .trim();
    if secret.is_empty() {
        return Err(Error::Unauthorized("empty credential".into()));
    }
    Ok(secret.to_owned())
}

/// An enrolled, not revoked device, as proven by its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthedDevice {
    pub id: String,
    pub store_id: String,
    pub branch_id: String,
}

pub fn authenticate_device(conn: &mut Conn, secret: &str) -> Result<AuthedDevice, Error> {
    let hash = secret_hash(secret);
    let row: Option<(String, String, String, bool)> = with_conn!(conn, |c| devices::table
        .filter(devices::credential_hash.eq(&hash))
        .select((
            devices::id,
            devices::store_id,
            devices::branch_id,
            devices::revoked
        ))
        .first(c)
        .optional())?;
    match row {
        None => Err(Error::Unauthorized("unknown device credential".into())),
        Some((_, _, _, true)) => Err(Error::Forbidden("this device has been revoked".into())),
        Some((id, store_id, branch_id, false)) => Ok(AuthedDevice {
            id,
            store_id,
            branch_id,
        }),
    }
}

/// Roles, from least to most trusted: the domain's, the same a till signs people in with.
pub use tenda_domain::Role;

/// Reads a role code (`seller`, `manager`, `owner`).
pub fn parse_role(s: &str) -> Result<Role, Error> {
    Role::from_code(s)
        .ok_or_else(|| Error::invalid("role", format!("`{s}` is not seller, manager or owner")))
}

/// What a back-office request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadCatalog,
    ReadSales,
    ReadReports,
    WriteCatalog,
    WriteCustomers,
    WriteUsers,
    WriteDevices,
    WriteSettings,
}

impl Permission {
    /// The domain action this permission is, where the till's permission matrix has one: the
    /// back office then follows the same matrix.
    pub fn action(self) -> Option<tenda_domain::Action> {
        use tenda_domain::Action;
        match self {
            Permission::ReadCatalog => Some(Action::Sell),
            Permission::ReadReports => Some(Action::ViewReports),
            Permission::WriteCatalog => Some(Action::ManageCatalog),
            Permission::WriteUsers => Some(Action::ManageUsers),
            Permission::WriteDevices => Some(Action::EnrollDevice),
            Permission::WriteSettings => Some(Action::ManageSettings),
            Permission::ReadSales | Permission::WriteCustomers => None,
        }
    }

    /// Sellers sell on devices; managers may read and keep customers; the owner does the rest.
    pub fn minimum_role(self) -> Role {
        match self {
            Permission::ReadCatalog => Role::Seller,
            Permission::ReadSales | Permission::WriteCustomers => Role::Manager,
            Permission::ReadReports
            | Permission::WriteCatalog
            | Permission::WriteUsers
            | Permission::WriteDevices
            | Permission::WriteSettings => Role::Owner,
        }
    }
}

/// A back-office user, as proven by a login token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthedUser {
    pub id: String,
    pub store_id: String,
    pub role: Role,
}

impl AuthedUser {
    pub fn require(&self, p: Permission) -> Result<(), Error> {
        let allowed = match p.action() {
            Some(action) => tenda_domain::PermissionMatrix::standard().allows(self.role, action),
            None => self.role >= p.minimum_role(),
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{:?} needs the {} role",
                p,
                p.minimum_role().code()
            )))
        }
    }
}

pub fn authenticate_user(conn: &mut Conn, secret: &str, now: i64) -> Result<AuthedUser, Error> {
    let hash = secret_hash(secret);
    let row: Option<(String, String, String, bool, i64)> = with_conn!(conn, |c| api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(&hash))
        .select((
            users::id,
            users::store_id,
            users::role,
            users::active,
            api_tokens::expires_at
        ))
        .first(c)
        .optional())?;
    match row {
        None => Err(Error::Unauthorized(
            "unknown or expired session token".into(),
        )),
        Some((_, _, _, _, expires)) if expires <= now => Err(Error::Unauthorized(
            "unknown or expired session token".into(),
        )),
        Some((_, _, _, false, _)) => Err(Error::Forbidden("this user is deactivated".into())),
        Some((id, store_id, role, true, _)) => Ok(AuthedUser {
            id,
            store_id,
            role: parse_role(&role)?,
        }),
    }
}

diesel::joinable!(api_tokens -> users (user_id));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_normalized() {
        let code = new_enrollment_code();
        assert_eq!(code.len(), 14, "three groups of four with two dashes");
        assert_eq!(normalize_code(&code.to_lowercase()).len(), 12);
        assert_ne!(new_enrollment_code(), code, "codes are random");
    }

    #[test]
    fn password_round_trip() {
        let h = hash_password("1234").expect("hashable");
        assert!(verify_password("1234", &h));
        assert!(!verify_password("4321", &h));
    }

    #[test]
    fn roles_are_ordered() {
        let seller = AuthedUser {
            id: "u".into(),
            store_id: "s".into(),
            role: Role::Seller,
        };
        assert!(seller.require(Permission::ReadCatalog).is_ok());
        assert!(matches!(
            seller.require(Permission::WriteCatalog),
            Err(Error::Forbidden(_))
        ));
    }
}
