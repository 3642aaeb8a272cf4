//! Catalog products and the fiscal data an NFC-e item needs.

use serde::{Deserialize, Serialize};

use crate::gtin::Gtin;
use crate::ids::ProductId;
use crate::money::Money;
use crate::quantity::Unit;

/// A product the store sells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    /// The store's own code; unique in the catalog.
    pub sku: String,
    pub gtin: Option<Gtin>,
    pub name: String,
    pub unit: Unit,
    /// Price per unit (per kg for weighed goods).
    pub price: Money,
    pub fiscal: FiscalData,
    /// Inactive products stay in history but cannot be sold.
    pub active: bool,
    /// Server version (last writer wins on pull); 0 for products never synced.
    pub version: i64,
}

/// ICMS taxation: CSOSN for Simples Nacional emitters, CST for the normal regime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "regime", content = "code", rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum IcmsTaxation {
    /// Código de Situação da Operação no Simples Nacional (e.g. "102").
    Csosn(String),
    /// Código de Situação Tributária (e.g. "00").
    Cst(String),
}

/// What the fiscal document needs per item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FiscalData {
    /// Nomenclatura Comum do Mercosul: 8 digits.
    pub ncm: String,
    /// Código Fiscal de Operações e Prestações: 4 digits (5102 for a consumer sale).
    pub cfop: String,
    /// Código Especificador da Substituição Tributária: 7 digits, when applicable.
    pub cest: Option<String>,
    /// Origin of the goods, 0-8 (0 = national).
    pub origin: u8,
    pub icms: IcmsTaxation,
    /// ICMS rate in basis points (18% = 1800).
    pub icms_rate_bp: u32,
    /// PIS CST (2 digits).
    pub pis_cst: String,
    pub pis_rate_bp: u32,
    /// COFINS CST (2 digits).
    pub cofins_cst: String,
    pub cofins_rate_bp: u32,
}

/// A product or fiscal field that is not acceptable, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        FieldError {
            field,
            reason: reason.into(),
        }
    }
}

const CSOSN_CODES: [&str; 10] = [
    "101", "102", "103", "201", "202", "203", "300", "400", "500", "900",
];
const ICMS_CST_CODES: [&str; 11] = [
    "00", "10", "20", "30", "40", "41", "50", "51", "60", "70", "90",
];
const PIS_COFINS_CST_CODES: [&str; 33] = [
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "49", "50", "51", "52", "53", "54", "55",
    "56", "60", "61", "62", "63", "64", "65", "66", "67", "70", "71", "72", "73", "74", "75", "98",
    "99",
];
/// 100% in basis points: no tax rate is higher.
const MAX_RATE_BP: u32 = 10_000;
/// Longest product name an NFC-e `xProd` holds.
pub const MAX_NAME_CHARS: usize = 120;

fn digits(field: &'static str, value: &str, len: usize) -> Result<(), FieldError> {
    if value.len() != len || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(field, format!("must be {len} digits")));
    }
    Ok(())
}

fn rate(field: &'static str, bp: u32) -> Result<(), FieldError> {
    if bp > MAX_RATE_BP {
        return Err(FieldError::new(field, "rate above 100%"));
    }
    Ok(())
}

impl FiscalData {
    pub fn validate(&self) -> Result<(), FieldError> {
        digits("ncm", &self.ncm, 8)?;
        digits("cfop", &self.cfop, 4)?;
        if !matches!(self.cfop.as_bytes()[0], b'5' | b'6' | b'7') {
            return Err(FieldError::new(
                "cfop",
                "an outgoing operation starts with 5, 6 or 7",
            ));
        }
        if let Some(cest) = &self.cest {
            digits("cest", cest, 7)?;
        }
        if self.origin > 8 {
            return Err(FieldError::new("origin", "must be 0-8"));
        }
        match &self.icms {
            IcmsTaxation::Csosn(code) if !CSOSN_CODES.contains(&code.as_str()) => {
                return Err(FieldError::new(
                    "icms_csosn",
                    format!("unknown CSOSN {code}"),
                ));
            }
            IcmsTaxation::Cst(code) if !ICMS_CST_CODES.contains(&code.as_str()) => {
                return Err(FieldError::new("icms_cst", format!("unknown CST {code}")));
            }
            _ => {}
        }
        rate("icms_rate", self.icms_rate_bp)?;
        if !PIS_COFINS_CST_CODES.contains(&self.pis_cst.as_str()) {
            return Err(FieldError::new(
                "pis_cst",
                format!("unknown CST {}", self.pis_cst),
            ));
        }
        rate("pis_rate", self.pis_rate_bp)?;
        if !PIS_COFINS_CST_CODES.contains(&self.cofins_cst.as_str()) {
            return Err(FieldError::new(
                "cofins_cst",
                format!("unknown CST {}", self.cofins_cst),
            ));
        }
        rate("cofins_rate", self.cofins_rate_bp)?;
        Ok(())
    }

