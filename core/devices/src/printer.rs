//! Receipt printers: the [`ReceiptPrinter`] trait and its ESC/POS implementation over any
//! [`Transport`]. A job either prints whole or fails with an error the seller can act on; a
//! job cut short by a dropped link is reprinted whole after a notice voiding the partial paper.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::escpos::{self, EncodeError, status_bits as sb};
use crate::layout::{PrintJob, PrinterProfile, TextStyle};
use crate::transport::{
    LinkInfo, Pacing, ReconnectPolicy, Transport, TransportError, connect_with_retry, write_all,
};

/// Paper and cover state as the printer reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterStatus {
    pub paper_out: bool,
    pub paper_near_end: bool,
    pub cover_open: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrinterError {
    /// Load a new roll, then print again.
    #[error("the printer is out of paper{}", if *.job_incomplete { "; the receipt did not print completely" } else { "" })]
    PaperOut { job_incomplete: bool },
    /// Close the cover, then print again.
    #[error("the printer cover is open{}", if *.job_incomplete { "; the receipt did not print completely" } else { "" })]
    CoverOpen { job_incomplete: bool },
    /// Turn the printer on, bring it closer or pair it again; nothing was printed.
    #[error("the printer cannot be reached")]
    Unreachable(#[source] TransportError),
    /// The link kept dropping: the receipt is not complete and must be reprinted.
    #[error(
        "printing was interrupted {attempts} times; the receipt is incomplete and must be reprinted"
    )]
    Interrupted {
        attempts: u32,
        #[source]
        source: TransportError,
    },
    /// The job was sent but the printer did not confirm it: check the paper, reprint if needed.
    #[error("the printer did not confirm the receipt")]
    Unconfirmed,
    /// The printer does not answer status queries; nothing was printed. Check it is on; for a
    /// model without status support, turn `printer_reports_status` off.
    #[error("the printer does not answer status queries")]
    NoStatusAnswer,
    #[error("the receipt cannot be encoded")]
    Encode(#[from] EncodeError),
}

impl PrinterError {
    /// A stable code the UI can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            PrinterError::PaperOut { .. } => "printer_paper_out",
            PrinterError::CoverOpen { .. } => "printer_cover_open",
            PrinterError::Unreachable(TransportError::BluetoothUnavailable { .. }) => {
                "bluetooth_unavailable"
            }
            PrinterError::Unreachable(_) => "printer_unreachable",
            PrinterError::Interrupted { .. } => "printer_interrupted",
            PrinterError::Unconfirmed => "printer_unconfirmed",
            PrinterError::NoStatusAnswer => "printer_no_status",
            PrinterError::Encode(_) => "receipt_unencodable",
        }
    }

    /// Whether some paper came out that must be treated as void (the job must be reprinted).
    pub fn left_partial_receipt(&self) -> bool {
        matches!(
            self,
            PrinterError::PaperOut {
                job_incomplete: true
            } | PrinterError::CoverOpen {
                job_incomplete: true
            } | PrinterError::Interrupted { .. }
                | PrinterError::Unconfirmed
        )
    }
}

/// What happened to a job that printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintReport {
    /// Times the job was sent (more than 1 after a dropped link).
    pub attempts: u32,
    /// A partial receipt from an earlier attempt was voided on paper before this one.
    pub voided_partial: bool,
    pub bytes: usize,
}

/// A receipt printer.
#[async_trait]
pub trait ReceiptPrinter: Send + Sync {
    async fn status(&self) -> Result<PrinterStatus, PrinterError>;
    /// Prints every copy of the job, whole, or fails.
    async fn print(&self, job: &PrintJob) -> Result<PrintReport, PrinterError>;
    async fn open_drawer(&self) -> Result<(), PrinterError>;
}

/// Driver settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterSettings {
    pub pacing: Pacing,
    pub reconnect: ReconnectPolicy,
    pub status_timeout: Duration,
    /// How many times a job interrupted by a dropped link is sent again.
    pub resend_attempts: u32,
    /// Printed before a reprint, so the partial receipt above it is not taken for a valid one.
    pub interrupted_notice: Vec<String>,
    /// Whether the printer answers status queries (`DLE EOT`, `GS r`). Almost all do; for one
    /// that does not, paper-out and cover-open cannot be detected and jobs are sent unchecked.
    pub printer_reports_status: bool,
}

