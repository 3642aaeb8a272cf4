//! The printed layout shared by the ESC/POS encoder and the PNG preview: a receipt is a list of
//! already-wrapped lines, QR codes, feeds, cuts and drawer kicks, laid out for one paper width.

use serde::{Deserialize, Serialize};

use crate::text::{CodePage, printable, wrap};

/// Roll width of a thermal receipt printer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaperWidth {
    /// 58 mm rolls: 48 mm printable, 384 dots, 32 columns of font A.
    Mm58,
    /// 80 mm rolls: 72 mm printable, 576 dots, 48 columns of font A.
    Mm80,
}

/// A code page the printer has, with the `ESC t n` number it uses for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodePageSupport {
    pub page: CodePage,
    pub escpos_table: u8,
}

/// What the layout and the encoder need to know about one printer model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterProfile {
    pub paper: PaperWidth,
    /// Characters per line in the normal font (font A, 12 × 24 dots).
    pub columns: u16,
    /// Printable width in dots.
    pub printable_dots: u16,
    /// Print resolution: 8 dots/mm is 203 dpi, the norm for receipt printers.
    pub dots_per_mm: u16,
    /// The code page used for accented text; `None` when the printer has none of ours, and
    /// accents are then stripped.
    pub code_page: Option<CodePageSupport>,
    /// Smallest printed QR side, in millimetres (readable by phone cameras at arm's length).
    pub min_qr_mm: u16,
    /// Whether the printer has a cutter (`GS V`); without one, extra feed is given instead.
    pub has_cutter: bool,
}

impl PrinterProfile {
    /// A common 58 mm Bluetooth printer with CP850 (covers Portuguese and Spanish).
    pub fn mm58() -> Self {
        PrinterProfile {
            paper: PaperWidth::Mm58,
            columns: 32,
            printable_dots: 384,
            dots_per_mm: 8,
            code_page: Some(CodePageSupport {
                page: CodePage::Cp850,
                escpos_table: 2,
            }),
            min_qr_mm: 25,
            has_cutter: true,
        }
    }

    /// A common 80 mm printer with CP850.
    pub fn mm80() -> Self {
        PrinterProfile {
            paper: PaperWidth::Mm80,
            columns: 48,
            printable_dots: 576,
            dots_per_mm: 8,
            code_page: Some(CodePageSupport {
                page: CodePage::Cp850,
                escpos_table: 2,
            }),
            min_qr_mm: 25,
            has_cutter: true,
        }
    }

    /// The same profile with another code page (or none).
    pub fn with_code_page(mut self, code_page: Option<CodePageSupport>) -> Self {
        self.code_page = code_page;
        self
    }

    /// The character repertoire text is reduced to.
    pub fn page(&self) -> CodePage {
        self.code_page.map_or(CodePage::Ascii, |c| c.page)
    }

    /// Dots per column in the normal font.
    pub fn dots_per_column(&self) -> u16 {
        (self.printable_dots / self.columns.max(1)).max(1)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextStyle {
    pub bold: bool,
    pub double_width: bool,
    pub double_height: bool,
    pub align: Align,
}

impl TextStyle {
    pub const NORMAL: TextStyle = TextStyle {
        bold: false,
        double_width: false,
        double_height: false,
        align: Align::Left,
    };
    pub const CENTER: TextStyle = TextStyle {
        align: Align::Center,
        ..TextStyle::NORMAL
    };
    pub const BOLD_CENTER: TextStyle = TextStyle {
        bold: true,
        ..TextStyle::CENTER
    };
    pub const BOLD: TextStyle = TextStyle {
        bold: true,
        ..TextStyle::NORMAL
    };
    pub const TITLE: TextStyle = TextStyle {
        bold: true,
        double_width: true,
        double_height: true,
        align: Align::Center,
    };
}

/// One element of a printed receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    /// One printed line. The text is printable in the layout's code page and fits the line.
    Line { text: String, style: TextStyle },
    /// A QR code, printed centred with the printer's own QR generator.
    Qr { payload: String },
    /// Blank lines.
    Feed { lines: u8 },
    /// Paper cut (or a tear-off feed on printers without a cutter).
    Cut,
    /// Opens the cash drawer connected to the printer.
    DrawerKick,
}

/// One printed copy, laid out for one printer profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintDocument {
    pub profile: PrinterProfile,
    pub blocks: Vec<Block>,
}

