//! The bridge between a sale and its NFC-e: `Sale` → `NfceInput` for tenda-fiscal, and the
//! signed note → `Danfe` for tenda-devices to print. Pure mapping, no I/O.

use chrono::{DateTime, FixedOffset, Utc};
use tenda_devices::receipt as rc;
use tenda_domain::{CardKind, FiscalStatus, Money, PaymentMethod, Sale, TaxId};
use tenda_fiscal::nfce::{
    Consumer, ConsumerId, Emission, EmitterSettings, Environment, Icms, NfceInput, NfceItem,
    NfcePayment, PisCofins,
};

use crate::error::PosError;

/// The store's UTC offset, for dhEmi and printed times (Brasília: −180 minutes).
pub fn local_time(at: DateTime<Utc>, offset_minutes: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is a valid offset"));
    at.with_timezone(&offset)
}

/// How a note is issued: online or in offline contingency since `since` with `justification`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteEmission {
    Normal,
    Contingency {
        since: DateTime<Utc>,
        justification: String,
    },
}

/// Builds the NFC-e input for `sale` with number `number`.
pub fn nfce_input(
    sale: &Sale,
    emitter: &EmitterSettings,
    number: u32,
    emission: &NoteEmission,
    offset_minutes: i32,
) -> Result<NfceInput, PosError> {
    let items = sale
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let cfop: u16 = l.fiscal.cfop.parse().map_err(|_| {
                PosError::invalid(format!("lines[{i}].fiscal.cfop"), "not a number")
            })?;
            Ok(NfceItem {
                code: l.sku.clone(),
                gtin: l
                    .gtin
                    .as_ref()
                    .and_then(|g| g.fiscal_gtin())
                    .map(str::to_owned),
                description: l.name.clone(),
                ncm: l.fiscal.ncm.clone(),
                cest: l.fiscal.cest.clone(),
                cfop,
                unit: l.unit.code().to_owned(),
                quantity_thousandths: l.quantity.thousandths(),
                unit_price: l.unit_price,
                discount: l.discount,
                other_charges: Money::ZERO,
                icms: Icms::from_fiscal(&l.fiscal).map_err(|e| line_error(i, &e))?,
                pis: PisCofins::from_code("PIS", &l.fiscal.pis_cst, l.fiscal.pis_rate_bp)
                    .map_err(|e| line_error(i, &e))?,
                cofins: PisCofins::from_code(
                    "COFINS",
                    &l.fiscal.cofins_cst,
                    l.fiscal.cofins_rate_bp,
                )
                .map_err(|e| line_error(i, &e))?,
                approximate_taxes: Money::ZERO,
                additional_info: None,
            })
        })
        .collect::<Result<Vec<_>, PosError>>()?;
    let payments = sale.payments.iter().map(NfcePayment::from_domain).collect();
    let consumer = sale.consumer_tax_id.as_ref().map(|t| Consumer {
        id: match t {
            TaxId::Cpf(c) => ConsumerId::Cpf(c.as_str().to_owned()),
            TaxId::Cnpj(c) => ConsumerId::Cnpj(c.as_str().to_owned()),
        },
        name: None,
    });
    Ok(NfceInput {
        emitter: emitter.clone(),
        number,
        issued_at: local_time(sale.created_at, offset_minutes),
        emission: match emission {
            NoteEmission::Normal => Emission::Normal,
            NoteEmission::Contingency {
                since,
                justification,
            } => Emission::Offline {
                since: local_time(*since, offset_minutes),
                justification: justification.clone(),
            },
        },
        access_code: None,
        operation_nature: None,
        items,
        payments,
        consumer,
        additional_info: None,
    })
}

/// A line's fiscal data that cannot go on the note, named so the manager can correct the product.
fn line_error(line: usize, e: &tenda_fiscal::nfce::NfceError) -> PosError {
    PosError::invalid(format!("lines[{line}].fiscal"), e.to_string())
}

