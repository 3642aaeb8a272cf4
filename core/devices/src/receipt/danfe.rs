//! DANFE NFC-e layout, following the divisions of the DANFE NFC-e technical manual:
//! I header (emitter) · II items · III totals, payments and change · IV consultation by access
//! key (and the fiscal message area: contingency, homologation) · V consumer · VI note
//! identification and authorization · VII QR code · VIII taxpayer and fiscal messages ·
//! IX approximate taxes (Lei 12.741/2012).

use tenda_domain::Money;

use super::{Danfe, DanfeOptions, Emission, FiscalEnvironment, ItemDetail, LayoutError};
use crate::layout::{DocumentBuilder, PrintDocument, PrintJob, PrinterProfile, TextStyle};
use crate::text::{MoneyFormat, quantity, tax_id};

pub const HOMOLOGATION_NOTICE: &str = "EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO – SEM VALOR FISCAL";
pub const CONTINGENCY_NOTICE: &str = "EMITIDA EM CONTINGÊNCIA";
pub const PENDING_NOTICE: &str = "Pendente de autorização";
pub const ANONYMOUS_CONSUMER: &str = "CONSUMIDOR NÃO IDENTIFICADO";

fn invalid(field: &'static str, reason: impl Into<String>) -> LayoutError {
    LayoutError::InvalidField {
        field,
        reason: reason.into(),
    }
}

fn validate(danfe: &Danfe) -> Result<(), LayoutError> {
    let key = &danfe.access_key;
    if key.chars().count() != 44
        || !key
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        return Err(invalid(
            "access_key",
            "must be 44 digits (or uppercase letters of an alphanumeric CNPJ)",
        ));
    }
    if danfe.qr_code.is_empty() {
        return Err(invalid("qr_code", "is empty"));
    }
    if crate::escpos::qr_version(danfe.qr_code.as_bytes(), false).is_none() {
        return Err(invalid("qr_code", "too long for a QR code"));
    }
    if danfe.consultation_url.trim().is_empty() {
        return Err(invalid("consultation_url", "is empty"));
    }
    if danfe.emission == Emission::Normal && danfe.authorization.is_none() {
        return Err(invalid(
            "authorization",
            "a normally issued NFC-e is printed only once authorized",
        ));
    }
    if danfe.items.is_empty() {
        return Err(invalid("items", "an NFC-e has at least one item"));
    }
    if danfe.totals.amount_due.is_negative() || danfe.change.is_negative() {
        return Err(invalid(
            "totals",
            "amount due and change cannot be negative",
        ));
    }
    if let Some(i) = danfe
        .items
        .iter()
        .position(|i| i.total.is_negative() || i.discount.is_negative())
    {
        return Err(invalid(
            "items",
            format!("item {} has a negative total or discount", i + 1),
        ));
    }
    if danfe.payments.iter().any(|p| p.amount.is_negative()) {
        return Err(invalid("payments", "payment amounts cannot be negative"));
    }
    if danfe.payments.is_empty() {
        return Err(invalid("payments", "an NFC-e has at least one payment"));
    }
    if let Some(t) = &danfe.taxes {
        Money::checked_sum([t.federal, t.state, t.municipal])
            .map_err(|e| invalid("taxes", e.to_string()))?;
    }
    Ok(())
}

/// Lays out a DANFE NFC-e. In offline contingency with `store_copy_in_contingency`, the job has
/// two copies: the consumer's and the store's.
pub fn layout_danfe(
    danfe: &Danfe,
    profile: &PrinterProfile,
    options: &DanfeOptions,
) -> Result<PrintJob, LayoutError> {
    validate(danfe)?;
    let contingency = danfe.emission == Emission::OfflineContingency;
    let mut copies = Vec::new();
    if contingency && options.store_copy_in_contingency {
        copies.push(layout_copy(
            danfe,
            profile,
            options,
            Some("Via do consumidor"),
        ));
        copies.push(layout_copy(
            danfe,
            profile,
            options,
            Some("Via do estabelecimento"),
        ));
    } else {
        copies.push(layout_copy(danfe, profile, options, None));
    }
    Ok(PrintJob {
        copies,
        open_drawer: options.open_drawer,
    })
}

