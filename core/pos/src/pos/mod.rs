//! The `Pos` object: the one thing a seller's, manager's and owner's screens talk to. Every
//! mutation goes through the same steps: authorize (a grant bound to the action) → execute →
//! audit, the audit entry committing in the same transaction as the change (`execute.rs`).

mod cancel_ops;
pub(crate) mod card_ops;
mod checkout_op;
mod contingency_ops;
mod correction_ops;
mod execute;
mod register_ops;
mod reports_ops;
mod sales_list_ops;
mod saved_state;
mod session;
pub(crate) mod sync_ops;
mod ticket_ops;
mod transmit_ops;
pub(crate) mod workers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use chrono::{DateTime, Utc};
use tenda_devices::ReceiptPrinter;
use tenda_domain::{Actor, AuditEvent, Outcome};
use tenda_fiscal::A1Certificate;
use tenda_store::{LocalChange, Store};

use crate::authorize::Operator;
use crate::checkout::ticket::Ticket;
use crate::config::PosConfig;
use crate::contingency::{ContingencyTransition, FiscalState};
use crate::error::{PosError, PosResult};
use crate::host::{Clock, OpenConfig, Platform};
use crate::peripherals::PeripheralTransport;
use crate::register::RegisterSession;
use crate::runtime::{CoreRuntime, TaskHandle};
use crate::status::{LinkState, PosStatus, SefazMode, StatusHub, StatusListener};

pub use cancel_ops::{CancellationOutcome, FiscalEventRecord, VoidedRange};
pub use card_ops::{CardForwardSummary, CardOfflineRisk, CardPaymentToRecover, PendingCardPayment};
pub use checkout_op::{NoteSummary, SaleOutcome};
pub use contingency_ops::FiscalStateView;
pub use correction_ops::{
    ConsumerCorrection, LineFiscalCorrection, NoteCorrection, NoteLineFiscal,
};
pub use register_ops::CountedAmount;
pub use reports_ops::{AuditFilter, AuditReport, AuditRow, AuditVerificationView};
pub use sales_list_ops::{
    OfflineSaleRow, ReprintOutcome, SaleDetail, SaleLineRow, SaleNoteState, SalePaymentRow,
    SyncNowOutcome,
};
pub use session::Approval;
pub use ticket_ops::{CodeMatch, CustomerView, ProductView, TicketLineView, TicketView};
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

/// Who moves the fiscal state: a person's authorized execution, or the device itself (SEFAZ
/// answering or not, a checkout's note) with the entries it already made.
pub(crate) enum FiscalCause {
    Person(crate::authorize::Execution),
    Device {
        actor: Actor,
        audit: Vec<AuditEvent>,
    },
}

impl FiscalCause {
    pub(crate) fn device(actor: Actor) -> FiscalCause {
        FiscalCause::Device {
            actor,
            audit: vec![],
        }
    }
}

pub(crate) struct Session {
    pub operator: Operator,
    pub ticket: Ticket,
}

/// The device's changing state, with one owner: every change is made in place under this one
/// lock (never copied out, changed and written back), and a change that is also persisted is
/// written to the store while the lock is held, so the store and the screens never disagree
/// and no concurrent change is lost.
pub(crate) struct DeviceState {
    pub session: Option<Session>,
    pub register: Option<RegisterSession>,
    pub fiscal: FiscalState,
    /// The local number of the last sale recorded: the register and the fiscal state above
    /// count every sale up to it, and are saved as of it.
    pub last_sale: u64,
    /// The one record of the link (the status shows it).
    pub link: LinkState,
    /// The seller's acceptance of the offline card risk, and the ticket it was given for.
    pub card_risk: Option<(
        tenda_devices::card::MerchantRiskAcknowledgement,
        tenda_domain::Cart,
    )>,
    /// Cards already charged for the ticket being paid (a retry never charges twice).
    pub card_charged: Option<card_ops::ChargedTicket>,
}

