//! One rule per kind of text, applied wherever text enters: the till, the back office, a pushed
//! mutation, a CSV import. Every kind has length bounds and refuses control characters (NUL,
//! ESC…) and bidirectional overrides, which could make a receipt or a report read differently
//! from what is stored.

use serde::{Deserialize, Serialize};

/// The kinds of text the system keeps, each with its own bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextKind {
    /// A person's, product's, store's or device's name (NFC-e `xProd` holds 120).
    Name,
    /// A store's own product code.
    Sku,
    /// What a user types to sign in: no spaces.
    Login,
    /// A telephone number as typed.
    Phone,
    /// A short reference from another system: card brand, authorization code, NSU, PIX txid,
    /// a protocol number, an audit action or subject.
    Reference,
    /// A free-text reason or justification (may span lines).
    Note,
    /// A PIN or password as typed (its strength is the credential rule's job).
    Secret,
}

/// Why a text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("longer than {max} characters")]
    TooLong { max: usize },
    #[error("contains a control character")]
    ControlCharacter,
    #[error("contains a bidirectional override")]
    BidiOverride,
    #[error("must not contain spaces")]
    Whitespace,
    #[error("must have {min} to {max} digits")]
    Digits { min: usize, max: usize },
}

impl TextError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TextError::Empty => "text_empty",
            TextError::TooLong { .. } => "text_too_long",
            TextError::ControlCharacter => "text_control_character",
            TextError::BidiOverride => "text_bidi_override",
            TextError::Whitespace => "text_whitespace",
            TextError::Digits { .. } => "text_digits",
        }
    }
}

impl TextKind {
    /// The most characters a text of this kind may have.
    pub const fn max_chars(self) -> usize {
        match self {
            TextKind::Name => 120,
            TextKind::Sku | TextKind::Login => 60,
            TextKind::Phone => 20,
            TextKind::Reference => 120,
            TextKind::Note => 1_000,
            TextKind::Secret => 128,
        }
    }

    /// Whether an empty (or blank) value is acceptable.
    const fn may_be_empty(self) -> bool {
        matches!(self, TextKind::Note)
    }

    /// Checks `value` against this kind's rule.
    pub fn check(self, value: &str) -> Result<(), TextError> {
        // A byte bound first, so a 10 MB value is refused without walking its characters twice.
        let max = self.max_chars();
        if value.len() > max * 4 || value.chars().count() > max {
            return Err(TextError::TooLong { max });
        }
        if !self.may_be_empty() && value.trim().is_empty() {
            return Err(TextError::Empty);
        }
        for c in value.chars() {
            if is_bidi_control(c) {
                return Err(TextError::BidiOverride);
            }
            let allowed_layout = self == TextKind::Note && (c == '\n' || c == '\t');
            if c.is_control() && !allowed_layout {
                return Err(TextError::ControlCharacter);
            }
            if self == TextKind::Login && c.is_whitespace() {
                return Err(TextError::Whitespace);
            }
        }
        if self == TextKind::Phone {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            if !(8..=15).contains(&digits) {
                return Err(TextError::Digits { min: 8, max: 15 });
            }
        }
        Ok(())
    }

    /// Checks an optional value: `None` is always acceptable.
    pub fn check_opt(self, value: Option<&str>) -> Result<(), TextError> {
        value.map_or(Ok(()), |v| self.check(v))
    }
}

/// Bidirectional formatting characters (embeddings, overrides, isolates and marks): they reorder
/// what a reader sees without changing what is stored.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_refuses_control_bidi_and_oversized_text() {
        for kind in [
            TextKind::Name,
            TextKind::Sku,
            TextKind::Login,
            TextKind::Reference,
            TextKind::Note,
            TextKind::Secret,
        ] {
            assert_eq!(kind.check("a\0b"), Err(TextError::ControlCharacter));
            assert_eq!(kind.check("a\u{1b}[31mb"), Err(TextError::ControlCharacter));
            assert_eq!(kind.check("abc\u{202E}fdp"), Err(TextError::BidiOverride));
            assert_eq!(
                kind.check(&"x".repeat(10 * 1024 * 1024)),
                Err(TextError::TooLong {
                    max: kind.max_chars()
                })
            );
            assert_eq!(kind.check(&"é".repeat(kind.max_chars())), Ok(()));
        }
        assert_eq!(TextKind::Name.check("  "), Err(TextError::Empty));
        assert_eq!(TextKind::Note.check(""), Ok(()));
        assert_eq!(TextKind::Note.check("linha 1\nlinha 2"), Ok(()));
        assert_eq!(
            TextKind::Name.check("a\nb"),
            Err(TextError::ControlCharacter)
        );
        assert_eq!(TextKind::Login.check("a b"), Err(TextError::Whitespace));
        assert_eq!(TextKind::Phone.check("(11) 98765-4321"), Ok(()));
        assert_eq!(
            TextKind::Phone.check("123"),
            Err(TextError::Digits { min: 8, max: 15 })
        );
    }
}
