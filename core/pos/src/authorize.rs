//! Who may do what: offline login, and the authorization step of every mutation. Authorizing
//! yields an [`Authorization`] that wraps the domain's `Grant`; every executing function takes
//! one, so nothing runs unauthorized, and the audit entry is built from it.

use chrono::{DateTime, Utc};
use tenda_domain::user::User;
use tenda_domain::{Action, Actor, AuditEvent, Grant, Outcome, PermissionMatrix, Role, UserId};

use crate::credentials::{LockoutPolicy, LoginAttempts, Secret, verify_secret};
use crate::error::PosError;

/// A person at the register, as the dispatcher knows them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Operator {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
}

impl Operator {
    pub fn of(user: &User) -> Operator {
        Operator {
            user_id: user.id,
            name: user.name.clone(),
            role: user.role,
        }
    }
}

/// Proof that `performer` may do `action` now — on their own permission, or with `approver`'s
/// (a manager's override on a seller's session, for this one action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    grant: Grant,
    performer: Operator,
    approver: Option<Operator>,
}

impl Authorization {
    pub fn action(&self) -> Action {
        self.grant.action()
    }
    pub fn performer(&self) -> &Operator {
        &self.performer
    }
    pub fn approver(&self) -> Option<&Operator> {
        self.approver.as_ref()
    }
    pub fn grant(&self) -> &Grant {
        &self.grant
    }
    /// Whose permission the action runs on: the approving manager's, or the performer's own.
    /// The store records them as the one who did it (a void, a note's new status).
    pub fn responsible(&self) -> &Operator {
        self.approver.as_ref().unwrap_or(&self.performer)
    }

    /// Fails unless this authorization is for `action` (an execution asks for the one it needs).
    pub fn require(&self, action: Action) -> Result<&Self, PosError> {
        if self.grant.action() == action {
            Ok(self)
        } else {
            Err(PosError::Internal {
                detail: format!(
                    "authorization for {} used for {}",
                    self.grant.action().code(),
                    action.code()
                ),
            })
        }
    }

    /// Spends this authorization on `action` done on `subject` at `at`: the one step an
    /// execution takes before [`crate::pos::Pos::execute`] commits it with its entry. Taking
    /// the authorization by value means one grant, one execution.
    pub(crate) fn execution(
        self,
        action: Action,
        subject: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Execution {
        Execution {
            auth: self,
            action,
            subject: subject.into(),
            at,
            recorded_as: None,
        }
    }

    /// The entry of `action` done on `subject`: [`Authorization::audit`] with a success.
    pub(crate) fn succeeded(
        &self,
        action: Action,
        subject: &str,
        at: DateTime<Utc>,
    ) -> Result<AuditEvent, PosError> {
        self.audit(action, subject, Outcome::Succeeded, at)
    }

    /// The audit entry of `action` on `subject`. The execution names the action it performs and
    /// the grant must be for that very action: an authorization is never spent on another one.
    /// With an override, the subject records the approver too, so the chain names both people.
    pub(crate) fn audit(
        &self,
        action: Action,
        subject: &str,
        outcome: Outcome,
        at: DateTime<Utc>,
    ) -> Result<AuditEvent, PosError> {
        self.require(action)?;
        let subject = match &self.approver {
            None => subject.to_owned(),
            Some(a) => format!("{subject} approved_by=user:{}", a.user_id),
        };
        let action = match &self.approver {
            None => self.grant.action().code().to_owned(),
            Some(_) => format!("{}.override", self.grant.action().code()),
        };
        Ok(AuditEvent {
            actor: Actor::User(self.performer.user_id),
            action,
            subject,
            outcome,
            at,
        })
    }
}

/// An authorized action about to land: the authorization it spends, what it is done on and
/// when. Only [`Authorization::execution`] makes one, and only the executor
/// ([`crate::pos::Pos::execute`]) consumes it, writing its entry in the change's transaction.
#[derive(Debug)]
pub(crate) struct Execution {
    auth: Authorization,
    action: Action,
    subject: String,
    at: DateTime<Utc>,
    recorded_as: Option<&'static str>,
}

impl Execution {
    /// Adds what the execution learnt while running (the state transition it made) to its
    /// subject.
    pub fn noting(mut self, more: &str) -> Execution {
        self.subject = format!("{} {more}", self.subject);
        self
    }

