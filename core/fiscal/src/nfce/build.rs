//! Building, signing and adding the QR code to an NFC-e.

use chrono::{DateTime, Datelike, FixedOffset};
use serde::{Deserialize, Serialize};
use tenda_domain::Money;

use super::input::*;
use super::key::{AccessKey, AccessKeyParts, random_code};
use super::qr::{
    OfflineQrData, QrVersion, qr_code_text, qr_v2_parameters, qr_v3_fields, qr_v3_parameters,
    qr_v3_signed,
};
use super::state::{StateRules, qr_code_url, url_chave};
use super::text::{digits, tstring};
use super::writer::XmlWriter;
use super::{HOMOLOGATION_ITEM_TEXT, HOMOLOGATION_RECIPIENT_TEXT, NfceError};
use crate::certificate::A1Certificate;
use crate::xmldsig::beside::sign_beside;
use crate::xmldsig::sign::{digest_canonical, push_signature_xml, sign_digest};

pub(crate) const NS_NFE: &str = "http://www.portalfiscal.inf.br/nfe";

/// A signed NFC-e ready to store and transmit, with what the receipt needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedNfce {
    pub access_key: AccessKey,
    pub number: u32,
    pub series: u16,
    /// cNF: keep it, a correction after rejection re-signs with the same one.
    pub access_code: u32,
    pub issued_at: DateTime<FixedOffset>,
    pub emission: Emission,
    pub environment: Environment,
    /// vNF.
    pub total: Money,
    /// vTroco.
    pub change: Money,
    /// vTotTrib (Lei 12.741).
    pub approximate_taxes: Money,
    /// The SHA-1 DigestValue of infNFe (base64).
    pub digest_value: String,
    /// Text of the QR code printed on the DANFE NFC-e.
    pub qr_code: String,
    /// The "consulta por chave" URL printed on the DANFE.
    pub url_chave: String,
    /// The whole `<NFe>` document (UTF-8, no XML declaration).
    pub xml: String,
    /// For contingency notes, the last instant to transmit (state rule).
    pub transmission_deadline: Option<DateTime<FixedOffset>>,
}

impl SignedNfce {
    /// Checks the document against the official schema (e.g. before transmission, where a
    /// schema error would come back as rejection 225).
    pub fn validate_schema(&self) -> Result<(), crate::xsd::SchemaError> {
        crate::xsd::validate(crate::xsd::Schema::Nfe, &self.xml)
    }
}

/// Per-item figures computed once and used by the item and the totals.
struct ItemFigures {
    gross: Money,
    base: Money,
    icms_base: Money,
    icms: Money,
    pis: Money,
    cofins: Money,
}

fn ratio_bp(amount: Money, bp: u32) -> Result<Money, NfceError> {
    Ok(amount.mul_ratio_half_even(i64::from(bp), 10_000)?)
}

fn non_negative(field: impl FnOnce() -> String, value: Money) -> Result<(), NfceError> {
    if value.is_negative() {
        return Err(NfceError::invalid(field(), "must not be negative"));
    }
    Ok(())
}

fn figures(index: usize, item: &NfceItem) -> Result<ItemFigures, NfceError> {
    let n = index + 1;
    if item.quantity_thousandths <= 0 {
        return Err(NfceError::invalid(
            format!("det[{n}].prod.qCom"),
            "must be positive",
        ));
    }
    non_negative(|| format!("det[{n}].prod.vUnCom"), item.unit_price)?;
    non_negative(|| format!("det[{n}].prod.vDesc"), item.discount)?;
    non_negative(|| format!("det[{n}].prod.vOutro"), item.other_charges)?;
    non_negative(
        || format!("det[{n}].imposto.vTotTrib"),
        item.approximate_taxes,
    )?;
    let gross = item
        .unit_price
        .mul_ratio_half_even(item.quantity_thousandths, 1000)?;
    if item.discount > gross {
        return Err(NfceError::invalid(
            format!("det[{n}].prod.vDesc"),
            "discount exceeds the item's value",
        ));
    }
    let base = gross
        .checked_sub(item.discount)?
        .checked_add(item.other_charges)?;
    let (icms_base, icms) = match item.icms.situation {
        IcmsSituation::Cst(IcmsCst::C00) => (base, ratio_bp(base, item.icms.rate_bp)?),
        IcmsSituation::Cst(IcmsCst::C20) => {
            if item.icms.base_reduction_bp == 0 || item.icms.base_reduction_bp >= 10_000 {
                return Err(NfceError::invalid(
                    format!("det[{n}].imposto.ICMS.ICMS20.pRedBC"),
                    "CST 20 needs a base reduction between 0 and 100 %",
                ));
            }
            let reduced = ratio_bp(base, 10_000 - item.icms.base_reduction_bp)?;
            (reduced, ratio_bp(reduced, item.icms.rate_bp)?)
        }
        IcmsSituation::Csosn(Csosn::C900) if item.icms.rate_bp > 0 => {
            (base, ratio_bp(base, item.icms.rate_bp)?)
        }
        _ => (Money::ZERO, Money::ZERO),
    };
    let pis = if has_rate(item.pis.cst) {
        ratio_bp(base, item.pis.rate_bp)?
    } else {
        Money::ZERO
    };
    let cofins = if has_rate(item.cofins.cst) {
        ratio_bp(base, item.cofins.rate_bp)?
    } else {
        Money::ZERO
    };
    Ok(ItemFigures {
        gross,
        base,
        icms_base,
        icms,
        pis,
        cofins,
    })
}

