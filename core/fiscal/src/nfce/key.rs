//! The 44-character access key (chave de acesso):
//! cUF(2) AAMM(4) CNPJ(14) mod(2) serie(3) nNF(9) tpEmis(1) cNF(8) cDV(1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessKeyError {
    #[error("an access key has 44 characters, got {0}")]
    Length(usize),
    #[error("access key position {position}: `{found}` is not allowed there")]
    Character { position: usize, found: char },
    #[error("access key check digit is {found}, expected {expected}")]
    CheckDigit { found: u8, expected: u8 },
    #[error("{field} is out of range for an access key: {reason}")]
    Field { field: &'static str, reason: String },
}

/// A validated access key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccessKey(String);

/// The parts that make a key; [`AccessKey::compose`] adds the check digit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKeyParts {
    pub uf_code: u8,
    pub year: u16,
    pub month: u8,
    /// 14 characters: digits, or letters and digits (alphanumeric CNPJ, layout PL_010).
    pub cnpj: String,
    pub model: u8,
    pub series: u16,
    pub number: u32,
    pub emission_type: u8,
    /// cNF: 8 random digits.
    pub code: u32,
}

/// Mod-11 check digit over the first 43 characters (value = ASCII − 48, so `A` = 17).
pub fn check_digit(first43: &str) -> u8 {
    let mut weight = 2u32;
    let mut sum = 0u32;
    for b in first43.bytes().rev() {
        sum += u32::from(b.wrapping_sub(b'0')) * weight;
        weight = if weight == 9 { 2 } else { weight + 1 };
    }
    let r = sum % 11;
    if r < 2 { 0 } else { (11 - r) as u8 }
}

impl AccessKey {
    pub fn compose(parts: &AccessKeyParts) -> Result<AccessKey, AccessKeyError> {
        let field = |field: &'static str, reason: &str| AccessKeyError::Field {
            field,
            reason: reason.to_owned(),
        };
        if !(11..=53).contains(&parts.uf_code) {
            return Err(field("cUF", "not an IBGE state code"));
        }
        if !(1..=12).contains(&parts.month) {
            return Err(field("month", "must be 1..12"));
        }
        if parts.cnpj.len() != 14
            || !parts
                .cnpj
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            || !parts.cnpj[12..].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(field(
                "CNPJ",
                "must be 14 characters (uppercase letters/digits, digits at the end)",
            ));
        }
        if parts.model > 99 || parts.series > 999 || parts.emission_type > 9 {
            return Err(field("mod/serie/tpEmis", "out of range"));
        }
        if parts.number == 0 || parts.number > 999_999_999 {
            return Err(field("nNF", "must be 1..999999999"));
        }
        if parts.code > 99_999_999 {
            return Err(field("cNF", "must have at most 8 digits"));
        }
        let first43 = format!(
            "{:02}{:02}{:02}{}{:02}{:03}{:09}{}{:08}",
            parts.uf_code,
            parts.year % 100,
            parts.month,
            parts.cnpj,
            parts.model,
            parts.series,
            parts.number,
            parts.emission_type,
            parts.code
        );
        let dv = check_digit(&first43);
        Ok(AccessKey(format!("{first43}{dv}")))
    }

    #[cfg(test)]
    pub(crate) fn unchecked(key: &str) -> AccessKey {
        AccessKey(key.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn uf_code(&self) -> u8 {
        self.0[0..2].parse().expect("validated digits")
    }
    pub fn cnpj(&self) -> &str {
        &self.0[6..20]
    }
    pub fn model(&self) -> u8 {
        self.0[20..22].parse().expect("validated digits")
    }
    pub fn series(&self) -> u16 {
        self.0[22..25].parse().expect("validated digits")
    }
    pub fn number(&self) -> u32 {
        self.0[25..34].parse().expect("validated digits")
    }
    pub fn emission_type(&self) -> u8 {
        self.0.as_bytes()[34] - b'0'
    }
    pub fn code(&self) -> u32 {
        self.0[35..43].parse().expect("validated digits")
    }
    pub fn check_digit(&self) -> u8 {
        self.0.as_bytes()[43] - b'0'
    }
}

impl FromStr for AccessKey {
    type Err = AccessKeyError;

    /// Parses and checks structure and check digit.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 44 {
            return Err(AccessKeyError::Length(s.chars().count()));
        }
        for (position, c) in s.chars().enumerate() {
            // Only the CNPJ root and branch (positions 6..18) may hold letters.
            let ok = c.is_ascii_digit() || ((6..18).contains(&position) && c.is_ascii_uppercase());
            if !ok {
                return Err(AccessKeyError::Character { position, found: c });
            }
        }
        let expected = check_digit(&s[..43]);
        let found = s.as_bytes()[43] - b'0';
        if found != expected {
            return Err(AccessKeyError::CheckDigit { found, expected });
        }
        Ok(AccessKey(s.to_owned()))
    }
}

