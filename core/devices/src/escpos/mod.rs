//! ESC/POS: the byte commands of receipt printers. [`encode`] turns a laid-out document into
//! bytes; [`decode`] reads such bytes back (the simulated printer uses it, so tests can assert
//! what would be on paper).

pub mod decode;

use qrcode::bits::Bits;
use qrcode::{EcLevel, Version};

use crate::layout::{Align, Block, PrintDocument, PrintJob, PrinterProfile, TextStyle};

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const DLE: u8 = 0x10;
pub const LF: u8 = 0x0A;

/// `ESC @`: reset the printer's modes (and discard anything half-received).
pub const INIT: [u8; 2] = [ESC, b'@'];
/// `DLE EOT 2`: real-time offline-cause status (cover open, paper-out stop).
pub const STATUS_OFFLINE_CAUSE: [u8; 3] = [DLE, 0x04, 2];
/// `DLE EOT 4`: real-time paper roll sensor status.
pub const STATUS_PAPER: [u8; 3] = [DLE, 0x04, 4];
/// `GS r 1`: paper sensor status, answered only after everything sent before it was processed,
/// so it doubles as "the job reached the printer".
pub const STATUS_PAPER_IN_ORDER: [u8; 3] = [GS, b'r', 1];
/// `ESC p 0 25 250`: pulse drawer pin 2 for 50 ms, then 500 ms off.
pub const DRAWER_KICK: [u8; 5] = [ESC, b'p', 0, 25, 250];
/// QR error correction used for printed codes (M: 15 %; survives a crease or smudge).
const QR_EC: EcLevel = EcLevel::M;

/// Bits of the `DLE EOT 2` answer.
pub mod status_bits {
    pub const COVER_OPEN: u8 = 0x04;
    pub const PAPER_OUT_STOP: u8 = 0x20;
    pub const ERROR: u8 = 0x40;
    /// `DLE EOT 4`: paper near end (bits 2–3) and paper end (bits 5–6).
    pub const PAPER_NEAR_END: u8 = 0x0C;
    pub const PAPER_END: u8 = 0x60;
    /// `GS r 1`: paper near end (bits 0–1) and paper end (bits 2–3).
    pub const GS_R_NEAR_END: u8 = 0x03;
    pub const GS_R_PAPER_END: u8 = 0x0C;
    /// Fixed bits every status byte carries (bit 1 set, bit 4 set, bit 7 clear) for `DLE EOT`.
    pub const DLE_EOT_FIXED: u8 = 0x12;
}

fn qr_fits(payload: &[u8], version: i16, optimal: bool) -> bool {
    let mut bits = Bits::new(Version::Normal(version));
    let pushed = if optimal {
        bits.push_optimal_data(payload)
    } else {
        bits.push_byte_data(payload)
    };
    pushed.is_ok() && bits.push_terminator(QR_EC).is_ok()
}

/// Smallest QR version (1–40) holding `payload` at error correction M. `optimal` allows mixed
/// numeric/alphanumeric segments (the smallest any printer could choose); otherwise byte mode
/// only (the largest a printer will choose).
pub fn qr_version(payload: &[u8], optimal: bool) -> Option<i16> {
    // Capacity grows with the version, so the smallest that fits is found by bisection: each try
    // encodes the payload's bits, and an NFC-e QR needs a version in the teens.
    if !qr_fits(payload, 40, optimal) {
        return None;
    }
    let (mut too_small, mut fits) = (0i16, 40i16);
    while fits - too_small > 1 {
        let mid = (too_small + fits) / 2;
        if qr_fits(payload, mid, optimal) {
            fits = mid;
        } else {
            too_small = mid;
        }
    }
    Some(fits)
}

/// Side of a QR symbol of `version`, in modules (without the quiet zone).
pub fn qr_modules(version: i16) -> u16 {
    u16::try_from(Version::Normal(version).width()).expect("QR widths are 21..=177")
}

