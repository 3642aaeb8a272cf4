//! Quantities in thousandths, so weighed goods (1.250 kg) and counted goods (3 un) share one
//! integer type and no float ever touches a total.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::money::{Money, MoneyError};

/// A quantity in thousandths of a unit: 1 unit = 1000, 1.250 kg = 1250. May be negative when it
/// is a delta (stock leaving).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Quantity(i64);

/// The unit a product is sold in. Counted units take whole quantities only; measured units take
/// up to three decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Counted pieces ("UN").
    Each,
    /// Weighed, in kilograms ("KG").
    Kilogram,
    /// Measured, in litres ("L").
    Liter,
    /// Measured, in metres ("M").
    Meter,
    /// Counted boxes ("CX").
    Box,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantityError {
    #[error("`{0}` is not a quantity (expected e.g. 3 or 1.250)")]
    Invalid(String),
    #[error("quantity has more than three decimals: `{0}`")]
    TooPrecise(String),
    #[error("quantity overflows the supported range")]
    Overflow,
    #[error("quantity must be greater than zero")]
    NotPositive,
    #[error("{unit:?} is counted in whole units; {quantity} is fractional")]
    FractionalForCountedUnit { unit: Unit, quantity: Quantity },
    #[error("`{0}` is not a unit (expected UN, KG, L, M or CX)")]
    UnknownUnit(String),
}

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);
    /// Thousandths per unit.
    pub const SCALE: i64 = 1000;

    pub const fn from_thousandths(thousandths: i64) -> Self {
        Quantity(thousandths)
    }

    /// Whole units (3 → 3.000).
    pub fn from_units(units: i64) -> Result<Self, QuantityError> {
        units
            .checked_mul(Self::SCALE)
            .map(Quantity)
            .ok_or(QuantityError::Overflow)
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub const fn is_whole(self) -> bool {
        self.0 % Self::SCALE == 0
    }

    pub fn checked_add(self, other: Quantity) -> Result<Quantity, QuantityError> {
        self.0
            .checked_add(other.0)
            .map(Quantity)
            .ok_or(QuantityError::Overflow)
    }

    pub fn checked_neg(self) -> Result<Quantity, QuantityError> {
        self.0
            .checked_neg()
            .map(Quantity)
            .ok_or(QuantityError::Overflow)
    }

    /// Checks that this is a quantity that can be sold in `unit`: positive, and whole for
    /// counted units.
    pub fn validate_for_sale(self, unit: Unit) -> Result<(), QuantityError> {
        if self.0 <= 0 {
            return Err(QuantityError::NotPositive);
        }
        if !unit.allows_fractions() && !self.is_whole() {
            return Err(QuantityError::FractionalForCountedUnit {
                unit,
                quantity: self,
            });
        }
        Ok(())
    }

    /// `unit_price × quantity`, rounded half to even to the centavo (1.255 kg at 10.00/kg =
    /// 12.55; 0.333 kg at 0.99 = 0.33).
    pub fn price(self, unit_price: Money) -> Result<Money, MoneyError> {
        unit_price.mul_ratio_half_even(self.0, Self::SCALE)
    }
}

impl fmt::Display for Quantity {
    /// `3`, `1.25`, `-0.5`: trailing zeros dropped (fiscal XML formats its own way).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (int, frac) = (abs / 1000, abs % 1000);
        if frac == 0 {
            write!(f, "{sign}{int}")
        } else {
            let frac = format!("{frac:03}");
            write!(f, "{sign}{int}.{}", frac.trim_end_matches('0'))
        }
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    /// Parses `3`, `1.25`, `1,250` (Brazilian decimal comma), `-2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let digits = digits.replace(',', ".");
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits.as_str(), ""));
        if int_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || (digits.contains('.') && frac_part.is_empty())
        {
            return Err(QuantityError::Invalid(s.to_owned()));
        }
        if frac_part.len() > 3 {
            return Err(QuantityError::TooPrecise(s.to_owned()));
        }
        let int: i64 = int_part.parse().map_err(|_| QuantityError::Overflow)?;
        let frac: i64 = format!("{frac_part:0<3}")
            .parse()
            .map_err(|_| QuantityError::Invalid(s.to_owned()))?;
        let value = int
            .checked_mul(Self::SCALE)
            .and_then(|v| v.checked_add(frac))
            .ok_or(QuantityError::Overflow)?;
        Ok(Quantity(if negative { -value } else { value }))
    }
}