pub(crate) struct Inner {
    /// Shared with the sync engine, which locks it only for short local steps. Lock order:
    /// `device` before `store`, never the reverse.
    pub store: Arc<Mutex<Store>>,
    /// Reader connections on the same file: reads never wait for the writer (a checkout holds
    /// it while its note is signed).
    pub readers: tenda_store::Readers,
    pub config: Mutex<PosConfig>,
    pub certificate: Mutex<Option<Arc<A1Certificate>>>,
    pub device: Mutex<DeviceState>,
    pub printer: Mutex<Option<Arc<dyn ReceiptPrinter>>>,
    pub hub: StatusHub,
    /// The running sync engine and its timers (enrolled devices only).
    pub sync: Mutex<Option<sync_ops::SyncRuntime>>,
    pub cards: card_ops::CardState,
    /// SEFAZ: the transmitter the core built, how to reach SEFAZ, one transmission at a time.
    pub sefaz: workers::SefazLink,
    /// The workers started at open (SEFAZ, deadline alarms), stopped by `shutdown`.
    pub workers: Mutex<Vec<TaskHandle>>,
    /// Set by `shutdown`: every call after it is refused.
    pub closed: AtomicBool,
    pub clock: Arc<dyn Clock>,
    pub peripherals: crate::peripherals::PeripheralTimings,
    /// Listeners subscribed for the life of this `Pos` (the one given to `enroll`).
    pub kept: Mutex<Vec<Subscription>>,
    /// Last: dropped after everything that may hold tasks on it.
    pub runtime: CoreRuntime,
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
    PosError::from(e)
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> PosResult<String> {
    serde_json::to_string(value).map_err(|e| PosError::Internal {
        detail: e.to_string(),
    })
}

impl Pos {
    /// Opens the device's encrypted store (its key from `platform`'s keystore) with the
    /// configuration saved at set-up or enrollment, and starts the device's workers.
    pub fn open(config: OpenConfig, platform: Platform) -> PosResult<Pos> {
        let runtime = CoreRuntime::new()?;
        let key =
            crate::host::load_or_create_key(platform.key_store.as_ref(), &config.key_account)?;
        let store = Store::open(&config.db_path, &key).map_err(storage)?;
        Pos::from_store(store, runtime, &config, &platform)
    }

    /// Sets up a new device store with `settings` and opens it: for tests and benches, which run
    /// a device without a server (feature `test-inspection`). A real device is set up by
    /// [`Pos::enroll`], which takes its configuration from the store's settings.
    #[cfg(any(test, feature = "test-inspection"))]
    pub fn create(config: OpenConfig, platform: Platform, settings: PosConfig) -> PosResult<Pos> {
        let runtime = CoreRuntime::new()?;
        let key =
            crate::host::load_or_create_key(platform.key_store.as_ref(), &config.key_account)?;
        let mut store = Store::open(&config.db_path, &key).map_err(storage)?;
        store
            .set_setting(keys::CONFIG, &settings)
            .map_err(storage)?;
        Pos::from_store(store, runtime, &config, &platform)
    }

