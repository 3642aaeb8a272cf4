//! The point of sale as one object: each method delegates to `tenda_pos::Pos` in one line.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tenda_domain::{CustomerId, Discount, Money, Quantity, SaleId};
use tenda_pos::authorize::Operator;
use tenda_pos::credentials::Secret;
use tenda_pos::host::SefazRoute;
use tenda_pos::host_link::{LinkTransport, PeripheralLink};
use tenda_pos::register::{ClosingReport, RegisterView};
use tenda_pos::reports::{ContingencyNoteRow, OversoldRow, SalesByMethodRow};
use tenda_pos::status::{LinkState, PosStatus, StatusListener};
use tenda_pos::{
    Approval, AuditFilter, AuditReport, AuditRow, AuditVerificationView, CancellationOutcome,
    CardForwardSummary, CardOfflineRisk, CardPaymentToRecover, Clock, CodeMatch, CountedAmount,
    CustomerView, EnrollmentInfo, EnrollmentRequest, FiscalEventRecord, FiscalStateView, KeyStore,
    NoteCorrection, NoteSummary, NoteToCorrect, OfflineSaleRow, OpenConfig, PaymentRequest,
    PendingCardPayment, Platform, PosError, ProductView, ReprintOutcome, SaleDetail, SaleOutcome,
    SefazAccess, Subscription, SyncNowOutcome, TicketView, TransmissionSummary, VoidedRange,
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

    /// Who is signed in, if anyone.
    pub fn signed_in(&self) -> Option<Operator> {
        self.0.signed_in()
    }

    /// The link as the probes and the sync engine last observed it.
    pub fn link(&self) -> LinkState {
        self.0.link()
    }

    /// The host's own view of the link (a device without a server, a phone's connectivity).
    pub fn set_link(&self, link: LinkState) -> Result<()> {
        self.0.set_link(link)
    }

    /// Reaches SEFAZ by `route` from now on (settings switching address or environment).
    pub fn set_sefaz_route(&self, route: SefazRoute) -> Result<()> {
        self.0.set_sefaz_route(route)
    }

    // --- Register ---

    /// The open register with its running totals; `None` while it is closed.
    pub fn register_session(&self) -> Result<Option<RegisterView>> {
        self.0.register_session()
    }

    /// Money put into the drawer (suprimento).
    pub fn cash_in(&self, amount: Money, reason: String, approval: Option<Approval>) -> Result<()> {
        self.0.cash_in(amount, reason, approval)
    }

    /// Money taken out of the drawer (sangria).
    pub fn cash_out(
        &self,
        amount: Money,
        reason: String,
        approval: Option<Approval>,
    ) -> Result<()> {
        self.0.cash_out(amount, reason, approval)
    }

    /// Closes the register with what was counted per payment kind; the report compares it
    /// with what was expected.
    pub fn close_register(
        &self,
        counted: Vec<CountedAmount>,
        approval: Option<Approval>,
    ) -> Result<ClosingReport> {
        self.0.close_register(counted, approval)
    }

    // --- Ticket ---

    /// Looks a code up (GTIN, SKU, scale label) without adding it.
    pub fn find_by_code(&self, code: String) -> Result<Option<CodeMatch>> {
        self.0.find_by_code(code)
    }

    pub fn search_customers(&self, text: String, limit: u32) -> Result<Vec<CustomerView>> {
        self.0.search_customers(text, limit)
    }

    pub fn set_quantity(&self, line: u32, quantity: Quantity) -> Result<()> {
        self.0.set_quantity(line, quantity)
    }

    pub fn set_line_discount(
        &self,
        line: u32,
        discount: Option<Discount>,
        approval: Option<Approval>,
    ) -> Result<()> {
        self.0.set_line_discount(line, discount, approval)
    }

    /// The consumer's CPF/CNPJ on the note (`None` removes it).
    pub fn set_consumer_tax_id(&self, tax_id: Option<String>) -> Result<()> {
        self.0.set_consumer_tax_id(tax_id)
    }

    /// The customer whose account the sale may charge (`None` removes them).
    pub fn set_customer(&self, customer_id: Option<CustomerId>) -> Result<Option<CustomerView>> {
        self.0.set_customer(customer_id)
    }

    // --- Sales after the fact ---

    /// The receipt of a sale as a PNG image (a screen's preview of what the printer prints).
    pub fn receipt_png(&self, sale_id: SaleId) -> Result<Vec<u8>> {
        self.0.receipt_png(sale_id)
    }

    /// Cancels an authorized note within the window (event 110111) and voids the sale.
    pub async fn cancel_sale(
        &self,
        sale_id: SaleId,
        justification: String,
        approval: Option<Approval>,
    ) -> Result<CancellationOutcome> {
        self.0.cancel_sale(sale_id, justification, approval).await
    }

    /// Cancels the superseded authorized note `superseded_access_key`, naming this sale's note
    /// as its substitute (event 110112).
    pub async fn cancel_by_substitution(
        &self,
        sale_id: SaleId,
        superseded_access_key: String,
        justification: String,
        approval: Option<Approval>,
    ) -> Result<CancellationOutcome> {
        self.0
            .cancel_by_substitution(sale_id, superseded_access_key, justification, approval)
            .await
    }

    /// Cancels a sale the server has not received and that has no fiscal note, once the seller
    /// `confirmed` the prompt.
    pub fn cancel_unsynced_sale(
        &self,
        sale_id: SaleId,
        reason: String,
        confirmed: bool,
        approval: Option<Approval>,
    ) -> Result<()> {
        self.0
            .cancel_unsynced_sale(sale_id, reason, confirmed, approval)
    }

    /// Corrects a note SEFAZ rejected and re-signs it with the same access key.
    pub fn correct_note(
        &self,
        sale_id: SaleId,
        correction: NoteCorrection,
        approval: Option<Approval>,
    ) -> Result<NoteSummary> {
        self.0.correct_note(sale_id, correction, approval)
    }

    pub fn notes_to_correct(&self) -> Result<Vec<NoteToCorrect>> {
        self.0.notes_to_correct()
    }

    /// Numbers of this device's series reserved and never used by a sale.
    pub fn unused_fiscal_numbers(&self) -> Result<Vec<u32>> {
        self.0.unused_fiscal_numbers()
    }

    /// Voids the reserved-unused numbers with SEFAZ (inutilização), one range per request.
    pub async fn inutilize_unused_numbers(
        &self,
        justification: String,
        approval: Option<Approval>,
    ) -> Result<Vec<VoidedRange>> {
        self.0
            .inutilize_unused_numbers(justification, approval)
            .await
    }

    pub fn fiscal_events(&self) -> Result<Vec<FiscalEventRecord>> {
        self.0.fiscal_events()
    }

    pub async fn sync_sale_now(&self, sale_id: SaleId) -> Result<SyncNowOutcome> {
        self.0.sync_sale_now(sale_id).await
    }

    pub async fn sync_offline_sales_now(&self) -> Result<SyncNowOutcome> {
        self.0.sync_offline_sales_now().await
    }

    // --- Card payments ---

    /// Card payments declined when forwarded: the store must collect these amounts.
    pub fn card_payments_to_recover(&self) -> Result<Vec<CardPaymentToRecover>> {
        self.0.card_payments_to_recover()
    }

    /// A manager drops the cards charged for the current ticket; returns how many.
    pub async fn abandon_card_charges(&self, approval: Option<Approval>) -> Result<u32> {
        self.0.abandon_card_charges(approval).await
    }

    // --- Reports (`view_reports`: the owner by default, or the owner's approval) ---

    /// Sales in `[from, to)` per local day and payment kind.
    pub fn sales_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        approval: Option<Approval>,
    ) -> Result<Vec<SalesByMethodRow>> {
        self.0.sales_report(from, to, approval)
    }

    pub fn contingency_notes_report(
        &self,
        approval: Option<Approval>,
    ) -> Result<Vec<ContingencyNoteRow>> {
        self.0.contingency_notes_report(approval)
    }

    pub fn oversold_report(&self, approval: Option<Approval>) -> Result<Vec<OversoldRow>> {
        self.0.oversold_report(approval)
    }

    pub fn audit_report(
        &self,
        filter: AuditFilter,
        approval: Option<Approval>,
    ) -> Result<AuditReport> {
        self.0.audit_report(filter, approval)
    }

    /// Audit entries after sequence number `after`, at most `limit`.
    pub fn audit_entries(&self, after: u64, limit: u32) -> Result<Vec<AuditRow>> {
        self.0.audit_entries(after, limit)
    }

    // --- Sync ---

    pub fn is_syncing(&self) -> bool {
        self.0.is_syncing()
    }

    /// When the catalog was last refreshed from the server.
    pub fn catalog_refreshed_at(&self) -> Result<Option<DateTime<Utc>>> {
        self.0.catalog_refreshed_at()
    }

    /// Reloads everything from the server now, in the background; progress shows in the
    /// status's `pull`.
    pub fn reload_catalog(&self) -> Result<()> {
        self.0.reload_catalog()
    }

    /// Stops everything the core runs by itself; later calls fail with `shut_down`.
    pub async fn shutdown(&self) -> Result<()> {
        self.0.shutdown().await
    }
}
