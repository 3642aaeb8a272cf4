//! Catalog import from a CSV file as ERPs export it: header-named columns (English or
//! Portuguese names), `;` or `,` separated, UTF-8 or Latin-1. Each bad row is reported with its
//! line number and the field at fault; the good rows are imported in batched transactions, and a
//! batch is never left half-written.

use std::collections::HashMap;

use diesel::prelude::*;
use encoding_rs::WINDOWS_1252;
use tenda_domain::{FiscalData, Gtin, IcmsTaxation, Money, Product, ProductId, Unit};
use unicode_normalization::UnicodeNormalization;

use crate::catalog::{FtsChange, flush_fts, upsert_product};
use crate::error::{Error, Result};
use crate::schema::products;
use crate::store::Store;

/// The text encoding the file turned out to be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// ISO-8859-1 / Windows-1252, what many Brazilian ERPs export.
    Latin1,
}

/// A problem with the file as a whole: nothing is imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsvFileError {
    #[error("the file is empty")]
    Empty,
    #[error("unknown column `{name}` (column {column})")]
    UnknownColumn { name: String, column: usize },
    #[error("required column `{0}` is missing")]
    MissingColumn(&'static str),
    #[error("column `{0}` appears twice")]
    DuplicateColumn(&'static str),
    #[error("line {line}: {reason}")]
    Malformed { line: u64, reason: String },
}

/// A row that was not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvRowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub field: &'static str,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvImportReport {
    pub encoding: TextEncoding,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub errors: Vec<CsvRowError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Column {
    Sku,
    Name,
    Price,
    Unit,
    Gtin,
    Ncm,
    Cfop,
    Cest,
    Origin,
    Csosn,
    Cst,
    IcmsRate,
    PisCst,
    PisRate,
    CofinsCst,
    CofinsRate,
    Active,
}

impl Column {
    fn field(self) -> &'static str {
        match self {
            Column::Sku => "sku",
            Column::Name => "name",
            Column::Price => "price",
            Column::Unit => "unit",
            Column::Gtin => "gtin",
            Column::Ncm => "ncm",
            Column::Cfop => "cfop",
            Column::Cest => "cest",
            Column::Origin => "origin",
            Column::Csosn => "csosn",
            Column::Cst => "cst",
            Column::IcmsRate => "icms_rate",
            Column::PisCst => "pis_cst",
            Column::PisRate => "pis_rate",
            Column::CofinsCst => "cofins_cst",
            Column::CofinsRate => "cofins_rate",
            Column::Active => "active",
        }
    }

    /// Header names accepted for each column (compared without accents, case or spaces).
    fn from_header(name: &str) -> Option<Column> {
        Some(match name {
            "sku" | "codigo" | "cod" | "codigo_interno" => Column::Sku,
            "name" | "nome" | "descricao" | "produto" => Column::Name,
            "price" | "preco" | "preco_venda" | "valor" | "valor_venda" => Column::Price,
            "unit" | "unidade" | "un" | "und" => Column::Unit,
            "gtin" | "ean" | "barcode" | "codigo_barras" | "codigo_de_barras" => Column::Gtin,
            "ncm" => Column::Ncm,
            "cfop" => Column::Cfop,
            "cest" => Column::Cest,
            "origin" | "origem" => Column::Origin,
            "csosn" => Column::Csosn,
            "cst" | "cst_icms" | "icms_cst" => Column::Cst,
            "icms_rate" | "aliquota_icms" | "icms" => Column::IcmsRate,
            "pis_cst" | "cst_pis" => Column::PisCst,
            "pis_rate" | "aliquota_pis" => Column::PisRate,
            "cofins_cst" | "cst_cofins" => Column::CofinsCst,
            "cofins_rate" | "aliquota_cofins" => Column::CofinsRate,
            "active" | "ativo" => Column::Active,
            _ => return None,
        })
    }
}

fn normalize_header(h: &str) -> String {
    h.trim()
        .nfd()
        .filter(|c| c.is_ascii())
        .collect::<String>()
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// UTF-8 (with or without BOM) when the bytes are valid UTF-8, else Latin-1.
pub fn decode_text(bytes: &[u8]) -> (String, TextEncoding) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), TextEncoding::Utf8),
        Err(_) => {
            let (text, _, _) = WINDOWS_1252.decode(bytes);
            (text.into_owned(), TextEncoding::Latin1)
        }
    }
}

fn detect_delimiter(header_line: &str) -> u8 {
    let count = |c| header_line.matches(c).count();
    [';', ',', '\t']
        .into_iter()
        .max_by_key(|c| count(*c))
        .map(|c| c as u8)
        .unwrap_or(b',')
}

