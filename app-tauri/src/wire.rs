//! What crosses the IPC boundary besides the core's own records: the error every command
//! returns (a stable code the UI translates, and the fields it interpolates), the app's
//! start-up facts, and the few arguments that have no core type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tenda_pos::PosError;
use ts_rs::TS;

/// A refused or failed command. `code` is stable (the UI translates it); `fields` carry the
/// data a message needs (attempts left, lockout end, which field, which limit); `message` is
/// English, for logs only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct UiError {
    pub code: String,
    pub fields: BTreeMap<String, String>,
    pub message: String,
}

impl UiError {
    pub fn new(code: &str, message: impl std::fmt::Display) -> Self {
        UiError {
            code: code.to_owned(),
            fields: BTreeMap::new(),
            message: message.to_string(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.fields.insert(key.to_owned(), value.into());
        self
    }
}

impl From<PosError> for UiError {
    /// The error's structured fields, as the core serializes them, become the message's
    /// fields (numbers and dates as text); a limit is named by its stable code.
    fn from(e: PosError) -> Self {
        let mut base = UiError::new(e.code(), &e);
        if let Ok(serde_json::Value::Object(tagged)) = serde_json::to_value(&e) {
            for (_, body) in tagged {
                let serde_json::Value::Object(fields) = body else {
                    continue;
                };
                for (key, value) in fields {
                    let text = match value {
                        serde_json::Value::Null => continue,
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    base = base.with(&key, text);
                }
            }
        }
        if let PosError::LimitExceeded { limit, .. } = &e {
            base = base.with("limit", limit.code());
        }
        base
    }
}

pub type UiResult<T> = Result<T, UiError>;

/// A demo user, shown on the sign-in screen with their PIN.
#[derive(Clone, Debug, Serialize, TS)]
pub struct DemoUser {
    pub name: String,
    pub login: String,
    pub role: String,
    pub pin: String,
}

/// What the window needs to know at start.
#[derive(Clone, Debug, Serialize, TS)]
pub struct AppInfo {
    pub store_name: String,
    pub device_name: String,
    pub server_url: String,
    /// The store's locale and currency: money, quantities and dates are shown in them whatever
    /// language the person reads.
    pub locale: String,
    pub currency: String,
    /// Demo mode: the people and codes to try, the owner's back-office password.
    pub demo: Option<DemoInfo>,
}

#[derive(Clone, Debug, Serialize, TS)]
pub struct DemoInfo {
    pub users: Vec<DemoUser>,
    pub owner_login: String,
    pub owner_password: String,
    /// A few barcodes from the sample catalog, and a scale label.
    pub sample_codes: Vec<String>,
    pub catalog_size: u32,
    pub link_up: bool,
}

/// A manager's credentials typed into an approval dialog.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct ApprovalInput {
    pub login: String,
    pub pin: String,
}

impl ApprovalInput {
    pub fn approval(&self) -> tenda_pos::Approval {
        tenda_pos::Approval {
            login: self.login.clone(),
            secret: tenda_pos::credentials::Secret::Pin(self.pin.clone()),
        }
    }
}

/// Converts an optional approval for the core's `Option<&Approval>` arguments.
pub fn approval(a: &Option<ApprovalInput>) -> Option<tenda_pos::Approval> {
    a.as_ref().map(ApprovalInput::approval)
}

/// A counted amount for one payment kind when closing the register.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct CountedAmount {
    pub kind: tenda_pos::register::PaymentKind,
    pub amount: tenda_domain::Money,
}

/// A Bluetooth device seen by a scan.
#[derive(Clone, Debug, Serialize, TS)]
pub struct BluetoothDevice {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub simulated: bool,
    pub paired: bool,
}

/// One row the back office could not import, and why (the rest were imported).
#[derive(Clone, Debug, Serialize, TS)]
pub struct ImportRowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u32,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, TS)]
pub struct ImportReport {
    pub imported: u32,
    pub errors: Vec<ImportRowError>,
}

/// A customer as the back office edits it.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct CustomerInput {
    pub id: Option<String>,
    pub name: String,
    pub tax_id: Option<String>,
    pub overdraft_limit: tenda_domain::Money,
    pub version: Option<i64>,
}

/// A new user for the tills.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct UserInput {
    pub name: String,
    pub login: String,
    pub role: String,
    pub secret: String,
}

/// Whether closing the window may lose work.
#[derive(Clone, Debug, Serialize, TS)]
pub struct QuitCheck {
    pub unsynced_sales: u32,
    pub pending_notes: u32,
}

/// The owner's back-office credentials, approving the register's reports.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct OwnerInput {
    pub login: String,
    pub password: String,
}

impl OwnerInput {
    pub fn approval(&self) -> tenda_pos::Approval {
        tenda_pos::Approval {
            login: self.login.clone(),
            secret: tenda_pos::credentials::Secret::Password(self.password.clone()),
        }
    }
}

/// What the register itself reports to the owner.
#[derive(Clone, Debug, Serialize, TS)]
pub struct RegisterReports {
    pub sales_by_method: Vec<tenda_pos::reports::SalesByMethodRow>,
    pub contingency_notes: Vec<tenda_pos::reports::ContingencyNoteRow>,
    pub audit: tenda_pos::AuditReport,
}

#[cfg(test)]
mod tests {
    use super::*;

    // The UI branches on `code` and interpolates `fields`; both must carry the core's data.
    #[test]
    fn a_refusal_keeps_its_code_and_fields() {
        let e = UiError::from(PosError::WrongCredentials {
            remaining_attempts: 3,
        });
        assert_eq!(e.code, "wrong_credentials");
        assert_eq!(e.fields["remaining_attempts"], "3");

        let e = UiError::from(PosError::LockedOut {
            until: "2026-01-01T10:00:00Z".parse().expect("an RFC 3339 instant"),
        });
        assert_eq!(e.code, "locked_out");
        assert_eq!(e.fields["until"], "2026-01-01T10:00:00Z");

        let e = UiError::from(PosError::invalid("consumer_tax_id", "check digits"));
        assert_eq!(e.code, "invalid_input");
        assert_eq!(e.fields["field"], "consumer_tax_id");

        let e = UiError::from(PosError::ContingencyRequired);
        assert_eq!(e.code, "contingency_required");
        assert!(e.fields.is_empty());
    }

    #[test]
    fn errors_serialize_as_the_ui_reads_them() {
        let json = serde_json::to_value(UiError::from(PosError::offline("pix", "no link")))
            .expect("serializes");
        assert_eq!(json["code"], "offline");
        assert_eq!(json["fields"]["what"], "pix");
        assert_eq!(json["fields"]["why"], "no link");
    }
}