/// PIS/COFINS CSTs 01, 02 and 49–99 carry base, rate and value; 04–09 only the CST.
fn has_rate(cst: u8) -> bool {
    matches!(cst, 1 | 2 | 49..=99)
}

fn check_pis_cofins(field: &str, n: usize, value: &PisCofins) -> Result<(), NfceError> {
    if !matches!(value.cst, 1 | 2 | 4..=9 | 49..=56 | 60..=67 | 70..=75 | 98 | 99) {
        return Err(NfceError::invalid(
            format!("det[{n}].imposto.{field}.CST"),
            format!("{:02} is not a {field} CST", value.cst),
        ));
    }
    if value.rate_bp > 10_000 {
        return Err(NfceError::invalid(
            format!("det[{n}].imposto.{field}"),
            "rate above 100 %",
        ));
    }
    Ok(())
}

fn write_pis_cofins(
    w: &mut XmlWriter,
    group: &str,
    rate_tag: &str,
    value_tag: &str,
    tax: &PisCofins,
    base: Money,
    amount: Money,
) {
    let cst = format!("{:02}", tax.cst);
    w.open(group);
    let inner = match tax.cst {
        1 | 2 => "Aliq",
        4..=9 => "NT",
        _ => "Outr",
    };
    let inner = format!("{group}{inner}");
    w.open(&inner);
    w.raw("CST", &cst);
    if has_rate(tax.cst) {
        w.money("vBC", base);
        w.rate(rate_tag, tax.rate_bp);
        w.money(value_tag, amount);
    }
    w.close(&inner);
    w.close(group);
}

fn write_icms(
    w: &mut XmlWriter,
    n: usize,
    item: &NfceItem,
    f: &ItemFigures,
    crt: Crt,
) -> Result<(), NfceError> {
    let origin = item.icms.origin;
    if origin > 8 {
        return Err(NfceError::invalid(
            format!("det[{n}].imposto.ICMS.orig"),
            "origin must be 0..8",
        ));
    }
    w.open("ICMS");
    match (item.icms.situation, crt.uses_csosn()) {
        (IcmsSituation::Csosn(csosn), true) => {
            let group = match csosn {
                Csosn::C102 | Csosn::C103 | Csosn::C300 | Csosn::C400 => "ICMSSN102",
                Csosn::C500 => "ICMSSN500",
                Csosn::C900 => "ICMSSN900",
            };
            w.open(group);
            w.num("orig", origin);
            w.raw("CSOSN", csosn.code());
            if csosn == Csosn::C900 && item.icms.rate_bp > 0 {
                w.raw("modBC", "3");
                w.money("vBC", f.icms_base);
                w.rate("pICMS", item.icms.rate_bp);
                w.money("vICMS", f.icms);
            }
            w.close(group);
        }
        (IcmsSituation::Cst(cst), false) => {
            let group = match cst {
                IcmsCst::C00 => "ICMS00",
                IcmsCst::C20 => "ICMS20",
                IcmsCst::C40 | IcmsCst::C41 => "ICMS40",
                IcmsCst::C60 => "ICMS60",
            };
            w.open(group);
            w.num("orig", origin);
            w.raw("CST", cst.code());
            match cst {
                IcmsCst::C00 => {
                    w.raw("modBC", "3");
                    w.money("vBC", f.icms_base);
                    w.rate("pICMS", item.icms.rate_bp);
                    w.money("vICMS", f.icms);
                }
                IcmsCst::C20 => {
                    w.raw("modBC", "3");
                    w.rate("pRedBC", item.icms.base_reduction_bp);
                    w.money("vBC", f.icms_base);
                    w.rate("pICMS", item.icms.rate_bp);
                    w.money("vICMS", f.icms);
                }
                _ => {}
            }
            w.close(group);
        }
        (IcmsSituation::Csosn(_), false) => {
            return Err(NfceError::invalid(
                format!("det[{n}].imposto.ICMS"),
                format!(
                    "a CSOSN is for Simples Nacional; the emitter has CRT {}",
                    crt.code()
                ),
            ));
        }
        (IcmsSituation::Cst(_), true) => {
            return Err(NfceError::invalid(
                format!("det[{n}].imposto.ICMS"),
                format!(
                    "a CST is for regime normal; the emitter has CRT {} (use a CSOSN)",
                    crt.code()
                ),
            ));
        }
    }
    if item.icms.rate_bp > 10_000 {
        return Err(NfceError::invalid(
            format!("det[{n}].imposto.ICMS.pICMS"),
            "rate above 100 %",
        ));
    }
    w.close("ICMS");
    Ok(())
}