impl TryFrom<String> for AccessKey {
    type Error = AccessKeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<AccessKey> for String {
    fn from(key: AccessKey) -> String {
        key.0
    }
}

impl fmt::Display for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A random cNF (8 digits) that differs from the note number and from trivial sequences,
/// which SEFAZ rejects as guessable.
pub fn random_code(number: u32) -> u32 {
    loop {
        let code: u32 = rand::random_range(0..100_000_000);
        if is_acceptable_code(code, number) {
            return code;
        }
    }
}

pub(crate) fn is_acceptable_code(code: u32, number: u32) -> bool {
    let digits = format!("{code:08}");
    let all_same = digits.bytes().all(|b| b == digits.as_bytes()[0]);
    code != number && !all_same && digits != "12345678" && digits != "87654321"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every vector of core/fiscal/testdata/VECTORS.md.
    const VALID: &[&str] = &[
        "41190408187168000160653990000000269000000227",
        "13181017921427000125650010000000309887251170",
        "41200323285089000185650010000013051817822496",
        "28140300156225000131650110000151341562040824",
        "43101012345678901234559999999999991999999980",
        "43101000012345678901559999999999991999999985",
        "432505AB123456789012550010000000011000000011",
    ];

    #[test]
    fn public_valid_vectors_parse_and_recompose() {
        for key in VALID {
            let parsed: AccessKey = key.parse().unwrap_or_else(|e| panic!("{key}: {e}"));
            let recomposed = AccessKey::compose(&AccessKeyParts {
                uf_code: parsed.uf_code(),
                year: key[2..4].parse().expect("yy"),
                month: key[4..6].parse().expect("mm"),
                cnpj: parsed.cnpj().to_owned(),
                model: parsed.model(),
                series: parsed.series(),
                number: parsed.number(),
                emission_type: parsed.emission_type(),
                code: parsed.code(),
            })
            .expect("composes");
            assert_eq!(recomposed.as_str(), *key, "DV recomputed from the parts");
        }
    }

    #[test]
    fn public_invalid_vectors_report_the_correct_digit() {
        for (key, expected) in [
            ("43211105730928000145650010000002401717268120", 9),
            ("28170800156225000131650110000151349562040824", 3),
        ] {
            match key.parse::<AccessKey>() {
                Err(AccessKeyError::CheckDigit { expected: e, .. }) => assert_eq!(e, expected),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn malformed_keys_are_typed_errors() {
        assert_eq!("123".parse::<AccessKey>(), Err(AccessKeyError::Length(3)));
        assert!(matches!(
            "4119040818716800016065399000000026900000022A".parse::<AccessKey>(),
            Err(AccessKeyError::Character { position: 43, .. })
        ));
    }

    #[test]
    fn random_code_never_equals_the_number_nor_a_trivial_sequence() {
        assert!(!is_acceptable_code(42, 42));
        assert!(!is_acceptable_code(11_111_111, 1));
        assert!(!is_acceptable_code(12_345_678, 1));
        for number in 1..2000 {
            let code = random_code(number);
            assert!(code != number && code < 100_000_000);
        }
    }
}
