//! Product barcodes: GS1 GTINs (EAN-8, UPC-A/GTIN-12, EAN-13, GTIN-14) with check-digit
//! validation, and the store's own internal codes as a separate kind.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of a barcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GtinKind {
    Ean8,
    Gtin12,
    Ean13,
    Gtin14,
    /// A code the store made up (scale labels, bulk goods, legacy ERP codes). Not a GS1 GTIN:
    /// fiscal documents report it as "SEM GTIN".
    Internal,
}

/// A validated barcode. Constructed only through [`Gtin::parse`] (strict GS1),
/// [`Gtin::internal`] or [`Gtin::parse_any`], so a stored `Gtin` is always well-formed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "GtinWire", into = "GtinWire")]
pub struct Gtin {
    code: String,
    kind: GtinKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GtinError {
    #[error("barcode is empty")]
    Empty,
    #[error("GTIN must have 8, 12, 13 or 14 digits, got {0}")]
    BadLength(usize),
    #[error("GTIN must contain only digits")]
    NotDigits,
    #[error("GTIN check digit is {found}, expected {expected}")]
    BadCheckDigit { expected: u8, found: u8 },
    #[error("internal code must be 1-30 letters, digits, '-', '.' or '_'")]
    BadInternalCode,
}

/// GS1 check digit over the data digits (all but the last).
pub fn gs1_check_digit(data_digits: &[u8]) -> u8 {
    let sum: u32 = data_digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl Gtin {
    /// A GS1 GTIN: 8, 12, 13 or 14 digits with a valid check digit.
    pub fn parse(text: &str) -> Result<Gtin, GtinError> {
        let code = text.trim();
        if code.is_empty() {
            return Err(GtinError::Empty);
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GtinError::NotDigits);
        }
        let kind = match code.len() {
            8 => GtinKind::Ean8,
            12 => GtinKind::Gtin12,
            13 => GtinKind::Ean13,
            14 => GtinKind::Gtin14,
            n => return Err(GtinError::BadLength(n)),
        };
        let digits: Vec<u8> = code.bytes().map(|b| b - b'0').collect();
        let (data, check) = digits.split_at(digits.len() - 1);
        let expected = gs1_check_digit(data);
        if expected != check[0] {
            return Err(GtinError::BadCheckDigit {
                expected,
                found: check[0],
            });
        }
        Ok(Gtin {
            code: code.to_owned(),
            kind,
        })
    }

    /// A store-internal code (not validated against GS1).
    pub fn internal(text: &str) -> Result<Gtin, GtinError> {
        let code = text.trim();
        let ok = !code.is_empty()
            && code.len() <= 30
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !ok {
            return Err(if code.is_empty() {
                GtinError::Empty
            } else {
                GtinError::BadInternalCode
            });
        }
        Ok(Gtin {
            code: code.to_owned(),
            kind: GtinKind::Internal,
        })
    }

    /// What a scanner or an import file gives: a digit string of a GTIN length must be a valid
    /// GTIN (a misread must not become an "internal code"); anything else is an internal code.
    pub fn parse_any(text: &str) -> Result<Gtin, GtinError> {
        let code = text.trim();
        let gtin_shaped =
            code.bytes().all(|b| b.is_ascii_digit()) && matches!(code.len(), 8 | 12 | 13 | 14);
        if gtin_shaped {
            Gtin::parse(code)
        } else {
            Gtin::internal(code)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    pub fn kind(&self) -> GtinKind {
        self.kind
    }

    /// The code to put in the NFC-e `cEAN`/`cEANTrib`: the GTIN, or `None` for internal codes
    /// (which the document reports as "SEM GTIN").
    pub fn fiscal_gtin(&self) -> Option<&str> {
        (self.kind != GtinKind::Internal).then_some(self.code.as_str())
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

/// Wire form: `{"code": "7891000315507", "kind": "ean13"}`; validated again when read.
#[derive(Serialize, Deserialize)]
struct GtinWire {
    code: String,
    kind: GtinKind,
}

impl TryFrom<GtinWire> for Gtin {
    type Error = GtinError;
    fn try_from(w: GtinWire) -> Result<Self, Self::Error> {
        if w.kind == GtinKind::Internal {
            Gtin::internal(&w.code)
        } else {
            Gtin::parse(&w.code)
        }
    }
}

impl From<Gtin> for GtinWire {
    fn from(g: Gtin) -> Self {
        GtinWire {
            code: g.code,
            kind: g.kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_gtins_of_every_length() {
        for (code, kind) in [
            ("96385074", GtinKind::Ean8),
            ("036000291452", GtinKind::Gtin12),
            ("7891000315507", GtinKind::Ean13),
            ("4006381333931", GtinKind::Ean13),
            ("17891000315504", GtinKind::Gtin14),
        ] {
            let g = Gtin::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(g.kind(), kind);
            assert_eq!(g.fiscal_gtin(), Some(code));
        }
    }

    #[test]
    fn a_wrong_check_digit_is_rejected_with_the_expected_digit() {
        assert_eq!(
            Gtin::parse("7891000315508"),
            Err(GtinError::BadCheckDigit {
                expected: 7,
                found: 8
            })
        );
        // parse_any must not turn a misread GTIN into an internal code.
        assert!(matches!(
            Gtin::parse_any("7891000315508"),
            Err(GtinError::BadCheckDigit { .. })
        ));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(Gtin::parse(""), Err(GtinError::Empty));
        assert_eq!(Gtin::parse("12345"), Err(GtinError::BadLength(5)));
        assert_eq!(Gtin::parse("78910003155O7"), Err(GtinError::NotDigits));
        assert_eq!(Gtin::internal("has space"), Err(GtinError::BadInternalCode));
        assert_eq!(
            Gtin::internal(&"9".repeat(31)),
            Err(GtinError::BadInternalCode)
        );
    }

    #[test]
    fn internal_codes_are_their_own_kind_and_have_no_fiscal_gtin() {
        let g = Gtin::parse_any("PAO-FRANCES").expect("internal code");
        assert_eq!(g.kind(), GtinKind::Internal);
        assert_eq!(g.fiscal_gtin(), None);
        assert_eq!(
            Gtin::parse_any("12345")
                .expect("5 digits is internal")
                .kind(),
            GtinKind::Internal
        );
    }

    #[test]
    fn serde_validates_on_the_way_in() {
        let g = Gtin::parse("7891000315507").expect("valid");
        let json = serde_json::to_string(&g).expect("serializes");
        assert_eq!(json, r#"{"code":"7891000315507","kind":"ean13"}"#);
        assert_eq!(serde_json::from_str::<Gtin>(&json).expect("round trip"), g);
        assert!(
            serde_json::from_str::<Gtin>(r#"{"code":"7891000315508","kind":"ean13"}"#).is_err()
        );
    }
}
