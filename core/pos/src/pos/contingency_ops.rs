//! Driving the contingency state machine from what the register observes, and the manager's
//! decision to enter contingency. Every transition is persisted and audited in one transaction.

use tenda_domain::{Action, Actor, Outcome};

use super::{Pos, lock, now};
use crate::contingency::{ContingencyEvent, FiscalState};
use crate::error::PosResult;
use crate::pos::Approval;

impl Pos {
    pub fn fiscal_state(&self) -> FiscalState {
        lock(&self.inner.fiscal).clone()
    }

    /// SEFAZ (or the link) did not answer, and a consult failed too.
    pub fn sefaz_unreachable(&self, reason: &str) -> PosResult<FiscalState> {
        let device = Actor::Device(lock(&self.inner.config).device_id);
        self.apply_fiscal_event(
            ContingencyEvent::SefazUnreachable {
                at: now(),
                reason: reason.to_owned(),
            },
            device,
            vec![],
        )
    }

    /// SEFAZ answers again; `backlog` contingency notes are still to be transmitted.
    pub fn sefaz_available(&self, backlog: u32) -> PosResult<FiscalState> {
        let device = Actor::Device(lock(&self.inner.config).device_id);
        self.apply_fiscal_event(
            ContingencyEvent::SefazAvailable { at: now(), backlog },
            device,
            vec![],
        )
    }

    /// The transmission worker's progress on the backlog.
    pub fn backlog_changed(&self, backlog: u32) -> PosResult<FiscalState> {
        let device = Actor::Device(lock(&self.inner.config).device_id);
        self.apply_fiscal_event(
            ContingencyEvent::BacklogChanged { at: now(), backlog },
            device,
            vec![],
        )
    }

    /// A manager enters contingency with their credentials and a justification (15–256
    /// characters, printed on every contingency note). On a seller's session, the manager's
    /// approval is audited with both people.
    pub fn enter_contingency(
        &self,
        justification: &str,
        approval: Option<&Approval>,
    ) -> PosResult<FiscalState> {
        let auth = self.authorize_with(Action::AuthorizeContingency, approval)?;
        let manager = auth.approver().unwrap_or(auth.performer()).clone();
        let at = now();
        let event = ContingencyEvent::ManagerAuthorized {
            at,
            user_id: manager.user_id.to_string(),
            name: manager.name.clone(),
            justification: justification.to_owned(),
        };
        let audit = vec![auth.audit("fiscal_state:contingency", Outcome::Succeeded, at)];
        self.apply_fiscal_event(event, Actor::User(auth.performer().user_id), audit)
    }

    pub(crate) fn apply_fiscal_event(
        &self,
        event: ContingencyEvent,
        actor: Actor,
        audit: Vec<tenda_domain::AuditEvent>,
    ) -> PosResult<FiscalState> {
        let policy = lock(&self.inner.config).contingency.clone();
        let current = lock(&self.inner.fiscal).clone();
        let (next, transition) = current.apply(event, &policy)?;
        if transition.is_none() && next == current && audit.is_empty() {
            return Ok(next);
        }
        let mut store = lock(&self.inner.store);
        self.save_fiscal_state(&mut store, &next, transition.as_ref(), actor, audit)?;
        Ok(next)
    }
}