fn write_emitter(w: &mut XmlWriter, e: &EmitterSettings) -> Result<(), NfceError> {
    w.open("emit");
    w.raw("CNPJ", &e.cnpj);
    w.text(
        "xNome",
        &tstring(&|| "emit.xNome".into(), &e.legal_name, 2, 60)?,
    );
    if let Some(fantasy) = &e.trade_name {
        w.text("xFant", &tstring(&|| "emit.xFant".into(), fantasy, 1, 60)?);
    }
    let a = &e.address;
    w.open("enderEmit");
    w.text(
        "xLgr",
        &tstring(&|| "emit.enderEmit.xLgr".into(), &a.street, 2, 60)?,
    );
    w.text(
        "nro",
        &tstring(&|| "emit.enderEmit.nro".into(), &a.number, 1, 60)?,
    );
    if let Some(complement) = &a.complement {
        w.text(
            "xCpl",
            &tstring(&|| "emit.enderEmit.xCpl".into(), complement, 1, 60)?,
        );
    }
    w.text(
        "xBairro",
        &tstring(&|| "emit.enderEmit.xBairro".into(), &a.district, 2, 60)?,
    );
    let city = a.city_code.to_string();
    digits(&|| "emit.enderEmit.cMun".into(), &city, &[7])?;
    if city[..2] != a.uf.code().to_string() {
        return Err(NfceError::invalid(
            "emit.enderEmit.cMun",
            format!("municipality code is not in {}", a.uf),
        ));
    }
    w.raw("cMun", &city);
    w.text(
        "xMun",
        &tstring(&|| "emit.enderEmit.xMun".into(), &a.city_name, 2, 60)?,
    );
    w.raw("UF", a.uf.as_str());
    if let Some(cep) = &a.cep {
        digits(&|| "emit.enderEmit.CEP".into(), cep, &[8])?;
        w.raw("CEP", cep);
    }
    w.raw("cPais", "1058");
    w.raw("xPais", "BRASIL");
    if let Some(phone) = &a.phone {
        digits(
            &|| "emit.enderEmit.fone".into(),
            phone,
            &[6, 7, 8, 9, 10, 11, 12, 13, 14],
        )?;
        w.raw("fone", phone);
    }
    w.close("enderEmit");
    digits(&|| "emit.IE".into(), &e.ie, &(2..=14).collect::<Vec<_>>())?;
    w.raw("IE", &e.ie);
    w.num("CRT", e.crt.code());
    w.close("emit");
    Ok(())
}

