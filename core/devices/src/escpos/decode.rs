//! Reads an ESC/POS byte stream back into what a printer would put on paper. Streaming: bytes
//! may arrive in arbitrary chunks (as over BLE), a command split across chunks waits for the rest.

use serde::{Deserialize, Serialize};

use super::{DLE, ESC, GS, LF, qr_modules, qr_version};
use crate::layout::{Align, CodePageSupport};
use crate::text::CodePage;

/// A printed text line with the modes it was printed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintedLine {
    pub text: String,
    pub bold: bool,
    pub double_width: bool,
    pub double_height: bool,
    pub align: Align,
}

/// A printed QR code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrintedQr {
    /// The exact bytes stored in the symbol.
    pub payload: Vec<u8>,
    pub module_dots: u8,
    /// Printed side in millimetres (modules × module size ÷ resolution).
    pub side_mm: f64,
}

/// What came out of the printer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Printed {
    Line(PrintedLine),
    Qr(PrintedQr),
    Feed(u8),
    Cut,
    DrawerKick,
}

/// Status requests, answered by the printer through its notify channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusQuery {
    /// `DLE EOT 1`
    Printer,
    /// `DLE EOT 2`
    OfflineCause,
    /// `DLE EOT 4`
    PaperRealTime,
    /// `GS r 1`
    PaperInOrder,
}

/// Something in the stream a printer would misprint or ignore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecodeIssue {
    /// A command this decoder (and a basic printer) does not know.
    UnknownCommand(Vec<u8>),
    /// A control byte inside text (it would print garbage or do something unexpected).
    ControlByte(u8),
    /// A byte with no character in the selected code page.
    UnmappedByte(u8),
    /// `ESC t n` for a table the printer lacks.
    UnsupportedCodePage(u8),
    /// `GS ( k` print with no stored data.
    QrWithoutData,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    Init,
    Printed(Printed),
    Query(StatusQuery),
    Issue(DecodeIssue),
}

/// A streaming ESC/POS decoder with the printer's code page tables and resolution.
#[derive(Clone, Debug)]
pub struct Decoder {
    tables: Vec<CodePageSupport>,
    dots_per_mm: u16,
    pending: Vec<u8>,
    page: CodePage,
    bold: bool,
    double_width: bool,
    double_height: bool,
    align: Align,
    qr_module_dots: u8,
    qr_data: Option<Vec<u8>>,
    line: String,
}

enum Step {
    /// Need more bytes.
    Incomplete,
    /// Consumed `n` bytes, producing these events.
    Done(usize, Vec<Decoded>),
}

impl Decoder {
    pub fn new(tables: Vec<CodePageSupport>, dots_per_mm: u16) -> Self {
        Decoder {
            tables,
            dots_per_mm,
            pending: Vec::new(),
            page: CodePage::Ascii,
            bold: false,
            double_width: false,
            double_height: false,
            align: Align::Left,
            qr_module_dots: 3,
            qr_data: None,
            line: String::new(),
        }
    }

    fn reset_modes(&mut self) {
        self.page = CodePage::Ascii;
        self.bold = false;
        self.double_width = false;
        self.double_height = false;
        self.align = Align::Left;
        self.qr_module_dots = 3;
        self.qr_data = None;
        self.line.clear();
    }

