//! Register sessions: open with a float, cash in/out, close with counted amounts and a report of
//! expected vs counted per payment method. Pure arithmetic over the session's movements; the Pos
//! persists the movements in the store and rebuilds the tally from them.

use serde::{Deserialize, Serialize};
use tenda_domain::{Money, MoneyError};

/// The payment methods a register tallies separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PaymentKind {
    Cash,
    Card,
    Pix,
    CustomerAccount,
}

impl PaymentKind {
    pub const ALL: [PaymentKind; 4] = [
        PaymentKind::Cash,
        PaymentKind::Card,
        PaymentKind::Pix,
        PaymentKind::CustomerAccount,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PaymentKind::Cash => "cash",
            PaymentKind::Card => "card",
            PaymentKind::Pix => "pix",
            PaymentKind::CustomerAccount => "customer_account",
        }
    }
}

/// One thing that moved money through the register during a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegisterMovement {
    /// The float counted into the drawer at opening.
    Float(Money),
    /// Money put into the drawer (e.g. change from the bank).
    CashIn { amount: Money, reason: String },
    /// Money taken out (e.g. a bank deposit, a supplier paid in cash).
    CashOut { amount: Money, reason: String },
    /// A sale's payment, net of change for cash.
    SalePayment { kind: PaymentKind, amount: Money },
    /// A cancelled sale gives its payment back.
    Refund { kind: PaymentKind, amount: Money },
}

/// One line of the closing report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ClosingLine {
    pub kind: PaymentKind,
    pub expected: Money,
    pub counted: Money,
    /// counted − expected: negative is a shortfall.
    pub difference: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ClosingReport {
    pub float: Money,
    pub cash_in: Money,
    pub cash_out: Money,
    pub sales_count: u32,
    pub lines: Vec<ClosingLine>,
    pub total_difference: Money,
}

/// The open register, as the faces show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RegisterView {
    pub id: tenda_domain::RegisterSessionId,
    pub opened_by: tenda_domain::UserId,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    pub float: Money,
    pub cash_in: Money,
    pub cash_out: Money,
    pub sales_count: u32,
    /// What the drawer should hold now: float + cash sales + cash in − cash out.
    pub expected_cash: Money,
    /// What the session's sales took, per payment kind, every kind listed.
    pub taken: Vec<TakenByKind>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TakenByKind {
    pub kind: PaymentKind,
    pub amount: Money,
}

/// An open register session as kept in the device store (faces see its [`RegisterView`]). It is
/// saved when opened, moved, refunded or closed; the sales in between are counted from their own
/// rows when the device opens (`saved_state`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RegisterSession {
    pub id: tenda_domain::RegisterSessionId,
    pub opened_by: tenda_domain::UserId,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    pub tally: RegisterTally,
}

impl RegisterSession {
    pub(crate) fn view(&self) -> Result<RegisterView, MoneyError> {
        let t = &self.tally;
        Ok(RegisterView {
            id: self.id,
            opened_by: self.opened_by,
            opened_at: self.opened_at,
            float: t.float,
            cash_in: t.cash_in,
            cash_out: t.cash_out,
            sales_count: t.sales_count,
            expected_cash: t.expected_cash()?,
            taken: PaymentKind::ALL
                .into_iter()
                .map(|kind| TakenByKind {
                    kind,
                    amount: t.by_kind[slot(kind)],
                })
                .collect(),
        })
    }
}

/// Running totals of a session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterTally {
    pub float: Money,
    pub cash_in: Money,
    pub cash_out: Money,
    pub by_kind: [Money; 4],
    pub sales_count: u32,
}

fn slot(kind: PaymentKind) -> usize {
    match kind {
        PaymentKind::Cash => 0,
        PaymentKind::Card => 1,
        PaymentKind::Pix => 2,
        PaymentKind::CustomerAccount => 3,
    }
}

