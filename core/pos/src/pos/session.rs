//! Signing in and out, and the authorization step every mutation starts with.

use std::sync::Arc;

use tenda_domain::{Action, Actor, AuditEvent, Outcome};
use tenda_store::LocalChange;

use super::{Pos, Session, json, keys, lock, now, storage};
use crate::authorize::{Authorization, Operator, authorize, authorize_with_override, login};
use crate::checkout::ticket::Ticket;
use crate::credentials::{LoginAttempts, Secret};
use crate::error::{PosError, PosResult};

/// A manager's (or owner's) credentials typed in to approve one action.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Approval {
    pub login: String,
    pub secret: Secret,
}

impl Pos {
    /// Offline sign-in with a PIN or password. Wrong secrets count toward the lockout; both the
    /// failures and the success are audited.
    pub fn sign_in(&self, login_name: &str, secret: &Secret) -> PosResult<Operator> {
        let operator = self.check_credentials(login_name, secret, "session.sign_in")?;
        *lock(&self.inner.session) = Some(Session {
            operator: operator.clone(),
            ticket: Ticket::default(),
        });
        Ok(operator)
    }

    /// Ends the session; an unfinished ticket is discarded.
    pub fn sign_out(&self) {
        *lock(&self.inner.session) = None;
    }

    pub fn signed_in(&self) -> Option<Operator> {
        lock(&self.inner.session)
            .as_ref()
            .map(|s| s.operator.clone())
    }

    /// Verifies credentials with lockout, persisting the counter and auditing the attempt.
    pub(crate) fn check_credentials(
        &self,
        login_name: &str,
        secret: &Secret,
        action: &str,
    ) -> PosResult<Operator> {
        let policy = lock(&self.inner.config).lockout.clone();
        let mut store = lock(&self.inner.store);
        let user = store.user_by_login(login_name).map_err(storage)?.ok_or(
            PosError::WrongCredentials {
                remaining_attempts: policy.max_failures,
            },
        )?;
        let key = keys::login_attempts(&user.login);
        let mut attempts: LoginAttempts = store.setting(&key).map_err(storage)?.unwrap_or_default();
        let at = now();
        let result = login(&user, secret, &mut attempts, &policy, at);
        let outcome = match &result {
            Ok(_) => Outcome::Succeeded,
            Err(_) => Outcome::Denied,
        };
        let change = LocalChange {
            settings: vec![(key, json(&attempts)?)],
            mutations: vec![],
            audit: vec![AuditEvent {
                actor: Actor::User(user.id),
                action: action.to_owned(),
                subject: format!("user:{}", user.id),
                outcome,
                at,
            }],
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
        match (performer, approval) {
            (Some(p), None) => authorize(&matrix, &p, action),
            (Some(p), Some(a)) => {
                let approver = self.check_credentials(&a.login, &a.secret, "session.approve")?;
                authorize_with_override(&matrix, &p, &approver, action)
            }
            // No session (e.g. the owner setting up the device): the approver acts alone.
            (None, Some(a)) => {
                let approver = self.check_credentials(&a.login, &a.secret, "session.approve")?;
                authorize(&matrix, &approver, action)
            }
            (None, None) => Err(PosError::state("this action", "nobody is signed in")),
        }
    }

    /// A closure-style authorizer for ticket changes, approving with `approval` if given.
    pub(crate) fn ticket_authorizer<'a>(
        &'a self,
        approval: Option<&'a Approval>,
    ) -> impl FnMut(Action) -> PosResult<Authorization> + 'a {
        move |action| self.authorize_with(action, approval)
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Pos>();
    check::<Arc<Pos>>();
}