    /// Names the entry apart from the grant's action (abandoning a ticket is done on the
    /// selling grant, and recorded as `ticket.abandon`).
    pub fn recorded_as(mut self, name: &'static str) -> Execution {
        self.recorded_as = Some(name);
        self
    }

    /// The execution's entry with `outcome`.
    pub(crate) fn entry(&self, outcome: Outcome) -> Result<AuditEvent, PosError> {
        let mut entry = self
            .auth
            .audit(self.action, &self.subject, outcome, self.at)?;
        if let Some(name) = self.recorded_as {
            entry.action = name.to_owned();
        }
        Ok(entry)
    }
}

/// Authorization on the performer's own role.
pub(crate) fn authorize(
    matrix: &PermissionMatrix,
    performer: &Operator,
    action: Action,
) -> Result<Authorization, PosError> {
    let grant = matrix
        .authorize(performer.user_id, performer.role, action)
        .map_err(|_| PosError::Forbidden {
            permission: action.code().to_owned(),
        })?;
    Ok(Authorization {
        grant,
        performer: performer.clone(),
        approver: None,
    })
}

/// Authorization of a single action on `performer`'s session with `approver`'s permission
/// (their credentials have already been checked by [`login`]).
pub(crate) fn authorize_with_override(
    matrix: &PermissionMatrix,
    performer: &Operator,
    approver: &Operator,
    action: Action,
) -> Result<Authorization, PosError> {
    let grant = matrix
        .authorize(approver.user_id, approver.role, action)
        .map_err(|_| PosError::Forbidden {
            permission: action.code().to_owned(),
        })?;
    Ok(Authorization {
        grant,
        performer: performer.clone(),
        approver: Some(approver.clone()),
    })
}

/// Checks a PIN or password against the user's stored Argon2id hash (synced from the server),
/// applying the lockout. `attempts` is the user's persisted counter and is updated in place (the
/// caller saves it, success or not).
#[cfg(test)]
pub(crate) fn login(
    user: &User,
    secret: &Secret,
    attempts: &mut LoginAttempts,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> Result<Operator, PosError> {
    if !user.active || attempts.check(now).is_err() {
        return settle(user, false, attempts, policy, now);
    }
    settle(user, verify(user, secret)?, attempts, policy, now)
}

/// Whether `secret` matches the user's stored hash (Argon2id: slow on purpose — call it outside
/// any lock). A malformed secret is simply wrong: it is still a guess.
pub(crate) fn verify(user: &User, secret: &Secret) -> Result<bool, PosError> {
    Ok(secret.validate().is_ok() && verify_secret(secret, &user.credential_hash)?)
}

/// Applies a verification's result to the user's attempts, with the lockout: the decision
/// [`login`] makes once the secret has been checked.
pub(crate) fn settle(
    user: &User,
    verified: bool,
    attempts: &mut LoginAttempts,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> Result<Operator, PosError> {
    if !user.active {
        return Err(PosError::Forbidden {
            permission: "login".into(),
        });
    }
    if let Err(until) = attempts.check(now) {
        return Err(PosError::LockedOut { until });
    }
    if verified {
        attempts.record_success();
        return Ok(Operator::of(user));
    }
    if let Some(until) = attempts.record_failure(now, policy) {
        return Err(PosError::LockedOut { until });
    }
    Err(PosError::WrongCredentials {
        remaining_attempts: policy
            .max_failures
            .saturating_sub(attempts.consecutive_failures),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::hash_secret;
    use chrono::{Duration, TimeZone};

    fn op(name: &str, role: Role) -> Operator {
        Operator {
            user_id: UserId::new(),
            name: name.into(),
            role,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 2, 9, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn seller_needs_a_manager_override_for_a_large_discount() {
        let m = PermissionMatrix::standard();
        let seller = op("Bia", Role::Seller);
        let manager = op("Caio", Role::Manager);
        let denied =
            authorize(&m, &seller, Action::DiscountAboveLimit).expect_err("sellers cannot");
        assert_eq!(denied.code(), "forbidden");
        let auth = authorize_with_override(&m, &seller, &manager, Action::DiscountAboveLimit)
            .expect("managers can approve it");
        let event = auth
            .audit(
                Action::DiscountAboveLimit,
                "sale:1",
                Outcome::Succeeded,
                now(),
            )
            .expect("the action it was granted for");
        // The actor is the seller whose session it is; the approver is named in the entry.
        assert_eq!(event.actor, Actor::User(seller.user_id));
        assert_eq!(event.action, "discount_above_limit.override");
        assert!(event.subject.contains(&manager.user_id.to_string()));
        // Another seller cannot "override".
        assert!(
            authorize_with_override(&m, &seller, &op("Dani", Role::Seller), Action::VoidSale)
                .is_err()
        );
    }

    #[test]
    fn authorization_is_bound_to_its_action() {
        let m = PermissionMatrix::standard();
        let auth = authorize(&m, &op("Bia", Role::Seller), Action::Sell).expect("sellers sell");
        assert!(auth.require(Action::Sell).is_ok());
        assert!(
            auth.audit(Action::VoidSale, "sale:1", Outcome::Succeeded, now())
                .is_err(),
            "nor be audited as a void"
        );
        assert!(
            auth.require(Action::VoidSale).is_err(),
            "a sell grant cannot void"
        );
    }

    #[test]
    fn login_locks_out_after_five_wrong_pins() {
        let user = user("Bia", Role::Seller, &Secret::Pin("1357".into()));
        let policy = LockoutPolicy::default();
        let mut attempts = LoginAttempts::default();
        for i in 0..4u32 {
            let err = login(
                &user,
                &Secret::Pin("0000".into()),
                &mut attempts,
                &policy,
                now(),
            )
            .expect_err("wrong pin");
            assert_eq!(
                err,
                PosError::WrongCredentials {
                    remaining_attempts: 4 - i
                }
            );
        }
        let err = login(
            &user,
            &Secret::Pin("0000".into()),
            &mut attempts,
            &policy,
            now(),
        )
        .expect_err("5th");
        assert_eq!(err.code(), "locked_out");
        // Even the right PIN is refused while locked, and accepted after.
        let right = Secret::Pin("1357".into());
        assert_eq!(
            login(&user, &right, &mut attempts, &policy, now())
                .expect_err("locked")
                .code(),
            "locked_out"
        );
        let later = now() + Duration::minutes(5);
        assert_eq!(
            login(&user, &right, &mut attempts, &policy, later)
                .expect("unlocked")
                .name,
            "Bia"
        );
        assert_eq!(
            attempts,
            LoginAttempts::default(),
            "success resets the counter"
        );
    }

    fn user(name: &str, role: Role, secret: &Secret) -> User {
        User {
            id: UserId::new(),
            name: name.into(),
            login: name.to_lowercase(),
            role,
            credential_hash: hash_secret(secret).expect("hash"),
            active: true,
            version: 1,
        }
    }

    #[test]
    fn inactive_users_are_refused_and_passwords_work_too() {
        let pw = Secret::Password("correct horse".into());
        let mut user = user("Bia", Role::Manager, &pw);
        let mut a = LoginAttempts::default();
        let p = LockoutPolicy::default();
        assert_eq!(
            login(&user, &pw, &mut a, &p, now()).expect("password").role,
            Role::Manager
        );
        user.active = false;
        let err =
            login(&user, &Secret::Pin("1234".into()), &mut a, &p, now()).expect_err("inactive");
        assert_eq!(err.code(), "forbidden");
    }
}
