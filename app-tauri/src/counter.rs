//! The counter's commands: each one delegates to one `Pos` call (and, where the screen needs
//! it, returns the ticket as it now stands).

use base64::Engine;
use tauri::State;
use tenda_domain::{CustomerId, Discount, Money, Quantity, SaleId};
use tenda_pos::authorize::Operator;
use tenda_pos::credentials::Secret;
use tenda_pos::register::{ClosingReport, RegisterView};
use tenda_pos::status::PosStatus;
use tenda_pos::{
    CancellationOutcome, CardOfflineRisk, ConsumerCorrection, CustomerView, LineFiscalCorrection,
    NoteCorrection, NoteSummary, NoteToCorrect, OfflineSaleRow, PaymentRequest, PosError,
    ProductView, ReprintOutcome, SaleDetail, SaleOutcome, SyncNowOutcome, TicketView,
    TransmissionSummary, VoidedRange,
};

use crate::AppState;
use crate::wire::{
    AppInfo, ApprovalInput, BluetoothDevice, CountedAmount, OwnerInput, QuitCheck, RegisterReports,
    UiError, UiResult, approval,
};

type S<'a> = State<'a, AppState>;

/// Runs a core call on a blocking thread: Argon2, RSA signing and SQLCipher work must not hold
/// an async worker (until the core does this itself).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PosError> + Send + 'static,
) -> UiResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| UiError::new("internal", e))?
        .map_err(UiError::from)
}

fn sale_id(id: &str) -> UiResult<SaleId> {
    id.parse()
        .map_err(|_| UiError::new("invalid_input", "malformed sale id").with("field", "sale_id"))
}

#[tauri::command]
pub async fn app_info(state: S<'_>) -> UiResult<AppInfo> {
    Ok(state.store().await?.info())
}

#[tauri::command]
pub async fn status(state: S<'_>) -> UiResult<PosStatus> {
    Ok(state.store().await?.pos.status())
}

#[tauri::command]
pub async fn signed_in(state: S<'_>) -> UiResult<Option<Operator>> {
    Ok(state.store().await?.pos.signed_in())
}

#[tauri::command]
pub async fn sign_in(state: S<'_>, login: String, pin: String) -> UiResult<Operator> {
    let pos = state.store().await?.pos.clone();
    blocking(move || pos.sign_in(login, Secret::Pin(pin))).await
}

/// Refused while the ticket has lines: the seller finishes or abandons the sale first.
#[tauri::command]
pub async fn sign_out(state: S<'_>) -> UiResult<()> {
    let pos = state.store().await?.pos.clone();
    if !pos.ticket()?.lines.is_empty() {
        return Err(UiError::new("ticket_open", "a ticket is open"));
    }
    pos.sign_out()?;
    Ok(())
}

#[tauri::command]
pub async fn register_session(state: S<'_>) -> UiResult<Option<RegisterView>> {
    Ok(state.store().await?.pos.register_session()?)
}

#[tauri::command]
pub async fn open_register(
    state: S<'_>,
    float: Money,
    manager: Option<ApprovalInput>,
) -> UiResult<RegisterView> {
    let (pos, manager) = (state.store().await?.pos.clone(), approval(&manager));
    blocking(move || pos.open_register(float, manager)).await
}

#[tauri::command]
pub async fn close_register(
    state: S<'_>,
    counted: Vec<CountedAmount>,
    manager: Option<ApprovalInput>,
) -> UiResult<ClosingReport> {
    let counted: Vec<_> = counted
        .iter()
        .map(|c| tenda_pos::CountedAmount {
            kind: c.kind,
            amount: c.amount,
        })
        .collect();
    let (pos, manager) = (state.store().await?.pos.clone(), approval(&manager));
    blocking(move || pos.close_register(counted, manager)).await
}

#[tauri::command]
pub async fn ticket(state: S<'_>) -> UiResult<TicketView> {
    Ok(state.store().await?.pos.ticket()?)
}

