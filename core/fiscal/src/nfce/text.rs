//! Text fields as the schema's `TString` allows them: Latin-1 printable characters, no leading
//! or trailing spaces, bounded length. Typographic punctuation is folded to ASCII and runs of
//! whitespace collapse to one space; anything else that cannot be written is refused with the
//! field's name, never silently dropped.

use std::borrow::Cow;

use super::NfceError;

fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => "\"",
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}' => "-",
        '\u{2026}' => "...",
        '\u{2022}' => "*",
        '\u{20AC}' => "EUR",
        '\u{2122}' => "TM",
        _ => return None,
    })
}

/// Normalizes and checks one `TString` field.
pub(crate) fn tstring<'a>(
    field: &dyn Fn() -> String,
    value: &'a str,
    min: usize,
    max: usize,
) -> Result<Cow<'a, str>, NfceError> {
    let simple = value.len() <= max
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && !value.contains("  ")
        && value.bytes().all(|b| (0x20..0x7F).contains(&b));
    let text: Cow<'a, str> = if simple {
        Cow::Borrowed(value)
    } else {
        let mut out = String::with_capacity(value.len());
        let mut pending_space = false;
        for (position, c) in value.chars().enumerate() {
            if c.is_whitespace() {
                pending_space = !out.is_empty();
                continue;
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            if let Some(ascii) = fold(c) {
                out.push_str(ascii);
            } else if c.is_control() {
                return Err(NfceError::invalid(
                    field(),
                    format!("control character at position {}", position + 1),
                ));
            } else if u32::from(c) > 0xFF {
                return Err(NfceError::invalid(
                    field(),
                    format!(
                        "character U+{:04X} at position {} cannot be written in an NFC-e (Latin-1 only)",
                        u32::from(c),
                        position + 1
                    ),
                ));
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    };
    let length = text.chars().count();
    if length < min {
        return Err(NfceError::invalid(
            field(),
            format!("needs at least {min} characters, has {length}"),
        ));
    }
    if length > max {
        return Err(NfceError::invalid(
            field(),
            format!("at most {max} characters allowed, has {length}"),
        ));
    }
    Ok(text)
}

/// Checks an all-digits field of an allowed length set.
pub(crate) fn digits(
    field: &dyn Fn() -> String,
    value: &str,
    lengths: &[usize],
) -> Result<(), NfceError> {
    if !value.bytes().all(|b| b.is_ascii_digit()) || !lengths.contains(&value.len()) {
        return Err(NfceError::invalid(
            field(),
            format!("must be {lengths:?} digits"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> String {
        "det[1].prod.xProd".into()
    }

    #[test]
    fn plain_text_passes_untouched() {
        assert!(matches!(
            tstring(&f, "ARROZ 5KG", 1, 120),
            Ok(Cow::Borrowed("ARROZ 5KG"))
        ));
        assert_eq!(
            tstring(&f, "Pão de açúcar & cia <1>", 1, 120)
                .expect("latin-1")
                .as_ref(),
            "Pão de açúcar & cia <1>"
        );
    }

    #[test]
    fn whitespace_and_typography_are_normalized() {
        let t = tstring(&f, "  Café\t“Especial”  —  500g… ", 1, 120).expect("normalized");
        assert_eq!(t, "Café \"Especial\" - 500g...");
    }

    #[test]
    fn unwritable_text_is_refused_with_the_field_name() {
        for (value, needle) in [
            ("Bolo 🎂", "U+1F382"),
            ("a\u{7}b", "control character"),
            ("", "at least 1"),
            (&"x".repeat(121), "at most 120"),
        ] {
            match tstring(&f, value, 1, 120) {
                Err(NfceError::InvalidField { field, reason }) => {
                    assert_eq!(field, "det[1].prod.xProd");
                    assert!(reason.contains(needle), "{reason}");
                }
                other => panic!("{value:?}: {other:?}"),
            }
        }
    }
}
