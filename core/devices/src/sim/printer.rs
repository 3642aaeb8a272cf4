//! A simulated ESC/POS receipt printer behind [`Transport`]: it decodes what it receives into
//! paper (text lines, QR payloads, cuts), answers status queries, and can run out of paper,
//! have its cover open, or drop the link in the middle of a job.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::escpos::decode::{DecodeIssue, Decoded, Decoder, Printed, PrintedQr, StatusQuery};
use crate::escpos::status_bits as sb;
use crate::layout::{CodePageSupport, PrinterProfile};
use crate::transport::{LinkInfo, Transport, TransportError, WriteMode};

/// One piece of paper between two cuts (the last one may be uncut: still in the printer).
#[derive(Clone, Debug, PartialEq)]
pub struct PrintedReceipt {
    pub lines: Vec<String>,
    pub qr_codes: Vec<PrintedQr>,
    /// Whether the piece was cut off (a finished receipt) or is still hanging in the printer.
    pub cut: bool,
}

impl PrintedReceipt {
    /// The lines joined with spaces (wrapped text reads as one sentence again).
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// Whether the printed text contains `needle` (possibly wrapped over lines).
    pub fn mentions(&self, needle: &str) -> bool {
        self.text().contains(needle)
    }
}

#[derive(Debug)]
struct State {
    profile: PrinterProfile,
    decoder: Decoder,
    connected: bool,
    mtu: u16,
    write_mode: WriteMode,
    paper: Vec<Printed>,
    issues: Vec<DecodeIssue>,
    notifications: VecDeque<Vec<u8>>,
    paper_out: bool,
    cover_open: bool,
    paper_left_lines: Option<u32>,
    cover_opens_after: Option<u32>,
    drop_after_bytes: Option<usize>,
    refuse_connects: u32,
    bytes_received: usize,
    largest_chunk: usize,
    connects: u32,
    drawer_kicks: u32,
    write_only: bool,
    status_silent: bool,
}

/// A simulated printer. Clones share the same printer: give one to the driver, keep one to
/// inspect the paper and inject faults.
#[derive(Clone, Debug)]
pub struct SimulatedPrinter {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
}

