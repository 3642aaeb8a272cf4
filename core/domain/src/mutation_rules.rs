//! What a mutation must satisfy wherever it is read: the device checks it before writing it to
//! its outbox, the server before applying it. One set of rules, so a mutation the device could
//! not have made never lands on the server.
//!
//! Every amount and quantity is bounded ([`MAX_AMOUNT`], [`MAX_QUANTITY`]) so that no sum of a
//! push's worth of them can overflow a 64-bit ledger, and every text follows its [`TextKind`].

use crate::fiscal::{FiscalDocumentRef, check_access_key};
use crate::money::Money;
use crate::outbox::{CardForwardOutcome, Mutation};
use crate::payment::PaymentMethod;
use crate::quantity::Quantity;
use crate::sale::{Sale, SaleError};
use crate::stock::{BalanceReason, StockReason};
use crate::text::{TextError, TextKind};

/// Largest single amount of money anywhere (a price, a payment, a delta, a limit): R$ 100
/// million, in centavos.
pub const MAX_AMOUNT: i64 = 10_000_000_000;
/// Largest single quantity (a line, a stock delta): ten million units, in thousandths.
pub const MAX_QUANTITY: i64 = 10_000_000_000;
/// Largest running sum a ledger (a stock level, a customer balance) may reach either way. Far
/// above any real store and far below `i64::MAX`: a whole push of bounded deltas added to a level
/// inside this bound cannot overflow.
pub const MAX_LEDGER: i64 = 1_000_000_000_000_000;
/// Most lines one sale may carry.
pub const MAX_SALE_LINES: usize = 1_000;
/// Most payments one sale may carry.
pub const MAX_PAYMENTS: usize = 50;

/// A mutation that breaks a rule: which field (a path inside the payload, e.g.
/// `.sale.lines[2].quantity`), a stable code and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct MutationError {
    pub field: String,
    pub code: &'static str,
    pub reason: String,
}

fn err(field: impl Into<String>, code: &'static str, reason: impl Into<String>) -> MutationError {
    MutationError {
        field: field.into(),
        code,
        reason: reason.into(),
    }
}

fn text(field: impl Into<String>, kind: TextKind, value: &str) -> Result<(), MutationError> {
    kind.check(value)
        .map_err(|e: TextError| err(field, e.code(), e.to_string()))
}

fn text_opt(
    field: impl Into<String>,
    kind: TextKind,
    value: Option<&str>,
) -> Result<(), MutationError> {
    value.map_or(Ok(()), |v| text(field, kind, v))
}

/// An amount within ±[`MAX_AMOUNT`].
pub fn check_amount(field: impl Into<String>, m: Money) -> Result<(), MutationError> {
    if m.centavos().unsigned_abs() > MAX_AMOUNT.unsigned_abs() {
        return Err(err(
            field,
            "amount_out_of_range",
            format!("amounts are bounded by ±{MAX_AMOUNT} centavos"),
        ));
    }
    Ok(())
}

/// A quantity within ±[`MAX_QUANTITY`].
pub fn check_quantity(field: impl Into<String>, q: Quantity) -> Result<(), MutationError> {
    if q.thousandths().unsigned_abs() > MAX_QUANTITY.unsigned_abs() {
        return Err(err(
            field,
            "quantity_out_of_range",
            format!("quantities are bounded by ±{MAX_QUANTITY} thousandths"),
        ));
    }
    Ok(())
}

/// A ledger's running sum after a change, checked: `None` (overflow) or beyond ±[`MAX_LEDGER`]
/// is refused.
pub fn check_ledger(
    field: impl Into<String>,
    before: i64,
    delta: i64,
) -> Result<i64, MutationError> {
    match before.checked_add(delta) {
        Some(after) if after.unsigned_abs() <= MAX_LEDGER.unsigned_abs() => Ok(after),
        _ => Err(err(
            field,
            "ledger_out_of_range",
            format!("the running sum would leave ±{MAX_LEDGER}"),
        )),
    }
}

fn hex(field: &str, value: &str, max_len: usize, exact: bool) -> Result<(), MutationError> {
    let ok = value.len() <= max_len
        && (!exact || value.len() == max_len)
        && value.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(err(
            field,
            "not_hex",
            format!("must be {max_len} hexadecimal digits"),
        ));
    }
    Ok(())
}

