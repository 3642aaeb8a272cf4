//! Brazilian taxpayer ids: CPF (people) and CNPJ (companies), with check digits, including the
//! alphanumeric CNPJ (letters in the first 12 positions, issued from July 2026).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaxIdError {
    #[error("{kind} is empty")]
    Empty { kind: &'static str },
    #[error("{kind} must have {expected} characters, got {found}")]
    BadLength {
        kind: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{kind} contains a character that is not allowed at position {position}")]
    BadCharacter { kind: &'static str, position: usize },
    #[error("{kind} check digits do not match")]
    BadCheckDigits { kind: &'static str },
    #[error("{kind} with all digits equal is not valid")]
    Repeated { kind: &'static str },
}

/// A CPF, stored as its 11 digits.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cpf(String);

/// A CNPJ, stored as its 14 characters (12 alphanumeric + 2 check digits), upper case.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cnpj(String);

/// A CPF or a CNPJ. Serialized as the bare characters; the length tells which (11 or 14).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub enum TaxId {
    Cpf(Cpf),
    Cnpj(Cnpj),
}

/// Strips the usual punctuation (`.`, `-`, `/`, spaces) and upper-cases letters.
fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '.' | '-' | '/' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn mod11_digit(values: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    let r = sum % 11;
    if r < 2 { 0 } else { 11 - r }
}

impl Cpf {
    pub fn parse(text: &str) -> Result<Cpf, TaxIdError> {
        const KIND: &str = "CPF";
        let s = normalize(text);
        if s.is_empty() {
            return Err(TaxIdError::Empty { kind: KIND });
        }
        if let Some(position) = s.bytes().position(|b| !b.is_ascii_digit()) {
            return Err(TaxIdError::BadCharacter {
                kind: KIND,
                position: position + 1,
            });
        }
        if s.len() != 11 {
            return Err(TaxIdError::BadLength {
                kind: KIND,
                expected: 11,
                found: s.len(),
            });
        }
        let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
        // 000.000.000-00, 111.111.111-11… pass the arithmetic but are not issued.
        if d.iter().all(|x| *x == d[0]) {
            return Err(TaxIdError::Repeated { kind: KIND });
        }
        let dv1 = mod11_digit(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
        let dv2 = mod11_digit(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
        if d[9] != dv1 || d[10] != dv2 {
            return Err(TaxIdError::BadCheckDigits { kind: KIND });
        }
        Ok(Cpf(s))
    }

    /// The 11 digits, unformatted (as the NFC-e wants them).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `123.456.789-09`.
    pub fn formatted(&self) -> String {
        let s = &self.0;
        format!("{}.{}.{}-{}", &s[0..3], &s[3..6], &s[6..9], &s[9..11])
    }
}

impl Cnpj {
    pub fn parse(text: &str) -> Result<Cnpj, TaxIdError> {
        const KIND: &str = "CNPJ";
        let s = normalize(text);
        if s.is_empty() {
            return Err(TaxIdError::Empty { kind: KIND });
        }
        for (i, b) in s.bytes().enumerate() {
            // Letters are allowed in the 12-character root and order; check digits stay numeric.
            let ok = if i < 12 {
                b.is_ascii_digit() || b.is_ascii_uppercase()
            } else {
                b.is_ascii_digit()
            };
            if !ok {
                return Err(TaxIdError::BadCharacter {
                    kind: KIND,
                    position: i + 1,
                });
            }
        }
        if s.len() != 14 {
            return Err(TaxIdError::BadLength {
                kind: KIND,
                expected: 14,
                found: s.len(),
            });
        }
        // Receita Federal's rule: each character is worth its ASCII code minus 48 ('0' = 0,
        // 'A' = 17), so numeric CNPJs keep the check digits they always had.
        let v: Vec<u32> = s.bytes().map(|b| u32::from(b) - 48).collect();
        if v.iter().all(|x| *x == v[0]) {
            return Err(TaxIdError::Repeated { kind: KIND });
        }
        let dv1 = mod11_digit(&v[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
        let dv2 = mod11_digit(&v[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
        if v[12] != dv1 || v[13] != dv2 {
            return Err(TaxIdError::BadCheckDigits { kind: KIND });
        }
        Ok(Cnpj(s))
    }

    /// The 14 characters, unformatted.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the root contains letters (the format issued from July 2026).
    pub fn is_alphanumeric(&self) -> bool {
        self.0.bytes().any(|b| b.is_ascii_uppercase())
    }

    /// `12.345.678/0001-95`.
    pub fn formatted(&self) -> String {
        let s = &self.0;
        format!(
            "{}.{}.{}/{}-{}",
            &s[0..2],
            &s[2..5],
            &s[5..8],
            &s[8..12],
            &s[12..14]
        )
    }
}

impl TaxId {
    /// A CPF (11 digits) or a CNPJ (14 characters), told apart by length after punctuation is
    /// removed.
    pub fn parse(text: &str) -> Result<TaxId, TaxIdError> {
        let s = normalize(text);
        match s.len() {
            0 => Err(TaxIdError::Empty { kind: "CPF/CNPJ" }),
            11 if s.bytes().all(|b| b.is_ascii_digit()) => Cpf::parse(&s).map(TaxId::Cpf),
            14 => Cnpj::parse(&s).map(TaxId::Cnpj),
            n => Err(TaxIdError::BadLength {
                kind: "CPF/CNPJ",
                expected: if n < 13 { 11 } else { 14 },
                found: n,
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TaxId::Cpf(c) => c.as_str(),
            TaxId::Cnpj(c) => c.as_str(),
        }
    }

    pub fn formatted(&self) -> String {
        match self {
            TaxId::Cpf(c) => c.formatted(),
            TaxId::Cnpj(c) => c.formatted(),
        }
    }
}

// Debug shows the kind and a masked value: tax ids are personal data and must not land in logs.
impl fmt::Debug for Cpf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cpf(***.***.*{}-**)", &self.0[7..9])
    }
}

impl fmt::Debug for Cnpj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Company ids are public records; show them whole.
        write!(f, "Cnpj({})", self.formatted())
    }
}

impl fmt::Display for TaxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.formatted())
    }
}

macro_rules! string_conversions {
    ($t:ty) => {
        impl FromStr for $t {
            type Err = TaxIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$t>::parse(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = TaxIdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                <$t>::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.as_str().to_owned()
            }
        }
    };
}
string_conversions!(Cpf);
string_conversions!(Cnpj);
string_conversions!(TaxId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_cpfs_with_and_without_punctuation() {
        for text in ["529.982.247-25", "52998224725", "111.444.777-35"] {
            let cpf = Cpf::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(cpf.as_str().len(), 11);
        }
        assert_eq!(
            Cpf::parse("52998224725").expect("valid").formatted(),
            "529.982.247-25"
        );
    }

    #[test]
    fn bad_cpfs_say_why() {
        assert_eq!(
            Cpf::parse("529.982.247-24"),
            Err(TaxIdError::BadCheckDigits { kind: "CPF" })
        );
        assert_eq!(
            Cpf::parse("111.111.111-11"),
            Err(TaxIdError::Repeated { kind: "CPF" })
        );
        assert_eq!(
            Cpf::parse("5299822472"),
            Err(TaxIdError::BadLength {
                kind: "CPF",
                expected: 11,
                found: 10
            })
        );
        assert_eq!(
            Cpf::parse("5299822472X"),
            Err(TaxIdError::BadCharacter {
                kind: "CPF",
                position: 11
            })
        );
        assert_eq!(Cpf::parse(" "), Err(TaxIdError::Empty { kind: "CPF" }));
    }

    #[test]
    fn numeric_cnpjs_keep_their_classic_check_digits() {
        for text in ["11.222.333/0001-81", "06157250000116", "11444777000161"] {
            let c = Cnpj::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(!c.is_alphanumeric());
        }
        assert_eq!(
            Cnpj::parse("11222333000181").expect("valid").formatted(),
            "11.222.333/0001-81"
        );
        assert_eq!(
            Cnpj::parse("11.222.333/0001-82"),
            Err(TaxIdError::BadCheckDigits { kind: "CNPJ" })
        );
        assert_eq!(
            Cnpj::parse("00000000000000"),
            Err(TaxIdError::Repeated { kind: "CNPJ" })
        );
    }

    #[test]
    fn alphanumeric_cnpj_from_the_receita_example() {
        // Receita Federal's published example of the alphanumeric format.
        let c = Cnpj::parse("12.ABC.345/01DE-35").expect("official example is valid");
        assert!(c.is_alphanumeric());
        assert_eq!(c.as_str(), "12ABC34501DE35");
        assert_eq!(
            Cnpj::parse("12abc34501de35")
                .expect("lower case accepted")
                .as_str(),
            "12ABC34501DE35"
        );
        assert_eq!(
            Cnpj::parse("12ABC34501DE36"),
            Err(TaxIdError::BadCheckDigits { kind: "CNPJ" })
        );
        // Check digits are always numeric.
        assert_eq!(
            Cnpj::parse("12ABC34501DE3A"),
            Err(TaxIdError::BadCharacter {
                kind: "CNPJ",
                position: 14
            })
        );
    }

    #[test]
    fn tax_id_tells_cpf_from_cnpj_and_round_trips_through_serde() {
        assert!(matches!(TaxId::parse("529.982.247-25"), Ok(TaxId::Cpf(_))));
        assert!(matches!(
            TaxId::parse("12.ABC.345/01DE-35"),
            Ok(TaxId::Cnpj(_))
        ));
        assert!(matches!(
            TaxId::parse("123"),
            Err(TaxIdError::BadLength { .. })
        ));
        let id = TaxId::parse("06.157.250/0001-16").expect("valid");
        let json = serde_json::to_string(&id).expect("serializes");
        assert_eq!(json, "\"06157250000116\"");
        assert_eq!(serde_json::from_str::<TaxId>(&json).expect("parses"), id);
        assert!(
            serde_json::from_str::<TaxId>("\"52998224724\"").is_err(),
            "bad check digit rejected on read"
        );
    }

    #[test]
    fn debug_masks_cpf() {
        let cpf = Cpf::parse("52998224725").expect("valid");
        assert!(!format!("{cpf:?}").contains("52998224725"));
    }
}
