//! Register sessions: the cash a drawer should hold, from its opening float, supplies,
//! withdrawals and cash sales; each movement with its outbox mutation and audit entry.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenda_domain::{
    Actor, AuditEvent, CashMovementKind, Money, Mutation, Outcome, PaymentMethod, RegisterSessionId,
};

use crate::audit::append_audit;
use crate::error::{Error, Result, corrupt};
use crate::outbox::append_outbox;
use crate::packed::unpack;
use crate::sales::SaleBody;
use crate::sales::last_sale_number;
use crate::schema::{cash_movements, register_closings, sales};
use crate::store::{Store, ts};

fn kind_code(k: CashMovementKind) -> &'static str {
    match k {
        CashMovementKind::Opening => "opening",
        CashMovementKind::Supply => "supply",
        CashMovementKind::Withdrawal => "withdrawal",
        CashMovementKind::Closing => "closing",
    }
}

/// What was expected and counted, per payment kind, when a register closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterClosing {
    pub session_id: RegisterSessionId,
    /// In the order the closing report lists them.
    pub counts: Vec<ClosingCount>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosingCount {
    /// The payment kind's code, as the point of sale names it ("cash", "card", …).
    pub kind: String,
    pub expected: Money,
    pub counted: Money,
}

impl ClosingCount {
    /// Counted minus expected: negative when short.
    pub fn difference(&self) -> Money {
        Money::from_centavos(self.counted.centavos() - self.expected.centavos())
    }
}

/// Records a closing's counts inside the caller's transaction; a session closes once.
pub(crate) fn insert_closing(c: &mut SqliteConnection, closing: &RegisterClosing) -> Result<()> {
    let session = closing.session_id.to_string();
    for count in &closing.counts {
        diesel::insert_into(register_closings::table)
            .values((
                register_closings::session_id.eq(&session),
                register_closings::kind.eq(&count.kind),
                register_closings::expected.eq(count.expected.centavos()),
                register_closings::counted.eq(count.counted.centavos()),
            ))
            .execute(c)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => Error::InvalidInput {
                    field: "register_closing",
                    reason: format!("register {session} is already closed"),
                },
                e => e.into(),
            })?;
    }
    Ok(())
}

/// What a register's drawer should hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterCash {
    pub opening: Money,
    pub supplies: Money,
    pub withdrawals: Money,
    /// Cash taken in completed sales of the session, net of change.
    pub cash_sales: Money,
    /// opening + supplies − withdrawals + cash sales.
    pub expected: Money,
    /// What was counted at closing, once closed.
    pub counted: Option<Money>,
}

impl RegisterCash {
    /// counted − expected (negative: cash missing), once closed.
    pub fn difference(&self) -> Option<Money> {
        self.counted.and_then(|c| c.checked_sub(self.expected).ok())
    }
}

fn session_kinds(
    conn: &mut SqliteConnection,
    session: RegisterSessionId,
) -> Result<Vec<(String, i64)>> {
    Ok(cash_movements::table
        .filter(cash_movements::session_id.eq(session.as_bytes().to_vec()))
        .order(cash_movements::id)
        .select((cash_movements::kind, cash_movements::amount))
        .load(conn)?)
}

impl Store {
    /// Records a cash movement of a register session. The session starts with `Opening` and
    /// ends with `Closing` (the counted cash); nothing is recorded after it. Returns the outbox
    /// number.
    #[allow(clippy::too_many_arguments)]
    pub fn record_cash_movement(
        &mut self,
        session: RegisterSessionId,
        movement: CashMovementKind,
        amount: Money,
        actor: Actor,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let needs_positive = matches!(
            movement,
            CashMovementKind::Supply | CashMovementKind::Withdrawal
        );
        if amount.is_negative() || (needs_positive && amount.is_zero()) {
            return Err(Error::InvalidInput {
                field: "amount",
                reason: "must be greater than zero".into(),
            });
        }
        if note.as_ref().is_some_and(|n| n.chars().count() > 255) {
            return Err(Error::InvalidInput {
                field: "note",
                reason: "at most 255 characters".into(),
            });
        }
        self.write(|c| {
            let kinds = session_kinds(c, session)?;
            let opened = kinds.iter().any(|(k, _)| k == "opening");
            let closed = kinds.iter().any(|(k, _)| k == "closing");
            if closed {
                return Err(Error::InvalidInput {
                    field: "session",
                    reason: "the register is already closed".into(),
                });
            }
            match movement {
                CashMovementKind::Opening if opened => {
                    return Err(Error::InvalidInput {
                        field: "session",
                        reason: "the register is already open".into(),
                    });
                }
                CashMovementKind::Opening => {}
                _ if !opened => {
                    return Err(Error::InvalidInput {
                        field: "session",
                        reason: "the register is not open".into(),
                    });
                }
                _ => {}
            }
            if movement == CashMovementKind::Withdrawal {
                let cash = register_cash(c, session)?;
                if amount > cash.expected {
                    return Err(Error::InvalidInput {
                        field: "amount",
                        reason: "more than the drawer holds".into(),
                    });
                }
            }
            let seq = append_outbox(
                c,
                &Mutation::CashMovement {
                    session_id: session,
                    movement,
                    amount,
                    actor,
                    note: note.clone(),
                    at,
                },
            )?;
            // Sales of this session can only come after this one: the cash count scans from it.
            let sales_after = (movement == CashMovementKind::Opening)
                .then(|| last_sale_number(c))
                .transpose()?;
            diesel::insert_into(cash_movements::table)
                .values((
                    cash_movements::sales_after.eq(sales_after),
                    cash_movements::session_id.eq(session.as_bytes().to_vec()),
                    cash_movements::kind.eq(kind_code(movement)),
                    cash_movements::amount.eq(amount.centavos()),
                    cash_movements::actor.eq(actor.code()),
                    cash_movements::note.eq(&note),
                    cash_movements::at.eq(ts(at)),
                    cash_movements::outbox_seq.eq(i64::try_from(seq).unwrap_or(i64::MAX)),
                ))
                .execute(c)?;
            append_audit(
                c,
                &AuditEvent {
                    actor,
                    action: format!("register.{}", kind_code(movement)),
                    subject: format!("register_session:{session}"),
                    outcome: Outcome::Succeeded,
                    at,
                },
            )?;
            Ok(seq)
        })
    }