/// Checks a fiscal document reference: model 65 (NFC-e) or 55, series 0–999, number
/// 1–999,999,999, and an access key that is what it claims (layout and check digit) and names
/// the same model, series and number.
pub fn check_fiscal_ref(field: &str, f: &FiscalDocumentRef) -> Result<(), MutationError> {
    check_fiscal_numbering(field, f.model, f.series, f.number, f.number)?;
    check_access_key(&f.access_key).map_err(|e| {
        err(
            format!("{field}.access_key"),
            "bad_access_key",
            e.to_string(),
        )
    })?;
    let k = f.access_key.as_bytes();
    let num = |r: std::ops::Range<usize>| -> u64 {
        k[r].iter()
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'))
    };
    if num(20..22) != u64::from(f.model)
        || num(22..25) != u64::from(f.series)
        || num(25..34) != u64::from(f.number)
    {
        return Err(err(
            format!("{field}.access_key"),
            "bad_access_key",
            "the access key names another model, series or number",
        ));
    }
    Ok(())
}

fn check_fiscal_numbering(
    field: &str,
    model: u8,
    series: u16,
    first: u32,
    last: u32,
) -> Result<(), MutationError> {
    if model != 65 && model != 55 {
        return Err(err(
            format!("{field}.model"),
            "bad_fiscal_model",
            "fiscal model is 65 (NFC-e) or 55 (NF-e)",
        ));
    }
    if series > 999 {
        return Err(err(
            format!("{field}.series"),
            "bad_fiscal_series",
            "series run from 0 to 999",
        ));
    }
    if first == 0 || last > 999_999_999 || first > last {
        return Err(err(
            field,
            "bad_fiscal_number",
            "numbers run from 1 to 999,999,999, first ≤ last",
        ));
    }
    Ok(())
}

fn sale_error(e: SaleError) -> MutationError {
    let code = match &e {
        SaleError::Cart(_) => "sale_invalid_line",
        SaleError::Payment { .. } => "sale_invalid_payment",
        SaleError::AccountNotSaleCustomer { .. } => "sale_account_not_customer",
        SaleError::Underpaid { .. } | SaleError::Overpaid { .. } => "sale_not_settled",
        _ => "sale_inconsistent",
    };
    let field = match &e {
        SaleError::Cart(_) => ".sale.lines".to_owned(),
        SaleError::Payment { index, .. } | SaleError::AccountNotSaleCustomer { index } => {
            format!(".sale.payments[{index}]")
        }
        SaleError::Inconsistent(what) if what.starts_with("line") => ".sale.lines".to_owned(),
        SaleError::Inconsistent(what) if what.starts_with("payments") => {
            ".sale.payments".to_owned()
        }
        SaleError::Inconsistent(_) => ".sale.total".to_owned(),
        _ => ".sale".to_owned(),
    };
    err(field, code, e.to_string())
}

fn check_sale(s: &Sale) -> Result<(), MutationError> {
    if s.lines.len() > MAX_SALE_LINES {
        return Err(err(
            ".sale.lines",
            "too_many_lines",
            format!("a sale holds at most {MAX_SALE_LINES} lines"),
        ));
    }
    if s.payments.len() > MAX_PAYMENTS {
        return Err(err(
            ".sale.payments",
            "too_many_payments",
            format!("a sale holds at most {MAX_PAYMENTS} payments"),
        ));
    }
    // Bounds first: the arithmetic below then cannot overflow.
    for (i, l) in s.lines.iter().enumerate() {
        let f = |name: &str| format!(".sale.lines[{i}].{name}");
        check_quantity(f("quantity"), l.quantity)?;
        for (name, m) in [
            ("unit_price", l.unit_price),
            ("gross", l.gross),
            ("discount", l.discount),
            ("total", l.total),
        ] {
            check_amount(f(name), m)?;
        }
        if l.unit_price.is_negative() {
            return Err(err(
                f("unit_price"),
                "negative_price",
                "a price must not be negative",
            ));
        }
        text(f("name"), TextKind::Name, &l.name)?;
        text(f("sku"), TextKind::Sku, &l.sku)?;
        l.fiscal.validate().map_err(|e| {
            err(
                f(&format!("fiscal.{}", e.field)),
                "bad_fiscal_data",
                e.reason,
            )
        })?;
    }
    for (name, m) in [
        ("gross", s.gross),
        ("discount", s.discount),
        ("total", s.total),
        ("change", s.change),
    ] {
        check_amount(format!(".sale.{name}"), m)?;
    }
    for (i, p) in s.payments.iter().enumerate() {
        let f = |name: &str| format!(".sale.payments[{i}].{name}");
        check_amount(f("amount"), p.amount)?;
        match &p.method {
            PaymentMethod::Cash { tendered, change } => {
                check_amount(f("tendered"), *tendered)?;
                check_amount(f("change"), *change)?;
            }
            PaymentMethod::Card {
                brand,
                authorization,
                nsu,
                ..
            } => {
                text_opt(f("brand"), TextKind::Reference, brand.as_deref())?;
                text_opt(
                    f("authorization"),
                    TextKind::Reference,
                    authorization.as_deref(),
                )?;
                text_opt(f("nsu"), TextKind::Reference, nsu.as_deref())?;
            }
            PaymentMethod::Pix { txid } => {
                text_opt(f("txid"), TextKind::Reference, txid.as_deref())?;
            }
            PaymentMethod::CustomerAccount { customer_id } => {
                if s.customer_id != Some(*customer_id) {
                    return Err(sale_error(SaleError::AccountNotSaleCustomer { index: i }));
                }
            }
        }
    }
    s.verify().map_err(sale_error)?;
    let change = Money::checked_sum(s.payments.iter().map(|p| p.change()))
        .map_err(|e| err(".sale.change", "amount_out_of_range", e.to_string()))?;
    if change != s.change {
        return Err(err(
            ".sale.change",
            "sale_inconsistent",
            "the sale's change is not the sum of the cash payments' change",
        ));
    }
    Ok(())
}

