//! What receipts say: the DANFE NFC-e data and the plain sale ticket, as plain records the point
//! of sale fills (from the authorized fiscal document, or from the sale), and their layouts.

mod danfe;
mod ticket;

pub use danfe::layout_danfe;
pub use ticket::layout_ticket;

use serde::{Deserialize, Serialize};
use tenda_domain::Money;

use crate::text::MoneyFormat;

/// The issuing store (DANFE division I).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emitter {
    /// Razão social.
    pub legal_name: String,
    /// Nome fantasia, when the store uses one.
    pub trade_name: Option<String>,
    /// CNPJ, digits (or alphanumeric) only or already formatted.
    pub cnpj: String,
    /// Inscrição estadual.
    pub state_registration: Option<String>,
    /// Street, number, district, city and state, in one line (wrapped when printed).
    pub address: String,
}

/// One sold item (DANFE division II).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptItem {
    /// Product code as on the fiscal document (cProd or GTIN).
    pub code: String,
    pub description: String,
    /// Quantity in thousandths (`1000` = 1 unit, `1250` = 1,250 kg).
    pub quantity_thousandths: i64,
    /// `UN`, `KG`, `L`…
    pub unit: String,
    pub unit_price: Money,
    /// Quantity × unit price, before the item's discount.
    pub total: Money,
    /// Discount on this item (zero when none).
    pub discount: Money,
}

/// One payment (DANFE division III).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPayment {
    /// Printed name of the method: "Dinheiro", "Cartão de Crédito", "PIX"…
    pub method: String,
    pub amount: Money,
}

/// Totals (DANFE division III).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptTotals {
    /// Sum of the items (vProd).
    pub items_total: Money,
    /// Discounts (vDesc).
    pub discount: Money,
    /// Freight, insurance and other additions (vFrete + vSeg + vOutro).
    pub surcharge: Money,
    /// Amount to pay (vNF).
    pub amount_due: Money,
}

/// The identified consumer (DANFE division V). Absent: "CONSUMIDOR NÃO IDENTIFICADO".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptConsumer {
    /// `CPF`, `CNPJ` or `ID Estrangeiro`.
    pub id_kind: String,
    pub id: String,
    pub name: Option<String>,
    pub address: Option<String>,
}

/// SEFAZ authorization of the note (DANFE division VI).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    pub protocol: String,
    /// `dd/mm/aaaa hh:mm:ss`, store's local time.
    pub authorized_at: String,
}

/// SEFAZ environment the note was issued in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FiscalEnvironment {
    Production,
    /// Test environment: every DANFE says it has no fiscal value.
    Homologation,
}

/// How the note was issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Emission {
    /// Authorized by SEFAZ before printing.
    Normal,
    /// Offline contingency (tpEmis 9): printed before authorization.
    OfflineContingency,
}

/// Approximate taxes of the sale, Lei 12.741/2012 (DANFE division VIII).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproximateTaxes {
    pub federal: Money,
    pub state: Money,
    pub municipal: Money,
    /// Where the rates come from, e.g. "Fonte: IBPT".
    pub source: Option<String>,
}

/// Everything printed on a DANFE NFC-e.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Danfe {
    pub emitter: Emitter,
    pub items: Vec<ReceiptItem>,
    pub totals: ReceiptTotals,
    pub payments: Vec<ReceiptPayment>,
    /// Troco (vTroco).
    pub change: Money,
    /// The state's consultation URL (urlChave).
    pub consultation_url: String,
    /// The 44-character access key (chave de acesso).
    pub access_key: String,
    /// The QR code content (qrCode), printed byte for byte.
    pub qr_code: String,
    pub consumer: Option<ReceiptConsumer>,
    /// nNF
    pub number: u32,
    /// serie
    pub series: u16,
    /// dhEmi as `dd/mm/aaaa hh:mm:ss`, store's local time.
    pub issued_at: String,
    /// Absent while pending (contingency).
    pub authorization: Option<Authorization>,
    pub environment: FiscalEnvironment,
    pub emission: Emission,
    /// Messages of interest to the tax authority (infAdFisco).
    pub fiscal_messages: Vec<String>,
    /// Messages of interest to the taxpayer (infCpl).
    pub taxpayer_messages: Vec<String>,
    pub taxes: Option<ApproximateTaxes>,
}

/// How items appear on the DANFE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemDetail {
    /// Every item: code, description, quantity, unit, unit price, total.
    #[default]
    Full,
    /// The summarized DANFE: items left out, only their count (consumer's choice).
    Summarized,
}

/// Store settings for printing DANFEs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DanfeOptions {
    pub item_detail: ItemDetail,
    /// In offline contingency, print a second copy for the store to keep.
    pub store_copy_in_contingency: bool,
    /// Open the cash drawer after printing.
    pub open_drawer: bool,
}

/// A sale receipt for places without a fiscal receipt (or a non-fiscal copy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleTicket {
    pub store_name: String,
    /// Address, tax id, phone: one entry per printed line (wrapped when long).
    pub store_details: Vec<String>,
    /// e.g. "COMPROVANTE DE VENDA", "TICKET DE VENTA".
    pub title: String,
    /// The sale's reference as shown to the customer.
    pub sale_reference: String,
    /// `dd/mm/aaaa hh:mm`, store's local time.
    pub issued_at: String,
    pub seller: Option<String>,
    pub customer: Option<String>,
    pub items: Vec<ReceiptItem>,
    pub totals: ReceiptTotals,
    pub payments: Vec<ReceiptPayment>,
    pub change: Money,
    /// Closing lines ("Obrigado pela preferência!").
    pub footer: Vec<String>,
    pub money_format: MoneyFormat,
    /// Words printed on the ticket, in the store's language.
    pub labels: TicketLabels,
    pub open_drawer: bool,
}

/// Words of the sale ticket, so it can be printed in Portuguese or Spanish.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketLabels {
    pub sale: String,
    pub date: String,
    pub seller: String,
    pub customer: String,
    pub subtotal: String,
    pub discount: String,
    pub surcharge: String,
    pub total: String,
    pub change: String,
}

impl TicketLabels {
    pub fn portuguese() -> Self {
        TicketLabels {
            sale: "Venda".into(),
            date: "Data".into(),
            seller: "Vendedor".into(),
            customer: "Cliente".into(),
            subtotal: "Subtotal".into(),
            discount: "Desconto".into(),
            surcharge: "Acréscimo".into(),
            total: "TOTAL".into(),
            change: "Troco".into(),
        }
    }

    pub fn spanish() -> Self {
        TicketLabels {
            sale: "Venta".into(),
            date: "Fecha".into(),
            seller: "Vendedor".into(),
            customer: "Cliente".into(),
            subtotal: "Subtotal".into(),
            discount: "Descuento".into(),
            surcharge: "Recargo".into(),
            total: "TOTAL".into(),
            change: "Vuelto".into(),
        }
    }
}

/// A receipt that cannot be laid out, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
}