    fn from_store(
        mut store: Store,
        runtime: CoreRuntime,
        open: &OpenConfig,
        platform: &Platform,
    ) -> PosResult<Pos> {
        let config: PosConfig = store
            .setting(keys::CONFIG)
            .map_err(storage)?
            .ok_or_else(|| {
                PosError::state("open", "this device is not set up yet (enroll it first)")
            })?;
        let saved_state::CurrentState {
            register,
            fiscal,
            last_sale,
        } = saved_state::load(&mut store, config.device_id)?;
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
                device: Mutex::new(DeviceState {
                    session: None,
                    register,
                    fiscal: fiscal.clone(),
                    last_sale,
                    link: LinkState::Offline,
                    card_risk: None,
                    card_charged: None,
                }),
                printer: Mutex::new(None),
                hub: StatusHub::default(),
                sync: Mutex::new(None),
                cards: Default::default(),
                sefaz: workers::SefazLink::new(open.sefaz.clone()),
                workers: Mutex::new(Vec::new()),
                closed: AtomicBool::new(false),
                clock: platform.clock.clone(),
                peripherals: open.peripherals.clone(),
                kept: Mutex::new(Vec::new()),
                runtime,
            }),
        };
        pos.inner.hub.update(|s| {
            s.sefaz = SefazMode::from(&fiscal);
            s.pending_sync = pending_sync;
        });
        pos.refresh_fiscal_status()?;
        pos.resume_sync()?;
        pos.start_workers();
        Ok(pos)
    }

    /// The device's state, locked (see [`DeviceState`]).
    pub(crate) fn device(&self) -> MutexGuard<'_, DeviceState> {
        lock(&self.inner.device)
    }

    /// Refuses every call once `shutdown` has run.
    pub(crate) fn alive(&self) -> PosResult<()> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(PosError::ShutDown);
        }
        Ok(())
    }

    /// Runs `work` on the core's own runtime, whatever thread or executor awaits it.
    pub(crate) async fn on_core<T, Fut>(&self, work: impl FnOnce(Pos) -> Fut) -> PosResult<T>
    where
        Fut: std::future::Future<Output = PosResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.alive()?;
        let fut = work(self.clone());
        self.inner.runtime.run(fut).await
    }

    /// The time as the platform's clock says.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        crate::host::clock_now(self.inner.clock.as_ref())
    }

    /// The device's configuration as last saved (from the store's settings on an enrolled
    /// device), for tests that check what enrollment or a refresh set (feature
    /// `test-inspection`; the faces see its parts through views such as [`Pos::fiscal_state`]).
    #[cfg(any(test, feature = "test-inspection"))]
    pub fn config(&self) -> PosConfig {
        lock(&self.inner.config).clone()
    }

    /// Installs the store's A1 certificate (kept inside the encrypted database). Owner only.
    pub fn install_certificate(
        &self,
        pfx: Vec<u8>,
        password: String,
        owner: Approval,
    ) -> PosResult<()> {
        self.alive()?;
        let cert = A1Certificate::from_pkcs12_der(&pfx, &password)
            .map_err(|e| PosError::invalid("certificate", e.to_string()))?;
        let emitter_cnpj = lock(&self.inner.config).emitter.cnpj.clone();
        cert.check_cnpj(&emitter_cnpj)
            .map_err(|e| PosError::invalid("certificate", e.to_string()))?;
        let auth = self.authorize_with(tenda_domain::Action::ManageSettings, Some(&owner))?;
        let stored = StoredCertificate {
            pfx_hex: hex_encode(&pfx),
            password,
        };
        let change = LocalChange {
            settings: vec![(keys::CERTIFICATE.to_owned(), json(&stored)?)],
            ..Default::default()
        };
        let execution = auth.execution(
            tenda_domain::Action::ManageSettings,
            "certificate:a1",
            self.now(),
        );
        self.execute(execution, change, execute::record)?;
        *lock(&self.inner.certificate) = Some(Arc::new(cert));
        // The SEFAZ client presents the certificate: build it afresh.
        self.inner.sefaz.reset();
        Ok(())
    }

    /// Prints receipts through the printer on `transport` (ESC/POS, the configured paper
    /// profile and printer settings) from now on.
    pub fn attach_printer(&self, transport: Arc<dyn PeripheralTransport>) -> PosResult<()> {
        self.alive()?;
        let profile = lock(&self.inner.config).printer_profile.clone();
        let printer =
            tenda_devices::EscPosPrinter::new(transport, profile, self.inner.peripherals.printer());
        *lock(&self.inner.printer) = Some(Arc::new(printer));
        self.inner
            .hub
            .update(|s| s.printer = crate::status::PeripheralState::Ready);
        Ok(())
    }

    /// The status as last observed (still readable after `shutdown`).
    pub fn status(&self) -> PosStatus {
        self.inner.hub.current()
    }

    /// `listener` hears the current status at once and every change after it, until the
    /// returned subscription is dropped.
    pub fn subscribe(&self, listener: Arc<dyn StatusListener>) -> PosResult<Arc<Subscription>> {
        self.alive()?;
        Ok(Arc::new(self.subscribe_inner(listener)))
    }

    pub(crate) fn subscribe_inner(&self, listener: Arc<dyn StatusListener>) -> Subscription {
        let id = self.inner.hub.subscribe(listener);
        Subscription {
            inner: Arc::downgrade(&self.inner),
            id,
        }
    }

    /// The link as observed by the probes and the sync engine (a device without a server: as
    /// the host observes it).
    pub fn set_link(&self, link: LinkState) -> PosResult<()> {
        self.alive()?;
        self.link_changed(link);
        Ok(())
    }

    pub(crate) fn link_changed(&self, link: LinkState) {
        let was = std::mem::replace(&mut self.device().link, link);
        self.inner.hub.update(|s| s.link = link);
        if was == LinkState::Offline && link == LinkState::Online {
            self.forward_cards_in_background();
        }
    }

    pub fn link(&self) -> LinkState {
        self.device().link
    }

    /// Verifies the whole audit chain of this device.
    pub fn verify_audit(&self) -> PosResult<AuditVerificationView> {
        self.alive()?;
        let v = self.reader()?.verify_audit_chain().map_err(storage)?;
        Ok(AuditVerificationView::from(v))
    }

    /// Audit entries after sequence `after`, oldest first.
    pub fn audit_entries(&self, after: u64, limit: u32) -> PosResult<Vec<AuditRow>> {
        self.alive()?;
        Ok(self
            .reader()?
            .audit_entries(after, limit)
            .map_err(storage)?
            .iter()
            .map(AuditRow::from)
            .collect())
    }

    /// A reader connection, for reads that must not wait for a write in progress.
    pub(crate) fn reader(&self) -> PosResult<tenda_store::Reader> {
        self.inner.readers.get().map_err(storage)
    }

    /// Direct access to the store, for tests that check what was written (feature
    /// `test-inspection`; never part of the bound API).
    #[cfg(any(test, feature = "test-inspection"))]
    pub fn inspect_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut lock(&self.inner.store))
    }

    /// Persists a fiscal state change and audits its transition, in one transaction: a person's
    /// execution (a manager entering contingency) names the transition in its own entry (one
    /// action, one entry); the device's own moves get a transition entry of their own.
    pub(crate) fn save_fiscal_state(
        &self,
        state: &mut DeviceState,
        store: &mut Store,
        next: &FiscalState,
        transition: Option<&ContingencyTransition>,
        cause: FiscalCause,
    ) -> PosResult<()> {
        let change = LocalChange {
            settings: vec![saved_state::fiscal_setting(next, state.last_sale)?],
            ..Default::default()
        };
        match cause {
            FiscalCause::Person(execution) => {
                let execution = match transition {
                    Some(t) => execution.noting(&format!("transition={}->{}", t.from, t.to)),
                    None => execution,
                };
                execute::execute_in(store, execution, change, execute::record)?;
            }
            FiscalCause::Device { actor, mut audit } => {
                if let Some(t) = transition {
                    audit.push(transition_audit(t, actor));
                }
                let change = LocalChange { audit, ..change };
                execute::record(store, &change).map_err(storage)?;
            }
        }
        state.fiscal = next.clone();
        self.inner.hub.update(|s| s.sefaz = SefazMode::from(next));
        Ok(())
    }

    /// Recomputes pending notes, the nearest deadline and its alarm for the status.
    pub(crate) fn refresh_fiscal_status(&self) -> PosResult<()> {
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

/// A device for the crate's own tests: a fresh store in `dir`, no SEFAZ.
#[cfg(test)]
pub(crate) fn test_pos(dir: &std::path::Path, config: PosConfig) -> Pos {
    let mut open = OpenConfig::new(dir.join("d.db").display().to_string(), "test".into());
    open.sefaz = crate::host::SefazRoute::NotConfigured;
    Pos::create(
        open,
        Platform::new(Arc::new(crate::host::MemoryKeyStore::new())),
        config,
    )
    .expect("pos")
}

/// A status listener's registration: dropping it (or calling `cancel`) stops delivery.
#[cfg_attr(feature = "uniffi", derive(uniffi::Object))]
pub struct Subscription {
    inner: Weak<Inner>,
    id: u64,
}

#[cfg_attr(feature = "uniffi", uniffi::export)]
impl Subscription {
    /// Stops delivery now (the same as dropping the subscription).
    pub fn cancel(&self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.hub.unsubscribe(self.id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}
