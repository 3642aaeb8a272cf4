//! Driving the contingency state machine from what the register observes, and the manager's
//! decision to enter contingency. Every transition is persisted and audited in one transaction.

use tenda_domain::{Action, Actor};

use super::{FiscalCause, Pos, lock};
use chrono::{DateTime, Utc};

use crate::contingency::{ContingencyAuthority, ContingencyEvent, FiscalState};
use crate::error::PosResult;
use crate::pos::Approval;
use crate::status::SefazMode;

/// The register's fiscal mode as the screens show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FiscalStateView {
    pub mode: SefazMode,
    /// When the current mode began.
    pub since: Option<DateTime<Utc>>,
    /// Why SEFAZ is taken as unreachable (contingency required).
    pub reason: Option<String>,
    /// The justification printed on contingency notes.
    pub justification: Option<String>,
    /// Who authorized contingency: a manager's name, or `policy`.
    pub authorized_by: Option<String>,
    pub notes_issued: u32,
    /// Contingency notes still to transmit (draining).
    pub backlog: u32,
}

impl From<&FiscalState> for FiscalStateView {
    fn from(s: &FiscalState) -> Self {
        let mut view = FiscalStateView {
            mode: SefazMode::from(s),
            since: None,
            reason: None,
            justification: None,
            authorized_by: None,
            notes_issued: 0,
            backlog: 0,
        };
        match s {
            FiscalState::Normal => {}
            FiscalState::ContingencyRequired { since, reason } => {
                view.since = Some(*since);
                view.reason = Some(reason.clone());
            }
            FiscalState::Contingency {
                entered_at,
                justification,
                authority,
                notes_issued,
            } => {
                view.since = Some(*entered_at);
                view.justification = Some(justification.clone());
                view.authorized_by = Some(match authority {
                    ContingencyAuthority::Manager { name, .. } => name.clone(),
                    ContingencyAuthority::Policy => "policy".into(),
                });
                view.notes_issued = *notes_issued;
            }
            FiscalState::Draining { since, backlog } => {
                view.since = Some(*since);
                view.backlog = *backlog;
            }
        }
        view
    }
}

impl Pos {
    pub fn fiscal_state(&self) -> FiscalStateView {
        FiscalStateView::from(&self.fiscal_state_inner())
    }

    pub(crate) fn fiscal_state_inner(&self) -> FiscalState {
        self.device().fiscal.clone()
    }

    /// SEFAZ (or the link) did not answer, and a consult failed too.
    pub(crate) fn sefaz_unreachable(&self, reason: &str) -> PosResult<FiscalState> {
        let device = Actor::Device(lock(&self.inner.config).device_id);
        self.apply_fiscal_event(
            ContingencyEvent::SefazUnreachable {
                at: self.now(),
                reason: reason.to_owned(),
            },
            FiscalCause::device(device),
        )
    }

    /// SEFAZ answers again; `backlog` contingency notes are still to be transmitted.
    pub(crate) fn sefaz_available(&self, backlog: u32) -> PosResult<FiscalState> {
        let device = Actor::Device(lock(&self.inner.config).device_id);
        self.apply_fiscal_event(
            ContingencyEvent::SefazAvailable {
                at: self.now(),
                backlog,
            },
            FiscalCause::device(device),
        )
    }

    /// The transmission worker's progress on the backlog.
    pub(crate) fn backlog_changed(&self, backlog: u32) -> PosResult<FiscalState> {
        let device = Actor::Device(lock(&self.inner.config).device_id);
        self.apply_fiscal_event(
            ContingencyEvent::BacklogChanged {
                at: self.now(),
                backlog,
            },
            FiscalCause::device(device),
        )
    }

    /// A manager enters contingency with their credentials and a justification (15–256
    /// characters, printed on every contingency note). On a seller's session, the manager's
    /// approval is audited with both people.
    pub fn enter_contingency(
        &self,
        justification: String,
        approval: Option<Approval>,
    ) -> PosResult<FiscalStateView> {
        self.alive()?;
        let auth = self.authorize_with(Action::AuthorizeContingency, approval.as_ref())?;
        let manager = auth.responsible().clone();
        let at = self.now();
        let event = ContingencyEvent::ManagerAuthorized {
            at,
            user_id: manager.user_id.to_string(),
            name: manager.name.clone(),
            justification,
        };
        let execution =
            auth.execution(Action::AuthorizeContingency, "fiscal_state:contingency", at);
        self.apply_fiscal_event(event, FiscalCause::Person(execution))
            .map(|s| FiscalStateView::from(&s))
    }

    pub(crate) fn apply_fiscal_event(
        &self,
        event: ContingencyEvent,
        cause: FiscalCause,
    ) -> PosResult<FiscalState> {
        let policy = lock(&self.inner.config).contingency.clone();
        // Applied to the state as it is now, under its lock, and persisted before the lock is
        // released: a checkout in progress cannot overwrite it, nor it the checkout's.
        let mut state = self.device();
        let current = state.fiscal.clone();
        let (next, transition) = current.apply(event, &policy)?;
        let nothing_to_record =
            matches!(&cause, FiscalCause::Device { audit, .. } if audit.is_empty());
        if transition.is_none() && next == current && nothing_to_record {
            return Ok(next);
        }
        let mut store = lock(&self.inner.store);
        self.save_fiscal_state(&mut state, &mut store, &next, transition.as_ref(), cause)?;
        Ok(next)
    }
}
