//! Receipt preview: renders a laid-out receipt to a PNG at the printer's own resolution (one
//! pixel per dot), with the font embedded in the crate so it works without system fonts, and a
//! QR code sized exactly as the printer would print it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use fontdue::{Font, FontSettings};
use qrcode::{Color, EcLevel, QrCode};

use crate::escpos::qr_module_dots;
use crate::layout::{Align, Block, PrintDocument, PrintJob, TextStyle};

static REGULAR_TTF: &[u8] = include_bytes!("../assets/fonts/DejaVuSansMono.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../assets/fonts/DejaVuSansMono-Bold.ttf");

/// Height of a text line in dots (font A is 12 × 24).
const LINE_DOTS: usize = 24;
/// White margin around the paper, in pixels.
const MARGIN: usize = 16;
/// Gap drawn where the paper is cut.
const CUT_GAP: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    #[error("QR payload of {len} bytes does not fit in a QR code")]
    QrTooLong { len: usize },
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

struct Fonts {
    regular: Font,
    bold: Font,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts {
        regular: Font::from_bytes(REGULAR_TTF, FontSettings::default())
            .expect("the embedded font is valid TrueType"),
        bold: Font::from_bytes(BOLD_TTF, FontSettings::default())
            .expect("the embedded font is valid TrueType"),
    })
}

#[derive(Clone)]
struct Glyph {
    xmin: i32,
    ymin: i32,
    width: usize,
    height: usize,
    coverage: Vec<u8>,
}

type GlyphKey = (char, bool, usize);

fn glyph_cache() -> &'static Mutex<HashMap<GlyphKey, Glyph>> {
    static CACHE: OnceLock<Mutex<HashMap<GlyphKey, Glyph>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn glyph(c: char, bold: bool, cell: usize) -> Glyph {
    let key = (c, bold, cell);
    if let Some(g) = glyph_cache()
        .lock()
        .expect("glyph cache lock is never poisoned: no panics inside")
        .get(&key)
    {
        return g.clone();
    }
    let f = fonts();
    let font = if bold { &f.bold } else { &f.regular };
    // DejaVu Sans Mono advances 0.602 em: pick the size whose advance fills the column.
    let px = cell as f32 / 0.602;
    let (m, coverage) = font.rasterize(c, px);
    let g = Glyph {
        xmin: m.xmin,
        ymin: m.ymin,
        width: m.width,
        height: m.height,
        coverage,
    };
    glyph_cache()
        .lock()
        .expect("glyph cache lock is never poisoned: no panics inside")
        .insert(key, g.clone());
    g
}

struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn darken(&mut self, x: usize, y: usize, ink: u8) {
        if x < self.width && y < self.height {
            let p = &mut self.pixels[y * self.width + x];
            *p = (*p).min(255 - ink);
        }
    }

    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, value: u8) {
        for yy in y..(y + h).min(self.height) {
            let row = yy * self.width;
            for xx in x..(x + w).min(self.width) {
                self.pixels[row + xx] = value;
            }
        }
    }
}

fn block_height(block: &Block, doc: &PrintDocument) -> Result<usize, PreviewError> {
    Ok(match block {
        Block::Line { style, .. } => LINE_DOTS * if style.double_height { 2 } else { 1 },
        Block::Qr { payload } => {
            let code = qr(payload)?;
            let dots = usize::from(module_dots(payload, doc)?);
            code.width() * dots + LINE_DOTS
        }
        Block::Feed { lines } => usize::from(*lines) * LINE_DOTS,
        Block::Cut => CUT_GAP,
        Block::DrawerKick => 0,
    })
}

fn qr(payload: &str) -> Result<QrCode, PreviewError> {
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|_| PreviewError::QrTooLong { len: payload.len() })
}

fn module_dots(payload: &str, doc: &PrintDocument) -> Result<u8, PreviewError> {
    qr_module_dots(payload.as_bytes(), &doc.profile)
        .ok_or(PreviewError::QrTooLong { len: payload.len() })
}

/// Renders every copy of a job, one under the other, to PNG bytes.
pub fn render_job_png(job: &PrintJob) -> Result<Vec<u8>, PreviewError> {
    let docs: Vec<&PrintDocument> = job.copies.iter().collect();
    render_png_of(&docs)
}

