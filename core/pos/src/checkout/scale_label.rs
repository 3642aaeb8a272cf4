//! Labels printed by counter scales (Toledo, Filizola, Urano…): an EAN-13 starting with `2` that
//! carries the product's internal code and either the weight or the total price.
//! `2 CCCCC VVVVVV D` with the default 5-digit code; the code length is a store setting.

use serde::{Deserialize, Serialize};

/// What the value digits of the label mean (configured to match the store's scales).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScaleValue {
    /// Weight in grams.
    Weight,
    /// Total price in centavos.
    Price,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleLabelFormat {
    /// Digits of the internal product code after the leading `2` (4 to 6).
    pub code_digits: u8,
    pub value: ScaleValue,
}

impl Default for ScaleLabelFormat {
    fn default() -> Self {
        ScaleLabelFormat {
            code_digits: 5,
            value: ScaleValue::Weight,
        }
    }
}

/// A decoded label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleLabel {
    /// The internal code, leading zeros kept as printed (matched against the product's SKU).
    pub code: String,
    pub value: ScaleValue,
    /// Grams or centavos.
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScaleLabelError {
    #[error("not a scale label (needs 13 digits starting with 2)")]
    NotAScaleLabel,
    #[error("check digit is {found}, expected {expected}")]
    CheckDigit { expected: u8, found: u8 },
    #[error("the label carries a zero amount")]
    ZeroAmount,
    #[error("scale label code length must be 4 to 6 digits")]
    Format,
}

impl ScaleLabelFormat {
    /// `Ok(None)` when `code` is not a scale label at all (an ordinary barcode); an error when it
    /// looks like one but is damaged.
    pub fn parse(&self, code: &str) -> Result<Option<ScaleLabel>, ScaleLabelError> {
        if !(4..=6).contains(&self.code_digits) {
            return Err(ScaleLabelError::Format);
        }
        let bytes = code.as_bytes();
        if bytes.len() != 13 || bytes[0] != b'2' || !bytes.iter().all(u8::is_ascii_digit) {
            return Ok(None);
        }
        let digits: Vec<u8> = bytes.iter().map(|b| b - b'0').collect();
        let expected = ean13_check_digit(&digits[..12]);
        if digits[12] != expected {
            return Err(ScaleLabelError::CheckDigit {
                expected,
                found: digits[12],
            });
        }
        let code_end = 1 + usize::from(self.code_digits);
        let amount = digits[code_end..12]
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(*d));
        if amount == 0 {
            return Err(ScaleLabelError::ZeroAmount);
        }
        Ok(Some(ScaleLabel {
            code: code[1..code_end].to_owned(),
            value: self.value,
            amount,
        }))
    }
}

/// Weighed quantity (grams) for a price label: the quantity whose rounded line gross equals the
/// printed price, when one exists near the estimate; otherwise the nearest estimate.
pub fn grams_for_price(price_per_kg_centavos: i64, label_price_centavos: i64) -> Option<i64> {
    if price_per_kg_centavos <= 0 || label_price_centavos <= 0 {
        return None;
    }
    let gross = |g: i64| -> i64 {
        // Same half-even rounding as the domain's `mul_ratio_half_even`.
        let n = i128::from(price_per_kg_centavos) * i128::from(g);
        let (q, r) = (n / 1000, n % 1000);
        let q = match (2 * r).cmp(&1000) {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Equal => q + (q % 2),
        };
        i64::try_from(q).unwrap_or(i64::MAX)
    };
    let estimate = (i128::from(label_price_centavos) * 1000
        + i128::from(price_per_kg_centavos) / 2)
        / i128::from(price_per_kg_centavos);
    let estimate = i64::try_from(estimate).ok()?;
    (estimate - 3..=estimate + 3)
        .filter(|g| *g > 0)
        .find(|g| gross(*g) == label_price_centavos)
        .or(Some(estimate.max(1)))
}

fn ean13_check_digit(first12: &[u8]) -> u8 {
    let sum: u32 = first12
        .iter()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(first12: &str) -> String {
        let d: Vec<u8> = first12.bytes().map(|b| b - b'0').collect();
        format!("{first12}{}", ean13_check_digit(&d))
    }

    #[test]
    fn weight_label_decodes_code_and_grams() {
        let label = with_check("200123001250"); // code 00123, 1.250 kg
        let parsed = ScaleLabelFormat::default()
            .parse(&label)
            .expect("valid")
            .expect("is a label");
        assert_eq!(
            parsed,
            ScaleLabel {
                code: "00123".into(),
                value: ScaleValue::Weight,
                amount: 1250
            }
        );
    }

    #[test]
    fn price_label_with_four_digit_code() {
        let f = ScaleLabelFormat {
            code_digits: 4,
            value: ScaleValue::Price,
        };
        let parsed = f
            .parse(&with_check("201230001599"))
            .expect("valid")
            .expect("label");
        assert_eq!(
            (parsed.code.as_str(), parsed.amount),
            ("0123", 1599),
            "R$ 15.99 printed"
        );
    }

    #[test]
    fn ordinary_barcodes_are_not_labels_and_damaged_labels_are_errors() {
        assert_eq!(
            ScaleLabelFormat::default().parse("7891000100103"),
            Ok(None),
            "a GTIN from prefix 789"
        );
        assert_eq!(ScaleLabelFormat::default().parse("ABC"), Ok(None));
        let mut bad = with_check("200123001250");
        let last = bad.pop().expect("13 chars");
        let wrong = if last == '0' { '1' } else { '0' };
        bad.push(wrong);
        assert!(matches!(
            ScaleLabelFormat::default().parse(&bad),
            Err(ScaleLabelError::CheckDigit { .. })
        ));
        assert_eq!(
            ScaleLabelFormat::default().parse(&with_check("200123000000")),
            Err(ScaleLabelError::ZeroAmount)
        );
    }

    #[test]
    fn price_label_quantity_reproduces_the_printed_price() {
        // R$ 39.90/kg, label R$ 15.99 → 400.75 g; 401 g × 39.90 = 15.9999 → 16.00, 400 g = 15.96;
        // no gram count gives exactly 15.99, so the nearest estimate is used.
        assert_eq!(grams_for_price(3990, 1599), Some(401));
        // R$ 10.00/kg, label R$ 2.35 → exactly 235 g.
        assert_eq!(grams_for_price(1000, 235), Some(235));
        assert_eq!(grams_for_price(0, 235), None);
    }
}
