//! Offline login: Argon2id verification of PINs and passwords against the PHC hashes synced from
//! the server, and the lockout that stops guessing a 4-digit PIN at the counter.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What the user typed, and its format rule: one rule for the till and the server.
pub use tenda_domain::credential::Secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    #[error("a PIN is 4 to 8 digits")]
    PinFormat,
    #[error("a password has 8 to 128 characters")]
    PasswordFormat,
    #[error("the stored credential hash is not a valid Argon2id PHC string")]
    StoredHash,
    #[error("hashing failed")]
    Hashing,
}

impl From<tenda_domain::SecretError> for CredentialError {
    fn from(e: tenda_domain::SecretError) -> Self {
        match e {
            tenda_domain::SecretError::PinFormat => CredentialError::PinFormat,
            _ => CredentialError::PasswordFormat,
        }
    }
}

/// Hashes a secret to an Argon2id PHC string (`$argon2id$v=19$…`), the format the server stores
/// and syncs.
pub fn hash_secret(secret: &Secret) -> Result<String, CredentialError> {
    secret.validate()?;
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| CredentialError::Hashing)
}

/// `Ok(true)` when `secret` matches `phc`. Only Argon2id hashes are accepted: a weaker algorithm
/// in the synced data is refused rather than trusted.
pub fn verify_secret(secret: &Secret, phc: &str) -> Result<bool, CredentialError> {
    let parsed = PasswordHash::new(phc).map_err(|_| CredentialError::StoredHash)?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(CredentialError::StoredHash);
    }
    Ok(Argon2::default()
        .verify_password(secret.as_bytes(), &parsed)
        .is_ok())
}

/// How many failures lock a user out, and for how long (doubling with each further lockout).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub lock_minutes: u32,
    pub max_lock_minutes: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            lock_minutes: 5,
            max_lock_minutes: 60,
        }
    }
}

/// Per-user failure counter, persisted in the device store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAttempts {
    pub consecutive_failures: u32,
    pub lockouts: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LoginAttempts {
    /// `Err(until)` while the user is locked out.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        match self.locked_until {
            Some(until) if now < until => Err(until),
            _ => Ok(()),
        }
    }

    /// Records a wrong secret; returns the lock end when this failure triggers a lockout.
    pub fn record_failure(
        &mut self,
        now: DateTime<Utc>,
        policy: &LockoutPolicy,
    ) -> Option<DateTime<Utc>> {
        self.consecutive_failures += 1;
        if self.consecutive_failures < policy.max_failures {
            return None;
        }
        let factor = 1u32.checked_shl(self.lockouts.min(16)).unwrap_or(u32::MAX);
        let minutes = policy
            .lock_minutes
            .saturating_mul(factor)
            .min(policy.max_lock_minutes);
        let until = now + Duration::minutes(i64::from(minutes));
        self.lockouts += 1;
        self.consecutive_failures = 0;
        self.locked_until = Some(until);
        Some(until)
    }

    pub fn record_success(&mut self) {
        *self = LoginAttempts::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0)
            .single()
            .expect("valid")
            + Duration::minutes(min)
    }

    #[test]
    fn argon2id_round_trip_and_wrong_secret() {
        let pin = Secret::Pin("4821".into());
        let phc = hash_secret(&pin).expect("valid pin hashes");
        assert!(
            phc.starts_with("$argon2id$"),
            "the synced format is Argon2id PHC"
        );
        assert_eq!(verify_secret(&pin, &phc), Ok(true));
        assert_eq!(verify_secret(&Secret::Pin("4822".into()), &phc), Ok(false));
        assert_eq!(
            verify_secret(&pin, "not-a-hash"),
            Err(CredentialError::StoredHash)
        );
    }

    #[test]
    fn formats_are_checked_before_hashing() {
        assert_eq!(
            hash_secret(&Secret::Pin("12a4".into())),
            Err(CredentialError::PinFormat)
        );
        assert_eq!(
            hash_secret(&Secret::Pin("123".into())),
            Err(CredentialError::PinFormat)
        );
        assert_eq!(
            hash_secret(&Secret::Password("short".into())),
            Err(CredentialError::PasswordFormat)
        );
        assert_eq!(
            format!("{:?}", Secret::Pin("4821".into())),
            "Pin(…)",
            "never logged"
        );
    }

    #[test]
    fn lockout_after_five_failures_then_doubles() {
        let p = LockoutPolicy::default();
        let mut a = LoginAttempts::default();
        for i in 0..4 {
            assert_eq!(
                a.record_failure(t(i), &p),
                None,
                "failure {i} does not lock yet"
            );
            assert!(a.check(t(i)).is_ok());
        }
        let until = a.record_failure(t(4), &p).expect("fifth failure locks");
        assert_eq!(until, t(9));
        assert_eq!(a.check(t(8)), Err(t(9)));
        assert!(a.check(t(9)).is_ok(), "lock ends exactly at its end time");
        for i in 0..5 {
            a.record_failure(t(10 + i), &p);
        }
        assert_eq!(
            a.locked_until,
            Some(t(14 + 10)),
            "second lockout lasts twice as long"
        );
        a.record_success();
        assert_eq!(a, LoginAttempts::default());
    }
}
