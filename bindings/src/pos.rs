//! The point of sale as one object: each method delegates to `tenda_pos::Pos` in one line.

use std::sync::Arc;

use tenda_domain::{Discount, Money, Quantity, SaleId};
use tenda_pos::authorize::Operator;
use tenda_pos::credentials::Secret;
use tenda_pos::host_link::{LinkTransport, PeripheralLink};
use tenda_pos::status::{PosStatus, StatusListener};
use tenda_pos::{
    Approval, AuditVerificationView, CardForwardSummary, CardOfflineRisk, Clock, EnrollmentInfo,
    EnrollmentRequest, FiscalStateView, KeyStore, OfflineSaleRow, OpenConfig, PaymentRequest,
    PendingCardPayment, Platform, PosError, ProductView, ReprintOutcome, SaleDetail, SaleOutcome,
    SefazAccess, Subscription, TicketView, TransmissionSummary,
};

type Result<T> = std::result::Result<T, PosError>;

/// One device's point of sale.
#[derive(uniffi::Object)]
pub struct Pos(tenda_pos::Pos);

fn platform(key_store: Arc<dyn KeyStore>, clock: Option<Arc<dyn Clock>>) -> Platform {
    match clock {
        Some(clock) => Platform { key_store, clock },
        None => Platform::new(key_store),
    }
}

/// Where the store lives (`db_path`), the keystore account of its key, official SEFAZ and
/// default peripheral timings; change `sefaz` to reach another address.
#[uniffi::export]
pub fn open_config(db_path: String, key_account: String) -> OpenConfig {
    OpenConfig::new(db_path, key_account)
}

/// SEFAZ at `base_url`, trusting only `trusted_roots_der`, with the default timings.
#[uniffi::export]
pub fn sefaz_access(base_url: String, trusted_roots_der: Vec<Vec<u8>>) -> SefazAccess {
    SefazAccess::new(base_url, trusted_roots_der)
}

/// Enrolls this device with the owner's one-time code and waits for the first load, which
/// `progress` hears. The database key is created in `key_store`; `clock` defaults to the
/// device's.
#[uniffi::export]
pub async fn enroll(
    config: OpenConfig,
    key_store: Arc<dyn KeyStore>,
    clock: Option<Arc<dyn Clock>>,
    request: EnrollmentRequest,
    progress: Option<Arc<dyn StatusListener>>,
) -> Result<Arc<Pos>> {
    tenda_pos::Pos::enroll(config, platform(key_store, clock), request, progress)
        .await
        .map(|p| Arc::new(Pos(p)))
}

/// Opens an enrolled device.
#[uniffi::export]
pub fn open(
    config: OpenConfig,
    key_store: Arc<dyn KeyStore>,
    clock: Option<Arc<dyn Clock>>,
) -> Result<Arc<Pos>> {
    tenda_pos::Pos::open(config, platform(key_store, clock)).map(|p| Arc::new(Pos(p)))
}

#[uniffi::export]
impl Pos {
    pub fn enrollment(&self) -> Result<Option<EnrollmentInfo>> {
        self.0.enrollment()
    }

    pub fn status(&self) -> PosStatus {
        self.0.status()
    }

    /// Delivers every status change (the current one at once) until the subscription is
    /// dropped or cancelled.
    pub fn subscribe(&self, listener: Arc<dyn StatusListener>) -> Result<Arc<Subscription>> {
        self.0.subscribe(listener)
    }

    pub fn fiscal_state(&self) -> FiscalStateView {
        self.0.fiscal_state()
    }

    /// Installs the store's A1 certificate (owner's approval).
    pub fn install_certificate(
        &self,
        pfx: Vec<u8>,
        password: String,
        owner: Approval,
    ) -> Result<()> {
        self.0.install_certificate(pfx, password, owner)
    }

    /// Prints receipts through `link` (the host's Bluetooth link to an ESC/POS printer).
    pub fn attach_printer(&self, link: Arc<dyn PeripheralLink>) -> Result<()> {
        self.0.attach_printer(Arc::new(LinkTransport(link)))
    }

