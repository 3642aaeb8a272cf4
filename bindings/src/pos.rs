//! The point of sale as one object: each method delegates to `tenda_pos::Pos`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tenda_domain::{Discount, Money, Quantity, SaleId};
use tenda_pos::credentials::Secret;
use tenda_pos::status::{PosStatus, StatusListener};
use tenda_pos::{
    Approval, CardForwardSummary, CardOfflineRisk, EnrollmentInfo, EnrollmentRequest,
    OfflineSaleRow, PaymentRequest, SaleDetail, PendingCardPayment, PosError, ProductView, ReprintOutcome,
    SaleOutcome, TicketView, TransmissionSummary,
};

use crate::host::{HostTransport, KeyVault, PeripheralLink};
use crate::platform::{self, SefazAccess};

type Result<T> = std::result::Result<T, PosError>;

/// One device's point of sale.
#[derive(uniffi::Object)]
pub struct Pos {
    core: tenda_pos::Pos,
    sefaz: Option<SefazAccess>,
    transmitter: Mutex<Option<Arc<tenda_fiscal::sefaz::Transmitter>>>,
    shut_down: AtomicBool,
}

/// Enrolls this device with the store's server using the owner's one-time code, creates its
/// encrypted store at `db_path` (key kept by `vault` under `key_account`) and waits for the
/// first load; `progress` hears the load's status updates.
#[uniffi::export(async_runtime = "tokio")]
pub async fn enroll(
    db_path: String,
    vault: Arc<dyn KeyVault>,
    key_account: String,
    request: EnrollmentRequest,
    sefaz: Option<SefazAccess>,
    progress: Option<Arc<dyn StatusListener>>,
) -> Result<Arc<Pos>> {
    let key = platform::database_key(vault.as_ref(), &key_account)?;
    let core = tenda_pos::Pos::enroll(db_path, &key, request, progress).await?;
    Pos::new(core, sefaz)
}

/// Opens an enrolled device's store at `db_path`.
#[uniffi::export]
pub fn open(
    db_path: String,
    vault: Arc<dyn KeyVault>,
    key_account: String,
    sefaz: Option<SefazAccess>,
) -> Result<Arc<Pos>> {
    let key = platform::database_key(vault.as_ref(), &key_account)?;
    let core = platform::in_runtime(|| tenda_pos::Pos::open(db_path, &key))?;
    Pos::new(core, sefaz)
}

impl Pos {
    fn new(core: tenda_pos::Pos, sefaz: Option<SefazAccess>) -> Result<Arc<Pos>> {
        let pos = Pos {
            core,
            sefaz,
            transmitter: Mutex::new(None),
            shut_down: AtomicBool::new(false),
        };
        pos.connect_sefaz()?;
        Ok(Arc::new(pos))
    }

    /// The core, unless it was shut down.
    fn live(&self) -> Result<&tenda_pos::Pos> {
        if self.shut_down.load(Ordering::SeqCst) {
            return Err(PosError::state("call", "this point of sale was shut down"));
        }
        Ok(&self.core)
    }

    /// Builds the SEFAZ transmitter once the certificate is there.
    fn connect_sefaz(&self) -> Result<()> {
        if let Some(access) = &self.sefaz
            && let Some(t) = platform::transmitter(&self.core, access)?
        {
            *self.transmitter.lock().unwrap_or_else(PoisonError::into_inner) = Some(t);
        }
        Ok(())
    }