impl Default for PrinterSettings {
    fn default() -> Self {
        PrinterSettings {
            pacing: Pacing::default(),
            reconnect: ReconnectPolicy::default(),
            status_timeout: Duration::from_secs(2),
            resend_attempts: 2,
            interrupted_notice: vec![
                "*** IMPRESSÃO INTERROMPIDA ***".into(),
                "DESCONSIDERE O CUPOM ACIMA".into(),
                "REIMPRESSÃO COMPLETA A SEGUIR".into(),
            ],
            printer_reports_status: true,
        }
    }
}

#[derive(Debug, Default)]
struct DriverState {
    link: Option<LinkInfo>,
    /// The previous job left partial paper (dropped link, paper out mid-job).
    partial_on_paper: bool,
}

/// An ESC/POS printer over a transport.
pub struct EscPosPrinter<T: Transport> {
    transport: T,
    profile: PrinterProfile,
    settings: PrinterSettings,
    state: Mutex<DriverState>,
}

impl<T: Transport> EscPosPrinter<T> {
    pub fn new(transport: T, profile: PrinterProfile, settings: PrinterSettings) -> Self {
        EscPosPrinter {
            transport,
            profile,
            settings,
            state: Mutex::new(DriverState::default()),
        }
    }

    pub fn profile(&self) -> &PrinterProfile {
        &self.profile
    }

    async fn link(&self, st: &mut DriverState) -> Result<LinkInfo, TransportError> {
        if let Some(l) = &st.link {
            return Ok(l.clone());
        }
        let l = connect_with_retry(&self.transport, self.settings.reconnect).await?;
        st.link = Some(l.clone());
        Ok(l)
    }

    async fn drain(&self) -> Result<(), TransportError> {
        while self.transport.read(Duration::ZERO).await?.is_some() {}
        Ok(())
    }

    async fn ask(&self, link: &LinkInfo, query: &[u8]) -> Result<Option<u8>, TransportError> {
        write_all(&self.transport, link, query, self.settings.pacing)
            .await
            .map_err(|e| e.source)?;
        Ok(self
            .transport
            .read(self.settings.status_timeout)
            .await?
            .and_then(|b| b.last().copied()))
    }

    async fn read_status(&self, link: &LinkInfo) -> Result<Option<PrinterStatus>, TransportError> {
        self.drain().await?;
        let Some(cause) = self.ask(link, &escpos::STATUS_OFFLINE_CAUSE).await? else {
            return Ok(None);
        };
        let Some(paper) = self.ask(link, &escpos::STATUS_PAPER).await? else {
            return Ok(None);
        };
        Ok(Some(PrinterStatus {
            cover_open: cause & sb::COVER_OPEN != 0,
            paper_out: paper & sb::PAPER_END != 0 || cause & sb::PAPER_OUT_STOP != 0,
            paper_near_end: paper & sb::PAPER_NEAR_END != 0,
        }))
    }

    fn void_notice(&self) -> Result<Vec<u8>, EncodeError> {
        let mut b = crate::layout::DocumentBuilder::new(&self.profile);
        b.feed(1);
        for line in &self.settings.interrupted_notice {
            b.text(line, TextStyle::BOLD_CENTER);
        }
        b.feed(1).cut();
        escpos::encode(&b.finish())
    }

    fn check(status: PrinterStatus, job_incomplete: bool) -> Result<(), PrinterError> {
        if status.cover_open {
            return Err(PrinterError::CoverOpen { job_incomplete });
        }
        if status.paper_out {
            return Err(PrinterError::PaperOut { job_incomplete });
        }
        Ok(())
    }
}