#[tauri::command]
pub async fn scan(state: S<'_>, code: String, quantity: Option<i64>) -> UiResult<TicketView> {
    let pos = state.store().await?.pos.clone();
    pos.scan(code, quantity.map(Quantity::from_thousandths))?;
    Ok(pos.ticket()?)
}

#[tauri::command]
pub async fn search_products(state: S<'_>, text: String, limit: u32) -> UiResult<Vec<ProductView>> {
    Ok(state.store().await?.pos.search_products(text, limit)?)
}

#[tauri::command]
pub async fn set_quantity(state: S<'_>, line: u32, quantity: i64) -> UiResult<TicketView> {
    let pos = state.store().await?.pos.clone();
    pos.set_quantity(line, Quantity::from_thousandths(quantity))?;
    Ok(pos.ticket()?)
}

#[tauri::command]
pub async fn void_line(
    state: S<'_>,
    line: u32,
    manager: Option<ApprovalInput>,
) -> UiResult<TicketView> {
    let (pos, manager) = (state.store().await?.pos.clone(), approval(&manager));
    blocking(move || pos.void_line(line, manager).and_then(|()| pos.ticket())).await
}

#[tauri::command]
pub async fn set_line_discount(
    state: S<'_>,
    line: u32,
    discount: Option<Discount>,
    manager: Option<ApprovalInput>,
) -> UiResult<TicketView> {
    let (pos, manager) = (state.store().await?.pos.clone(), approval(&manager));
    blocking(move || {
        pos.set_line_discount(line, discount, manager)
            .and_then(|()| pos.ticket())
    })
    .await
}

#[tauri::command]
pub async fn set_sale_discount(
    state: S<'_>,
    discount: Option<Discount>,
    manager: Option<ApprovalInput>,
) -> UiResult<TicketView> {
    let (pos, manager) = (state.store().await?.pos.clone(), approval(&manager));
    blocking(move || {
        pos.set_sale_discount(discount, manager)
            .and_then(|()| pos.ticket())
    })
    .await
}

#[tauri::command]
pub async fn set_consumer_tax_id(state: S<'_>, tax_id: Option<String>) -> UiResult<TicketView> {
    let pos = state.store().await?.pos.clone();
    pos.set_consumer_tax_id(tax_id)?;
    Ok(pos.ticket()?)
}

#[tauri::command]
pub async fn clear_ticket(state: S<'_>) -> UiResult<TicketView> {
    let pos = state.store().await?.pos.clone();
    pos.clear_ticket()?;
    Ok(pos.ticket()?)
}

#[tauri::command]
pub async fn card_offline_risk(state: S<'_>, amount: Money) -> UiResult<CardOfflineRisk> {
    Ok(state.store().await?.pos.card_offline_risk(amount)?)
}

#[tauri::command]
pub async fn accept_card_offline_risk(state: S<'_>) -> UiResult<()> {
    Ok(state.store().await?.pos.accept_card_offline_risk()?)
}

#[tauri::command]
pub async fn checkout(state: S<'_>, payments: Vec<PaymentRequest>) -> UiResult<SaleOutcome> {
    let store = state.store().await?;
    let pos = store.pos.clone();
    let outcome = blocking(move || tauri::async_runtime::block_on(pos.checkout(payments))).await?;
    *store.last_receipt.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome.sale_id);
    Ok(outcome)
}

/// The receipt of the sale last printed (sale or reprint), as the core renders it for the
/// printer, as a PNG data URL.
#[tauri::command]
pub async fn last_receipt_png(state: S<'_>) -> UiResult<Option<String>> {
    let store = state.store().await?;
    let Some(sale) = *store.last_receipt.lock().unwrap_or_else(|e| e.into_inner()) else {
        return Ok(None);
    };
    let pos = store.pos.clone();
    let png = blocking(move || pos.receipt_png(sale)).await?;
    Ok(Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )))
}

#[tauri::command]
pub async fn enter_contingency(
    state: S<'_>,
    justification: String,
    manager: ApprovalInput,
) -> UiResult<()> {
    let pos = state.store().await?.pos.clone();
    blocking(move || {
        pos.enter_contingency(justification, Some(manager.approval()))
            .map(|_| ())
    })
    .await
}

