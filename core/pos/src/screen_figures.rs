//! Figures every seller's screen shows and would otherwise compute in each shell (Kotlin and
//! Swift): what is left to pay and the change, the seconds a countdown shows, and the length a
//! contingency justification must have. Pure functions, exported through the bindings.

use chrono::{DateTime, Utc};
use tenda_domain::Money;

use crate::contingency::{JUSTIFICATION_MAX_CHARS, JUSTIFICATION_MIN_CHARS};
use crate::error::PosResult;

/// What the payment screen shows while payments are entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PaymentDue {
    /// The total less the payments entered so far (negative: more was entered than is due).
    pub remaining: Money,
    /// Change for the cash `tendered`, once it covers what remains; `None` while it does not.
    pub change: Option<Money>,
}

/// The payment screen's figures: the ticket's `total`, the `entered` payments' amounts and the
/// cash `tendered` typed so far.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub fn payment_due(
    total: Money,
    entered: Vec<Money>,
    tendered: Option<Money>,
) -> PosResult<PaymentDue> {
    let remaining = total.checked_sub(Money::checked_sum(entered)?)?;
    let change = match tendered {
        Some(cash) if cash >= remaining => Some(cash.checked_sub(remaining)?),
        _ => None,
    };
    Ok(PaymentDue { remaining, change })
}

/// Whole seconds from `now` until `until`, rounded up (a lockout shows "1 s" until it is over),
/// and zero once it has passed: the lockout keypad's and the deadline's countdown.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub fn seconds_left(now: DateTime<Utc>, until: DateTime<Utc>) -> u64 {
    let millis = (until - now).num_milliseconds();
    u64::try_from(millis).map_or(0, |ms| ms.div_ceil(1_000))
}

/// How long a text must be, in characters after trimming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LengthBounds {
    pub min_chars: u32,
    pub max_chars: u32,
}

/// The contingency justification's bounds (SEFAZ's `xJust`), for the screen to show and to
/// enable its button by; `enter_contingency` checks the same.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub fn contingency_justification_bounds() -> LengthBounds {
    LengthBounds {
        min_chars: JUSTIFICATION_MIN_CHARS as u32,
        max_chars: JUSTIFICATION_MAX_CHARS as u32,
    }
}

// Centavos grouped as reais_centavos (12_50 is R$ 12,50).
#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::contingency::validate_justification;

    fn m(c: i64) -> Money {
        Money::from_centavos(c)
    }

    #[test]
    fn remaining_and_change_follow_the_payments_entered() {
        let due = payment_due(m(50_00), vec![], None).expect("due");
        assert_eq!(
            due,
            PaymentDue {
                remaining: m(50_00),
                change: None
            }
        );
        let after_card = payment_due(m(50_00), vec![m(30_00)], Some(m(10_00))).expect("due");
        assert_eq!(after_card.remaining, m(20_00));
        assert_eq!(after_card.change, None, "10,00 does not cover 20,00");
        let paid = payment_due(m(50_00), vec![m(30_00)], Some(m(50_00))).expect("due");
        assert_eq!(paid.change, Some(m(30_00)));
        let exact = payment_due(m(50_00), vec![m(30_00)], Some(m(20_00))).expect("due");
        assert_eq!(exact.change, Some(m(0)));
    }

    #[test]
    fn an_overflowing_sum_is_an_error_not_a_wrapped_amount() {
        let err = payment_due(m(1), vec![m(i64::MAX), m(1)], None).expect_err("overflow");
        assert_eq!(err.code(), "invalid_input");
    }

    #[test]
    fn countdowns_round_up_and_stop_at_zero() {
        let now = DateTime::from_timestamp_millis(1_000_000).expect("instant");
        let at = |ms: i64| DateTime::from_timestamp_millis(1_000_000 + ms).expect("instant");
        assert_eq!(seconds_left(now, at(300_000)), 300);
        assert_eq!(
            seconds_left(now, at(1)),
            1,
            "a moment left still shows one second"
        );
        assert_eq!(seconds_left(now, at(1_001)), 2);
        assert_eq!(seconds_left(now, at(0)), 0);
        assert_eq!(seconds_left(now, at(-5_000)), 0, "past: nothing left");
    }

    #[test]
    fn the_bounds_shown_are_the_bounds_enforced() {
        let b = contingency_justification_bounds();
        let chars = |n: u32| "ç".repeat(n as usize);
        assert!(validate_justification(&chars(b.min_chars)).is_ok());
        assert!(validate_justification(&chars(b.min_chars - 1)).is_err());
        assert!(validate_justification(&chars(b.max_chars)).is_ok());
        assert!(validate_justification(&chars(b.max_chars + 1)).is_err());
    }
}