fn layout_copy(
    danfe: &Danfe,
    profile: &PrinterProfile,
    options: &DanfeOptions,
    via: Option<&str>,
) -> PrintDocument {
    let money = MoneyFormat::brl();
    let amount = |m: Money| money.amount(m);
    let mut b = DocumentBuilder::new(profile);
    let homologation = danfe.environment == FiscalEnvironment::Homologation;
    let contingency = danfe.emission == Emission::OfflineContingency;

    // I — emitter.
    let e = &danfe.emitter;
    if let Some(trade) = e.trade_name.as_deref().filter(|t| !t.trim().is_empty()) {
        b.text(trade, TextStyle::BOLD_CENTER);
    }
    b.text(&e.legal_name, TextStyle::BOLD_CENTER);
    let mut ids = format!("CNPJ: {}", tax_id(&e.cnpj));
    if let Some(ie) = e
        .state_registration
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        ids.push_str(&format!(" IE: {ie}"));
    }
    b.text(&ids, TextStyle::CENTER);
    b.text(&e.address, TextStyle::CENTER);
    b.rule();
    b.text(
        "DANFE NFC-e - Documento Auxiliar da Nota Fiscal de Consumidor Eletrônica",
        TextStyle::BOLD_CENTER,
    );
    if homologation {
        b.text(HOMOLOGATION_NOTICE, TextStyle::BOLD_CENTER);
    }
    b.rule();

    // II — items.
    if options.item_detail == ItemDetail::Full {
        b.text("# CÓDIGO DESCRIÇÃO", TextStyle::BOLD);
        b.pair("QTD UN x VL UNIT", "VL TOTAL", TextStyle::BOLD);
        for (i, item) in danfe.items.iter().enumerate() {
            b.text(
                &format!("{:03} {} {}", i + 1, item.code, item.description),
                TextStyle::NORMAL,
            );
            let qty = format!(
                "    {} {} x {}",
                quantity(item.quantity_thousandths, ','),
                item.unit,
                amount(item.unit_price)
            );
            b.pair(&qty, &amount(item.total), TextStyle::NORMAL);
            if !item.discount.is_zero() {
                b.pair(
                    "    desconto",
                    &format!("-{}", amount(item.discount)),
                    TextStyle::NORMAL,
                );
            }
        }
        b.rule();
    }

    // III — totals, payments, change.
    b.pair(
        "QTD. TOTAL DE ITENS",
        &danfe.items.len().to_string(),
        TextStyle::NORMAL,
    );
    b.pair(
        "VALOR TOTAL R$",
        &amount(danfe.totals.items_total),
        TextStyle::NORMAL,
    );
    if !danfe.totals.discount.is_zero() {
        b.pair(
            "Desconto R$",
            &amount(danfe.totals.discount),
            TextStyle::NORMAL,
        );
    }
    if !danfe.totals.surcharge.is_zero() {
        b.pair(
            "Acréscimo R$",
            &amount(danfe.totals.surcharge),
            TextStyle::NORMAL,
        );
    }
    b.pair(
        "VALOR A PAGAR R$",
        &amount(danfe.totals.amount_due),
        TextStyle::BOLD,
    );
    b.pair("FORMA DE PAGAMENTO", "VALOR PAGO R$", TextStyle::NORMAL);
    for p in &danfe.payments {
        b.pair(&p.method, &amount(p.amount), TextStyle::NORMAL);
    }
    b.pair("Troco R$", &amount(danfe.change), TextStyle::NORMAL);
    b.rule();

    // IV — consultation by access key, and the fiscal message area.
    if contingency {
        b.text(CONTINGENCY_NOTICE, TextStyle::BOLD_CENTER);
        b.text(PENDING_NOTICE, TextStyle::BOLD_CENTER);
    }
    if homologation {
        b.text(HOMOLOGATION_NOTICE, TextStyle::BOLD_CENTER);
    }
    b.text("Consulte pela Chave de Acesso em", TextStyle::CENTER);
    b.text(&danfe.consultation_url, TextStyle::CENTER);
    let groups = access_key_groups(&danfe.access_key);
    b.text(&groups[..6].join(" "), TextStyle::BOLD_CENTER);
    b.text(&groups[6..].join(" "), TextStyle::BOLD_CENTER);
    b.rule();

    // V — consumer.
    match &danfe.consumer {
        Some(c) => {
            let mut line = format!("CONSUMIDOR - {} {}", c.id_kind, tax_id(&c.id));
            if let Some(name) = c.name.as_deref().filter(|n| !n.trim().is_empty()) {
                line.push_str(&format!(" - {name}"));
            }
            b.text(&line, TextStyle::BOLD_CENTER);
            if let Some(addr) = c.address.as_deref().filter(|a| !a.trim().is_empty()) {
                b.text(addr, TextStyle::CENTER);
            }
        }
        None => {
            b.text(ANONYMOUS_CONSUMER, TextStyle::BOLD_CENTER);
        }
    }
    b.rule();

    // VI — identification and authorization.
    b.text(
        &format!(
            "NFC-e nº {:09} Série {:03} {}",
            danfe.number, danfe.series, danfe.issued_at
        ),
        TextStyle::BOLD_CENTER,
    );
    match &danfe.authorization {
        Some(a) => {
            b.text(
                &format!("Protocolo de autorização: {}", a.protocol),
                TextStyle::CENTER,
            );
            b.text(
                &format!("Data de autorização: {}", a.authorized_at),
                TextStyle::CENTER,
            );
        }
        None => {
            b.text(PENDING_NOTICE, TextStyle::CENTER);
        }
    }
    if let Some(via) = via {
        b.text(via, TextStyle::BOLD_CENTER);
    }

    // VII — QR code.
    b.text("Consulta via leitor de QR Code", TextStyle::CENTER);
    b.qr(&danfe.qr_code);

    // VIII — taxpayer and fiscal messages.
    if !danfe.taxpayer_messages.is_empty() || !danfe.fiscal_messages.is_empty() {
        b.rule();
        for m in danfe.taxpayer_messages.iter().chain(&danfe.fiscal_messages) {
            b.text(m, TextStyle::CENTER);
        }
    }

    // IX — approximate taxes (Lei 12.741/2012).
    if let Some(t) = &danfe.taxes {
        let total =
            Money::checked_sum([t.federal, t.state, t.municipal]).expect("checked in validate");
        b.rule();
        b.text(
            &format!(
                "Tributos Totais Incidentes (Lei Federal 12.741/2012): R$ {}",
                amount(total)
            ),
            TextStyle::CENTER,
        );
        b.text(
            &format!(
                "Federal R$ {} Estadual R$ {} Municipal R$ {}",
                amount(t.federal),
                amount(t.state),
                amount(t.municipal)
            ),
            TextStyle::CENTER,
        );
        if let Some(source) = t.source.as_deref().filter(|s| !s.trim().is_empty()) {
            b.text(source, TextStyle::CENTER);
        }
    }
    b.feed(2).cut();
    b.finish()
}

/// The access key in 11 groups of 4 characters.
pub fn access_key_groups(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect()).collect()
}
