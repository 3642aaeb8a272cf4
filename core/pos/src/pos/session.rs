//! Signing in and out, and the authorization step every mutation starts with.

use std::sync::Arc;

use tenda_domain::{Action, Actor, AuditEvent, Outcome};
use tenda_store::LocalChange;

use super::{Pos, Session, json, keys, lock, storage};
use crate::authorize::{
    Authorization, Operator, authorize, authorize_with_override, settle, verify,
};
use crate::checkout::ticket::Ticket;
use crate::credentials::{LoginAttempts, Secret};
use crate::error::{PosError, PosResult};

/// A manager's (or owner's) credentials typed in to approve one action.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Approval {
    pub login: String,
    pub secret: Secret,
}

impl Pos {
    /// Offline sign-in with a PIN or password. Wrong secrets count toward the lockout; both the
    /// failures and the success are audited. A ticket left by the previous user is abandoned
    /// (audited) first.
    pub fn sign_in(&self, login: String, secret: Secret) -> PosResult<Operator> {
        self.alive()?;
        let operator = self.check_credentials(&login, &secret, "session.sign_in")?;
        // Someone signing in over another's session (a shift change) takes the register as it
        // is: the ticket left behind is abandoned first, audited with its lines and total.
        if self.signed_in().is_some() {
            self.abandon_ticket("another user signed in")?;
        }
        self.device().session = Some(Session {
            operator: operator.clone(),
            ticket: Ticket::default(),
        });
        Ok(operator)
    }

    /// Ends the session (audited). A ticket with lines is abandoned first — audited with its
    /// lines and total — so nothing rung up disappears unrecorded.
    pub fn sign_out(&self) -> PosResult<()> {
        self.alive()?;
        let Some(operator) = self.signed_in() else {
            return Ok(());
        };
        self.abandon_ticket("sign out")?;
        let at = self.now();
        let change = LocalChange {
            settings: vec![],
            mutations: vec![],
            audit: vec![AuditEvent {
                actor: Actor::User(operator.user_id),
                action: "session.sign_out".into(),
                subject: format!("user:{}", operator.user_id),
                outcome: Outcome::Succeeded,
                at,
            }],
            ..Default::default()
        };
        lock(&self.inner.store)
            .record_local_change(&change)
            .map_err(storage)?;
        self.device().session = None;
        Ok(())
    }

    /// Who is signed in.
    pub fn signed_in(&self) -> Option<Operator> {
        self.device().session.as_ref().map(|s| s.operator.clone())
    }

    /// Verifies credentials with lockout, persisting the counter and auditing the attempt.
    pub(crate) fn check_credentials(
        &self,
        login_name: &str,
        secret: &Secret,
        action: &str,
    ) -> PosResult<Operator> {
        let policy = lock(&self.inner.config).lockout.clone();
        let (user, key, locked) = {
            let mut store = lock(&self.inner.store);
            let user = store.user_by_login(login_name).map_err(storage)?.ok_or(
                PosError::WrongCredentials {
                    remaining_attempts: policy.max_failures,
                },
            )?;
            let key = keys::login_attempts(&user.login);
            let attempts: LoginAttempts = store.setting(&key).map_err(storage)?.unwrap_or_default();
            let locked = attempts.check(self.now()).is_err();
            (user, key, locked)
        };
        // Argon2 runs with no lock held: the store (and the register) keep working meanwhile.
        // A locked-out user is not even checked.
        let verified = !locked && user.active && verify(&user, secret)?;
        let mut store = lock(&self.inner.store);
        // The counter as it is now (another attempt may have been recorded meanwhile).
        let mut attempts: LoginAttempts = store.setting(&key).map_err(storage)?.unwrap_or_default();
        let at = self.now();
        let was_locked = attempts.check(at).is_err();
        let result = settle(&user, verified, &mut attempts, &policy, at);
        let outcome = match &result {
            Ok(_) => Outcome::Succeeded,
            Err(_) => Outcome::Denied,
        };
        let entry = |action: &str, outcome| AuditEvent {
            actor: Actor::User(user.id),
            action: action.to_owned(),
            subject: format!("user:{}", user.id),
            outcome,
            at,
        };
        let mut audit = vec![entry(action, outcome)];
        if !was_locked && matches!(result, Err(PosError::LockedOut { .. })) {
            // This attempt locked the account: its own entry, for the lockout report.
            audit.push(entry("session.lockout", Outcome::Succeeded));
        }
        let change = LocalChange {
            settings: vec![(key, json(&attempts)?)],
            mutations: vec![],
            audit,
            ..Default::default()
        };
        store.record_local_change(&change).map_err(storage)?;
        result
    }

    /// The authorization for `action` on the current session: the signed-in user's own
    /// permission, or — when `approval` is given — the approver's, checked with their
    /// credentials (and audited with both people).
    pub(crate) fn authorize_with(
        &self,
        action: Action,
        approval: Option<&Approval>,
    ) -> PosResult<Authorization> {
        let matrix = lock(&self.inner.config).permissions.clone();
        let performer = self.signed_in();
        let (result, asked) = match (performer, approval) {
            (Some(p), None) => (authorize(&matrix, &p, action), Some((p, None))),
            (Some(p), Some(a)) => {
                let approver = self.check_credentials(&a.login, &a.secret, "session.approve")?;
                (
                    authorize_with_override(&matrix, &p, &approver, action),
                    Some((p, Some(approver))),
                )
            }
            // No session (e.g. the owner setting up the device): the approver acts alone.
            (None, Some(a)) => {
                let approver = self.check_credentials(&a.login, &a.secret, "session.approve")?;
                (
                    authorize(&matrix, &approver, action),
                    Some((approver, None)),
                )
            }
            (None, None) => (
                Err(PosError::state("this action", "nobody is signed in")),
                None,
            ),
        };
        if let (Err(PosError::Forbidden { .. }), Some((performer, approver))) = (&result, asked) {
            self.audit_denied(&performer, approver.as_ref(), action)?;
        }
        result
    }

    /// A refused action leaves one entry: who asked, for what, and whose permission failed.
    pub(crate) fn audit_denied(
        &self,
        performer: &Operator,
        approver: Option<&Operator>,
        action: Action,
    ) -> PosResult<()> {
        let subject = match approver {
            None => format!("user:{}", performer.user_id),
            Some(a) => format!("user:{} approved_by=user:{}", performer.user_id, a.user_id),
        };
        let change = LocalChange {
            settings: vec![],
            mutations: vec![],
            audit: vec![AuditEvent {
                actor: Actor::User(performer.user_id),
                action: action.code().to_owned(),
                subject,
                outcome: Outcome::Denied,
                at: self.now(),
            }],
            ..Default::default()
        };
        lock(&self.inner.store)
            .record_local_change(&change)
            .map_err(storage)?;
        Ok(())
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Pos>();
    check::<Arc<Pos>>();
}
