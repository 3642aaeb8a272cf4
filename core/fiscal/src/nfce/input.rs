//! The NFC-e input model: emitter settings, items with their fiscal data, payments, consumer.
//! Plain owned records so that the point of sale can map a sale onto them (and bindings can
//! expose them later).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use tenda_domain::Money;

use super::deadline::DeadlineRule;
use super::qr::QrVersion;
use super::state::Uf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Environment {
    /// tpAmb 1.
    Production,
    /// tpAmb 2.
    Homologation,
}

impl Environment {
    pub fn code(self) -> u8 {
        match self {
            Environment::Production => 1,
            Environment::Homologation => 2,
        }
    }
}

/// Código de Regime Tributário.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Crt {
    /// 1: Simples Nacional.
    SimplesNacional,
    /// 2: Simples Nacional, revenue above the sub-limit.
    SimplesNacionalExcesso,
    /// 3: Regime normal.
    Normal,
    /// 4: MEI.
    Mei,
}

impl Crt {
    pub fn code(self) -> u8 {
        match self {
            Crt::SimplesNacional => 1,
            Crt::SimplesNacionalExcesso => 2,
            Crt::Normal => 3,
            Crt::Mei => 4,
        }
    }

    /// Whether items carry a CSOSN (Simples Nacional) rather than a CST.
    pub fn uses_csosn(self) -> bool {
        matches!(self, Crt::SimplesNacional | Crt::Mei)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub number: String,
    pub complement: Option<String>,
    pub district: String,
    /// IBGE municipality code (7 digits), e.g. 3550308 for São Paulo.
    pub city_code: u32,
    pub city_name: String,
    pub uf: Uf,
    /// 8 digits.
    pub cep: Option<String>,
    pub phone: Option<String>,
}

/// Código de Segurança do Contribuinte, for QR code v2.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csc {
    /// cIdToken, e.g. 1.
    pub id: u32,
    pub token: String,
}

impl std::fmt::Debug for Csc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Csc")
            .field("id", &self.id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The software house responsible for the system (infRespTec), required by some states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TechResponsible {
    pub cnpj: String,
    pub contact: String,
    pub email: String,
    pub phone: String,
}

/// Everything about the store that every note repeats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmitterSettings {
    pub cnpj: String,
    /// Inscrição Estadual (digits).
    pub ie: String,
    pub legal_name: String,
    pub trade_name: Option<String>,
    pub crt: Crt,
    pub address: Address,
    pub environment: Environment,
    /// The device's series (each device owns its series).
    pub series: u16,
    /// Needed for QR v2; ignored for v3.
    pub csc: Option<Csc>,
    /// Overrides the state's default QR version.
    pub qr_version: Option<QrVersion>,
    /// Overrides the state's contingency deadline rule.
    pub contingency_deadline: Option<DeadlineRule>,
    pub tech_responsible: Option<TechResponsible>,
    /// verProc: the emitting application's version.
    pub software_version: String,
}

/// Normal (online) emission or offline contingency (tpEmis 9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Emission {
    Normal,
    Offline {
        /// dhCont: when the store entered contingency.
        since: DateTime<FixedOffset>,
        /// xJust: 15 to 256 characters.
        justification: String,
    },
}

impl Emission {
    pub fn type_code(&self) -> u8 {
        match self {
            Emission::Normal => 1,
            Emission::Offline { .. } => 9,
        }
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, Emission::Offline { .. })
    }
}

/// ICMS situation for Simples Nacional (CRT 1/4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Csosn {
    /// 102: taxed by the Simples without credit.
    C102,
    /// 103: exempt within the Simples revenue band.
    C103,
    /// 300: immune.
    C300,
    /// 400: not taxed.
    C400,
    /// 500: ICMS charged earlier by substitution.
    C500,
    /// 900: others (optionally with ICMS base and rate).
    C900,
}

impl Csosn {
    pub fn code(self) -> &'static str {
        match self {
            Csosn::C102 => "102",
            Csosn::C103 => "103",
            Csosn::C300 => "300",
            Csosn::C400 => "400",
            Csosn::C500 => "500",
            Csosn::C900 => "900",
        }
    }
}

/// ICMS situation for regime normal (CRT 2/3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IcmsCst {
    /// 00: fully taxed.
    C00,
    /// 20: taxed with a base reduction.
    C20,
    /// 40: exempt.
    C40,
    /// 41: not taxed.
    C41,
    /// 60: ICMS charged earlier by substitution.
    C60,
}