    /// Typical data for a Simples Nacional shop selling national goods without ICMS-ST:
    /// CSOSN 102, CFOP 5102, PIS/COFINS CST 49.
    pub fn simples_nacional(ncm: &str) -> FiscalData {
        FiscalData {
            ncm: ncm.to_owned(),
            cfop: "5102".to_owned(),
            cest: None,
            origin: 0,
            icms: IcmsTaxation::Csosn("102".to_owned()),
            icms_rate_bp: 0,
            pis_cst: "49".to_owned(),
            pis_rate_bp: 0,
            cofins_cst: "49".to_owned(),
            cofins_rate_bp: 0,
        }
    }
}

/// Checks a display name: not blank, at most [`MAX_NAME_CHARS`], no control characters.
pub fn validate_name(field: &'static str, name: &str) -> Result<(), FieldError> {
    if name.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            field,
            format!("longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(field, "contains control characters"));
    }
    crate::text::TextKind::Name
        .check(name)
        .map_err(|e| FieldError::new(field, e.to_string()))
}

impl Product {
    /// Every rule a product must satisfy before it is stored or sold.
    pub fn validate(&self) -> Result<(), FieldError> {
        let sku = self.sku.trim();
        if sku.is_empty() {
            return Err(FieldError::new("sku", "must not be empty"));
        }
        if sku.len() > 60 || crate::text::TextKind::Sku.check(sku).is_err() {
            return Err(FieldError::new("sku", "at most 60 printable characters"));
        }
        validate_name("name", &self.name)?;
        if self.price.is_negative() {
            return Err(FieldError::new("price", "must not be negative"));
        }
        self.fiscal.validate()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample_product(name: &str, price_centavos: i64) -> Product {
        Product {
            id: ProductId::new(),
            sku: format!("SKU-{}", name.len()),
            gtin: Some(Gtin::parse("7891000315507").expect("valid")),
            name: name.to_owned(),
            unit: Unit::Each,
            price: Money::from_centavos(price_centavos),
            fiscal: FiscalData::simples_nacional("19052090"),
            active: true,
            version: 0,
        }
    }

    #[test]
    fn a_typical_product_is_valid() {
        assert_eq!(sample_product("Pão Francês", 1299).validate(), Ok(()));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Mutate = Box<dyn Fn(&mut Product)>;
        let cases: Vec<(&str, Mutate)> = vec![
            ("name", Box::new(|p| p.name = "   ".into())),
            ("name", Box::new(|p| p.name = "x".repeat(121))),
            ("name", Box::new(|p| p.name = "a\nb".into())),
            ("sku", Box::new(|p| p.sku = String::new())),
            ("price", Box::new(|p| p.price = Money::from_centavos(-1))),
            ("ncm", Box::new(|p| p.fiscal.ncm = "1905209".into())),
            ("cfop", Box::new(|p| p.fiscal.cfop = "1102".into())),
            ("cest", Box::new(|p| p.fiscal.cest = Some("12".into()))),
            ("origin", Box::new(|p| p.fiscal.origin = 9)),
            (
                "icms_csosn",
                Box::new(|p| p.fiscal.icms = IcmsTaxation::Csosn("999".into())),
            ),
            (
                "icms_cst",
                Box::new(|p| p.fiscal.icms = IcmsTaxation::Cst("99".into())),
            ),
            ("icms_rate", Box::new(|p| p.fiscal.icms_rate_bp = 10_001)),
            ("pis_cst", Box::new(|p| p.fiscal.pis_cst = "00".into())),
            ("cofins_cst", Box::new(|p| p.fiscal.cofins_cst = "1".into())),
            (
                "cofins_rate",
                Box::new(|p| p.fiscal.cofins_rate_bp = 20_000),
            ),
        ];
        for (field, mutate) in cases {
            let mut p = sample_product("Café", 1000);
            mutate(&mut p);
            assert_eq!(p.validate().map_err(|e| e.field), Err(field));
        }
    }

    #[test]
    fn normal_regime_cst_is_accepted() {
        let mut p = sample_product("Cerveja", 599);
        p.fiscal.icms = IcmsTaxation::Cst("60".into());
        p.fiscal.cest = Some("0302100".into());
        assert_eq!(p.validate(), Ok(()));
    }
}
