//! Printable text: code pages, the sanitizer that turns any Unicode text into characters the
//! printer can print (one column each), word wrapping and the number formats receipts use.

use serde::{Deserialize, Serialize};
use tenda_domain::Money;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::codepage_tables::{CP850_HIGH, CP860_HIGH, CP1252_HIGH};

/// A character table a receipt printer can switch to with `ESC t n`. `Ascii` is what is left
/// when the printer has none of the others: accents are stripped (`ã` → `a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CodePage {
    Ascii,
    /// Multilingual Latin 1 (DOS): Portuguese and Spanish, including `ã õ ñ ¿ ¡`.
    Cp850,
    /// Portuguese (DOS).
    Cp860,
    /// Windows Latin 1 (`WPC1252` on printers).
    Cp1252,
}

impl CodePage {
    /// The usual `ESC t n` table number on Epson-compatible printers. Clones differ, which is
    /// why [`crate::PrinterProfile`] carries its own number.
    pub const fn epson_table(self) -> Option<u8> {
        match self {
            CodePage::Ascii => None,
            CodePage::Cp850 => Some(2),
            CodePage::Cp860 => Some(3),
            CodePage::Cp1252 => Some(16),
        }
    }

    fn high_table(self) -> Option<&'static [char; 128]> {
        match self {
            CodePage::Ascii => None,
            CodePage::Cp850 => Some(&CP850_HIGH),
            CodePage::Cp860 => Some(&CP860_HIGH),
            CodePage::Cp1252 => Some(&CP1252_HIGH),
        }
    }

    /// The byte for `c`, if this page has it. Only printable characters are mapped: control
    /// characters never get a byte.
    pub fn encode_char(self, c: char) -> Option<u8> {
        if (' '..='~').contains(&c) {
            return Some(c as u8);
        }
        let table = self.high_table()?;
        if c == '\0' || c.is_control() {
            return None;
        }
        table
            .iter()
            .position(|&t| t == c)
            .map(|i| 0x80 + u8::try_from(i).expect("tables have 128 entries"))
    }

    /// The character printed for byte `b`; `None` for control bytes and unmapped slots.
    pub fn decode_byte(self, b: u8) -> Option<char> {
        if (0x20..0x7f).contains(&b) {
            return Some(char::from(b));
        }
        if b < 0x80 {
            return None;
        }
        let c = self.high_table()?[usize::from(b - 0x80)];
        (c != '\0' && !c.is_control()).then_some(c)
    }
}

/// Characters that take no room and mean nothing on paper: zero-width spaces and joiners,
/// direction marks, the byte-order mark, soft hyphens, variation selectors, tag characters and
/// emoji skin-tone modifiers.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Pictographs (emoji, dingbats, flags): decoration that is left out rather than printed as `?`.
fn is_pictograph(c: char) -> bool {
    matches!(c,
        '\u{2190}'..='\u{21FF}' | '\u{2300}'..='\u{23FF}' | '\u{2460}'..='\u{24FF}'
        | '\u{25A0}'..='\u{27BF}' | '\u{2900}'..='\u{297F}' | '\u{2B00}'..='\u{2BFF}'
        | '\u{1F000}'..='\u{1FAFF}')
}

/// Typographic characters that have a plain equivalent.
fn plain_equivalent(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '`' | '\u{00B4}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => "\"",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{2026}' => "...",
        '\u{2022}' | '\u{00B7}' | '\u{2219}' => "*",
        '\u{20AC}' => "EUR",
        '\u{2122}' => "TM",
        '\u{00A9}' => "(C)",
        '\u{00AE}' => "(R)",
        '\u{00BA}' | '\u{00B0}' => "o",
        '\u{00AA}' => "a",
        '\u{00BD}' => "1/2",
        '\u{00BC}' => "1/4",
        '\u{00BE}' => "3/4",
        '\u{00D7}' => "x",
        '\u{00F7}' => "/",
        '\u{00DF}' => "ss",
        '\u{00E6}' => "ae",
        '\u{00C6}' => "AE",
        '\u{0153}' => "oe",
        '\u{0152}' => "OE",
        '\u{00F8}' => "o",
        '\u{00D8}' => "O",
        '\u{00F0}' => "d",
        '\u{00D0}' => "D",
        '\u{00FE}' => "th",
        '\u{00DE}' => "Th",
        '\u{0142}' => "l",
        '\u{0141}' => "L",
        '\u{0111}' => "d",
        '\u{0110}' => "D",
        '\u{0131}' => "i",
        '\u{00A1}' => "!",
        '\u{00BF}' => "?",
        _ => return None,
    })
}