/// A percentage like `18`, `18,5` or `7.60` as basis points.
fn percent_bp(text: &str) -> std::result::Result<u32, String> {
    let m: Money = text
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage"))?;
    u32::try_from(m.centavos()).map_err(|_| "must not be negative".to_owned())
}

fn parse_bool(text: &str) -> std::result::Result<bool, String> {
    match normalize_header(text).as_str() {
        "1" | "s" | "sim" | "y" | "yes" | "true" | "ativo" => Ok(true),
        "0" | "n" | "nao" | "no" | "false" | "inativo" => Ok(false),
        _ => Err(format!("`{text}` is not yes/no")),
    }
}

type RowResult = std::result::Result<Product, (&'static str, String)>;

fn row_to_product(
    get: &dyn Fn(Column) -> Option<String>,
    existing_id: Option<ProductId>,
) -> RowResult {
    let err = |c: Column, r: String| (c.field(), r);
    let required = |c: Column| {
        get(c)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| err(c, "is empty".into()))
    };
    let sku = required(Column::Sku)?;
    let name = required(Column::Name)?;
    let price_text = required(Column::Price)?;
    let price: Money = price_text
        .parse()
        .map_err(|e: tenda_domain::MoneyError| err(Column::Price, e.to_string()))?;
    let unit = match get(Column::Unit).filter(|v| !v.is_empty()) {
        Some(u) => Unit::from_code(&u).map_err(|e| err(Column::Unit, e.to_string()))?,
        None => Unit::Each,
    };
    let gtin =
        match get(Column::Gtin).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("SEM GTIN")) {
            Some(g) => Some(Gtin::parse_any(&g).map_err(|e| err(Column::Gtin, e.to_string()))?),
            None => None,
        };
    let or = |c: Column, default: &str| {
        get(c)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    let icms = match (
        get(Column::Csosn).filter(|v| !v.is_empty()),
        get(Column::Cst).filter(|v| !v.is_empty()),
    ) {
        (Some(_), Some(_)) => {
            return Err(err(
                Column::Cst,
                "give either CSOSN or CST, not both".into(),
            ));
        }
        (Some(c), None) => IcmsTaxation::Csosn(c),
        (None, Some(c)) => IcmsTaxation::Cst(format!("{c:0>2}")),
        (None, None) => IcmsTaxation::Csosn("102".into()),
    };
    let rate = |c: Column| match get(c).filter(|v| !v.is_empty()) {
        Some(v) => percent_bp(&v).map_err(|r| err(c, r)),
        None => Ok(0),
    };
    let fiscal = FiscalData {
        ncm: required(Column::Ncm)?.replace('.', ""),
        cfop: or(Column::Cfop, "5102"),
        cest: get(Column::Cest)
            .filter(|v| !v.is_empty())
            .map(|v| v.replace('.', "")),
        origin: or(Column::Origin, "0")
            .parse()
            .map_err(|_| err(Column::Origin, "must be 0-8".into()))?,
        icms,
        icms_rate_bp: rate(Column::IcmsRate)?,
        pis_cst: format!("{:0>2}", or(Column::PisCst, "49")),
        pis_rate_bp: rate(Column::PisRate)?,
        cofins_cst: format!("{:0>2}", or(Column::CofinsCst, "49")),
        cofins_rate_bp: rate(Column::CofinsRate)?,
    };
    let active = match get(Column::Active).filter(|v| !v.is_empty()) {
        Some(v) => parse_bool(&v).map_err(|r| err(Column::Active, r))?,
        None => true,
    };
    let product = Product {
        id: existing_id.unwrap_or_default(),
        sku,
        gtin,
        name,
        unit,
        price,
        fiscal,
        active,
        version: 0,
    };
    product.validate().map_err(|e| (e.field, e.reason))?;
    Ok(product)
}

const IMPORT_BATCH: usize = 2_000;

