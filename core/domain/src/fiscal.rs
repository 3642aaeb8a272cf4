//! What the rest of the system needs to know about a sale's fiscal document (NFC-e), without the
//! document itself (that is tenda-fiscal's job).

use serde::{Deserialize, Serialize};

/// NFC-e `tpEmis`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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

/// Why a text is not an access key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessKeyError {
    #[error("an access key has 44 characters, got {0}")]
    Length(usize),
    #[error("character {0} is not allowed there (digits; letters only inside the CNPJ)")]
    Character(usize),
    #[error("the check digit does not match")]
    CheckDigit,
}

/// Mod-11 check digit over the first 43 characters of an access key (value = ASCII − 48, so the
/// letters of an alphanumeric CNPJ count as `A` = 17).
pub fn access_key_check_digit(first43: &[u8]) -> u8 {
    let mut weight = 2u32;
    let mut sum = 0u32;
    for b in first43.iter().rev() {
        sum += u32::from(b.wrapping_sub(b'0')) * weight;
        weight = if weight == 9 { 2 } else { weight + 1 };
    }
    let r = sum % 11;
    if r < 2 { 0 } else { (11 - r) as u8 }
}

/// Checks that `key` is an NF-e/NFC-e access key: 44 characters, digits except the CNPJ
/// (positions 7–20, which may hold upper-case letters), and a matching check digit.
pub fn check_access_key(key: &str) -> Result<(), AccessKeyError> {
    let b = key.as_bytes();
    if b.len() != 44 {
        return Err(AccessKeyError::Length(key.chars().count()));
    }
    for (i, c) in b.iter().enumerate() {
        let ok = c.is_ascii_digit() || ((6..20).contains(&i) && c.is_ascii_uppercase());
        if !ok {
            return Err(AccessKeyError::Character(i + 1));
        }
    }
    if b[43] - b'0' != access_key_check_digit(&b[..43]) {
        return Err(AccessKeyError::CheckDigit);
    }
    Ok(())
}