impl SimulatedPrinter {
    /// A printer with the given profile's paper, resolution and code page, MTU 23 and
    /// write-without-response (the common cheap BLE printer).
    pub fn new(profile: &PrinterProfile) -> Self {
        let tables: Vec<CodePageSupport> = profile.code_page.into_iter().collect();
        SimulatedPrinter {
            state: Arc::new(Mutex::new(State {
                profile: profile.clone(),
                decoder: Decoder::new(tables, profile.dots_per_mm),
                connected: false,
                mtu: 23,
                write_mode: WriteMode::WithoutResponse,
                paper: Vec::new(),
                issues: Vec::new(),
                notifications: VecDeque::new(),
                paper_out: false,
                cover_open: false,
                paper_left_lines: None,
                cover_opens_after: None,
                drop_after_bytes: None,
                refuse_connects: 0,
                bytes_received: 0,
                largest_chunk: 0,
                connects: 0,
                drawer_kicks: 0,
                write_only: false,
                status_silent: false,
            })),
            notify: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("simulated printer lock is never poisoned: no panics inside")
    }

    /// Link parameters reported on connect.
    pub fn set_link(&self, mtu: u16, write_mode: WriteMode) {
        let mut s = self.lock();
        s.mtu = mtu;
        s.write_mode = write_mode;
    }

    /// A printer without a notify characteristic: it never answers status queries.
    pub fn set_write_only(&self, write_only: bool) {
        self.lock().write_only = write_only;
    }

    /// A printer that has a notify characteristic but ignores status queries (a model without
    /// status support, or firmware stuck).
    pub fn set_status_silent(&self, silent: bool) {
        self.lock().status_silent = silent;
    }

    pub fn set_paper_out(&self, out: bool) {
        let mut s = self.lock();
        s.paper_out = out;
        if !out {
            s.paper_left_lines = None;
        }
    }

    pub fn set_cover_open(&self, open: bool) {
        self.lock().cover_open = open;
    }

    /// The roll ends after `lines` more printed lines.
    pub fn run_out_of_paper_after(&self, lines: u32) {
        self.lock().paper_left_lines = Some(lines);
    }

    /// Someone opens the cover after `lines` more printed lines.
    pub fn open_cover_after(&self, lines: u32) {
        self.lock().cover_opens_after = Some(lines);
    }

    /// The link drops once `bytes` more bytes have arrived (those bytes are printed).
    pub fn drop_link_after(&self, bytes: usize) {
        self.lock().drop_after_bytes = Some(bytes);
    }

    /// The next `n` connection attempts fail (printer out of range).
    pub fn refuse_next_connects(&self, n: u32) {
        self.lock().refuse_connects = n;
    }

    /// Everything printed so far, in order.
    pub fn printed(&self) -> Vec<Printed> {
        self.lock().paper.clone()
    }

    /// Problems in the received stream (control bytes in text, unknown commands…).
    pub fn issues(&self) -> Vec<DecodeIssue> {
        self.lock().issues.clone()
    }

    /// Paper split at cuts.
    pub fn receipts(&self) -> Vec<PrintedReceipt> {
        let s = self.lock();
        let mut out = Vec::new();
        let mut current = PrintedReceipt {
            lines: Vec::new(),
            qr_codes: Vec::new(),
            cut: false,
        };
        for p in &s.paper {
            match p {
                Printed::Line(l) => current.lines.push(l.text.clone()),
                Printed::Qr(q) => current.qr_codes.push(q.clone()),
                Printed::Cut => {
                    current.cut = true;
                    out.push(std::mem::replace(
                        &mut current,
                        PrintedReceipt {
                            lines: Vec::new(),
                            qr_codes: Vec::new(),
                            cut: false,
                        },
                    ));
                }
                Printed::Feed(_) | Printed::DrawerKick => {}
            }
        }
        if !current.lines.is_empty() || !current.qr_codes.is_empty() {
            out.push(current);
        }
        out
    }

    pub fn drawer_kicks(&self) -> u32 {
        self.lock().drawer_kicks
    }

    pub fn connects(&self) -> u32 {
        self.lock().connects
    }

    pub fn largest_chunk(&self) -> usize {
        self.lock().largest_chunk
    }

    pub fn bytes_received(&self) -> usize {
        self.lock().bytes_received
    }

    fn answer(s: &State, q: StatusQuery) -> u8 {
        match q {
            StatusQuery::Printer => {
                sb::DLE_EOT_FIXED | if s.paper_out || s.cover_open { 0x08 } else { 0 } | 0x04
            }
            StatusQuery::OfflineCause => {
                sb::DLE_EOT_FIXED
                    | if s.cover_open { sb::COVER_OPEN } else { 0 }
                    | if s.paper_out { sb::PAPER_OUT_STOP } else { 0 }
            }
            StatusQuery::PaperRealTime => {
                sb::DLE_EOT_FIXED | if s.paper_out { sb::PAPER_END } else { 0 }
            }
            StatusQuery::PaperInOrder => {
                if s.paper_out {
                    sb::GS_R_PAPER_END
                } else {
                    0
                }
            }
        }
    }

    fn receive(s: &mut State, bytes: &[u8]) -> bool {
        let mut notified = false;
        for event in s.decoder.feed(bytes) {
            match event {
                Decoded::Init => {}
                Decoded::Issue(i) => s.issues.push(i),
                Decoded::Query(_) if s.write_only || s.status_silent => {}
                Decoded::Query(q) => {
                    let b = Self::answer(s, q);
                    s.notifications.push_back(vec![b]);
                    notified = true;
                }
                Decoded::Printed(p) => {
                    if s.paper_out || s.cover_open {
                        continue; // a stopped printer prints nothing
                    }
                    if let Printed::DrawerKick = p {
                        s.drawer_kicks += 1;
                    }
                    let uses_paper = matches!(p, Printed::Line(_) | Printed::Qr(_));
                    if let Some(left) = s.cover_opens_after.as_mut().filter(|_| uses_paper) {
                        if *left == 0 {
                            s.cover_open = true;
                            s.cover_opens_after = None;
                            continue;
                        }
                        *left -= 1;
                    }
                    if let Some(left) = s.paper_left_lines.as_mut().filter(|_| uses_paper) {
                        if *left == 0 {
                            s.paper_out = true;
                            continue;
                        }
                        *left -= 1;
                    }
                    s.paper.push(p);
                }
            }
        }
        notified
    }
}

#[async_trait]
impl Transport for SimulatedPrinter {
    async fn connect(&self) -> Result<LinkInfo, TransportError> {
        let mut s = self.lock();
        if s.refuse_connects > 0 {
            s.refuse_connects -= 1;
            return Err(TransportError::NotFound);
        }
        s.connected = true;
        s.connects += 1;
        // A fresh connection starts with no half-received command.
        let tables: Vec<CodePageSupport> = s.profile.code_page.into_iter().collect();
        s.decoder = Decoder::new(tables, s.profile.dots_per_mm);
        s.notifications.clear();
        Ok(LinkInfo {
            peripheral: "Simulated printer".into(),
            mtu: s.mtu,
            write_mode: s.write_mode,
            can_read: !s.write_only,
        })
    }

    async fn disconnect(&self) {
        self.lock().connected = false;
        self.notify.notify_waiters();
    }

    async fn write(&self, chunk: &[u8]) -> Result<(), TransportError> {
        let notified = {
            let mut s = self.lock();
            if !s.connected {
                return Err(TransportError::NotConnected);
            }
            let max = usize::from(s.mtu.max(23) - 3);
            if chunk.len() > max {
                return Err(TransportError::ChunkTooLarge {
                    len: chunk.len(),
                    max,
                });
            }
            s.largest_chunk = s.largest_chunk.max(chunk.len());
            let (accepted, drops) = match s.drop_after_bytes {
                Some(left) if chunk.len() >= left => (&chunk[..left], true),
                Some(left) => {
                    s.drop_after_bytes = Some(left - chunk.len());
                    (chunk, false)
                }
                None => (chunk, false),
            };
            s.bytes_received += accepted.len();
            let notified = Self::receive(&mut s, accepted);
            if drops {
                s.drop_after_bytes = None;
                s.connected = false;
                drop(s);
                self.notify.notify_waiters();
                return Err(TransportError::Disconnected);
            }
            notified
        };
        if notified {
            self.notify.notify_waiters();
        }
        Ok(())
    }

    async fn read(&self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let waiter = self.notify.notified();
            {
                let mut s = self.lock();
                if let Some(n) = s.notifications.pop_front() {
                    return Ok(Some(n));
                }
                if !s.connected {
                    return Err(TransportError::Disconnected);
                }
            }
            if tokio::time::timeout_at(deadline, waiter).await.is_err() {
                return Ok(None);
            }
        }
    }
}
