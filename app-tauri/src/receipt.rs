//! The receipt preview: the printer the register prints to is wrapped so that every job it is
//! given (a sale's DANFE NFC-e, a reprint's "SEGUNDA VIA") is also rendered to a PNG by
//! `tenda_devices::preview` — the same layout, dot for dot, that goes to the paper.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine;
use tenda_devices::preview::render_job_png;
use tenda_devices::{PrintJob, PrintReport, PrinterError, PrinterStatus, ReceiptPrinter};

/// The last rendered receipt.
#[derive(Default)]
pub struct ReceiptPreview {
    last_png: Mutex<Option<Vec<u8>>>,
}

impl ReceiptPreview {
    pub fn last_data_url(&self) -> Option<String> {
        let png = self.last_png.lock().unwrap_or_else(|e| e.into_inner());
        png.as_ref().map(|p| {
            format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(p)
            )
        })
    }

    fn keep(&self, job: &PrintJob) {
        // A job that cannot be rendered still prints; the preview simply keeps the previous one.
        if let Ok(png) = render_job_png(job) {
            *self.last_png.lock().unwrap_or_else(|e| e.into_inner()) = Some(png);
        }
    }
}

/// A printer that also keeps a preview of what it was asked to print.
pub struct PreviewingPrinter {
    pub inner: Arc<dyn ReceiptPrinter>,
    pub preview: Arc<ReceiptPreview>,
}

#[async_trait]
impl ReceiptPrinter for PreviewingPrinter {
    async fn status(&self) -> Result<PrinterStatus, PrinterError> {
        self.inner.status().await
    }

    async fn print(&self, job: &PrintJob) -> Result<PrintReport, PrinterError> {
        self.preview.keep(job);
        self.inner.print(job).await
    }

    async fn open_drawer(&self) -> Result<(), PrinterError> {
        self.inner.open_drawer().await
    }
}
