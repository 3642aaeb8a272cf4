//! The PNG preview shows the same layout, with a QR that a camera can read back.

use tenda_devices::preview::{render_job_png, render_png};
use tenda_devices::receipt::layout_danfe;
use tenda_devices::sim::sample_danfe;
use tenda_devices::{DanfeOptions, Emission, FiscalEnvironment, PrinterProfile};

fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size known")];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

fn qr_payloads(width: usize, height: usize, pixels: &[u8]) -> Vec<String> {
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    img.detect_grids()
        .into_iter()
        .map(|g| g.decode().expect("QR decodes").1)
        .collect()
}

#[test]
fn preview_png_has_a_scannable_qr_equal_to_the_document_payload() {
    for profile in [PrinterProfile::mm58(), PrinterProfile::mm80()] {
        let danfe = sample_danfe(30, Emission::Normal, FiscalEnvironment::Production);
        let job = layout_danfe(&danfe, &profile, &DanfeOptions::default()).expect("valid");
        let png_bytes = render_png(&job.copies[0]).expect("renders");
        let (w, h, pixels) = decode_png(&png_bytes);
        assert_eq!(
            w,
            usize::from(profile.printable_dots) + 32,
            "one pixel per printer dot plus margins"
        );
        assert!(h > 1500, "30 items make a long receipt ({h} px)");
        // Text is drawn: a good share of pixels in the header band is ink.
        let header_ink = pixels[..w * 120].iter().filter(|p| **p < 128).count();
        assert!(
            header_ink > 500,
            "header text rendered ({header_ink} dark pixels)"
        );
        assert_eq!(
            qr_payloads(w, h, &pixels),
            vec![danfe.qr_code.clone()],
            "QR read back from the PNG"
        );
    }
}

#[test]
fn contingency_preview_with_two_copies_shows_two_qr_codes() {
    let profile = PrinterProfile::mm80();
    let danfe = sample_danfe(
        3,
        Emission::OfflineContingency,
        FiscalEnvironment::Production,
    );
    let options = DanfeOptions {
        store_copy_in_contingency: true,
        ..DanfeOptions::default()
    };
    let job = layout_danfe(&danfe, &profile, &options).expect("valid");
    let (w, h, pixels) = decode_png(&render_job_png(&job).expect("renders"));
    let found = qr_payloads(w, h, &pixels);
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|p| *p == danfe.qr_code));
}
