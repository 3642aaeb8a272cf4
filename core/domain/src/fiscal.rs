//! What the rest of the system needs to know about a sale's fiscal document (NFC-e), without the
//! document itself (that is tenda-fiscal's job).

use serde::{Deserialize, Serialize};

/// NFC-e `tpEmis`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmissionType {
    /// 1: transmitted before the receipt prints.
    Normal,
    /// 9: offline contingency, issued locally and transmitted later.
    OfflineContingency,
}

impl EmissionType {
    pub fn code(self) -> u8 {
        match self {
            EmissionType::Normal => 1,
            EmissionType::OfflineContingency => 9,
        }
    }

    pub fn from_code(code: u8) -> Option<EmissionType> {
        match code {
            1 => Some(EmissionType::Normal),
            9 => Some(EmissionType::OfflineContingency),
            _ => None,
        }
    }
}

/// Where a fiscal document stands with the tax authority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FiscalStatus {
    /// Signed, waiting to be transmitted (normal emission).
    Pending,
    /// Issued in offline contingency, waiting to be transmitted before its deadline.
    Contingency,
    /// Authorized (cStat 100/150).
    Authorized,
    /// Rejected; must be corrected and re-signed with the same number.
    Rejected,
    /// Denied (uso denegado); the number is spent.
    Denied,
    /// Cancelled after authorization (event 110111).
    Cancelled,
}

impl FiscalStatus {
    pub const ALL: [FiscalStatus; 6] = [
        FiscalStatus::Pending,
        FiscalStatus::Contingency,
        FiscalStatus::Authorized,
        FiscalStatus::Rejected,
        FiscalStatus::Denied,
        FiscalStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FiscalStatus::Pending => "pending",
            FiscalStatus::Contingency => "contingency",
            FiscalStatus::Authorized => "authorized",
            FiscalStatus::Rejected => "rejected",
            FiscalStatus::Denied => "denied",
            FiscalStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<FiscalStatus> {
        FiscalStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the document still has to go to the tax authority.
    pub fn awaits_transmission(self) -> bool {
        matches!(
            self,
            FiscalStatus::Pending | FiscalStatus::Contingency | FiscalStatus::Rejected
        )
    }
}

/// The identity and state of a sale's fiscal document, as carried in sync mutations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiscalDocumentRef {
    /// 65 for NFC-e.
    pub model: u8,
    pub series: u16,
    pub number: u32,
    /// The 44-digit access key (chave de acesso).
    pub access_key: String,
    pub emission: EmissionType,
    pub status: FiscalStatus,
}
