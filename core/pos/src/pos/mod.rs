//! The `Pos` object: the one thing a seller's, manager's and owner's screens talk to. Every
//! mutation goes through the same steps: authorize (a grant bound to the action) → execute →
//! audit, the audit entry committing in the same transaction as the change.

mod cancel_ops;
pub(crate) mod card_ops;
mod checkout_op;
mod contingency_ops;
mod correction_ops;
mod register_ops;
mod reports_ops;
mod sales_list_ops;
mod session;
pub(crate) mod sync_ops;
mod ticket_ops;
mod transmit_ops;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tenda_devices::ReceiptPrinter;
use tenda_domain::{Actor, AuditEvent, Outcome};
use tenda_fiscal::A1Certificate;
use tenda_store::{DbKey, KeyVault, LocalChange, Store};

use crate::authorize::Operator;
use crate::checkout::ticket::Ticket;
use crate::config::PosConfig;
use crate::contingency::{ContingencyTransition, FiscalState};
use crate::error::{PosError, PosResult};
use crate::register::RegisterSession;
use crate::status::{LinkState, PosStatus, SefazMode, StatusHub, StatusListener};

pub use cancel_ops::{CancellationOutcome, FiscalEventRecord, VoidedRange};
pub use card_ops::{CardForwardSummary, CardOfflineRisk, CardPaymentToRecover, PendingCardPayment};
pub use checkout_op::{NoteSummary, SaleOutcome};
pub use correction_ops::{ConsumerCorrection, LineFiscalCorrection, NoteCorrection};
pub use reports_ops::{AuditFilter, AuditReport, AuditRow};
pub use sales_list_ops::{
    OfflineSaleRow, ReprintOutcome, SaleDetail, SaleLineRow, SaleNoteState, SalePaymentRow,
    SyncNowOutcome,
};
pub use session::Approval;
pub use ticket_ops::{ProductView, TicketLineView, TicketView};
pub use transmit_ops::{NoteToCorrect, TransmissionSummary};

/// Setting keys this crate owns in the device store.
pub(crate) mod keys {
    pub const CONFIG: &str = "pos.config";
    pub const FISCAL_STATE: &str = "pos.fiscal_state";
    pub const REGISTER: &str = "pos.register";
    pub const CERTIFICATE: &str = "pos.certificate";
    pub fn login_attempts(login: &str) -> String {
        format!("pos.login_attempts.{login}")
    }
}

/// The A1 certificate as kept inside the encrypted store.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredCertificate {
    pfx_hex: String,
    password: String,
}

pub(crate) struct Session {
    pub operator: Operator,
    pub ticket: Ticket,
}

pub(crate) struct Inner {
    /// Shared with the sync engine, which locks it only for short local steps.
    pub store: Arc<Mutex<Store>>,
    /// Reader connections on the same file: reads never wait for the writer (a checkout holds
    /// it while its note is signed).
    pub readers: tenda_store::Readers,
    pub config: Mutex<PosConfig>,
    pub certificate: Mutex<Option<Arc<A1Certificate>>>,
    pub session: Mutex<Option<Session>>,
    pub fiscal: Mutex<FiscalState>,
    pub register: Mutex<Option<RegisterSession>>,
    pub printer: Mutex<Option<Arc<dyn ReceiptPrinter>>>,
    pub transmitter: Mutex<Option<Arc<tenda_fiscal::sefaz::Transmitter>>>,
    pub link: Mutex<LinkState>,
    pub hub: StatusHub,
    /// The running sync engine and its timers (enrolled devices only).
    pub sync: Mutex<Option<sync_ops::SyncRuntime>>,
    pub cards: card_ops::CardState,
}

/// The point of sale of one device.
#[derive(Clone)]
pub struct Pos {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs blocking work (RSA signing, SQLCipher, Argon2) on tokio's blocking threads: on an async
/// worker it would stall every task scheduled there.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> PosResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PosError::Internal {
            detail: format!("blocking task: {e}"),
        })
}