impl Unit {
    pub const ALL: [Unit; 5] = [
        Unit::Each,
        Unit::Kilogram,
        Unit::Liter,
        Unit::Meter,
        Unit::Box,
    ];

    /// Whether quantities may have decimals (weighed or measured goods).
    pub const fn allows_fractions(self) -> bool {
        matches!(self, Unit::Kilogram | Unit::Liter | Unit::Meter)
    }

    /// The commercial unit code used on receipts and in the NFC-e (`uCom`).
    pub const fn code(self) -> &'static str {
        match self {
            Unit::Each => "UN",
            Unit::Kilogram => "KG",
            Unit::Liter => "L",
            Unit::Meter => "M",
            Unit::Box => "CX",
        }
    }

    /// Parses a unit code as ERPs export it (`UN`, `kg`, `LT`, `CX`…).
    pub fn from_code(code: &str) -> Result<Unit, QuantityError> {
        match code.trim().to_ascii_uppercase().as_str() {
            "UN" | "UND" | "UNID" | "PC" | "PCA" => Ok(Unit::Each),
            "KG" => Ok(Unit::Kilogram),
            "L" | "LT" => Ok(Unit::Liter),
            "M" | "MT" => Ok(Unit::Meter),
            "CX" => Ok(Unit::Box),
            _ => Err(QuantityError::UnknownUnit(code.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_weights_in_thousandths() {
        for (text, th) in [
            ("3", 3000),
            ("1.25", 1250),
            ("1,250", 1250),
            ("0.001", 1),
            ("-2", -2000),
        ] {
            assert_eq!(
                text.parse::<Quantity>(),
                Ok(Quantity::from_thousandths(th)),
                "{text}"
            );
        }
        assert_eq!(Quantity::from_thousandths(1250).to_string(), "1.25");
        assert_eq!(Quantity::from_thousandths(-3000).to_string(), "-3");
    }

    #[test]
    fn rejects_bad_quantities() {
        // Four decimals would have to be rounded, and a scale cannot weigh grams below 1.
        assert!(matches!(
            "1.0001".parse::<Quantity>(),
            Err(QuantityError::TooPrecise(_))
        ));
        for bad in ["", "abc", "1.", ".5", "1..2", "1e3"] {
            assert!(
                matches!(bad.parse::<Quantity>(), Err(QuantityError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            "99999999999999999".parse::<Quantity>(),
            Err(QuantityError::Overflow)
        );
        assert_eq!(Quantity::from_units(i64::MAX), Err(QuantityError::Overflow));
    }

    #[test]
    fn sale_quantities_must_be_positive_and_whole_for_counted_units() {
        assert_eq!(
            Quantity::ZERO.validate_for_sale(Unit::Each),
            Err(QuantityError::NotPositive)
        );
        assert_eq!(
            Quantity::from_thousandths(-1000).validate_for_sale(Unit::Kilogram),
            Err(QuantityError::NotPositive)
        );
        assert!(matches!(
            Quantity::from_thousandths(1500).validate_for_sale(Unit::Each),
            Err(QuantityError::FractionalForCountedUnit {
                unit: Unit::Each,
                ..
            })
        ));
        assert_eq!(
            Quantity::from_thousandths(1500).validate_for_sale(Unit::Kilogram),
            Ok(())
        );
    }

    #[test]
    fn prices_weighed_items_half_even() {
        let per_kg = Money::from_centavos(1000);
        assert_eq!(
            Quantity::from_thousandths(1255).price(per_kg),
            Ok(Money::from_centavos(1255))
        );
        // 0.99 × 0.333 = 0.32967 → 0.33
        assert_eq!(
            Quantity::from_thousandths(333).price(Money::from_centavos(99)),
            Ok(Money::from_centavos(33))
        );
        // 0.25 × 0.5 kg = 0.125 → half-even → 0.12
        assert_eq!(
            Quantity::from_thousandths(500).price(Money::from_centavos(25)),
            Ok(Money::from_centavos(12))
        );
        assert_eq!(
            Quantity::from_units(1_000_000)
                .expect("fits")
                .price(Money::from_centavos(i64::MAX)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn unit_codes_round_trip() {
        for unit in Unit::ALL {
            assert_eq!(Unit::from_code(unit.code()), Ok(unit));
        }
        assert_eq!(Unit::from_code("kg"), Ok(Unit::Kilogram));
        assert!(matches!(
            Unit::from_code("furlong"),
            Err(QuantityError::UnknownUnit(_))
        ));
    }
}
