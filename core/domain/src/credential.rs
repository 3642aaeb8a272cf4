//! What a PIN and a password must look like: one rule for the till (which checks what is typed
//! before hashing it) and the server (which refuses to store a secret no till would accept, and
//! lets only passwords into the back office).

/// What the user typed.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Secret {
    /// 4 to 8 digits, for the counter.
    Pin(String),
    /// 8 to 128 characters, no control characters or bidirectional overrides.
    Password(String),
}

/// A secret that breaks its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    #[error("a PIN is 4 to 8 digits")]
    PinFormat,
    #[error("a password has 8 to 128 characters, without control characters")]
    PasswordFormat,
}

impl SecretError {
    /// Stable machine-readable code, the same on the till and the server.
    pub fn code(self) -> &'static str {
        match self {
            SecretError::PinFormat => "pin_format",
            SecretError::PasswordFormat => "password_format",
        }
    }
}

pub const PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=8;
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;

impl std::fmt::Debug for Secret {
    // Never print the secret itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Pin(_) => f.write_str("Pin(…)"),
            Secret::Password(_) => f.write_str("Password(…)"),
        }
    }
}

impl Secret {
    /// A secret as set in the back office: all digits is a PIN, anything else a password.
    pub fn from_typed(text: &str) -> Secret {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            Secret::Pin(text.to_owned())
        } else {
            Secret::Password(text.to_owned())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Secret::Pin(s) | Secret::Password(s) => s.as_bytes(),
        }
    }

    /// Format rules, checked before any hashing so a typo gets a clear answer.
    pub fn validate(&self) -> Result<(), SecretError> {
        match self {
            Secret::Pin(p) => {
                if PIN_DIGITS.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(())
                } else {
                    Err(SecretError::PinFormat)
                }
            }
            Secret::Password(p) => {
                let ok = p.len() <= PASSWORD_CHARS.end() * 4
                    && PASSWORD_CHARS.contains(&p.chars().count())
                    && crate::text::TextKind::Secret.check(p).is_ok();
                if ok {
                    Ok(())
                } else {
                    Err(SecretError::PasswordFormat)
                }
            }
        }
    }

    /// Whether this secret may open the back office: only a valid password, never a till PIN.
    pub fn validate_for_back_office(&self) -> Result<(), SecretError> {
        match self {
            Secret::Pin(_) => Err(SecretError::PasswordFormat),
            Secret::Password(_) => self.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_and_passwords_follow_one_rule() {
        assert_eq!(Secret::from_typed("4821").validate(), Ok(()));
        assert_eq!(
            Secret::from_typed("123").validate(),
            Err(SecretError::PinFormat)
        );
        assert_eq!(
            Secret::from_typed("123456789").validate(),
            Err(SecretError::PinFormat)
        );
        // Five letters: neither a PIN nor a password; no till would accept it.
        assert_eq!(
            Secret::from_typed("abcde").validate(),
            Err(SecretError::PasswordFormat)
        );
        assert_eq!(
            Secret::from_typed("pass\u{0}word!").validate(),
            Err(SecretError::PasswordFormat)
        );
        assert_eq!(Secret::from_typed("correct horse").validate(), Ok(()));
        assert_eq!(
            Secret::from_typed("4821").validate_for_back_office(),
            Err(SecretError::PasswordFormat)
        );
        assert_eq!(
            Secret::from_typed("correct horse").validate_for_back_office(),
            Ok(())
        );
        assert_eq!(format!("{:?}", Secret::from_typed("4821")), "Pin(…)");
    }
}