/// The `GS ( k` module size (dots per module, 1–16) for `payload`, so the printed symbol is at
/// least `profile.min_qr_mm` wide whatever version the printer picks, while still fitting the
/// paper. `None` when the payload is too long for any QR code.
pub fn qr_module_dots(payload: &[u8], profile: &PrinterProfile) -> Option<u8> {
    let smallest = qr_modules(qr_version(payload, true)?);
    let largest = qr_modules(qr_version(payload, false)?);
    let min_dots = u32::from(profile.min_qr_mm) * u32::from(profile.dots_per_mm);
    let wanted = min_dots.div_ceil(u32::from(smallest));
    let fits = (u32::from(profile.printable_dots) / u32::from(largest)).max(1);
    Some(u8::try_from(wanted.min(fits).clamp(1, 16)).expect("clamped to 1..=16"))
}

/// Errors that make a document unprintable (nothing is sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    #[error("QR payload of {len} bytes does not fit in a QR code")]
    QrTooLong { len: usize },
}

/// ESC/POS bytes for a job: every copy, each with its own init and cut; then the drawer kick.
pub fn encode_job(job: &PrintJob) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(job.copies.len() * 4096);
    // A contingency DANFE's two copies carry the same QR code: its size is worked out once.
    let mut sized = None;
    for copy in &job.copies {
        encode_into(copy, &mut out, &mut sized)?;
    }
    if job.open_drawer {
        out.extend_from_slice(&DRAWER_KICK);
    }
    Ok(out)
}

/// ESC/POS bytes for one document.
pub fn encode(doc: &PrintDocument) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(4096);
    encode_into(doc, &mut out, &mut None)?;
    Ok(out)
}

/// `sized`: the last QR payload and printer profile encoded, with the module size worked out
/// for them.
fn encode_into<'a>(
    doc: &'a PrintDocument,
    out: &mut Vec<u8>,
    sized: &mut Option<(&'a str, &'a PrinterProfile, u8)>,
) -> Result<(), EncodeError> {
    let profile = &doc.profile;
    let page = profile.page();
    out.extend_from_slice(&INIT);
    if let Some(cp) = profile.code_page {
        out.extend_from_slice(&[ESC, b't', cp.escpos_table]);
    }
    let mut current = TextStyle::NORMAL;
    set_style(out, current, None);
    for block in &doc.blocks {
        match block {
            Block::Line { text, style } => {
                if *style != current {
                    set_style(out, *style, Some(current));
                    current = *style;
                }
                for c in text.chars() {
                    // The layout only holds printable text; a stray character still never
                    // becomes a control byte.
                    out.push(page.encode_char(c).unwrap_or(b'?'));
                }
                out.push(LF);
            }
            Block::Qr { payload } => {
                let data = payload.as_bytes();
                let dots = match *sized {
                    Some((p, pr, dots)) if p == payload.as_str() && pr == profile => dots,
                    _ => {
                        let dots = qr_module_dots(data, profile)
                            .ok_or(EncodeError::QrTooLong { len: data.len() })?;
                        *sized = Some((payload.as_str(), profile, dots));
                        dots
                    }
                };
                if current.align != Align::Center {
                    out.extend_from_slice(&[ESC, b'a', 1]);
                }
                // Model 2, module size, error correction M, store, print.
                out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
                out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, dots]);
                out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]);
                let len = u16::try_from(data.len() + 3)
                    .map_err(|_| EncodeError::QrTooLong { len: data.len() })?;
                let [lo, hi] = len.to_le_bytes();
                out.extend_from_slice(&[GS, b'(', b'k', lo, hi, 49, 80, 48]);
                out.extend_from_slice(data);
                out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
                out.push(LF);
                if current.align != Align::Center {
                    out.extend_from_slice(&[ESC, b'a', align_byte(current.align)]);
                }
            }
            Block::Feed { lines } => out.extend_from_slice(&[ESC, b'd', *lines]),
            Block::Cut => {
                if profile.has_cutter {
                    // GS V 66 n: feed to the cutter, then partial cut.
                    out.extend_from_slice(&[GS, b'V', 66, 3]);
                } else {
                    out.extend_from_slice(&[ESC, b'd', 5]);
                }
            }
            Block::DrawerKick => out.extend_from_slice(&DRAWER_KICK),
        }
    }
    Ok(())
}

fn align_byte(a: Align) -> u8 {
    match a {
        Align::Left => 0,
        Align::Center => 1,
        Align::Right => 2,
    }
}