#[async_trait]
impl<T: Transport> ReceiptPrinter for EscPosPrinter<T> {
    async fn status(&self) -> Result<PrinterStatus, PrinterError> {
        let mut st = self.state.lock().await;
        let link = self
            .link(&mut st)
            .await
            .map_err(PrinterError::Unreachable)?;
        match self.read_status(&link).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(PrinterError::NoStatusAnswer),
            Err(e) => {
                st.link = None;
                Err(PrinterError::Unreachable(e))
            }
        }
    }

    async fn print(&self, job: &PrintJob) -> Result<PrintReport, PrinterError> {
        let job_bytes = escpos::encode_job(job)?;
        let notice = self.void_notice()?;
        let mut st = self.state.lock().await;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let interrupted = |st: &mut DriverState, source: TransportError| {
                st.link = None;
                st.partial_on_paper = true;
                PrinterError::Interrupted { attempts, source }
            };
            let link = match self.link(&mut st).await {
                Ok(l) => l,
                Err(e) if attempts == 1 => return Err(PrinterError::Unreachable(e)),
                Err(e) => return Err(interrupted(&mut st, e)),
            };
            if !self.settings.printer_reports_status || !link.can_read {
                let voided_partial = st.partial_on_paper;
                let mut bytes = Vec::with_capacity(job_bytes.len() + notice.len());
                if voided_partial {
                    bytes.extend_from_slice(&notice);
                }
                bytes.extend_from_slice(&job_bytes);
                if let Err(e) =
                    write_all(&self.transport, &link, &bytes, self.settings.pacing).await
                {
                    let err = interrupted(&mut st, e.source);
                    if attempts > self.settings.resend_attempts {
                        return Err(err);
                    }
                    continue;
                }
                st.partial_on_paper = false;
                return Ok(PrintReport {
                    attempts,
                    voided_partial,
                    bytes: bytes.len(),
                });
            }
            // Before sending: a printer with no paper or an open cover prints nothing.
            let before = match self.read_status(&link).await {
                Ok(Some(s)) => s,
                Ok(None) => return Err(PrinterError::NoStatusAnswer),
                Err(e) if attempts <= self.settings.resend_attempts => {
                    st.link = None;
                    tracing::debug!(error = %e, "printer link lost before the job; retrying");
                    continue;
                }
                Err(e) => return Err(interrupted(&mut st, e)),
            };
            Self::check(before, st.partial_on_paper)?;

            let voided_partial = st.partial_on_paper;
            let mut bytes = Vec::with_capacity(job_bytes.len() + notice.len() + 3);
            if voided_partial {
                bytes.extend_from_slice(&notice);
            }
            bytes.extend_from_slice(&job_bytes);
            // `GS r 1` is answered only after everything before it was processed.
            bytes.extend_from_slice(&escpos::STATUS_PAPER_IN_ORDER);
            if let Err(e) = write_all(&self.transport, &link, &bytes, self.settings.pacing).await {
                let err = interrupted(&mut st, e.source);
                tracing::warn!(sent = e.sent, attempts, "printer link dropped mid-job");
                if attempts > self.settings.resend_attempts {
                    return Err(err);
                }
                continue;
            }
            let in_order = match self.transport.read(self.settings.status_timeout).await {
                Ok(Some(b)) => b.last().copied(),
                Ok(None) => {
                    st.partial_on_paper = true;
                    return Err(PrinterError::Unconfirmed);
                }
                Err(e) => {
                    let err = interrupted(&mut st, e);
                    if attempts > self.settings.resend_attempts {
                        return Err(err);
                    }
                    continue;
                }
            };
            let paper_ended = in_order.is_some_and(|b| b & sb::GS_R_PAPER_END != 0);
            let after = match self.read_status(&link).await {
                Ok(Some(s)) => s,
                Ok(None) | Err(_) => PrinterStatus {
                    paper_out: paper_ended,
                    ..PrinterStatus::default()
                },
            };
            let after = PrinterStatus {
                paper_out: after.paper_out || paper_ended,
                ..after
            };
            if after.cover_open || after.paper_out {
                st.partial_on_paper = true;
                Self::check(after, true)?;
            }
            st.partial_on_paper = false;
            return Ok(PrintReport {
                attempts,
                voided_partial,
                bytes: bytes.len(),
            });
        }
    }

    async fn open_drawer(&self) -> Result<(), PrinterError> {
        let mut st = self.state.lock().await;
        let link = self
            .link(&mut st)
            .await
            .map_err(PrinterError::Unreachable)?;
        if let Err(e) = write_all(
            &self.transport,
            &link,
            &escpos::DRAWER_KICK,
            self.settings.pacing,
        )
        .await
        {
            st.link = None;
            return Err(PrinterError::Unreachable(e.source));
        }
        Ok(())
    }
}