    /// Feeds bytes; returns everything that completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Decoded> {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut at = 0;
        while at < buf.len() {
            match self.step(&buf[at..]) {
                Step::Incomplete => break,
                Step::Done(n, mut evs) => {
                    at += n;
                    events.append(&mut evs);
                }
            }
        }
        buf.drain(..at);
        self.pending = buf;
        events
    }

    /// Bytes of an unfinished command (a job cut off mid-command leaves some here).
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }

    /// Text received but not yet ended by a line feed (a job cut off mid-line leaves it here).
    pub fn unterminated_text(&self) -> &str {
        &self.line
    }

    fn finish_line(&mut self) -> Decoded {
        Decoded::Printed(Printed::Line(PrintedLine {
            text: std::mem::take(&mut self.line),
            bold: self.bold,
            double_width: self.double_width,
            double_height: self.double_height,
            align: self.align,
        }))
    }

    fn step(&mut self, b: &[u8]) -> Step {
        let need = |n: usize| b.len() < n;
        match b[0] {
            LF => Step::Done(1, vec![self.finish_line()]),
            b'\r' => Step::Done(1, vec![]),
            ESC => {
                if need(2) {
                    return Step::Incomplete;
                }
                let two_arg =
                    |this: &mut Self, f: &mut dyn FnMut(&mut Self, u8) -> Vec<Decoded>| {
                        if b.len() < 3 {
                            Step::Incomplete
                        } else {
                            Step::Done(3, f(this, b[2]))
                        }
                    };
                match b[1] {
                    b'@' => {
                        self.reset_modes();
                        Step::Done(2, vec![Decoded::Init])
                    }
                    b't' => two_arg(self, &mut |this, n| match this
                        .tables
                        .iter()
                        .find(|t| t.escpos_table == n)
                    {
                        Some(t) => {
                            this.page = t.page;
                            vec![]
                        }
                        None => {
                            this.page = CodePage::Ascii;
                            vec![Decoded::Issue(DecodeIssue::UnsupportedCodePage(n))]
                        }
                    }),
                    b'E' => two_arg(self, &mut |this, n| {
                        this.bold = n & 1 == 1;
                        vec![]
                    }),
                    b'a' => two_arg(self, &mut |this, n| {
                        this.align = match n {
                            1 | 49 => Align::Center,
                            2 | 50 => Align::Right,
                            _ => Align::Left,
                        };
                        vec![]
                    }),
                    b'd' => two_arg(self, &mut |_, n| vec![Decoded::Printed(Printed::Feed(n))]),
                    b'-' | b'3' | b'R' | b'M' | b'J' => two_arg(self, &mut |_, _| vec![]),
                    b'2' => Step::Done(2, vec![]),
                    b'p' => {
                        if need(5) {
                            Step::Incomplete
                        } else {
                            Step::Done(5, vec![Decoded::Printed(Printed::DrawerKick)])
                        }
                    }
                    other => Step::Done(
                        2,
                        vec![Decoded::Issue(DecodeIssue::UnknownCommand(vec![
                            ESC, other,
                        ]))],
                    ),
                }
            }
            GS => {
                if need(2) {
                    return Step::Incomplete;
                }
                match b[1] {
                    b'!' => {
                        if need(3) {
                            return Step::Incomplete;
                        }
                        self.double_width = b[2] & 0xF0 != 0;
                        self.double_height = b[2] & 0x0F != 0;
                        Step::Done(3, vec![])
                    }
                    b'V' => {
                        if need(3) {
                            return Step::Incomplete;
                        }
                        let len = if matches!(b[2], 65 | 66) { 4 } else { 3 };
                        if need(len) {
                            return Step::Incomplete;
                        }
                        Step::Done(len, vec![Decoded::Printed(Printed::Cut)])
                    }
                    b'r' => {
                        if need(3) {
                            return Step::Incomplete;
                        }
                        Step::Done(3, vec![Decoded::Query(StatusQuery::PaperInOrder)])
                    }
                    b'(' => {
                        if need(5) {
                            return Step::Incomplete;
                        }
                        let len = usize::from(u16::from_le_bytes([b[3], b[4]]));
                        if need(5 + len) {
                            return Step::Incomplete;
                        }
                        if b[2] != b'k' || len < 3 {
                            return Step::Done(
                                5 + len,
                                vec![Decoded::Issue(DecodeIssue::UnknownCommand(b[..5].to_vec()))],
                            );
                        }
                        let params = &b[5..5 + len];
                        Step::Done(5 + len, self.qr_function(params))
                    }
                    other => Step::Done(
                        2,
                        vec![Decoded::Issue(DecodeIssue::UnknownCommand(vec![GS, other]))],
                    ),
                }
            }
            DLE => {
                if need(3) {
                    return Step::Incomplete;
                }
                if b[1] != 0x04 {
                    return Step::Done(
                        2,
                        vec![Decoded::Issue(DecodeIssue::UnknownCommand(vec![DLE, b[1]]))],
                    );
                }
                let q = match b[2] {
                    1 => StatusQuery::Printer,
                    2 => StatusQuery::OfflineCause,
                    4 => StatusQuery::PaperRealTime,
                    other => {
                        return Step::Done(
                            3,
                            vec![Decoded::Issue(DecodeIssue::UnknownCommand(vec![
                                DLE, 0x04, other,
                            ]))],
                        );
                    }
                };
                Step::Done(3, vec![Decoded::Query(q)])
            }
            c if c < 0x20 || c == 0x7F => {
                Step::Done(1, vec![Decoded::Issue(DecodeIssue::ControlByte(c))])
            }
            c => match self.page.decode_byte(c) {
                Some(ch) => {
                    self.line.push(ch);
                    Step::Done(1, vec![])
                }
                None => {
                    self.line.push('\u{FFFD}');
                    Step::Done(1, vec![Decoded::Issue(DecodeIssue::UnmappedByte(c))])
                }
            },
        }
    }

    /// `GS ( k` with cn = 49 (QR): params = [cn, fn, …].
    fn qr_function(&mut self, p: &[u8]) -> Vec<Decoded> {
        if p[0] != 49 {
            return vec![Decoded::Issue(DecodeIssue::UnknownCommand(vec![
                GS, b'(', b'k', p[0], p[1],
            ]))];
        }
        match p[1] {
            65 | 69 => vec![],
            67 => {
                self.qr_module_dots = p[2].clamp(1, 16);
                vec![]
            }
            80 => {
                self.qr_data = Some(p[3..].to_vec());
                vec![]
            }
            81 => match self.qr_data.clone() {
                Some(payload) => {
                    let modules = qr_version(&payload, true).map_or(0, qr_modules);
                    let side_mm = f64::from(modules) * f64::from(self.qr_module_dots)
                        / f64::from(self.dots_per_mm.max(1));
                    vec![Decoded::Printed(Printed::Qr(PrintedQr {
                        payload,
                        module_dots: self.qr_module_dots,
                        side_mm,
                    }))]
                }
                None => vec![Decoded::Issue(DecodeIssue::QrWithoutData)],
            },
            other => vec![Decoded::Issue(DecodeIssue::UnknownCommand(vec![
                GS, b'(', b'k', 49, other,
            ]))],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::encode;
    use crate::layout::{DocumentBuilder, PrinterProfile, TextStyle};

    #[test]
    fn decodes_what_the_encoder_wrote_even_one_byte_at_a_time() {
        let profile = PrinterProfile::mm80();
        let mut b = DocumentBuilder::new(&profile);
        b.text("Olá, São João", TextStyle::TITLE)
            .text("linha 2", TextStyle::NORMAL)
            .qr("https://q/?p=1|2")
            .cut();
        let bytes = encode(&b.finish()).expect("encodable");
        let mut d = Decoder::new(profile.code_page.into_iter().collect(), 8);
        let events: Vec<Decoded> = bytes.iter().flat_map(|byte| d.feed(&[*byte])).collect();
        let printed: Vec<&Printed> = events
            .iter()
            .filter_map(|e| match e {
                Decoded::Printed(p) => Some(p),
                Decoded::Issue(i) => panic!("unexpected issue {i:?}"),
                _ => None,
            })
            .collect();
        match printed[0] {
            Printed::Line(l) => {
                assert_eq!(l.text, "Olá, São João");
                assert!(l.bold && l.double_width && l.double_height && l.align == Align::Center);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(printed[1], Printed::Line(l) if l.text == "linha 2" && !l.bold));
        assert!(
            matches!(printed[2], Printed::Qr(q) if q.payload == b"https://q/?p=1|2" && q.side_mm >= 25.0)
        );
        assert_eq!(printed.last(), Some(&&Printed::Cut));
    }

    #[test]
    fn flags_control_bytes_and_unknown_commands() {
        let mut d = Decoder::new(vec![], 8);
        let events = d.feed(&[b'a', 0x07, b'b', ESC, b'Z', LF]);
        assert!(events.contains(&Decoded::Issue(DecodeIssue::ControlByte(0x07))));
        assert!(
            events.contains(&Decoded::Issue(DecodeIssue::UnknownCommand(vec![
                ESC, b'Z'
            ])))
        );
        let events = d.feed(&[0xC6, LF]);
        assert!(
            events.contains(&Decoded::Issue(DecodeIssue::UnmappedByte(0xC6))),
            "no code page selected"
        );
    }
}