    /// Takes card payments through the reader on `link`.
    pub fn pair_card_reader(&self, link: Arc<dyn PeripheralLink>) -> Result<()> {
        self.0.pair_card_reader(Arc::new(LinkTransport(link)))
    }

    pub fn sign_in(&self, login: String, secret: Secret) -> Result<Operator> {
        self.0.sign_in(login, secret)
    }

    pub fn sign_out(&self) -> Result<()> {
        self.0.sign_out()
    }

    pub fn open_register(&self, float: Money, approval: Option<Approval>) -> Result<()> {
        self.0.open_register(float, approval).map(drop)
    }

    pub fn search_products(&self, text: String, limit: u32) -> Result<Vec<ProductView>> {
        self.0.search_products(text, limit)
    }

    /// Adds the product with this GTIN, SKU or scale label; returns the line's index.
    pub fn scan(&self, code: String, quantity: Option<Quantity>) -> Result<u32> {
        self.0.scan(code, quantity)
    }

    pub fn ticket(&self) -> Result<TicketView> {
        self.0.ticket()
    }

    /// Scans and returns the ticket as it now stands: one crossing per scan for a screen.
    pub fn scan_and_view(&self, code: String) -> Result<TicketView> {
        self.0.scan(code, None).and_then(|_| self.0.ticket())
    }

    pub fn void_line(&self, line: u32, approval: Option<Approval>) -> Result<()> {
        self.0.void_line(line, approval)
    }

    pub fn set_sale_discount(
        &self,
        discount: Option<Discount>,
        approval: Option<Approval>,
    ) -> Result<()> {
        self.0.set_sale_discount(discount, approval)
    }

    pub fn clear_ticket(&self) -> Result<()> {
        self.0.clear_ticket()
    }

    pub async fn checkout(&self, payments: Vec<PaymentRequest>) -> Result<SaleOutcome> {
        self.0.checkout(payments).await
    }

    pub fn card_offline_risk(&self, amount: Money) -> Result<CardOfflineRisk> {
        self.0.card_offline_risk(amount)
    }

    pub fn accept_card_offline_risk(&self) -> Result<()> {
        self.0.accept_card_offline_risk()
    }

    pub fn pending_card_payments(&self) -> Result<Vec<PendingCardPayment>> {
        self.0.pending_card_payments()
    }

    pub async fn forward_pending_card_payments(&self) -> Result<CardForwardSummary> {
        self.0.forward_pending_card_payments().await
    }

    /// A manager (or a manager's approval on a seller's session) authorizes contingency with a
    /// justification of 15 to 256 characters.
    pub fn enter_contingency(
        &self,
        justification: String,
        approval: Option<Approval>,
    ) -> Result<FiscalStateView> {
        self.0.enter_contingency(justification, approval)
    }

    pub fn offline_sales(&self) -> Result<Vec<OfflineSaleRow>> {
        self.0.offline_sales()
    }

    pub fn sale_detail(&self, sale_id: SaleId) -> Result<SaleDetail> {
        self.0.sale_detail(sale_id)
    }

    pub async fn reprint(&self, sale_id: SaleId) -> Result<ReprintOutcome> {
        self.0.reprint(sale_id).await
    }

    pub fn sync_now(&self) -> Result<()> {
        self.0.sync_now()
    }

    /// Asks for a sync round and waits until one that started after this call has finished.
    pub async fn sync_and_wait(&self, timeout_ms: u64) -> Result<()> {
        self.0.sync_and_wait(timeout_ms).await
    }

    /// Sends the notes waiting for SEFAZ now (`lift_pause`: do not wait out a pause after a
    /// failure).
    pub async fn transmit_backlog(&self, lift_pause: bool) -> Result<TransmissionSummary> {
        self.0.transmit_backlog(lift_pause).await
    }

    pub fn verify_audit(&self) -> Result<AuditVerificationView> {
        self.0.verify_audit()
    }

    /// Stops everything the core runs by itself; later calls fail with `shut_down`.
    pub async fn shutdown(&self) -> Result<()> {
        self.0.shutdown().await
    }
}