#[tauri::command]
pub async fn offline_sales(state: S<'_>) -> UiResult<Vec<OfflineSaleRow>> {
    Ok(state.store().await?.pos.offline_sales()?)
}

#[tauri::command]
pub async fn sale_detail(state: S<'_>, sale: String) -> UiResult<SaleDetail> {
    Ok(state.store().await?.pos.sale_detail(sale_id(&sale)?)?)
}

#[tauri::command]
pub async fn reprint(state: S<'_>, sale: String) -> UiResult<ReprintOutcome> {
    let (store, sale) = (state.store().await?, sale_id(&sale)?);
    let pos = store.pos.clone();
    let outcome = blocking(move || tauri::async_runtime::block_on(pos.reprint(sale))).await?;
    *store.last_receipt.lock().unwrap_or_else(|e| e.into_inner()) = Some(sale);
    Ok(outcome)
}

#[tauri::command]
pub async fn cancel_unsynced_sale(
    state: S<'_>,
    sale: String,
    reason: String,
    manager: Option<ApprovalInput>,
) -> UiResult<()> {
    let (pos, sale, manager) = (
        state.store().await?.pos.clone(),
        sale_id(&sale)?,
        approval(&manager),
    );
    blocking(move || {
        pos.cancel_unsynced_sale(sale, reason, true, manager)
            .map(|_| ())
    })
    .await
}

/// Notes SEFAZ rejected, each with its code and reason, waiting for a manager.
#[tauri::command]
pub async fn notes_to_correct(state: S<'_>) -> UiResult<Vec<NoteToCorrect>> {
    Ok(state.store().await?.pos.notes_to_correct()?)
}

/// Re-signs a rejected note with lines' fiscal data corrected and the consumer's CPF/CNPJ kept,
/// removed or replaced; `resend_notes` then sends it.
#[tauri::command]
pub async fn correct_note(
    state: S<'_>,
    sale: String,
    lines: Vec<LineFiscalCorrection>,
    consumer: ConsumerCorrection,
    manager: Option<ApprovalInput>,
) -> UiResult<NoteSummary> {
    let (pos, sale, manager) = (
        state.store().await?.pos.clone(),
        sale_id(&sale)?,
        approval(&manager),
    );
    let correction = NoteCorrection { lines, consumer };
    blocking(move || pos.correct_note(sale, correction, manager)).await
}

/// Sends every note waiting for SEFAZ now, without waiting out a pause after a failure.
#[tauri::command]
pub async fn resend_notes(state: S<'_>) -> UiResult<TransmissionSummary> {
    let pos = state.store().await?.pos.clone();
    blocking(move || tauri::async_runtime::block_on(pos.transmit_backlog(true))).await
}

/// Cancels an authorized note with SEFAZ (event 110111), with a manager's approval.
#[tauri::command]
pub async fn cancel_note(
    state: S<'_>,
    sale: String,
    justification: String,
    manager: Option<ApprovalInput>,
) -> UiResult<CancellationOutcome> {
    let (pos, sale, manager) = (
        state.store().await?.pos.clone(),
        sale_id(&sale)?,
        approval(&manager),
    );
    blocking(move || tauri::async_runtime::block_on(pos.cancel_sale(sale, justification, manager)))
        .await
}

/// Cancels another authorized note that this sale's authorized note replaces (event 110112),
/// with a manager's approval; SEFAZ is consulted first.
#[tauri::command]
pub async fn cancel_by_substitution(
    state: S<'_>,
    sale: String,
    superseded_key: String,
    justification: String,
    manager: Option<ApprovalInput>,
) -> UiResult<CancellationOutcome> {
    let (pos, sale, manager) = (
        state.store().await?.pos.clone(),
        sale_id(&sale)?,
        approval(&manager),
    );
    blocking(move || {
        tauri::async_runtime::block_on(pos.cancel_by_substitution(
            sale,
            superseded_key,
            justification,
            manager,
        ))
    })
    .await
}