fn write_consumer(
    w: &mut XmlWriter,
    consumer: &Consumer,
    environment: Environment,
) -> Result<(), NfceError> {
    w.open("dest");
    match &consumer.id {
        ConsumerId::Cpf(cpf) => {
            digits(&|| "dest.CPF".into(), cpf, &[11])?;
            if !cpf_is_valid(cpf) {
                return Err(NfceError::invalid("dest.CPF", "check digits do not match"));
            }
            w.raw("CPF", cpf);
        }
        ConsumerId::Cnpj(cnpj) => {
            if !cnpj_is_valid(cnpj) {
                return Err(NfceError::invalid("dest.CNPJ", "not a valid CNPJ"));
            }
            w.raw("CNPJ", cnpj);
        }
        ConsumerId::Foreign(id) => {
            let id = tstring(&|| "dest.idEstrangeiro".into(), id, 5, 20)?;
            if !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"./:-+()".contains(&b))
            {
                return Err(NfceError::invalid(
                    "dest.idEstrangeiro",
                    "letters, digits and .:-+/() only",
                ));
            }
            w.text("idEstrangeiro", &id);
        }
    }
    if let Some(name) = &consumer.name {
        let name = match environment {
            Environment::Homologation => HOMOLOGATION_RECIPIENT_TEXT.into(),
            Environment::Production => tstring(&|| "dest.xNome".into(), name, 2, 60)?,
        };
        w.text("xNome", &name);
    }
    // NFC-e recipients are final consumers without state registration.
    w.raw("indIEDest", "9");
    w.close("dest");
    Ok(())
}

pub(crate) fn cpf_is_valid(cpf: &str) -> bool {
    let d: Vec<u32> = cpf
        .bytes()
        .map(|b| u32::from(b.wrapping_sub(b'0')))
        .collect();
    if d.len() != 11 || d.iter().any(|&x| x > 9) || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let dv = |len: usize| {
        let sum: u32 = (0..len).map(|i| d[i] * (len as u32 + 1 - i as u32)).sum();
        let r = (sum * 10) % 11;
        if r == 10 { 0 } else { r }
    };
    dv(9) == d[9] && dv(10) == d[10]
}

/// CNPJ check digits (numeric or alphanumeric: value = ASCII − 48).
pub(crate) fn cnpj_is_valid(cnpj: &str) -> bool {
    let b = cnpj.as_bytes();
    if b.len() != 14
        || !b[..12]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        || !b[12..].iter().all(u8::is_ascii_digit)
        || b.iter().all(|&c| c == b[0])
    {
        return false;
    }
    let v: Vec<u32> = b.iter().map(|&c| u32::from(c - b'0')).collect();
    let dv = |len: usize| {
        let mut weight = 2;
        let mut sum = 0;
        for i in (0..len).rev() {
            sum += v[i] * weight;
            weight = if weight == 9 { 2 } else { weight + 1 };
        }
        let r = sum % 11;
        if r < 2 { 0 } else { 11 - r }
    };
    dv(12) == v[12] && dv(13) == v[13]
}

fn write_payments(
    w: &mut XmlWriter,
    payments: &[NfcePayment],
    total: Money,
) -> Result<Money, NfceError> {
    if payments.is_empty() || payments.len() > 100 {
        return Err(NfceError::invalid(
            "pag.detPag",
            "1 to 100 payments required",
        ));
    }
    let mut paid = Money::ZERO;
    let mut cash = Money::ZERO;
    for (i, p) in payments.iter().enumerate() {
        if p.amount.is_negative() || p.amount.is_zero() {
            return Err(NfceError::invalid(
                format!("pag.detPag[{}].vPag", i + 1),
                "must be positive",
            ));
        }
        paid = paid.checked_add(p.amount)?;
        if matches!(p.method, PaymentMethod::Cash) {
            cash = cash.checked_add(p.amount)?;
        }
    }
    if paid < total {
        return Err(NfceError::invalid(
            "pag.detPag.vPag",
            format!("payments ({paid}) do not cover the note total ({total})"),
        ));
    }
    let change = paid.checked_sub(total)?;
    if change > cash {
        return Err(NfceError::invalid(
            "pag.vTroco",
            format!(
                "change ({change}) can only come from cash ({cash}); other methods must not exceed what is due"
            ),
        ));
    }
    w.open("pag");
    for (i, p) in payments.iter().enumerate() {
        let n = i + 1;
        w.open("detPag");
        w.raw("tPag", p.method.code());
        if let PaymentMethod::Other(description) = &p.method {
            w.text(
                "xPag",
                &tstring(&|| format!("pag.detPag[{n}].xPag"), description, 2, 60)?,
            );
        }
        w.money("vPag", p.amount);
        let card = match &p.method {
            // SEFAZ requires the card group for cards (rejection 391); without TEF data the
            // payment was taken on a separate terminal (tpIntegra 2).
            PaymentMethod::CreditCard(c) | PaymentMethod::DebitCard(c) => Some(c),
            PaymentMethod::Pix(c) => c.as_ref(),
            _ => None,
        };
        if let Some(card) = card {
            w.open("card");
            w.raw("tpIntegra", if card.integrated { "1" } else { "2" });
            if let Some(cnpj) = &card.acquirer_cnpj {
                if !cnpj_is_valid(cnpj) {
                    return Err(NfceError::invalid(
                        format!("pag.detPag[{n}].card.CNPJ"),
                        "not a valid CNPJ",
                    ));
                }
                w.raw("CNPJ", cnpj);
            }
            if let Some(brand) = &card.brand {
                const BRANDS: &[&str] = &[
                    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13",
                    "14", "15", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26",
                    "27", "99",
                ];
                if !BRANDS.contains(&brand.as_str()) {
                    return Err(NfceError::invalid(
                        format!("pag.detPag[{n}].card.tBand"),
                        "unknown card brand code",
                    ));
                }
                w.raw("tBand", brand);
            }
            if let Some(authorization) = &card.authorization {
                w.text(
                    "cAut",
                    &tstring(
                        &|| format!("pag.detPag[{n}].card.cAut"),
                        authorization,
                        1,
                        128,
                    )?,
                );
            }
            w.close("card");
        }
        w.close("detPag");
    }
    if !change.is_zero() {
        w.money("vTroco", change);
    }
    w.close("pag");
    Ok(change)
}

