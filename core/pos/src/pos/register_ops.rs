//! Register sessions: open with a float, cash in (suprimento) and out (sangria), close with the
//! counted amounts and a report. Each step is authorized, written with its cash-movement
//! mutation and audited in one transaction; all of it works offline.

use std::sync::MutexGuard;

use tenda_domain::{Action, Actor, CashMovementKind, Money, Mutation, RegisterSessionId};
use tenda_store::{ClosingCount, LocalChange, RegisterClosing};

use super::saved_state::register_setting;
use super::{DeviceState, Pos, execute};
use crate::authorize::Authorization;
use crate::error::{PosError, PosResult};
use crate::pos::Approval;
use crate::register::{
    ClosingReport, PaymentKind, RegisterMovement, RegisterSession, RegisterTally, RegisterView,
};

/// What was counted for one payment method at closing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CountedAmount {
    pub kind: PaymentKind,
    pub amount: Money,
}

impl Pos {
    /// The open register with its running totals, or `None` while it is closed.
    pub fn register_session(&self) -> PosResult<Option<RegisterView>> {
        let session = self.device().register.clone();
        Ok(session.as_ref().map(RegisterSession::view).transpose()?)
    }

    /// Opens the register with `float` in the drawer. Managers (or a manager's approval).
    pub fn open_register(
        &self,
        float: Money,
        approval: Option<Approval>,
    ) -> PosResult<RegisterView> {
        self.alive()?;
        let approval = approval.as_ref();

        if float.is_negative() {
            return Err(PosError::invalid("float", "must not be negative"));
        }
        let already_open = || PosError::state("open register", "the register is already open");
        if self.device().register.is_some() {
            return Err(already_open());
        }
        // The approver's PIN is checked (slow) before the state is locked; whether the register
        // is open is then decided again under the lock, so two openings cannot both pass.
        let auth = self.authorize_with(Action::OpenRegister, approval)?;
        let mut device = self.device();
        if device.register.is_some() {
            return Err(already_open());
        }
        let at = self.now();
        let mut tally = RegisterTally::default();
        tally.add(&RegisterMovement::Float(float))?;
        let session = RegisterSession {
            id: RegisterSessionId::new(),
            opened_by: auth.performer().user_id,
            opened_at: at,
            tally,
        };
        let actor = Actor::User(auth.performer().user_id);
        let change = LocalChange {
            settings: vec![register_setting(Some(&session), device.last_sale)?],
            mutations: vec![Mutation::CashMovement {
                session_id: session.id,
                movement: CashMovementKind::Opening,
                amount: float,
                actor,
                note: None,
                at,
            }],
            ..Default::default()
        };
        let execution =
            auth.execution(Action::OpenRegister, format!("register:{}", session.id), at);
        self.execute(execution, change, execute::record)?;
        let view = session.view()?;
        device.register = Some(session);
        Ok(view)
    }

    /// Cash put into the drawer (suprimento).
    pub fn cash_in(
        &self,
        amount: Money,
        reason: String,
        approval: Option<Approval>,
    ) -> PosResult<()> {
        self.alive()?;
        let reason: &str = &reason;
        let approval = approval.as_ref();

        self.cash_movement(CashMovementKind::Supply, amount, reason, approval)
    }

    /// Cash taken out of the drawer (sangria).
    pub fn cash_out(
        &self,
        amount: Money,
        reason: String,
        approval: Option<Approval>,
    ) -> PosResult<()> {
        self.alive()?;
        let reason: &str = &reason;
        let approval = approval.as_ref();

        self.cash_movement(CashMovementKind::Withdrawal, amount, reason, approval)
    }