/// Renders one document to PNG bytes.
pub fn render_png(doc: &PrintDocument) -> Result<Vec<u8>, PreviewError> {
    render_png_of(&[doc])
}

/// Renders documents to a greyscale bitmap: `(width, height, pixels)`, 0 = black, 255 = white.
pub fn render_bitmap(docs: &[&PrintDocument]) -> Result<(usize, usize, Vec<u8>), PreviewError> {
    let paper = docs
        .iter()
        .map(|d| usize::from(d.profile.printable_dots))
        .max()
        .unwrap_or(384);
    let mut height = MARGIN * 2;
    for doc in docs {
        for block in &doc.blocks {
            height += block_height(block, doc)?;
        }
    }
    let width = paper + MARGIN * 2;
    let mut canvas = Canvas {
        width,
        height,
        pixels: vec![255; width * height],
    };
    let mut y = MARGIN;
    for doc in docs {
        let cell = usize::from(doc.profile.dots_per_column());
        for block in &doc.blocks {
            let h = block_height(block, doc)?;
            match block {
                Block::Line { text, style } => draw_line(&mut canvas, text, *style, y, cell, paper),
                Block::Qr { payload } => {
                    let code = qr(payload)?;
                    let dots = usize::from(module_dots(payload, doc)?);
                    let side = code.width() * dots;
                    let x0 = MARGIN + paper.saturating_sub(side) / 2;
                    for (i, color) in code.to_colors().iter().enumerate() {
                        if *color == Color::Dark {
                            let (mx, my) = (i % code.width(), i / code.width());
                            canvas.fill(x0 + mx * dots, y + my * dots, dots, dots, 0);
                        }
                    }
                }
                Block::Cut => {
                    // A dashed line where the paper is cut.
                    let cy = y + CUT_GAP / 2;
                    for x in (0..width).step_by(8) {
                        canvas.fill(x, cy, 4, 1, 128);
                    }
                }
                Block::Feed { .. } | Block::DrawerKick => {}
            }
            y += h;
        }
    }
    Ok((width, height, canvas.pixels))
}

fn draw_line(
    canvas: &mut Canvas,
    text: &str,
    style: TextStyle,
    top: usize,
    cell: usize,
    paper: usize,
) {
    let sx = if style.double_width { 2 } else { 1 };
    let sy = if style.double_height { 2 } else { 1 };
    let chars = text.chars().count();
    let line_w = chars * cell * sx;
    let x0 = MARGIN
        + match style.align {
            Align::Left => 0,
            Align::Center => paper.saturating_sub(line_w) / 2,
            Align::Right => paper.saturating_sub(line_w),
        };
    // Baseline three quarters down the 24-dot line, leaving room for descenders.
    let baseline = (LINE_DOTS * 3 / 4) as i32;
    for (i, c) in text.chars().enumerate() {
        if c == ' ' {
            continue;
        }
        let g = glyph(c, style.bold, cell);
        let gx = (i * cell) as i32 + g.xmin;
        let gy = baseline - (g.height as i32 + g.ymin);
        for row in 0..g.height {
            for col in 0..g.width {
                let ink = g.coverage[row * g.width + col];
                if ink == 0 {
                    continue;
                }
                let bx = gx + col as i32;
                let by = gy + row as i32;
                if bx < 0 || by < 0 {
                    continue;
                }
                for dy in 0..sy {
                    for dx in 0..sx {
                        let x = x0 + bx as usize * sx + dx;
                        let y = top + by as usize * sy + dy;
                        canvas.darken(x, y, ink);
                    }
                }
            }
        }
    }
}

fn render_png_of(docs: &[&PrintDocument]) -> Result<Vec<u8>, PreviewError> {
    let (width, height, pixels) = render_bitmap(docs)?;
    let mut out = Vec::with_capacity(pixels.len() / 8);
    {
        let w = u32::try_from(width).map_err(|e| PreviewError::Png(e.to_string()))?;
        let h = u32::try_from(height).map_err(|e| PreviewError::Png(e.to_string()))?;
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder
            .write_header()
            .map_err(|e| PreviewError::Png(e.to_string()))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| PreviewError::Png(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| PreviewError::Png(e.to_string()))?;
    }
    Ok(out)
}