/// Numbers of this register's series that were reserved and never used.
#[tauri::command]
pub async fn unused_fiscal_numbers(state: S<'_>) -> UiResult<Vec<u32>> {
    Ok(state.store().await?.pos.unused_fiscal_numbers()?)
}

/// Voids the unused numbers with SEFAZ (inutilização), one request per contiguous range.
#[tauri::command]
pub async fn void_unused_numbers(
    state: S<'_>,
    justification: String,
    manager: Option<ApprovalInput>,
) -> UiResult<Vec<VoidedRange>> {
    let (pos, manager) = (state.store().await?.pos.clone(), approval(&manager));
    blocking(move || {
        tauri::async_runtime::block_on(pos.inutilize_unused_numbers(justification, manager))
    })
    .await
}

#[tauri::command]
pub async fn sync_now(state: S<'_>) -> UiResult<SyncNowOutcome> {
    let pos = state.store().await?.pos.clone();
    blocking(move || tauri::async_runtime::block_on(pos.sync_offline_sales_now())).await
}

/// Demo only: cut or restore the store's internet (server and SEFAZ both).
#[tauri::command]
pub async fn set_store_link(state: S<'_>, up: bool) -> UiResult<bool> {
    let store = state.store().await?;
    let demo = store
        .demo
        .as_ref()
        .ok_or_else(|| UiError::new("not_demo", "only the demo store has a link switch"))?;
    demo.set_link(up);
    Ok(demo.link_up())
}

/// Printers and card readers in range. The demo lists its simulated devices; without a demo
/// this machine's Bluetooth is asked, and its absence is an error the UI names.
#[tauri::command]
pub async fn bluetooth_scan(state: S<'_>) -> UiResult<Vec<BluetoothDevice>> {
    let store = state.store().await?;
    match &store.demo {
        Some(demo) => Ok(demo.bluetooth_devices()),
        None => Err(UiError::new(
            "bluetooth_unavailable",
            "this computer has no Bluetooth adapter the app can use",
        )),
    }
}

#[tauri::command]
pub async fn quit_check(state: S<'_>) -> UiResult<QuitCheck> {
    let status = state.store().await?.pos.status();
    Ok(QuitCheck {
        unsynced_sales: u32::try_from(status.pending_sync).unwrap_or(u32::MAX),
        pending_notes: status.pending_notes,
    })
}

/// The register's own reports, for the owner (their password approves them).
#[tauri::command]
pub async fn register_reports(state: S<'_>, owner: OwnerInput) -> UiResult<RegisterReports> {
    let pos = state.store().await?.pos.clone();
    let approval = owner.approval();
    let now = chrono::Utc::now();
    blocking(move || {
        Ok(RegisterReports {
            sales_by_method: pos.sales_report(
                now - chrono::Duration::days(31),
                now + chrono::Duration::days(1),
                Some(approval.clone()),
            )?,
            contingency_notes: pos.contingency_notes_report(Some(approval.clone()))?,
            audit: pos.audit_report(
                tenda_pos::AuditFilter {
                    limit: 200,
                    ..Default::default()
                },
                Some(approval.clone()),
            )?,
        })
    })
    .await
}

/// Customers whose name contains the text, with their last-known balance.
#[tauri::command]
pub async fn search_customers(state: S<'_>, text: String) -> UiResult<Vec<CustomerView>> {
    Ok(state.store().await?.pos.search_customers(text, 20)?)
}

/// Puts the customer on the ticket (or takes them off); their account may then pay.
#[tauri::command]
pub async fn set_customer(
    state: S<'_>,
    customer: Option<String>,
) -> UiResult<Option<CustomerView>> {
    let id = customer
        .map(|c| c.parse::<CustomerId>())
        .transpose()
        .map_err(|_| {
            UiError::new("invalid_input", "malformed customer id").with("field", "customer")
        })?;
    Ok(state.store().await?.pos.set_customer(id)?)
}
