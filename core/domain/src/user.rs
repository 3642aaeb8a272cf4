//! Users of the point of sale. Credentials are set on the server; devices receive only the hash.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::product::{FieldError, validate_name};
use crate::roles::Role;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    /// What the user types or picks to sign in; unique per store.
    pub login: String,
    pub role: Role,
    /// PHC-format hash of the PIN or password (e.g. `$argon2id$…`); never the secret itself.
    pub credential_hash: String,
    pub active: bool,
    pub version: i64,
}

impl User {
    pub fn validate(&self) -> Result<(), FieldError> {
        validate_name("name", &self.name)?;
        let login = self.login.trim();
        if login.is_empty()
            || login.len() > 60
            || login.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(FieldError::new("login", "1-60 characters without spaces"));
        }
        if !self.credential_hash.starts_with('$') {
            return Err(FieldError::new(
                "credential_hash",
                "must be a PHC-format hash",
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for User {
    // The hash stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("role", &self.role)
            .field("active", &self.active)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: UserId::new(),
            name: "Ana".into(),
            login: "ana".into(),
            role: Role::Seller,
            credential_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            active: true,
            version: 1,
        }
    }

    #[test]
    fn validates_login_and_hash_and_hides_the_hash() {
        assert_eq!(user().validate(), Ok(()));
        let mut u = user();
        u.login = "a b".into();
        assert_eq!(u.validate().map_err(|e| e.field), Err("login"));
        let mut u = user();
        u.credential_hash = "1234".into();
        assert_eq!(u.validate().map_err(|e| e.field), Err("credential_hash"));
        assert!(!format!("{:?}", user()).contains("argon2"));
    }
}