pub(crate) fn storage(e: tenda_store::Error) -> PosError {
    use tenda_store::Error as E;
    match e {
        E::InvalidInput { field, reason } => PosError::invalid(field, reason),
        E::NotFound(what) => PosError::NotFound {
            what: what.to_owned(),
        },
        E::Account(a) => PosError::LimitExceeded {
            limit: format!("customer_credit: {a}"),
        },
        other => PosError::Storage {
            detail: other.to_string(),
        },
    }
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> PosResult<String> {
    serde_json::to_string(value).map_err(|e| PosError::Internal {
        detail: e.to_string(),
    })
}

impl Pos {
    /// Opens the device's encrypted store (the key comes from the OS keystore through `vault`)
    /// with the configuration saved at enrollment.
    pub fn open_with_vault(
        path: impl AsRef<Path>,
        vault: &dyn KeyVault,
        account: &str,
    ) -> PosResult<Pos> {
        let store = Store::open_with_vault(path, vault, account).map_err(storage)?;
        Pos::from_store(store)
    }

    pub fn open(path: impl AsRef<Path>, key: &DbKey) -> PosResult<Pos> {
        let store = Store::open(path, key).map_err(storage)?;
        Pos::from_store(store)
    }

    /// Sets up a new device store with `config` (first run, or at enrollment) and opens it.
    pub fn create(path: impl AsRef<Path>, key: &DbKey, config: &PosConfig) -> PosResult<Pos> {
        let mut store = Store::open(path, key).map_err(storage)?;
        store.set_setting(keys::CONFIG, config).map_err(storage)?;
        Pos::from_store(store)
    }

    fn from_store(mut store: Store) -> PosResult<Pos> {
        let config: PosConfig = store
            .setting(keys::CONFIG)
            .map_err(storage)?
            .ok_or_else(|| {
                PosError::state("open", "this device is not set up yet (enroll it first)")
            })?;
        let fiscal: FiscalState = store
            .setting(keys::FISCAL_STATE)
            .map_err(storage)?
            .unwrap_or(FiscalState::Normal);
        let register: Option<RegisterSession> =
            store.setting(keys::REGISTER).map_err(storage)?.flatten();
        let certificate = match store
            .setting::<StoredCertificate>(keys::CERTIFICATE)
            .map_err(storage)?
        {
            Some(c) => Some(Arc::new(load_certificate(&c)?)),
            None => None,
        };
        let pending_sync = store.outbox_pending_count().map_err(storage)?;
        let readers = store.readers();
        let pos = Pos {
            inner: Arc::new(Inner {
                store: Arc::new(Mutex::new(store)),
                readers,
                config: Mutex::new(config),
                certificate: Mutex::new(certificate),
                session: Mutex::new(None),
                fiscal: Mutex::new(fiscal.clone()),
                register: Mutex::new(register),
                printer: Mutex::new(None),
                transmitter: Mutex::new(None),
                link: Mutex::new(LinkState::Offline),
                hub: StatusHub::default(),
                sync: Mutex::new(None),
                cards: Default::default(),
            }),
        };
        pos.inner.hub.update(|s| {
            s.sefaz = SefazMode::from(&fiscal);
            s.pending_sync = pending_sync;
        });
        pos.refresh_fiscal_status()?;
        pos.resume_sync()?;
        Ok(pos)
    }

    pub fn config(&self) -> PosConfig {
        lock(&self.inner.config).clone()
    }

    /// Installs the store's A1 certificate (kept inside the encrypted database). Owner only.
    pub fn install_certificate(
        &self,
        pfx: &[u8],
        password: &str,
        owner: &Approval,
    ) -> PosResult<()> {
        let cert = A1Certificate::from_pkcs12_der(pfx, password)
            .map_err(|e| PosError::invalid("certificate", e.to_string()))?;
        let emitter_cnpj = lock(&self.inner.config).emitter.cnpj.clone();
        cert.check_cnpj(&emitter_cnpj)
            .map_err(|e| PosError::invalid("certificate", e.to_string()))?;
        let auth = self.authorize_with(tenda_domain::Action::ManageSettings, Some(owner))?;
        let stored = StoredCertificate {
            pfx_hex: hex_encode(pfx),
            password: password.to_owned(),
        };
        let change = LocalChange {
            settings: vec![(keys::CERTIFICATE.to_owned(), json(&stored)?)],
            mutations: vec![],
            audit: vec![auth.audit("certificate:a1", Outcome::Succeeded, Utc::now())],
            ..Default::default()
        };
        lock(&self.inner.store)
            .record_local_change(&change)
            .map_err(storage)?;
        *lock(&self.inner.certificate) = Some(Arc::new(cert));
        Ok(())
    }

    /// Talks to SEFAZ through `transmitter` from now on: online sales are authorized at once
    /// (when the link is up) and the backlog can be transmitted.
    pub fn set_transmitter(&self, transmitter: Arc<tenda_fiscal::sefaz::Transmitter>) {
        *lock(&self.inner.transmitter) = Some(transmitter);
    }

    /// Uses `printer` for receipts from now on.
    pub fn set_printer(&self, printer: Arc<dyn ReceiptPrinter>) {
        *lock(&self.inner.printer) = Some(printer);
        self.inner
            .hub
            .update(|s| s.printer = crate::status::PeripheralState::Ready);
    }

    pub fn status(&self) -> PosStatus {
        self.inner.hub.current()
    }

    pub fn subscribe(&self, listener: Arc<dyn StatusListener>) {
        self.inner.hub.subscribe(listener);
    }

    /// The link as observed by the probes and the sync engine.
    pub fn set_link(&self, link: LinkState) {
        let was = std::mem::replace(&mut *lock(&self.inner.link), link);
        self.inner.hub.update(|s| s.link = link);
        if was == LinkState::Offline && link == LinkState::Online {
            self.forward_cards_in_background();
        }
    }

    pub fn link(&self) -> LinkState {
        *lock(&self.inner.link)
    }

    /// Verifies the whole audit chain of this device.
    pub fn verify_audit(&self) -> PosResult<tenda_store::AuditVerification> {
        self.reader()?.verify_audit_chain().map_err(storage)
    }

    /// Audit entries after `after`, for the audit report (filters applied by the caller or
    /// through [`crate::reports`]).
    pub fn audit_entries(&self, after: u64, limit: u32) -> PosResult<Vec<tenda_store::AuditEntry>> {
        self.reader()?.audit_entries(after, limit).map_err(storage)
    }

    /// A reader connection, for reads that must not wait for a write in progress.
    pub(crate) fn reader(&self) -> PosResult<tenda_store::Reader> {
        self.inner.readers.get().map_err(storage)
    }

    /// Direct access for the sync engine and maintenance tasks that drive the store themselves.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut lock(&self.inner.store))
    }

    /// Persists a fiscal state change and audits its transition, in one transaction.
    pub(crate) fn save_fiscal_state(
        &self,
        store: &mut Store,
        next: &FiscalState,
        transition: Option<&ContingencyTransition>,
        actor: Actor,
        extra_audit: Vec<AuditEvent>,
    ) -> PosResult<()> {
        let mut audit = extra_audit;
        if let Some(t) = transition {
            audit.push(transition_audit(t, actor));
        }
        let change = LocalChange {
            settings: vec![(keys::FISCAL_STATE.to_owned(), json(next)?)],
            mutations: vec![],
            audit,
            ..Default::default()
        };
        store.record_local_change(&change).map_err(storage)?;
        *lock(&self.inner.fiscal) = next.clone();
        self.inner.hub.update(|s| s.sefaz = SefazMode::from(next));
        Ok(())
    }

    /// Recomputes pending notes, the nearest deadline and its alarm for the status.
    pub fn refresh_fiscal_status(&self) -> PosResult<()> {
        let docs = lock(&self.inner.store)
            .fiscal_documents_awaiting_transmission(10_000)
            .map_err(storage)?;
        let now = Utc::now();
        let queue: Vec<crate::transmission::QueuedNote> = docs
            .iter()
            .filter(|d| d.status != tenda_domain::FiscalStatus::Rejected)
            .filter_map(|d| {
                d.deadline.map(|deadline| crate::transmission::QueuedNote {
                    access_key: d.access_key.clone(),
                    number: d.number,
                    emitted_at: d.issued_at,
                    deadline,
                    xml_bytes: d.xml.len(),
                    attempts: 0,
                    not_before: None,
                })
            })
            .collect();
        let (nearest, alarm) = crate::transmission::backlog_alarm(&queue, now);
        let pending = u32::try_from(
            docs.iter()
                .filter(|d| d.status != tenda_domain::FiscalStatus::Rejected)
                .count(),
        )
        .unwrap_or(u32::MAX);
        let rejected = u32::try_from(
            docs.iter()
                .filter(|d| d.status == tenda_domain::FiscalStatus::Rejected)
                .count(),
        )
        .unwrap_or(u32::MAX);
        let pending_sync = lock(&self.inner.store)
            .outbox_pending_count()
            .map_err(storage)?;
        self.inner.hub.update(|s| {
            s.pending_notes = pending;
            s.nearest_deadline = nearest;
            s.deadline_alarm = alarm;
            s.notes_needing_correction = rejected;
            s.pending_sync = pending_sync;
        });
        Ok(())
    }
}

pub(crate) fn transition_audit(t: &ContingencyTransition, actor: Actor) -> AuditEvent {
    AuditEvent {
        actor,
        action: "contingency.transition".into(),
        subject: format!("fiscal_state:{}->{}", t.from, t.to),
        outcome: Outcome::Succeeded,
        at: t.at,
    }
}

fn load_certificate(c: &StoredCertificate) -> PosResult<A1Certificate> {
    let der = hex_decode(&c.pfx_hex).ok_or_else(|| PosError::Storage {
        detail: "stored certificate is damaged".into(),
    })?;
    A1Certificate::from_pkcs12_der(&der, &c.password)
        .map_err(|e| PosError::invalid("certificate", e.to_string()))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}
