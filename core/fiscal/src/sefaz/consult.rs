//! NFeConsultaProtocolo4 (`consSitNFe` → `retConsSitNFe`): what SEFAZ knows about one key.

use super::authorization::{NoteProtocol, parse_protocol, standalone_xml};
use super::endpoints::Environment;
use super::error::{RequestError, ResponseError};
use super::soap::{Answer, fields};
use super::status_codes::Status;
use super::xml::NFE_NS;

/// Answer of a protocol query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolQuery {
    /// 100/150 authorized; 101/151/155 cancelled; 110/301/302 denied; 217 not in the database;
    /// 108/109 paused; 656 consumption block; others are about the query itself.
    pub status: Status,
    pub access_key: String,
    /// The authorization (or denial) protocol, when SEFAZ has one.
    pub protocol: Option<NoteProtocol>,
    /// Each `procEventoNFe` registered for the note (cancellations…), as received.
    pub events: Vec<String>,
}

impl ProtocolQuery {
    /// SEFAZ has no note with this key: sending it is safe.
    pub fn is_unknown(&self) -> bool {
        self.status.code == 217
    }
}

pub(crate) fn request(environment: Environment, access_key: &str) -> Result<String, RequestError> {
    if access_key.len() != 44 || !access_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RequestError::InvalidInput {
            field: "chNFe".into(),
            reason: "an access key has 44 characters".into(),
        });
    }
    Ok(format!(
        r#"<consSitNFe xmlns="{NFE_NS}" versao="4.00"><tpAmb>{}</tpAmb><xServ>CONSULTAR</xServ><chNFe>{access_key}</chNFe></consSitNFe>"#,
        environment.code()
    ))
}

pub(crate) fn parse(answer: &Answer) -> Result<ProtocolQuery, ResponseError> {
    let ret = answer.message("retConsSitNFe")?;
    fields::environment(ret)?;
    let protocol = ret
        .child("protNFe")
        .map(|p| parse_protocol(answer, p))
        .transpose()?;
    Ok(ProtocolQuery {
        status: Status::from_element(ret)?,
        access_key: fields::access_key(ret, "chNFe")?,
        protocol,
        events: ret
            .children_named("procEventoNFe")
            .map(|e| standalone_xml(answer, e))
            .collect(),
    })
}