    fn current_transmitter(&self) -> Result<Arc<tenda_fiscal::sefaz::Transmitter>> {
        self.transmitter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| PosError::state("transmit", "SEFAZ is not configured"))
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Pos {
    pub fn enrollment(&self) -> Result<Option<EnrollmentInfo>> {
        self.live()?.enrollment()
    }

    pub fn status(&self) -> Result<PosStatus> {
        Ok(self.live()?.status())
    }

    /// Delivers every status change to `listener` (the current status at once) until the
    /// returned handle is dropped or cancelled.
    pub fn subscribe(&self, listener: Arc<dyn StatusListener>) -> Result<Arc<Subscription>> {
        let live = Arc::new(AtomicBool::new(true));
        self.live()?.subscribe(Arc::new(GatedListener {
            listener,
            live: live.clone(),
        }));
        Ok(Arc::new(Subscription { live }))
    }

    /// Installs the store's A1 certificate (owner's approval); SEFAZ is reached from then on.
    pub fn install_certificate(
        &self,
        pfx: Vec<u8>,
        password: String,
        owner: Approval,
    ) -> Result<()> {
        self.live()?.install_certificate(&pfx, &password, &owner)?;
        self.connect_sefaz()
    }

    /// Prints receipts through `link` (an ESC/POS printer of the device's paper width).
    pub fn attach_printer(&self, link: Arc<dyn PeripheralLink>) -> Result<()> {
        platform::attach_printer(self.live()?, HostTransport(link));
        Ok(())
    }

    /// Takes card payments through the reader on `link`.
    pub fn pair_card_reader(&self, link: Arc<dyn PeripheralLink>) -> Result<()> {
        platform::pair_card_reader(self.live()?, HostTransport(link))
    }

    pub fn sign_in(&self, login: String, secret: Secret) -> Result<tenda_pos::authorize::Operator> {
        self.live()?.sign_in(&login, &secret)
    }

    pub fn sign_out(&self) -> Result<()> {
        self.live()?.sign_out();
        Ok(())
    }

    pub fn open_register(&self, float: Money, approval: Option<Approval>) -> Result<()> {
        self.live()?.open_register(float, approval.as_ref()).map(drop)
    }

    pub fn search_products(&self, text: String, limit: u32) -> Result<Vec<ProductView>> {
        self.live()?.search_products(&text, limit)
    }

    /// Adds the product with this GTIN, SKU or scale label; returns the line's index.
    pub fn scan(&self, code: String, quantity: Option<Quantity>) -> Result<u32> {
        self.live()?.scan(&code, quantity)
    }

    pub fn ticket(&self) -> Result<TicketView> {
        self.live()?.ticket()
    }

    /// Scans and returns the ticket as it now stands (one round trip per scan).
    pub fn scan_and_view(&self, code: String) -> Result<TicketView> {
        let core = self.live()?;
        core.scan(&code, None)?;
        core.ticket()
    }

    pub fn void_line(&self, line: u32, approval: Option<Approval>) -> Result<()> {
        self.live()?.void_line(line, approval.as_ref())
    }

    pub fn set_sale_discount(
        &self,
        discount: Option<Discount>,
        approval: Option<Approval>,
    ) -> Result<()> {
        self.live()?.set_sale_discount(discount, approval.as_ref())
    }

    pub fn clear_ticket(&self) -> Result<()> {
        self.live()?.clear_ticket()
    }

    pub async fn checkout(&self, payments: Vec<PaymentRequest>) -> Result<SaleOutcome> {
        self.live()?.checkout(payments).await
    }

    pub fn card_offline_risk(&self, amount: Money) -> Result<CardOfflineRisk> {
        self.live()?.card_offline_risk(amount)
    }

    pub fn accept_card_offline_risk(&self) -> Result<()> {
        self.live()?.accept_card_offline_risk()
    }

    pub fn pending_card_payments(&self) -> Result<Vec<PendingCardPayment>> {
        self.live()?.pending_card_payments()
    }

    pub async fn forward_pending_card_payments(&self) -> Result<CardForwardSummary> {
        self.live()?.forward_pending_card_payments().await
    }

    /// A manager (or a manager's approval on a seller's session) authorizes contingency
    /// emission with a justification of 15 to 256 characters.
    pub fn enter_contingency(&self, justification: String, approval: Option<Approval>) -> Result<()> {
        self.live()?
            .enter_contingency(&justification, approval.as_ref())
            .map(drop)
    }

    pub fn offline_sales(&self) -> Result<Vec<OfflineSaleRow>> {
        self.live()?.offline_sales()
    }

    /// One sale as stored: lines, payments, its note's state and whether the server has it.
    pub fn sale_detail(&self, sale_id: SaleId) -> Result<SaleDetail> {
        self.live()?.sale_detail(sale_id)
    }

    pub async fn reprint(&self, sale_id: SaleId) -> Result<ReprintOutcome> {
        self.live()?.reprint(sale_id).await
    }

    pub fn sync_now(&self) -> Result<()> {
        self.live()?.sync_now()
    }

    /// Asks for a sync round and waits until one that started after this call has finished.
    pub async fn sync_and_wait(&self, timeout_ms: u64) -> Result<()> {
        self.live()?.sync_and_wait(timeout_ms).await
    }

    /// Sends the notes waiting for SEFAZ (contingency backlog), oldest first.
    pub async fn transmit_backlog(&self) -> Result<TransmissionSummary> {
        let transmitter = self.current_transmitter()?;
        self.live()?.transmit_backlog(&transmitter).await
    }

    /// Whether the device's audit chain verifies end to end, and over how many entries.
    pub fn verify_audit(&self) -> Result<AuditCheck> {
        Ok(AuditCheck::from(self.live()?.verify_audit()?))
    }

    /// Stops everything the core runs by itself; every later call fails with `invalid_state`.
    pub async fn shutdown(&self) {
        self.shut_down.store(true, Ordering::SeqCst);
        self.core.shutdown().await;
    }
}

/// The audit chain's verification.
#[derive(uniffi::Record)]
pub struct AuditCheck {
    pub intact: bool,
    pub entries: u64,
    /// Where the chain breaks, when it does.
    pub broken_at: Option<u64>,
}

impl From<tenda_store::AuditVerification> for AuditCheck {
    fn from(v: tenda_store::AuditVerification) -> Self {
        use tenda_store::AuditVerification as V;
        match v {
            V::Intact { entries } => AuditCheck {
                intact: true,
                entries,
                broken_at: None,
            },
            V::Broken { seq, .. } => AuditCheck {
                intact: false,
                entries: seq,
                broken_at: Some(seq),
            },
        }
    }
}

/// A status subscription: delivery stops when it is dropped (or cancelled).
#[derive(uniffi::Object)]
pub struct Subscription {
    live: Arc<AtomicBool>,
}

#[uniffi::export]
impl Subscription {
    pub fn cancel(&self) {
        self.live.store(false, Ordering::SeqCst);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

struct GatedListener {
    listener: Arc<dyn StatusListener>,
    live: Arc<AtomicBool>,
}

impl StatusListener for GatedListener {
    fn on_status(&self, status: PosStatus) {
        if self.live.load(Ordering::SeqCst) {
            self.listener.on_status(status);
        }
    }
}
