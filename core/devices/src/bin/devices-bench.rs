//! Benchmark: a 30-item DANFE NFC-e laid out and encoded to ESC/POS, and rendered to PNG.
//! Prints `<name>: <value> <unit>` lines. With `--preview-dir DIR`, also writes the rendered
//! receipts there (path reported on stderr).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tenda_devices::escpos::encode_job;
use tenda_devices::preview::{render_job_png, render_png};
use tenda_devices::receipt::{layout_danfe, layout_ticket};
use tenda_devices::sim::{sample_danfe, sample_ticket};
use tenda_devices::{DanfeOptions, Emission, FiscalEnvironment, PrinterProfile};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    for _ in 0..runs.min(10) {
        black_box(f());
    }
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut preview_dir: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        if a == "--preview-dir" {
            preview_dir = args.next().map(PathBuf::from);
        }
    }
    let danfe = sample_danfe(30, Emission::Normal, FiscalEnvironment::Production);
    let options = DanfeOptions::default();
    for (label, profile) in [
        ("80mm", PrinterProfile::mm80()),
        ("58mm", PrinterProfile::mm58()),
    ] {
        let job = layout_danfe(&danfe, &profile, &options)?;
        let bytes = encode_job(&job)?;
        let png = render_png(&job.copies[0])?;
        let escpos = time(2000, || {
            let job = layout_danfe(&danfe, &profile, &options).expect("valid sample");
            encode_job(&job).expect("encodable sample")
        });
        let png_time = time(40, || {
            let job = layout_danfe(&danfe, &profile, &options).expect("valid sample");
            render_png(&job.copies[0]).expect("renderable sample")
        });
        println!("danfe_30_items_escpos_{label}: {} ms", ms(escpos));
        println!("danfe_30_items_png_{label}: {} ms", ms(png_time));
        println!("danfe_30_items_escpos_size_{label}: {} bytes", bytes.len());
        println!("danfe_30_items_png_size_{label}: {} bytes", png.len());
        if let Some(dir) = &preview_dir {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("danfe-30-items-{label}.png"));
            std::fs::write(&path, &png)?;
            eprintln!("preview: {}", path.display());
        }
    }
    if let Some(dir) = &preview_dir {
        let contingency = sample_danfe(
            4,
            Emission::OfflineContingency,
            FiscalEnvironment::Homologation,
        );
        let job = layout_danfe(
            &contingency,
            &PrinterProfile::mm58(),
            &DanfeOptions {
                store_copy_in_contingency: true,
                ..DanfeOptions::default()
            },
        )?;
        let path = dir.join("danfe-contingency-homologation-2-copies-58mm.png");
        std::fs::write(&path, render_job_png(&job)?)?;
        eprintln!("preview: {}", path.display());
        let ticket = layout_ticket(&sample_ticket(), &PrinterProfile::mm58())?;
        let path = dir.join("sale-ticket-58mm.png");
        std::fs::write(&path, render_job_png(&ticket)?)?;
        eprintln!("preview: {}", path.display());
    }
    Ok(())
}