/// Turns arbitrary text into text the printer can print with `page`: every character of the
/// result is encodable in `page` and takes one column.
///
/// - line breaks and tabs become spaces and runs of spaces collapse (a field is one logical line);
/// - control characters, zero-width and other invisible characters are removed;
/// - emoji and other pictographs are removed;
/// - characters the page lacks are replaced by a plain equivalent (`“` → `"`, `€` → `EUR`) or
///   by the letter without its accent (`ã` → `a` when the printer has no code page);
/// - anything else becomes `?`, so an unknown character is visible, never garbage.
pub fn printable(text: &str, page: CodePage) -> String {
    let mut out = String::with_capacity(text.len());
    let push = |out: &mut String, s: char| {
        if s == ' ' && (out.is_empty() || out.ends_with(' ')) {
            return;
        }
        out.push(s);
    };
    for c in text.nfc() {
        if c.is_whitespace() {
            push(&mut out, ' ');
            continue;
        }
        if c.is_control() || is_invisible(c) || is_combining_mark(c) || is_pictograph(c) {
            continue;
        }
        if page.encode_char(c).is_some() {
            push(&mut out, c);
            continue;
        }
        if let Some(plain) = plain_equivalent(c) {
            for p in plain.chars() {
                if page.encode_char(p).is_some() {
                    push(&mut out, p);
                }
            }
            continue;
        }
        let bases: Vec<char> = c
            .to_string()
            .nfd()
            .filter(|d| !is_combining_mark(*d))
            .collect();
        if !bases.is_empty() && bases.iter().all(|b| page.encode_char(*b).is_some()) && bases != [c]
        {
            for b in bases {
                push(&mut out, b);
            }
            continue;
        }
        push(&mut out, '?');
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Splits `text` (already [`printable`]) into lines of at most `width` characters, breaking at
/// spaces and cutting words longer than a line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut current_len = 0usize;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut chars: Vec<char> = word.chars().collect();
        loop {
            let need = if current_len == 0 {
                chars.len()
            } else {
                current_len + 1 + chars.len()
            };
            if need <= width {
                if current_len > 0 {
                    current.push(' ');
                    current_len += 1;
                }
                current.extend(chars.iter());
                current_len += chars.len();
                break;
            }
            if chars.len() > width || (current_len == 0 && chars.len() > width) {
                // A word longer than a line: fill the current line, continue on the next.
                let room = if current_len == 0 {
                    width
                } else {
                    width.saturating_sub(current_len + 1)
                };
                if room == 0 {
                    lines.push(std::mem::take(&mut current));
                    current_len = 0;
                    continue;
                }
                if current_len > 0 {
                    current.push(' ');
                }
                current.extend(chars.drain(..room));
                lines.push(std::mem::take(&mut current));
                current_len = 0;
                if chars.is_empty() {
                    break;
                }
                continue;
            }
            lines.push(std::mem::take(&mut current));
            current_len = 0;
        }
    }
    if current_len > 0 || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// How amounts are written on a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyFormat {
    /// `R$`, `$`, `S/`…
    pub symbol: String,
    pub decimal_separator: char,
    pub thousands_separator: char,
}

impl MoneyFormat {
    /// Brazilian reais: `R$ 1.234,56`.
    pub fn brl() -> Self {
        MoneyFormat {
            symbol: "R$".into(),
            decimal_separator: ',',
            thousands_separator: '.',
        }
    }

    /// `1.234,56` (no symbol): the form used in receipt columns.
    pub fn amount(&self, m: Money) -> String {
        let centavos = m.centavos();
        let abs = centavos.unsigned_abs();
        let units = (abs / 100).to_string();
        let mut grouped = String::with_capacity(units.len() + units.len() / 3 + 4);
        for (i, d) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push(self.thousands_separator);
            }
            grouped.push(d);
        }
        let sign = if centavos < 0 { "-" } else { "" };
        format!("{sign}{grouped}{}{:02}", self.decimal_separator, abs % 100)
    }

    /// `R$ 1.234,56`.
    pub fn with_symbol(&self, m: Money) -> String {
        format!("{} {}", self.symbol, self.amount(m))
    }
}

/// Quantity in thousandths (`1250` = 1,25) written with up to three decimals, trailing zeros
/// dropped: `2`, `1,25`, `0,005`.
pub fn quantity(thousandths: i64, decimal_separator: char) -> String {
    let sign = if thousandths < 0 { "-" } else { "" };
    let abs = thousandths.unsigned_abs();
    let whole = abs / 1000;
    let frac = abs % 1000;
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{frac:03}");
    format!(
        "{sign}{whole}{decimal_separator}{}",
        digits.trim_end_matches('0')
    )
}