fn date_time(value: &DateTime<FixedOffset>) -> String {
    value.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn validate_emitter(e: &EmitterSettings) -> Result<(), NfceError> {
    if !cnpj_is_valid(&e.cnpj) {
        return Err(NfceError::invalid(
            "emit.CNPJ",
            "not a valid CNPJ (14 characters, check digits)",
        ));
    }
    if e.crt == Crt::Mei {
        // CRT 4 arrived after the PL_009_V4 schema package, whose enumeration stops at 3.
        return Err(NfceError::invalid(
            "emit.CRT",
            "CRT 4 (MEI) is not accepted by layout PL_009_V4; MEI emitters use CRT 1",
        ));
    }
    if e.series > 999 {
        return Err(NfceError::invalid("ide.serie", "must be 0..999"));
    }
    Ok(())
}

/// Builds the NFC-e, signs it with the A1 certificate and adds the QR code.
pub fn build_and_sign(
    input: &NfceInput,
    certificate: &A1Certificate,
) -> Result<SignedNfce, NfceError> {
    let emitter = &input.emitter;
    validate_emitter(emitter)?;
    certificate
        .check_cnpj(&emitter.cnpj)
        .map_err(NfceError::Certificate)?;
    certificate
        .check_valid_at(input.issued_at.to_utc())
        .map_err(NfceError::Certificate)?;
    if input.items.is_empty() || input.items.len() > 990 {
        return Err(NfceError::invalid("det", "1 to 990 items required"));
    }
    let uf = emitter.address.uf;
    let environment = emitter.environment;
    let rules = StateRules::for_uf(uf);
    let qr_version = emitter.qr_version.unwrap_or(rules.qr_version);

    let access_code = match input.access_code {
        Some(code) if code == input.number || code > 99_999_999 => {
            return Err(NfceError::invalid(
                "ide.cNF",
                "must be 8 digits and differ from nNF",
            ));
        }
        Some(code) => code,
        None => random_code(input.number),
    };
    let key = AccessKey::compose(&AccessKeyParts {
        uf_code: uf.code(),
        year: u16::try_from(input.issued_at.year()).unwrap_or(0),
        month: input.issued_at.month() as u8,
        cnpj: emitter.cnpj.clone(),
        model: 65,
        series: emitter.series,
        number: input.number,
        emission_type: input.emission.type_code(),
        code: access_code,
    })
    .map_err(NfceError::AccessKey)?;

    let figures: Vec<ItemFigures> = input
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| figures(i, item))
        .collect::<Result<_, _>>()?;
    let mut totals = Totals::default();
    for (item, f) in input.items.iter().zip(&figures) {
        totals.add(item, f)?;
    }
    let total = totals
        .gross
        .checked_sub(totals.discount)?
        .checked_add(totals.other)?;

    // An offline v3 QR code carries its own RSA signature, of fields known before the document
    // is written (key, day, total, recipient): it is computed on a second thread while this one
    // writes, digests and signs the document, so the two signatures, most of a note's cost,
    // overlap.
    let mut offline = input.emission.is_offline().then(|| OfflineQrData {
        day_of_month: input.issued_at.day(),
        total,
        digest_value: String::new(),
        consumer: input.consumer.as_ref().map(|c| c.id.clone()),
    });
    let qr_v3_offline = match (qr_version, &offline) {
        (QrVersion::V3, Some(data)) => {
            let fields = qr_v3_fields(&key, environment, Some(data));
            let signature = sign_beside(certificate.private_key(), fields.clone().into_bytes());
            Some((fields, signature))
        }
        _ => None,
    };

    let mut w = XmlWriter::with_capacity(2500 + 1200 * input.items.len());
    w.buf.push_str("<NFe xmlns=\"");
    w.buf.push_str(NS_NFE);
    w.buf.push_str("\">");
    let infnfe_start = w.buf.len();
    let id = format!("NFe{key}");
    // C14N order: Id before versao (attributes sorted by name, uppercase first).
    w.open_with("infNFe", &[("Id", &id), ("versao", "4.00")]);

    // ide
    w.open("ide");
    w.num("cUF", uf.code());
    w.buf.push_str(&format!("<cNF>{access_code:08}</cNF>"));
    let nature = input.operation_nature.as_deref().unwrap_or("VENDA");
    w.text("natOp", &tstring(&|| "ide.natOp".into(), nature, 1, 60)?);
    w.raw("mod", "65");
    w.num("serie", emitter.series);
    w.num("nNF", input.number);
    w.raw("dhEmi", &date_time(&input.issued_at));
    w.raw("tpNF", "1");
    w.raw("idDest", "1");
    w.num("cMunFG", emitter.address.city_code);
    w.raw("tpImp", "4");
    w.num("tpEmis", input.emission.type_code());
    w.num("cDV", key.check_digit());
    w.num("tpAmb", environment.code());
    w.raw("finNFe", "1");
    w.raw("indFinal", "1");
    w.raw("indPres", "1");
    w.raw("procEmi", "0");
    w.text(
        "verProc",
        &tstring(&|| "ide.verProc".into(), &emitter.software_version, 1, 20)?,
    );
    if let Emission::Offline {
        since,
        justification,
    } = &input.emission
    {
        if *since > input.issued_at {
            return Err(NfceError::invalid(
                "ide.dhCont",
                "contingency cannot start after the note's emission",
            ));
        }
        w.raw("dhCont", &date_time(since));
        w.text(
            "xJust",
            &tstring(&|| "ide.xJust".into(), justification, 15, 256)?,
        );
    }
    w.close("ide");

    write_emitter(&mut w, emitter)?;
    if let Some(consumer) = &input.consumer {
        write_consumer(&mut w, consumer, environment)?;
    }

    // det
    for (i, (item, f)) in input.items.iter().zip(&figures).enumerate() {
        let n = i + 1;
        w.open_with("det", &[("nItem", &n.to_string())]);
        w.open("prod");
        w.text(
            "cProd",
            &tstring(&|| format!("det[{n}].prod.cProd"), &item.code, 1, 60)?,
        );
        let gtin = match &item.gtin {
            Some(gtin) => {
                digits(&|| format!("det[{n}].prod.cEAN"), gtin, &[8, 12, 13, 14])?;
                gtin.as_str()
            }
            None => "SEM GTIN",
        };
        w.raw("cEAN", gtin);
        let description = if i == 0 && environment == Environment::Homologation {
            HOMOLOGATION_ITEM_TEXT.into()
        } else {
            tstring(
                &|| format!("det[{n}].prod.xProd"),
                &item.description,
                1,
                120,
            )?
        };
        w.text("xProd", &description);
        digits(&|| format!("det[{n}].prod.NCM"), &item.ncm, &[2, 8])?;
        w.raw("NCM", &item.ncm);
        if let Some(cest) = &item.cest {
            digits(&|| format!("det[{n}].prod.CEST"), cest, &[7])?;
            w.raw("CEST", cest);
        }
        if !(1000..=7999).contains(&item.cfop) || ![1, 2, 3, 5, 6, 7].contains(&(item.cfop / 1000))
        {
            return Err(NfceError::invalid(
                format!("det[{n}].prod.CFOP"),
                "not a CFOP",
            ));
        }
        w.num("CFOP", item.cfop);
        let unit = tstring(&|| format!("det[{n}].prod.uCom"), &item.unit, 1, 6)?;
        w.text("uCom", &unit);
        let quantity = format!(
            "{}.{:03}0",
            item.quantity_thousandths / 1000,
            item.quantity_thousandths % 1000
        );
        w.raw("qCom", &quantity);
        w.money("vUnCom", item.unit_price);
        w.money("vProd", f.gross);
        w.raw("cEANTrib", gtin);
        w.text("uTrib", &unit);
        w.raw("qTrib", &quantity);
        w.money("vUnTrib", item.unit_price);
        if !item.discount.is_zero() {
            w.money("vDesc", item.discount);
        }
        if !item.other_charges.is_zero() {
            w.money("vOutro", item.other_charges);
        }
        w.raw("indTot", "1");
        w.close("prod");

        w.open("imposto");
        w.money("vTotTrib", item.approximate_taxes);
        write_icms(&mut w, n, item, f, emitter.crt)?;
        check_pis_cofins("PIS", n, &item.pis)?;
        check_pis_cofins("COFINS", n, &item.cofins)?;
        write_pis_cofins(&mut w, "PIS", "pPIS", "vPIS", &item.pis, f.base, f.pis);
        write_pis_cofins(
            &mut w,
            "COFINS",
            "pCOFINS",
            "vCOFINS",
            &item.cofins,
            f.base,
            f.cofins,
        );
        w.close("imposto");
        if let Some(info) = &item.additional_info {
            w.text(
                "infAdProd",
                &tstring(&|| format!("det[{n}].infAdProd"), info, 1, 500)?,
            );
        }
        w.close("det");
    }

    // total
    w.open("total");
    w.open("ICMSTot");
    w.money("vBC", totals.icms_base);
    w.money("vICMS", totals.icms);
    for zero in ["vICMSDeson", "vFCP", "vBCST", "vST", "vFCPST", "vFCPSTRet"] {
        w.raw(zero, "0.00");
    }
    w.money("vProd", totals.gross);
    w.raw("vFrete", "0.00");
    w.raw("vSeg", "0.00");
    w.money("vDesc", totals.discount);
    for zero in ["vII", "vIPI", "vIPIDevol"] {
        w.raw(zero, "0.00");
    }
    w.money("vPIS", totals.pis);
    w.money("vCOFINS", totals.cofins);
    w.money("vOutro", totals.other);
    w.money("vNF", total);
    w.money("vTotTrib", totals.approximate_taxes);
    w.close("ICMSTot");
    w.close("total");

    w.open("transp");
    w.raw("modFrete", "9");
    w.close("transp");

    let change = write_payments(&mut w, &input.payments, total)?;

    if let Some(info) = &input.additional_info {
        w.open("infAdic");
        w.text(
            "infCpl",
            &tstring(&|| "infAdic.infCpl".into(), info, 1, 5000)?,
        );
        w.close("infAdic");
    }
    if let Some(tech) = &emitter.tech_responsible {
        w.open("infRespTec");
        if !cnpj_is_valid(&tech.cnpj) {
            return Err(NfceError::invalid("infRespTec.CNPJ", "not a valid CNPJ"));
        }
        w.raw("CNPJ", &tech.cnpj);
        w.text(
            "xContato",
            &tstring(&|| "infRespTec.xContato".into(), &tech.contact, 2, 60)?,
        );
        let email = tstring(&|| "infRespTec.email".into(), &tech.email, 6, 60)?;
        if !email.contains('@') || email.contains(' ') {
            return Err(NfceError::invalid(
                "infRespTec.email",
                "not an e-mail address",
            ));
        }
        w.text("email", &email);
        digits(
            &|| "infRespTec.fone".into(),
            &tech.phone,
            &[6, 7, 8, 9, 10, 11, 12, 13, 14],
        )?;
        w.raw("fone", &tech.phone);
        w.close("infRespTec");
    }
    w.close("infNFe");
    let infnfe_end = w.buf.len();

    // Sign: the canonical infNFe is the written one with the inherited default namespace
    // declared on it (C14N of a document subset); nothing is parsed again.
    let canonical_head = format!("<infNFe xmlns=\"{NS_NFE}\"");
    let digest_value = digest_canonical(&[
        canonical_head.as_bytes(),
        &w.buf.as_bytes()[infnfe_start + "<infNFe".len()..infnfe_end],
    ]);

    // QR code (infNFeSupl, outside the signed element). An offline v2 QR carries the digest.
    if let Some(data) = offline.as_mut() {
        data.digest_value = digest_value.clone();
    }
    let (signed, parameters) = match (qr_version, qr_v3_offline) {
        (QrVersion::V3, Some((fields, qr_signature))) => {
            let signed = sign_digest(&id, digest_value, certificate);
            let parameters = qr_signature
                .wait()
                .map(|signature| qr_v3_signed(fields, &signature))
                .map_err(super::qr::QrError::Sign);
            (signed, parameters)
        }
        (QrVersion::V3, None) => (
            sign_digest(&id, digest_value, certificate),
            qr_v3_parameters(&key, environment, None, certificate),
        ),
        (QrVersion::V2, _) => {
            let signed = sign_digest(&id, digest_value, certificate);
            let parameters = emitter
                .csc
                .as_ref()
                .ok_or(super::qr::QrError::MissingCsc)
                .and_then(|csc| qr_v2_parameters(&key, environment, csc, offline.as_ref()));
            (signed, parameters)
        }
    };
    let signed = signed.map_err(NfceError::Sign)?;
    let parameters = parameters.map_err(NfceError::Qr)?;
    let qr_base = qr_code_url(uf, environment).ok_or(NfceError::MissingUrl {
        what: "QR code",
        uf,
        environment,
    })?;
    let qr_code = qr_code_text(qr_base, &parameters);
    let url_chave = url_chave(uf, environment)
        .ok_or(NfceError::MissingUrl {
            what: "urlChave",
            uf,
            environment,
        })?
        .to_owned();
    w.open("infNFeSupl");
    w.text("qrCode", &qr_code);
    w.text("urlChave", &url_chave);
    w.close("infNFeSupl");
    push_signature_xml(&mut w.buf, &id, &signed, certificate);
    w.close("NFe");

    let transmission_deadline = input.emission.is_offline().then(|| {
        emitter
            .contingency_deadline
            .as_ref()
            .unwrap_or(&rules.contingency_deadline)
            .deadline(input.issued_at)
    });
    Ok(SignedNfce {
        access_key: key,
        number: input.number,
        series: emitter.series,
        access_code,
        issued_at: input.issued_at,
        emission: input.emission.clone(),
        environment,
        total,
        change,
        approximate_taxes: totals.approximate_taxes,
        digest_value: signed.digest_value,
        qr_code,
        url_chave,
        xml: w.buf,
        transmission_deadline,
    })
}

