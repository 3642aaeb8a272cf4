//! NFeInutilizacao4 (`inutNFe` → `retInutNFe`): voiding unused number ranges.

use chrono::{DateTime, FixedOffset};

use super::authorization::standalone_xml;
use super::error::{RequestError, ResponseError};
use super::soap::{Answer, fields};
use super::status_codes::Status;
use super::xml::{self, NFE_NS};

/// Answer to an inutilização request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InutilizationAnswer {
    /// 102: range voided; anything else is a rejection.
    pub status: Status,
    pub protocol_number: Option<String>,
    pub received_at: DateTime<FixedOffset>,
    /// The `retInutNFe` element as received, for the `procInutNFe`.
    pub xml: String,
}

impl InutilizationAnswer {
    pub fn is_voided(&self) -> bool {
        self.status.code == 102
    }
}

pub(crate) fn request(signed_inut: &str) -> Result<String, RequestError> {
    let inut = xml::strip_declaration(signed_inut).trim_end();
    if !inut.starts_with("<inutNFe") {
        return Err(RequestError::InvalidInput {
            field: "inutNFe".into(),
            reason: "expected a signed <inutNFe> document".into(),
        });
    }
    Ok(inut.to_string())
}

pub(crate) fn parse(answer: &Answer) -> Result<InutilizationAnswer, ResponseError> {
    let ret = answer.message("retInutNFe")?;
    let info = fields::child(ret, "infInut")?;
    fields::environment(info)?;
    Ok(InutilizationAnswer {
        status: Status::from_element(info)?,
        protocol_number: fields::optional_digits(info, "nProt", 15..=15)?,
        received_at: fields::date_time(info, "dhRecbto")?,
        xml: standalone_xml(answer, ret),
    })
}

/// The `ProcInutNFe` (the schema's capitalization) to store: the signed request and SEFAZ's answer.
pub fn inutilization_proc(signed_inut: &str, ret_inut: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><ProcInutNFe xmlns="{NFE_NS}" versao="4.00">{}{}</ProcInutNFe>"#,
        xml::strip_declaration(signed_inut).trim_end(),
        ret_inut
    )
}