impl Mutation {
    /// Checks this mutation against the rules the device applied when it made it: consistent
    /// sales (lines add up, payments settle the total, the deltas are the sale's own), positive
    /// and bounded amounts and quantities, fiscal keys and number ranges that are what they
    /// claim, and text of each kind within its rule.
    pub fn validate(&self) -> Result<(), MutationError> {
        match self {
            Mutation::SaleRecorded(r) => {
                check_sale(&r.sale)?;
                if r.local_number == 0 || r.local_number > i64::MAX as u64 {
                    return Err(err(
                        ".local_number",
                        "bad_local_number",
                        "local numbers start at 1",
                    ));
                }
                if let Some(f) = &r.fiscal {
                    check_fiscal_ref(".fiscal", f)?;
                }
                let stock = r
                    .sale
                    .stock_deltas()
                    .map_err(|e| err(".stock_deltas", "sale_inconsistent", e.to_string()))?;
                if stock != r.stock_deltas {
                    return Err(err(
                        ".stock_deltas",
                        "sale_inconsistent",
                        "the stock deltas are not the sale's own (one per product, minus its quantity)",
                    ));
                }
                let balance = r
                    .sale
                    .balance_deltas()
                    .map_err(|e| err(".balance_deltas", "sale_inconsistent", e.to_string()))?;
                if balance != r.balance_deltas {
                    return Err(err(
                        ".balance_deltas",
                        "sale_inconsistent",
                        "the balance deltas are not the sale's own account payments",
                    ));
                }
            }
            Mutation::SaleVoided {
                sale_id,
                reason,
                stock_deltas,
                balance_deltas,
                ..
            } => {
                text(".reason", TextKind::Note, reason)?;
                for (i, d) in stock_deltas.iter().enumerate() {
                    let f = format!(".stock_deltas[{i}]");
                    check_quantity(format!("{f}.delta"), d.delta)?;
                    if !d.delta.is_positive()
                        || d.reason != (StockReason::SaleVoided { sale_id: *sale_id })
                    {
                        return Err(err(
                            f,
                            "sale_inconsistent",
                            "a void puts back a positive quantity of the voided sale",
                        ));
                    }
                }
                for (i, d) in balance_deltas.iter().enumerate() {
                    let f = format!(".balance_deltas[{i}]");
                    check_amount(format!("{f}.delta"), d.delta)?;
                    if d.delta.centavos() <= 0
                        || d.reason != (BalanceReason::SaleVoided { sale_id: *sale_id })
                    {
                        return Err(err(
                            f,
                            "sale_inconsistent",
                            "a void credits back a positive amount of the voided sale",
                        ));
                    }
                }
            }
            Mutation::FiscalStatusChanged {
                access_key,
                protocol,
                reason,
                ..
            } => {
                check_access_key(access_key)
                    .map_err(|e| err(".access_key", "bad_access_key", e.to_string()))?;
                text_opt(".protocol", TextKind::Reference, protocol.as_deref())?;
                text_opt(".reason", TextKind::Note, reason.as_deref())?;
            }
            Mutation::FiscalNumbersVoided {
                model,
                series,
                first,
                last,
                justification,
                protocol,
                ..
            } => {
                check_fiscal_numbering("", *model, *series, *first, *last)?;
                check_justification(".justification", justification)?;
                text_opt(".protocol", TextKind::Reference, protocol.as_deref())?;
            }
            Mutation::StockAdjusted { delta, reason, .. } => {
                check_quantity(".delta", *delta)?;
                if delta.thousandths() == 0 {
                    return Err(err(
                        ".delta",
                        "zero_delta",
                        "a change of zero changes nothing",
                    ));
                }
                if matches!(
                    reason,
                    StockReason::Sale { .. } | StockReason::SaleVoided { .. }
                ) {
                    return Err(err(
                        ".reason",
                        "bad_reason",
                        "sales move stock with the sale, not as an adjustment",
                    ));
                }
            }
            Mutation::CustomerBalanceAdjusted { delta, reason, .. } => {
                check_amount(".delta", *delta)?;
                if delta.is_zero() {
                    return Err(err(
                        ".delta",
                        "zero_delta",
                        "a change of zero changes nothing",
                    ));
                }
                match reason {
                    BalanceReason::Sale { .. } | BalanceReason::SaleVoided { .. } => {
                        return Err(err(
                            ".reason",
                            "bad_reason",
                            "sales move balances with the sale, not as an adjustment",
                        ));
                    }
                    BalanceReason::PaymentReceived if delta.is_negative() => {
                        return Err(err(
                            ".delta",
                            "negative_payment",
                            "a payment received raises the balance",
                        ));
                    }
                    _ => {}
                }
            }
            Mutation::CashMovement { amount, note, .. } => {
                check_amount(".amount", *amount)?;
                if amount.is_negative() {
                    return Err(err(
                        ".amount",
                        "negative_amount",
                        "a cash movement is a positive amount; its kind says which way",
                    ));
                }
                text_opt(".note", TextKind::Note, note.as_deref())?;
            }
            Mutation::CustomerRegistered { customer, .. } => {
                customer
                    .validate()
                    .map_err(|e| err(format!(".customer.{}", e.field), "bad_customer", e.reason))?;
                text(".customer.name", TextKind::Name, &customer.name)?;
                text_opt(
                    ".customer.phone",
                    TextKind::Phone,
                    customer.phone.as_deref(),
                )?;
                text_opt(
                    ".customer.email",
                    TextKind::Reference,
                    customer.email.as_deref(),
                )?;
                check_amount(".customer.overdraft_limit", customer.overdraft_limit)?;
                check_amount(".customer.balance", customer.balance)?;
            }
            Mutation::CardPaymentForwarded {
                payment_id,
                outcome,
                ..
            } => {
                text(".payment_id", TextKind::Reference, payment_id)?;
                match outcome {
                    CardForwardOutcome::Approved { authorization_code } => text(
                        ".outcome.authorization_code",
                        TextKind::Reference,
                        authorization_code,
                    )?,
                    CardForwardOutcome::Declined { amount, reason } => {
                        check_amount(".outcome.amount", *amount)?;
                        if amount.centavos() <= 0 {
                            return Err(err(
                                ".outcome.amount",
                                "negative_amount",
                                "a declined payment names a positive amount",
                            ));
                        }
                        text(".outcome.reason", TextKind::Note, reason)?;
                    }
                }
            }
            Mutation::NoteCancelledBySubstitution {
                cancelled_access_key,
                substitute_access_key,
                protocol,
                justification,
                ..
            } => {
                for (name, key) in [
                    (".cancelled_access_key", cancelled_access_key),
                    (".substitute_access_key", substitute_access_key),
                ] {
                    check_access_key(key)
                        .map_err(|e| err(name, "bad_access_key", e.to_string()))?;
                }
                text_opt(".protocol", TextKind::Reference, protocol.as_deref())?;
                check_justification(".justification", justification)?;
            }
            Mutation::AuditAppended {
                action,
                subject,
                prev_hash,
                hash,
                ..
            } => {
                text(".action", TextKind::Reference, action)?;
                // A subject may be long (a list of lines): free text, still without controls.
                text(".subject", TextKind::Note, subject)?;
                hex(".prev_hash", prev_hash, 64, false)?;
                hex(".hash", hash, 64, true)?;
            }
        }
        Ok(())
    }
}

/// A fiscal event's justification (`xJust`): 15 to 256 characters, no control characters.
pub fn check_justification(field: &str, value: &str) -> Result<(), MutationError> {
    text(field, TextKind::Note, value)?;
    let n = value.trim().chars().count();
    if !(15..=256).contains(&n) {
        return Err(err(
            field,
            "bad_justification",
            "a justification has 15 to 256 characters",
        ));
    }
    Ok(())
}
