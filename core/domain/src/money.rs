//! Money as integer centavos. Every operation is checked: an overflow is an error, never a wrap.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of money in centavos (1/100 of the currency unit). May be negative (refunds,
/// deltas, balances).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    #[error("amount overflows the supported range")]
    Overflow,
    #[error("`{0}` is not an amount of money (expected e.g. 12.34)")]
    Invalid(String),
    #[error("cannot split an amount into zero parts or by zero weights")]
    EmptySplit,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_centavos(centavos: i64) -> Self {
        Money(centavos)
    }

    pub const fn centavos(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        self.0.checked_neg().map(Money).ok_or(MoneyError::Overflow)
    }

    /// Multiplies by an integer factor (e.g. a count of units).
    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(factor)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// `self * numerator / denominator`, rounded half to even. Used for weighed quantities
    /// (price per kg × grams / 1000), percentages and tax rates, so that repeated roundings do
    /// not drift in one direction.
    pub fn mul_ratio_half_even(
        self,
        numerator: i64,
        denominator: i64,
    ) -> Result<Money, MoneyError> {
        if denominator == 0 {
            return Err(MoneyError::EmptySplit);
        }
        let product = i128::from(self.0) * i128::from(numerator);
        let rounded = div_round_half_even(product, i128::from(denominator));
        i64::try_from(rounded)
            .map(Money)
            .map_err(|_| MoneyError::Overflow)
    }

    /// Splits `self` across `weights` proportionally so that the parts add up exactly to
    /// `self`. Each part is first rounded half to even; the centavos left over (or taken too
    /// much) are then settled one by one on the parts with the largest rounding remainders, the
    /// earliest part winning ties. This is how a sale discount is spread over its lines.
    pub fn split_by_weights(self, weights: &[Money]) -> Result<Vec<Money>, MoneyError> {
        let total: i128 = weights.iter().map(|w| i128::from(w.0)).sum();
        if weights.is_empty() || total == 0 {
            return Err(MoneyError::EmptySplit);
        }
        let amount = i128::from(self.0);
        let mut parts = Vec::with_capacity(weights.len());
        let mut remainders = Vec::with_capacity(weights.len());
        for w in weights {
            let exact_num = amount * i128::from(w.0);
            let part = div_round_half_even(exact_num, total);
            // Remainder of the exact share relative to the rounded part, scaled by `total`.
            remainders.push(exact_num - part * total);
            parts.push(part);
        }
        let mut diff = amount - parts.iter().sum::<i128>();
        let mut order: Vec<usize> = (0..parts.len()).collect();
        if diff > 0 {
            order.sort_by(|&a, &b| remainders[b].cmp(&remainders[a]).then(a.cmp(&b)));
        } else {
            order.sort_by(|&a, &b| remainders[a].cmp(&remainders[b]).then(a.cmp(&b)));
        }
        let mut i = 0;
        while diff != 0 {
            let idx = order[i % order.len()];
            parts[idx] += diff.signum();
            diff -= diff.signum();
            i += 1;
        }
        parts
            .into_iter()
            .map(|p| {
                i64::try_from(p)
                    .map(Money)
                    .map_err(|_| MoneyError::Overflow)
            })
            .collect()
    }

    /// Sums amounts, failing on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(items: I) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::ZERO, Money::checked_add)
    }
}

fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    let (n, d) = if denominator < 0 {
        (-numerator, -denominator)
    } else {
        (numerator, denominator)
    };
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    match (2 * r).cmp(&d) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => {
            if q % 2 == 0 {
                q
            } else {
                q + 1
            }
        }
    }
}

impl fmt::Display for Money {
    /// `12.34`, `-0.05`: the decimal form used in fiscal XML and wire formats.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Parses `12`, `12.3`, `12.34`, `-1.50`, and the Brazilian `12,34`. More than two decimal
    /// places is an error rather than a silent rounding.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || MoneyError::Invalid(s.to_owned());
        let t = s.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let digits = digits.replace(',', ".");
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits.as_str(), ""),
        };
        if int_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || frac_part.len() > 2
        {
            return Err(invalid());
        }
        let units: i64 = int_part.parse().map_err(|_| MoneyError::Overflow)?;
        let frac: i64 = match frac_part.len() {
            0 => 0,
            1 => frac_part.parse::<i64>().map_err(|_| invalid())? * 10,
            _ => frac_part.parse().map_err(|_| invalid())?,
        };
        let centavos = units
            .checked_mul(100)
            .and_then(|c| c.checked_add(frac))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money(if negative { -centavos } else { centavos }))
    }
}

impl<'a> Sum<&'a Money> for Option<Money> {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Self {
        Money::checked_sum(iter.copied()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_round_trip() {
        for (text, centavos) in [
            ("12.34", 1234),
            ("0.05", 5),
            ("-1.50", -150),
            ("7", 700),
            ("3,9", 390),
        ] {
            let m: Money = text.parse().expect("valid amount");
            assert_eq!(m.centavos(), centavos, "{text}");
        }
        assert_eq!(Money::from_centavos(-5).to_string(), "-0.05");
        assert_eq!(Money::from_centavos(123456).to_string(), "1234.56");
    }

    #[test]
    fn rejects_amounts_that_would_round_or_are_not_numbers() {
        for bad in ["1.234", "", "abc", "1.2.3", "--1", "1e3", "."] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} must not parse");
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let max = Money::from_centavos(i64::MAX);
        assert_eq!(
            max.checked_add(Money::from_centavos(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(
            Money::from_centavos(i64::MIN).checked_neg(),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            "99999999999999999999".parse::<Money>(),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn ratio_rounds_half_to_even() {
        // 0.5 centavo rounds to the even neighbour: 2.5 → 2, 3.5 → 4.
        assert_eq!(
            Money::from_centavos(5).mul_ratio_half_even(1, 2),
            Ok(Money::from_centavos(2))
        );
        assert_eq!(
            Money::from_centavos(7).mul_ratio_half_even(1, 2),
            Ok(Money::from_centavos(4))
        );
        assert_eq!(
            Money::from_centavos(-5).mul_ratio_half_even(1, 2),
            Ok(Money::from_centavos(-2))
        );
        // 1.999 kg at 10.00/kg = 19.99
        assert_eq!(
            Money::from_centavos(1000).mul_ratio_half_even(1999, 1000),
            Ok(Money::from_centavos(1999))
        );
    }

    #[test]
    fn split_always_adds_up_to_the_centavo() {
        // 10.00 discount over three equal lines cannot split evenly: one line takes the extra centavo.
        let weights = [Money::from_centavos(100); 3];
        let parts = Money::from_centavos(1000)
            .split_by_weights(&weights)
            .expect("non-empty");
        assert_eq!(parts.iter().map(|m| m.centavos()).sum::<i64>(), 1000);
        assert_eq!(
            parts,
            vec![
                Money::from_centavos(334),
                Money::from_centavos(333),
                Money::from_centavos(333)
            ]
        );

        let weights = [
            Money::from_centavos(999),
            Money::from_centavos(1),
            Money::from_centavos(12345),
        ];
        for amount in [1, 7, 99, 1001, 55555] {
            let parts = Money::from_centavos(amount)
                .split_by_weights(&weights)
                .expect("non-empty");
            assert_eq!(parts.iter().map(|m| m.centavos()).sum::<i64>(), amount);
        }
        assert_eq!(
            Money::from_centavos(1).split_by_weights(&[]),
            Err(MoneyError::EmptySplit)
        );
    }
}
