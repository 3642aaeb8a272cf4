//! Amounts as sellers type and read them: the keypad's text to centavos, and centavos to
//! "R$ 1.234,56". One implementation for every face (the phone shells call it through the
//! bindings), so a typo is refused the same way in Kotlin, Swift and Rust.

use crate::Money;

/// Longest whole-reais part accepted (15 digits keeps `reais * 100` inside `i64`).
const MAX_WHOLE_DIGITS: usize = 15;

/// What a seller types on the amount keypad — "12", "12,5", "12,50", "1.234,56" (the Brazilian
/// habit), "12.50", with or without "R$" — as centavos. `None` for anything else (a typo is
/// refused, never guessed) and for negative amounts.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub fn parse_typed_amount(typed: String) -> Option<Money> {
    let text = typed.trim();
    let text = text.strip_prefix("R$").unwrap_or(text).trim();
    let (whole, fraction) = if let Some((whole, fraction)) = text.rsplit_once(',') {
        // With a comma, the comma marks centavos and dots group thousands ("1.234,56").
        (whole, fraction)
    } else {
        match text.split_once('.') {
            // One dot with at most two digits after it marks centavos ("12.50").
            Some((whole, fraction)) if !fraction.contains('.') && fraction.len() <= 2 => {
                (whole, fraction)
            }
            _ => (text, ""),
        }
    };
    if !groups_of_thousands(whole)
        || fraction.len() > 2
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole_digits: String = whole.chars().filter(|c| *c != '.').collect();
    if (whole_digits.is_empty() && fraction.is_empty()) || whole_digits.len() > MAX_WHOLE_DIGITS {
        return None;
    }
    let reais: i64 = if whole_digits.is_empty() {
        0
    } else {
        whole_digits.parse().ok()?
    };
    let centavos: i64 = format!("{fraction:0<2}").parse().ok()?;
    Some(Money::from_centavos(reais * 100 + centavos))
}

/// "1234", "1.234" and "12.345.678" are whole reais; "1.23.4" and "-5" are not.
fn groups_of_thousands(whole: &str) -> bool {
    if !whole.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return false;
    }
    let mut groups = whole.split('.');
    let first = groups.next().unwrap_or("");
    let rest: Vec<&str> = groups.collect();
    rest.is_empty() || ((1..=3).contains(&first.len()) && rest.iter().all(|g| g.len() == 3))
}

/// "R$ 1.234,56" (and "-R$ 0,05"), the way receipts and reports print amounts.
#[cfg_attr(feature = "uniffi", uniffi::export)]
pub fn format_brl(amount: Money) -> String {
    let centavos = amount.centavos();
    let sign = if centavos < 0 { "-" } else { "" };
    let abs = centavos.unsigned_abs();
    let reais = (abs / 100).to_string();
    let mut grouped = String::with_capacity(reais.len() + reais.len() / 3);
    for (i, digit) in reais.chars().enumerate() {
        if i > 0 && (reais.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("{sign}R$ {grouped},{:02}", abs % 100)
}

// Centavos grouped as reais_centavos (12_50 is R$ 12,50).
#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Option<i64> {
        parse_typed_amount(text.to_owned()).map(Money::centavos)
    }

    #[test]
    fn typed_amounts_in_the_brazilian_and_the_dotted_habit() {
        assert_eq!(parsed("12"), Some(12_00));
        assert_eq!(
            parsed("12,5"),
            Some(12_50),
            "one decimal digit is tens of centavos"
        );
        assert_eq!(parsed("12,50"), Some(12_50));
        assert_eq!(parsed(" R$ 1.234,56 "), Some(1_234_56));
        assert_eq!(
            parsed("12.50"),
            Some(12_50),
            "one dot and two digits: centavos"
        );
        assert_eq!(
            parsed("1.234"),
            Some(1_234_00),
            "one dot and three digits: thousands"
        );
        assert_eq!(parsed("12.345.678"), Some(12_345_678_00));
        assert_eq!(parsed(",5"), Some(50));
        assert_eq!(parsed("0,01"), Some(1));
    }

    #[test]
    fn typos_are_refused_not_guessed() {
        for typo in [
            "",
            "R$",
            "abc",
            "1,2,3",
            "12,345",
            "1.23.4",
            "1234.567.8",
            "-5",
            "1,-5",
            "12a",
            "1.2345",
            ",",
            "9999999999999999",
        ] {
            assert_eq!(parsed(typo), None, "{typo:?}");
        }
    }

    #[test]
    fn amounts_print_with_grouped_reais_and_two_centavos_digits() {
        let brl = |c| format_brl(Money::from_centavos(c));
        assert_eq!(brl(0), "R$ 0,00");
        assert_eq!(brl(5), "R$ 0,05");
        assert_eq!(brl(1_234_56), "R$ 1.234,56");
        assert_eq!(brl(123_456_789_01), "R$ 123.456.789,01");
        assert_eq!(brl(-5), "-R$ 0,05");
        assert_eq!(brl(100_000_00), "R$ 100.000,00");
    }

    #[test]
    fn what_is_printed_parses_back_to_the_same_centavos() {
        for c in [0, 1, 99, 100, 1_234_56, 999_999_99, 12_345_678_90] {
            let text = format_brl(Money::from_centavos(c));
            assert_eq!(parsed(&text), Some(c), "{text}");
        }
    }
}