    fn cash_movement(
        &self,
        kind: CashMovementKind,
        amount: Money,
        reason: &str,
        approval: Option<&Approval>,
    ) -> PosResult<()> {
        if amount.centavos() <= 0 {
            return Err(PosError::invalid("amount", "must be greater than zero"));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(PosError::invalid(
                "reason",
                "say why, in up to 200 characters",
            ));
        }
        let (auth, mut device, mut session) =
            self.authorize_on_open_register("cash movement", Action::OpenRegister, approval)?;
        let movement = match kind {
            CashMovementKind::Supply => RegisterMovement::CashIn {
                amount,
                reason: reason.to_owned(),
            },
            _ => RegisterMovement::CashOut {
                amount,
                reason: reason.to_owned(),
            },
        };
        let in_drawer = session.tally.expected_cash()?;
        session.tally.add(&movement)?;
        let after = session.tally.expected_cash()?;
        if kind == CashMovementKind::Withdrawal && after.is_negative() {
            return Err(PosError::limit(
                crate::error::LimitKind::CashInDrawer,
                Some(in_drawer.centavos()),
                Some(amount.centavos()),
                Some(-after.centavos()),
                "more than the cash expected in the drawer",
            ));
        }
        let at = self.now();
        let change = LocalChange {
            settings: vec![register_setting(Some(&session), device.last_sale)?],
            mutations: vec![Mutation::CashMovement {
                session_id: session.id,
                movement: kind,
                amount,
                actor: Actor::User(auth.performer().user_id),
                note: Some(reason.to_owned()),
                at,
            }],
            ..Default::default()
        };
        let execution =
            auth.execution(Action::OpenRegister, format!("register:{}", session.id), at);
        self.execute(execution, change, execute::record)?;
        device.register = Some(session);
        Ok(())
    }

    /// Authorizes `action` on the open register and returns it as it is now, with the state
    /// locked for the caller to change it. A closed register is refused before anyone is asked
    /// for a PIN; the approval is checked (Argon2, slow) before the state is locked, so a sale
    /// committed meanwhile is in the register the caller gets.
    fn authorize_on_open_register(
        &self,
        doing: &str,
        action: Action,
        approval: Option<&Approval>,
    ) -> PosResult<(Authorization, MutexGuard<'_, DeviceState>, RegisterSession)> {
        let not_open = || PosError::state(doing, "the register is not open");
        if self.device().register.is_none() {
            return Err(not_open());
        }
        let auth = self.authorize_with(action, approval)?;
        let device = self.device();
        let session = device.register.clone().ok_or_else(not_open)?;
        Ok((auth, device, session))
    }

    /// Closes the register with what was counted per method and returns the report (expected vs
    /// counted). Methods not counted are taken as expected.
    pub fn close_register(
        &self,
        counted: Vec<CountedAmount>,
        approval: Option<Approval>,
    ) -> PosResult<ClosingReport> {
        self.alive()?;
        let approval = approval.as_ref();

        let (auth, mut device, session) =
            self.authorize_on_open_register("close register", Action::CloseRegister, approval)?;
        let counted: Vec<(PaymentKind, Money)> =
            counted.into_iter().map(|c| (c.kind, c.amount)).collect();
        let report = session.tally.close(&counted)?;
        let counted_cash = report
            .lines
            .iter()
            .find(|l| l.kind == PaymentKind::Cash)
            .map_or(Money::ZERO, |l| l.counted);
        let at = self.now();
        let change = LocalChange {
            settings: vec![register_setting(None, device.last_sale)?],
            register_closing: Some(RegisterClosing {
                session_id: session.id,
                counts: report
                    .lines
                    .iter()
                    .map(|l| ClosingCount {
                        kind: l.kind.label().to_owned(),
                        expected: l.expected,
                        counted: l.counted,
                    })
                    .collect(),
            }),
            mutations: vec![Mutation::CashMovement {
                session_id: session.id,
                movement: CashMovementKind::Closing,
                amount: counted_cash,
                actor: Actor::User(auth.performer().user_id),
                note: Some(format!("difference {}", report.total_difference)),
                at,
            }],
            ..Default::default()
        };
        let execution = auth.execution(
            Action::CloseRegister,
            format!("register:{}", session.id),
            at,
        );
        self.execute(execution, change, execute::record)?;
        device.register = None;
        Ok(report)
    }
}