#[derive(Default)]
struct Totals {
    gross: Money,
    discount: Money,
    other: Money,
    icms_base: Money,
    icms: Money,
    pis: Money,
    cofins: Money,
    approximate_taxes: Money,
}

impl Totals {
    fn add(&mut self, item: &NfceItem, f: &ItemFigures) -> Result<(), NfceError> {
        self.gross = self.gross.checked_add(f.gross)?;
        self.discount = self.discount.checked_add(item.discount)?;
        self.other = self.other.checked_add(item.other_charges)?;
        self.icms_base = self.icms_base.checked_add(f.icms_base)?;
        self.icms = self.icms.checked_add(f.icms)?;
        self.pis = self.pis.checked_add(f.pis)?;
        self.cofins = self.cofins.checked_add(f.cofins)?;
        self.approximate_taxes = self.approximate_taxes.checked_add(item.approximate_taxes)?;
        Ok(())
    }
}

/// Re-signs a note that SEFAZ rejected, after the caller corrected its content: number,
/// series, emission type, dhEmi and cNF are kept, so the access key stays the same and the
/// number is never skipped. The QR code changes with the new digest, so the DANFE must be
/// printed again.
pub fn resign_correction(
    rejected: &SignedNfce,
    corrected: &NfceInput,
    certificate: &A1Certificate,
) -> Result<SignedNfce, NfceError> {
    if corrected.number != rejected.number {
        return Err(NfceError::CorrectionChanges("the number (nNF)"));
    }
    if corrected.emitter.series != rejected.series {
        return Err(NfceError::CorrectionChanges("the series"));
    }
    if corrected.emission.type_code() != rejected.emission.type_code() {
        return Err(NfceError::CorrectionChanges("the emission type (tpEmis)"));
    }
    if corrected.issued_at != rejected.issued_at {
        return Err(NfceError::CorrectionChanges("the emission time (dhEmi)"));
    }
    let mut input = corrected.clone();
    input.access_code = Some(rejected.access_code);
    let signed = build_and_sign(&input, certificate)?;
    if signed.access_key != rejected.access_key {
        return Err(NfceError::CorrectionChanges(
            "the access key (emitter CNPJ or state)",
        ));
    }
    Ok(signed)
}