impl RegisterTally {
    pub fn from_movements<'a>(
        movements: impl IntoIterator<Item = &'a RegisterMovement>,
    ) -> Result<Self, MoneyError> {
        let mut t = RegisterTally::default();
        for m in movements {
            t.add(m)?;
        }
        Ok(t)
    }

    pub fn add(&mut self, movement: &RegisterMovement) -> Result<(), MoneyError> {
        match movement {
            RegisterMovement::Float(m) => self.float = self.float.checked_add(*m)?,
            RegisterMovement::CashIn { amount, .. } => {
                self.cash_in = self.cash_in.checked_add(*amount)?
            }
            RegisterMovement::CashOut { amount, .. } => {
                self.cash_out = self.cash_out.checked_add(*amount)?
            }
            RegisterMovement::SalePayment { kind, amount } => {
                let s = &mut self.by_kind[slot(*kind)];
                *s = s.checked_add(*amount)?;
            }
            RegisterMovement::Refund { kind, amount } => {
                let s = &mut self.by_kind[slot(*kind)];
                *s = s.checked_sub(*amount)?;
            }
        }
        Ok(())
    }

    /// Counts a sale taken in the session: each payment under its kind.
    pub(crate) fn add_sale(
        &mut self,
        payments: &[tenda_domain::Payment],
    ) -> Result<(), MoneyError> {
        for p in payments {
            self.add(&RegisterMovement::SalePayment {
                kind: crate::reports::payment_kind(&p.method),
                amount: p.amount,
            })?;
        }
        self.sales_count += 1;
        Ok(())
    }

    /// Cash that should be in the drawer now.
    pub fn expected_cash(&self) -> Result<Money, MoneyError> {
        self.float
            .checked_add(self.by_kind[slot(PaymentKind::Cash)])?
            .checked_add(self.cash_in)?
            .checked_sub(self.cash_out)
    }

    pub fn expected(&self, kind: PaymentKind) -> Result<Money, MoneyError> {
        match kind {
            PaymentKind::Cash => self.expected_cash(),
            other => Ok(self.by_kind[slot(other)]),
        }
    }

    /// The closing report. Methods the operator did not count (e.g. customer account, which has
    /// nothing physical) are taken as counted = expected.
    pub fn close(&self, counted: &[(PaymentKind, Money)]) -> Result<ClosingReport, MoneyError> {
        let mut lines = Vec::with_capacity(4);
        let mut total = Money::ZERO;
        for kind in PaymentKind::ALL {
            let expected = self.expected(kind)?;
            let counted_amount = counted
                .iter()
                .filter(|(k, _)| *k == kind)
                .try_fold(None::<Money>, |acc, (_, m)| {
                    Ok::<_, MoneyError>(Some(acc.unwrap_or(Money::ZERO).checked_add(*m)?))
                })?
                .unwrap_or(expected);
            let difference = counted_amount.checked_sub(expected)?;
            total = total.checked_add(difference)?;
            lines.push(ClosingLine {
                kind,
                expected,
                counted: counted_amount,
                difference,
            });
        }
        Ok(ClosingReport {
            float: self.float,
            cash_in: self.cash_in,
            cash_out: self.cash_out,
            sales_count: self.sales_count,
            lines,
            total_difference: total,
        })
    }
}

#[cfg(test)]
// Amounts in centavos are written reais_centavos (100_00 = R$ 100,00).
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    fn m(c: i64) -> Money {
        Money::from_centavos(c)
    }

    #[test]
    fn closing_report_expected_vs_counted() {
        let movements = vec![
            RegisterMovement::Float(m(100_00)),
            RegisterMovement::SalePayment {
                kind: PaymentKind::Cash,
                amount: m(35_50),
            },
            RegisterMovement::SalePayment {
                kind: PaymentKind::Card,
                amount: m(80_00),
            },
            RegisterMovement::SalePayment {
                kind: PaymentKind::CustomerAccount,
                amount: m(12_00),
            },
            RegisterMovement::CashIn {
                amount: m(50_00),
                reason: "troco do banco".into(),
            },
            RegisterMovement::CashOut {
                amount: m(20_00),
                reason: "fornecedor".into(),
            },
            RegisterMovement::Refund {
                kind: PaymentKind::Cash,
                amount: m(5_50),
            },
        ];
        let tally = RegisterTally::from_movements(&movements).expect("no overflow");
        // 100 float + 35.50 − 5.50 sales + 50 in − 20 out = 160.00
        assert_eq!(tally.expected_cash(), Ok(m(160_00)));
        let report = tally
            .close(&[
                (PaymentKind::Cash, m(158_00)),
                (PaymentKind::Card, m(80_00)),
            ])
            .expect("no overflow");
        let cash = &report.lines[0];
        assert_eq!(
            (cash.expected, cash.counted, cash.difference),
            (m(160_00), m(158_00), m(-2_00))
        );
        assert_eq!(report.lines[1].difference, Money::ZERO);
        // Uncounted customer account is taken at its expected value.
        assert_eq!(report.lines[3].counted, m(12_00));
        assert_eq!(
            report.total_difference,
            m(-2_00),
            "a 2.00 shortfall in cash only"
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let movements = vec![
            RegisterMovement::Float(Money::from_centavos(i64::MAX)),
            RegisterMovement::CashIn {
                amount: m(1),
                reason: "x".into(),
            },
        ];
        let tally = RegisterTally::from_movements(&movements).expect("separate buckets");
        assert!(tally.expected_cash().is_err());
    }
}