impl PrintDocument {
    /// The text lines, in order (for tests and logs without personal data).
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Line { text, .. } => Some(text.as_str()),
            _ => None,
        })
    }
}

/// What is sent to a printer in one go: one or more copies (a contingency DANFE may need a
/// second copy for the store), each ending in a cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJob {
    pub copies: Vec<PrintDocument>,
    /// Open the cash drawer after printing (cash sales).
    pub open_drawer: bool,
}

impl PrintJob {
    pub fn single(document: PrintDocument) -> Self {
        PrintJob {
            copies: vec![document],
            open_drawer: false,
        }
    }
}

/// Sanitizes and wraps `text`, keeping its leading spaces (up to a quarter line) as indent.
fn indented_lines(text: &str, page: CodePage, width: usize) -> Vec<String> {
    let indent = text
        .chars()
        .take_while(|c| *c == ' ')
        .count()
        .min(width / 4);
    let clean = printable(text, page);
    let mut lines = wrap(&clean, width - indent);
    if let Some(first) = lines.first_mut().filter(|_| indent > 0) {
        first.insert_str(0, &" ".repeat(indent));
    }
    lines
}

/// Builds a [`PrintDocument`]: sanitizes and wraps text for the profile, so every line fits.
#[derive(Clone, Debug)]
pub struct DocumentBuilder {
    profile: PrinterProfile,
    blocks: Vec<Block>,
}

impl DocumentBuilder {
    pub fn new(profile: &PrinterProfile) -> Self {
        DocumentBuilder {
            profile: profile.clone(),
            blocks: Vec::new(),
        }
    }

    pub fn columns(&self) -> usize {
        usize::from(self.profile.columns)
    }

    fn width_for(&self, style: TextStyle) -> usize {
        let cols = self.columns();
        if style.double_width { cols / 2 } else { cols }
    }

    /// Text, wrapped to as many lines as it needs. Leading spaces indent the first line.
    pub fn text(&mut self, text: &str, style: TextStyle) -> &mut Self {
        let width = self.width_for(style);
        for line in indented_lines(text, self.profile.page(), width) {
            self.blocks.push(Block::Line { text: line, style });
        }
        self
    }

    /// `left ........ right` on one line; when both do not fit, `left` wraps and `right` goes
    /// right-aligned on the last line (or a line of its own).
    pub fn pair(&mut self, left: &str, right: &str, style: TextStyle) -> &mut Self {
        let width = self.width_for(style);
        let page = self.profile.page();
        let right: String = printable(right, page).chars().take(width).collect();
        let right_len = right.chars().count();
        let mut lines = indented_lines(left, page, width);
        let last = lines.pop().unwrap_or_default();
        for l in lines {
            self.blocks.push(Block::Line {
                text: l,
                style: TextStyle {
                    align: Align::Left,
                    ..style
                },
            });
        }
        let last_len = last.chars().count();
        let line_style = TextStyle {
            align: Align::Left,
            ..style
        };
        if last_len + 1 + right_len <= width {
            let pad = width - last_len - right_len;
            self.blocks.push(Block::Line {
                text: format!("{last}{}{right}", " ".repeat(pad)),
                style: line_style,
            });
        } else {
            self.blocks.push(Block::Line {
                text: last,
                style: line_style,
            });
            self.blocks.push(Block::Line {
                text: format!("{}{right}", " ".repeat(width - right_len)),
                style: line_style,
            });
        }
        self
    }

    /// A full-width rule.
    pub fn rule(&mut self) -> &mut Self {
        let text = "-".repeat(self.columns());
        self.blocks.push(Block::Line {
            text,
            style: TextStyle::NORMAL,
        });
        self
    }

    pub fn qr(&mut self, payload: &str) -> &mut Self {
        self.blocks.push(Block::Qr {
            payload: payload.to_owned(),
        });
        self
    }

    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.blocks.push(Block::Feed { lines });
        self
    }

    pub fn cut(&mut self) -> &mut Self {
        self.blocks.push(Block::Cut);
        self
    }

    pub fn finish(self) -> PrintDocument {
        PrintDocument {
            profile: self.profile,
            blocks: self.blocks,
        }
    }
}