fn set_style(out: &mut Vec<u8>, style: TextStyle, previous: Option<TextStyle>) {
    let prev = previous.unwrap_or(TextStyle {
        bold: !style.bold,
        ..TextStyle::NORMAL
    });
    if previous.is_none() || prev.bold != style.bold {
        out.extend_from_slice(&[ESC, b'E', u8::from(style.bold)]);
    }
    if previous.is_none() || prev.align != style.align {
        out.extend_from_slice(&[ESC, b'a', align_byte(style.align)]);
    }
    if previous.is_none()
        || prev.double_width != style.double_width
        || prev.double_height != style.double_height
    {
        let size = (u8::from(style.double_width) << 4) | u8::from(style.double_height);
        out.extend_from_slice(&[GS, b'!', size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{CodePageSupport, DocumentBuilder};
    use crate::text::CodePage;

    #[test]
    fn encodes_the_standard_commands() {
        let profile = PrinterProfile::mm58().with_code_page(Some(CodePageSupport {
            page: CodePage::Cp860,
            escpos_table: 3,
        }));
        let mut b = DocumentBuilder::new(&profile);
        b.text("Pão", TextStyle::BOLD_CENTER)
            .qr("https://x/?p=1")
            .cut();
        let bytes = encode(&b.finish()).expect("encodable");
        assert!(
            bytes.starts_with(&[ESC, b'@', ESC, b't', 3]),
            "init then code page table 3 (CP860)"
        );
        // 'ã' is 0x84 in CP860.
        let text_at = bytes.windows(4).position(|w| w == [b'P', 0x84, b'o', LF]);
        assert!(text_at.is_some(), "Pão encoded in CP860: {bytes:02X?}");
        assert!(bytes.windows(3).any(|w| w == [ESC, b'E', 1]), "bold on");
        assert!(bytes.windows(3).any(|w| w == [ESC, b'a', 1]), "centred");
        assert!(
            bytes
                .windows(8)
                .any(|w| w == [GS, b'(', b'k', 17, 0, 49, 80, 48]),
            "QR store with pL = 14 + 3"
        );
        assert!(bytes.ends_with(&[GS, b'V', 66, 3]), "ends with a cut");
    }

    #[test]
    fn qr_version_is_the_smallest_that_fits() {
        // Digits (numeric segments when optimal), URL text (bytes) and the longest payloads: the
        // bisection finds what walking up from version 1 finds, and None past version 40.
        for len in (0..3_000).step_by(37) {
            for payload in ["7".repeat(len), "https://x.br/?p=a|B".repeat(len / 19 + 1)] {
                for optimal in [true, false] {
                    let walked = (1..=40).find(|&v| qr_fits(payload.as_bytes(), v, optimal));
                    assert_eq!(
                        qr_version(payload.as_bytes(), optimal),
                        walked,
                        "{len} {optimal}"
                    );
                }
            }
        }
        assert_eq!(qr_version(&[b'x'; 3_000], false), None);
    }

    #[test]
    fn qr_module_size_gives_at_least_25_mm_on_both_papers() {
        let payloads = [
            "https://www.sefaz.rs.gov.br/NFCE/NFCE-COM.aspx?p=43251106157250000116650010000001231000001232|2|1|1|AAAC2CECE0A2182091DC4DDF52400ACE74C33ECC".to_owned(),
            format!("https://www.nfce.fazenda.sp.gov.br/qrcode?p=35251106157250000116650010000001239000001238|3|1|23|100.00|2|12345678909|{}", "A".repeat(344)),
            "short".to_owned(),
        ];
        for profile in [PrinterProfile::mm58(), PrinterProfile::mm80()] {
            for p in &payloads {
                let dots = qr_module_dots(p.as_bytes(), &profile).expect("fits");
                let smallest = qr_modules(qr_version(p.as_bytes(), true).expect("fits"));
                let largest = qr_modules(qr_version(p.as_bytes(), false).expect("fits"));
                let mm = f64::from(smallest) * f64::from(dots) / f64::from(profile.dots_per_mm);
                assert!(mm >= 25.0, "{mm} mm for {} bytes", p.len());
                assert!(
                    u32::from(largest) * u32::from(dots) <= u32::from(profile.printable_dots),
                    "fits the paper"
                );
            }
        }
    }
}