    /// The cash position of a register session.
    /// The counts recorded when `session` closed, if it has.
    pub fn register_closing(
        &mut self,
        session: RegisterSessionId,
    ) -> Result<Option<RegisterClosing>> {
        let rows: Vec<(String, i64, i64)> = register_closings::table
            .filter(register_closings::session_id.eq(session.to_string()))
            .order(diesel::dsl::sql::<diesel::sql_types::BigInt>("rowid"))
            .select((
                register_closings::kind,
                register_closings::expected,
                register_closings::counted,
            ))
            .load(&mut self.conn)?;
        Ok((!rows.is_empty()).then(|| RegisterClosing {
            session_id: session,
            counts: rows
                .into_iter()
                .map(|(kind, expected, counted)| ClosingCount {
                    kind,
                    expected: Money::from_centavos(expected),
                    counted: Money::from_centavos(counted),
                })
                .collect(),
        }))
    }

    pub fn register_cash(&mut self, session: RegisterSessionId) -> Result<RegisterCash> {
        register_cash(&mut self.conn, session)
    }
}

fn register_cash(conn: &mut SqliteConnection, session: RegisterSessionId) -> Result<RegisterCash> {
    let mut r = RegisterCash {
        opening: Money::ZERO,
        supplies: Money::ZERO,
        withdrawals: Money::ZERO,
        cash_sales: Money::ZERO,
        expected: Money::ZERO,
        counted: None,
    };
    let overflow = |e: tenda_domain::MoneyError| corrupt("register cash", e);
    for (kind, amount) in session_kinds(conn, session)? {
        let amount = Money::from_centavos(amount);
        match kind.as_str() {
            "opening" => r.opening = amount,
            "supply" => r.supplies = r.supplies.checked_add(amount).map_err(overflow)?,
            "withdrawal" => r.withdrawals = r.withdrawals.checked_add(amount).map_err(overflow)?,
            "closing" => r.counted = Some(amount),
            other => return Err(corrupt("cash movement", other)),
        }
    }
    // A session's sales all follow its opening, so the scan starts there (sales have no
    // index by session: it would be one more page for every sale to write).
    let sales_after: i64 = cash_movements::table
        .filter(cash_movements::session_id.eq(session.as_bytes().to_vec()))
        .filter(cash_movements::kind.eq(kind_code(CashMovementKind::Opening)))
        .select(cash_movements::sales_after)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten()
        .unwrap_or(0);
    let bodies: Vec<Vec<u8>> = sales::table
        .filter(sales::local_number.gt(sales_after))
        .filter(sales::register_session_id.eq(session.as_bytes().to_vec()))
        .filter(sales::status.eq("completed"))
        .select(sales::body)
        .load(conn)?;
    for body in bodies {
        let body: SaleBody = unpack(&body, true, "sale body")?;
        for p in body.payments {
            if matches!(p.method, PaymentMethod::Cash { .. }) {
                r.cash_sales = r.cash_sales.checked_add(p.amount).map_err(overflow)?;
            }
        }
    }
    r.expected = r
        .opening
        .checked_add(r.supplies)
        .and_then(|m| m.checked_sub(r.withdrawals))
        .and_then(|m| m.checked_add(r.cash_sales))
        .map_err(overflow)?;
    Ok(r)
}