fn printed_time(at: DateTime<FixedOffset>) -> String {
    at.format("%d/%m/%Y %H:%M:%S").to_string()
}

fn method_label(method: &PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Cash { .. } => "Dinheiro",
        PaymentMethod::Card {
            kind: CardKind::Credit,
            ..
        } => "Cartão de Crédito",
        PaymentMethod::Card {
            kind: CardKind::Debit,
            ..
        } => "Cartão de Débito",
        PaymentMethod::Pix { .. } => "PIX",
        PaymentMethod::CustomerAccount { .. } => "Crédito Loja",
    }
}

/// What the DANFE needs beyond the sale: the signed note's key, QR, URL and state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteForReceipt {
    pub number: u32,
    pub series: u16,
    pub access_key: String,
    pub qr_code: String,
    pub url_chave: String,
    pub issued_at: DateTime<FixedOffset>,
    pub contingency: bool,
    pub status: FiscalStatus,
    pub protocol: Option<String>,
    pub authorized_at: Option<DateTime<FixedOffset>>,
}

/// The DANFE NFC-e for a sale and its note.
pub fn danfe(sale: &Sale, note: &NoteForReceipt, emitter: &EmitterSettings) -> rc::Danfe {
    let a = &emitter.address;
    let address = format!(
        "{}, {}{} - {} - {}/{}",
        a.street,
        a.number,
        a.complement
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default(),
        a.district,
        a.city_name,
        a.uf.as_str()
    );
    let items = sale
        .lines
        .iter()
        .map(|l| rc::ReceiptItem {
            code: l
                .gtin
                .as_ref()
                .map_or_else(|| l.sku.clone(), |g| g.as_str().to_owned()),
            description: l.name.clone(),
            quantity_thousandths: l.quantity.thousandths(),
            unit: l.unit.code().to_owned(),
            unit_price: l.unit_price,
            total: l.gross,
            discount: l.discount,
        })
        .collect();
    rc::Danfe {
        emitter: rc::Emitter {
            legal_name: emitter.legal_name.clone(),
            trade_name: emitter.trade_name.clone(),
            cnpj: emitter.cnpj.clone(),
            state_registration: Some(emitter.ie.clone()),
            address,
        },
        items,
        totals: rc::ReceiptTotals {
            items_total: sale.gross,
            discount: sale.discount,
            surcharge: Money::ZERO,
            amount_due: sale.total,
        },
        payments: sale
            .payments
            .iter()
            .map(|p| rc::ReceiptPayment {
                method: method_label(&p.method).to_owned(),
                amount: match p.method {
                    PaymentMethod::Cash { tendered, .. } => tendered,
                    _ => p.amount,
                },
            })
            .collect(),
        change: sale.change,
        consultation_url: note.url_chave.clone(),
        access_key: note.access_key.clone(),
        qr_code: note.qr_code.clone(),
        consumer: sale.consumer_tax_id.as_ref().map(|t| rc::ReceiptConsumer {
            id_kind: match t {
                TaxId::Cpf(_) => "CPF".into(),
                TaxId::Cnpj(_) => "CNPJ".into(),
            },
            id: t.formatted(),
            name: None,
            address: None,
        }),
        number: note.number,
        series: note.series,
        issued_at: printed_time(note.issued_at),
        authorization: match (&note.protocol, note.authorized_at) {
            (Some(p), Some(at)) if note.status == FiscalStatus::Authorized => {
                Some(rc::Authorization {
                    protocol: p.clone(),
                    authorized_at: printed_time(at),
                })
            }
            _ => None,
        },
        environment: match emitter.environment {
            Environment::Production => rc::FiscalEnvironment::Production,
            Environment::Homologation => rc::FiscalEnvironment::Homologation,
        },
        emission: if note.contingency {
            rc::Emission::OfflineContingency
        } else {
            rc::Emission::Normal
        },
        fiscal_messages: Vec::new(),
        taxpayer_messages: Vec::new(),
        taxes: None,
    }
}