impl Store {
    /// Imports a catalog CSV. Rows are matched to existing products by SKU (updated in place) or
    /// created. A file-level problem (encoding aside, unknown or missing columns) imports
    /// nothing; row problems are reported per line and the other rows are imported.
    pub fn import_catalog_csv(&mut self, bytes: &[u8]) -> Result<CsvImportReport> {
        let (text, encoding) = decode_text(bytes);
        let first_line = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .ok_or(Error::Csv(CsvFileError::Empty))?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(detect_delimiter(first_line))
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| {
                Error::Csv(CsvFileError::Malformed {
                    line: 1,
                    reason: e.to_string(),
                })
            })?
            .clone();
        let mut columns: HashMap<Column, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let col = Column::from_header(&normalize_header(h)).ok_or_else(|| {
                Error::Csv(CsvFileError::UnknownColumn {
                    name: h.to_owned(),
                    column: i + 1,
                })
            })?;
            if columns.insert(col, i).is_some() {
                return Err(Error::Csv(CsvFileError::DuplicateColumn(col.field())));
            }
        }
        for required in [Column::Sku, Column::Name, Column::Price, Column::Ncm] {
            if !columns.contains_key(&required) {
                return Err(Error::Csv(CsvFileError::MissingColumn(required.field())));
            }
        }

        let mut report = CsvImportReport {
            encoding,
            rows: 0,
            created: 0,
            updated: 0,
            errors: Vec::new(),
        };
        let mut seen_sku: HashMap<String, u64> = HashMap::new();
        let mut seen_gtin: HashMap<String, u64> = HashMap::new();
        let mut batch: Vec<(Product, bool)> = Vec::with_capacity(IMPORT_BATCH);
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    report.errors.push(CsvRowError {
                        line,
                        field: "row",
                        reason: "not valid CSV".into(),
                    });
                    continue;
                }
            };
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if record.iter().all(str::is_empty) {
                continue;
            }
            report.rows += 1;
            if record.len() != headers.len() {
                report.errors.push(CsvRowError {
                    line,
                    field: "row",
                    reason: format!(
                        "has {} fields, the header has {}",
                        record.len(),
                        headers.len()
                    ),
                });
                continue;
            }
            let get = |c: Column| {
                columns
                    .get(&c)
                    .and_then(|i| record.get(*i))
                    .map(str::to_owned)
            };
            let sku = get(Column::Sku).unwrap_or_default();
            if let Some(first) = seen_sku.get(&sku) {
                report.errors.push(CsvRowError {
                    line,
                    field: "sku",
                    reason: format!("repeats line {first}"),
                });
                continue;
            }
            let existing = self.product_by_sku(&sku)?;
            let product = match row_to_product(&get, existing.as_ref().map(|p| p.id)) {
                Ok(p) => p,
                Err((field, reason)) => {
                    report.errors.push(CsvRowError {
                        line,
                        field,
                        reason,
                    });
                    continue;
                }
            };
            if let Some(g) = &product.gtin {
                if let Some(first) = seen_gtin.get(g.as_str()) {
                    report.errors.push(CsvRowError {
                        line,
                        field: "gtin",
                        reason: format!("repeats line {first}"),
                    });
                    continue;
                }
                let owner: Option<Vec<u8>> = products::table
                    .filter(products::gtin.eq(g.as_str()))
                    .select(products::id)
                    .first(&mut self.conn)
                    .optional()?;
                if owner.is_some_and(|id| id != product.id.as_bytes().to_vec()) {
                    report.errors.push(CsvRowError {
                        line,
                        field: "gtin",
                        reason: "belongs to another product".into(),
                    });
                    continue;
                }
                seen_gtin.insert(g.as_str().to_owned(), line);
            }
            seen_sku.insert(sku, line);
            batch.push((product, existing.is_some()));
            if batch.len() >= IMPORT_BATCH {
                self.import_batch(&mut batch, &mut report)?;
            }
        }
        self.import_batch(&mut batch, &mut report)?;
        Ok(report)
    }

    fn import_batch(
        &mut self,
        batch: &mut Vec<(Product, bool)>,
        report: &mut CsvImportReport,
    ) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let written = self.write(|c| {
            let mut fts: Vec<FtsChange> = Vec::new();
            for (p, _) in batch.iter() {
                fts.extend(upsert_product(c, p, false)?.fts);
            }
            flush_fts(c, &mut fts)
        });
        self.catalog_epoch.advance();
        written?;
        for (_, existed) in batch.drain(..) {
            if existed {
                report.updated += 1;
            } else {
                report.created += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_without_accents_case_or_spaces() {
        assert_eq!(
            Column::from_header(&normalize_header(" Descrição ")),
            Some(Column::Name)
        );
        assert_eq!(
            Column::from_header(&normalize_header("Código de Barras")),
            Some(Column::Gtin)
        );
        assert_eq!(
            Column::from_header(&normalize_header("PREÇO")),
            Some(Column::Price)
        );
        assert_eq!(Column::from_header(&normalize_header("cor")), None);
    }

    #[test]
    fn latin1_is_detected_when_the_bytes_are_not_utf8() {
        assert_eq!(
            decode_text(b"P\xE3o"),
            ("Pão".to_owned(), TextEncoding::Latin1)
        );
        assert_eq!(
            decode_text("\u{FEFF}Pão".as_bytes()),
            ("Pão".to_owned(), TextEncoding::Utf8)
        );
    }

    #[test]
    fn percentages_become_basis_points() {
        assert_eq!(percent_bp("18"), Ok(1800));
        assert_eq!(percent_bp("7,6"), Ok(760));
        assert_eq!(percent_bp("1.65%"), Ok(165));
        assert!(percent_bp("-1").is_err());
        assert!(percent_bp("abc").is_err());
    }
}