impl IcmsCst {
    pub fn code(self) -> &'static str {
        match self {
            IcmsCst::C00 => "00",
            IcmsCst::C20 => "20",
            IcmsCst::C40 => "40",
            IcmsCst::C41 => "41",
            IcmsCst::C60 => "60",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IcmsSituation {
    Csosn(Csosn),
    Cst(IcmsCst),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Icms {
    /// Origem da mercadoria, 0..8.
    pub origin: u8,
    pub situation: IcmsSituation,
    /// pICMS in basis points (1800 = 18 %): CST 00/20 and CSOSN 900 (0 = no ICMS group).
    pub rate_bp: u32,
    /// pRedBC in basis points for CST 20.
    pub base_reduction_bp: u32,
}

/// PIS or COFINS of one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PisCofins {
    /// CST: 01/02 (rate), 04–09 (not taxed), 49–99 (others).
    pub cst: u8,
    /// Rate in basis points (165 = 1.65 %); ignored for 04–09.
    pub rate_bp: u32,
}

impl PisCofins {
    /// CST 49 with zero rate: what Simples Nacional stores usually declare.
    pub const SIMPLES: PisCofins = PisCofins {
        cst: 49,
        rate_bp: 0,
    };
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NfceItem {
    /// cProd: the store's product code.
    pub code: String,
    /// GTIN/EAN (8, 12, 13 or 14 digits); `None` writes "SEM GTIN".
    pub gtin: Option<String>,
    /// xProd (1..120 characters).
    pub description: String,
    /// NCM, 8 digits.
    pub ncm: String,
    /// CEST, 7 digits (for goods under substitution).
    pub cest: Option<String>,
    /// CFOP, e.g. 5102 (sale) or 5405 (sale under ICMS-ST).
    pub cfop: u16,
    /// uCom, e.g. "UN", "KG".
    pub unit: String,
    /// Quantity in thousandths (1 unit = 1000; 1.250 kg = 1250).
    pub quantity_thousandths: i64,
    pub unit_price: Money,
    /// This line's share of discounts (item and sale discounts, already split).
    pub discount: Money,
    /// Other charges on this line (vOutro).
    pub other_charges: Money,
    pub icms: Icms,
    pub pis: PisCofins,
    pub cofins: PisCofins,
    /// Approximate taxes (Lei 12.741, IBPT), written as vTotTrib.
    pub approximate_taxes: Money,
    /// infAdProd.
    pub additional_info: Option<String>,
}

/// Card data (group `card`), required for credit and debit cards.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CardInfo {
    /// tpIntegra 1 (TEF integrated with the POS) or 2 (separate terminal).
    pub integrated: bool,
    /// CNPJ of the acquirer / payment institution.
    pub acquirer_cnpj: Option<String>,
    /// tBand: 01 Visa, 02 Mastercard, 03 Amex, 04 Sorocred, 05 Diners, 06 Elo, 07 Hipercard,
    /// 08 Aura, 09 Cabal, 99 others.
    pub brand: Option<String>,
    /// cAut: authorization code.
    pub authorization: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentMethod {
    /// 01.
    Cash,
    /// 03.
    CreditCard(CardInfo),
    /// 04.
    DebitCard(CardInfo),
    /// 05: store credit (crediário / customer account).
    StoreCredit,
    /// 17: PIX (dynamic); card data optional.
    Pix(Option<CardInfo>),
    /// 99 with a description (xPag).
    Other(String),
}

impl PaymentMethod {
    pub fn code(&self) -> &'static str {
        match self {
            PaymentMethod::Cash => "01",
            PaymentMethod::CreditCard(_) => "03",
            PaymentMethod::DebitCard(_) => "04",
            PaymentMethod::StoreCredit => "05",
            PaymentMethod::Pix(_) => "17",
            PaymentMethod::Other(_) => "99",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NfcePayment {
    pub method: PaymentMethod,
    /// vPag: the amount tendered with this method (cash may exceed the total: change).
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumerId {
    Cpf(String),
    Cnpj(String),
    Foreign(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumer {
    pub id: ConsumerId,
    pub name: Option<String>,
}

/// One NFC-e to build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NfceInput {
    pub emitter: EmitterSettings,
    /// nNF, from the per-series counter.
    pub number: u32,
    /// dhEmi, in the store's local offset.
    pub issued_at: DateTime<FixedOffset>,
    pub emission: Emission,
    /// cNF: `None` draws a random one; a re-signed correction passes the original.
    pub access_code: Option<u32>,
    /// natOp, "VENDA" by default.
    pub operation_nature: Option<String>,
    pub items: Vec<NfceItem>,
    pub payments: Vec<NfcePayment>,
    pub consumer: Option<Consumer>,
    /// infCpl: free text for the consumer (e.g. the Lei 12.741 message).
    pub additional_info: Option<String>,
}