/// `06157250000116` → `06.157.250/0001-16`, `12345678909` → `123.456.789-09`; anything else
/// (already formatted, foreign ids) is returned as given.
pub fn tax_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let is_cnpj_shape = chars.len() == 14 && chars.iter().all(|c| c.is_ascii_alphanumeric());
    let is_cpf_shape = chars.len() == 11 && chars.iter().all(|c| c.is_ascii_digit());
    let s = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    if is_cnpj_shape {
        format!(
            "{}.{}.{}/{}-{}",
            s(0, 2),
            s(2, 5),
            s(5, 8),
            s(8, 12),
            s(12, 14)
        )
    } else if is_cpf_shape {
        format!("{}.{}.{}-{}", s(0, 3), s(3, 6), s(6, 9), s(9, 11))
    } else {
        id.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_pages_round_trip_portuguese_and_spanish_letters() {
        let text = "ÃÕÇÁÉÍÓÚÂÊÔÀãõçáéíóúâêôàñÑüª";
        for page in [CodePage::Cp850, CodePage::Cp860, CodePage::Cp1252] {
            for c in text.chars() {
                let b = page
                    .encode_char(c)
                    .unwrap_or_else(|| panic!("{page:?} must have {c}"));
                assert_eq!(page.decode_byte(b), Some(c), "{page:?} round trip of {c}");
            }
        }
        // Known positions (a wrong table would print the wrong letter on paper).
        assert_eq!(CodePage::Cp850.encode_char('ã'), Some(0xC6));
        assert_eq!(CodePage::Cp860.encode_char('ã'), Some(0x84));
        assert_eq!(CodePage::Cp1252.encode_char('ã'), Some(0xE3));
    }

    #[test]
    fn sanitizer_keeps_what_the_page_has_and_strips_accents_otherwise() {
        assert_eq!(printable("Pão de Açúcar", CodePage::Cp860), "Pão de Açúcar");
        assert_eq!(printable("Pão de Açúcar", CodePage::Ascii), "Pao de Acucar");
        assert_eq!(
            printable("CONSUMIDOR NÃO IDENTIFICADO", CodePage::Ascii),
            "CONSUMIDOR NAO IDENTIFICADO"
        );
        // Decomposed input (NFD from some keyboards) is composed first.
        assert_eq!(
            printable("Ac\u{0327}u\u{0301}car", CodePage::Cp850),
            "Açúcar"
        );
    }

    #[test]
    fn sanitizer_removes_invisible_and_control_characters_and_emoji() {
        let nasty = "Suco\u{200B} de\u{0007} laranja 🍊\u{FE0F} 1L\u{202E}\n\tgelado 👍🏽";
        assert_eq!(
            printable(nasty, CodePage::Cp850),
            "Suco de laranja 1L gelado"
        );
        assert_eq!(
            printable("“Promoção” – 10€", CodePage::Cp860),
            "\"Promoção\" - 10EUR"
        );
        assert_eq!(
            printable("商品", CodePage::Cp850),
            "??",
            "unknown scripts are visibly replaced"
        );
    }

    #[test]
    fn wrapping_respects_width_and_cuts_long_words() {
        let lines = wrap("ARROZ TIPO 1 PACOTE 5KG", 10);
        assert_eq!(lines, vec!["ARROZ TIPO", "1 PACOTE", "5KG"]);
        let long = "X".repeat(25);
        let lines = wrap(&format!("AB {long}"), 10);
        assert!(lines.iter().all(|l| l.chars().count() <= 10), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), format!("AB{long}"));
    }

    #[test]
    fn money_and_quantities_use_brazilian_format() {
        let f = MoneyFormat::brl();
        assert_eq!(f.amount(Money::from_centavos(123_456_789)), "1.234.567,89");
        assert_eq!(f.amount(Money::from_centavos(-5)), "-0,05");
        assert_eq!(f.with_symbol(Money::from_centavos(1000)), "R$ 10,00");
        assert_eq!(quantity(2000, ','), "2");
        assert_eq!(quantity(1250, ','), "1,25");
        assert_eq!(quantity(5, ','), "0,005");
        assert_eq!(tax_id("06157250000116"), "06.157.250/0001-16");
        assert_eq!(tax_id("12345678909"), "123.456.789-09");
    }
}
