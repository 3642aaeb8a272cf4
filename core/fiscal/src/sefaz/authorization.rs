//! NFeAutorizacao4 (`enviNFe` → `retEnviNFe`) and NFeRetAutorizacao4 (`consReciNFe` →
//! `retConsReciNFe`), and the per-note protocol (`protNFe`).

use chrono::{DateTime, FixedOffset};

use super::endpoints::Environment;
use super::error::{RequestError, ResponseError};
use super::soap::{Answer, fields};
use super::status_codes::Status;
use super::xml::{self, Element, NFE_NS};

/// Most notes one lote may carry.
pub const MAX_NOTES_PER_LOTE: usize = 50;
/// Largest `enviNFe` message SEFAZ accepts.
pub const MAX_LOTE_BYTES: usize = 500 * 1024;

/// SEFAZ's answer about one note (`protNFe`), with its XML exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteProtocol {
    pub access_key: String,
    pub status: Status,
    /// `nProt`: present when the note was authorized or denied.
    pub protocol_number: Option<String>,
    pub received_at: DateTime<FixedOffset>,
    /// `digVal`: the DigestValue of the note SEFAZ processed.
    pub digest_value: Option<String>,
    pub environment: Environment,
    /// The `protNFe` element, to be stored in the `nfeProc`.
    pub xml: String,
}

/// Answer to sending a lote (`retEnviNFe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmissionAnswer {
    /// 103: received for asynchronous processing; poll the receipt.
    Received { status: Status, receipt: Receipt },
    /// 104: processed synchronously; one protocol per note.
    Processed {
        status: Status,
        protocols: Vec<NoteProtocol>,
    },
    /// Any other code: the lote as a whole was not accepted (108/109, 656, 225, 2xx…).
    NotAccepted { status: Status },
}

/// A lote receipt (`infRec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub number: String,
    /// `tMed`: seconds SEFAZ expects to need; wait at least this long before polling.
    pub average_seconds: u32,
}

/// Answer to polling a receipt (`retConsReciNFe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptAnswer {
    /// 105: still processing.
    Processing { status: Status },
    /// 104: processed; one protocol per note.
    Processed {
        status: Status,
        protocols: Vec<NoteProtocol>,
    },
    /// 106 (receipt unknown) or another code about the poll itself.
    NotProcessed { status: Status },
}

/// Builds `enviNFe` from signed `<NFe>` documents.
pub(crate) fn submission_request(
    lote_id: u64,
    synchronous: bool,
    signed_notes: &[&str],
) -> Result<String, RequestError> {
    if signed_notes.is_empty() || signed_notes.len() > MAX_NOTES_PER_LOTE {
        return Err(RequestError::InvalidInput {
            field: "notes".into(),
            reason: format!(
                "a lote carries 1 to {MAX_NOTES_PER_LOTE} notes, got {}",
                signed_notes.len()
            ),
        });
    }
    if synchronous && signed_notes.len() != 1 {
        return Err(RequestError::InvalidInput {
            field: "indSinc".into(),
            reason: "synchronous processing takes exactly one note".into(),
        });
    }
    if lote_id == 0 || lote_id > 999_999_999_999_999 {
        return Err(RequestError::InvalidInput {
            field: "idLote".into(),
            reason: "must have 1 to 15 digits".into(),
        });
    }
    let mut out = format!(
        r#"<enviNFe xmlns="{NFE_NS}" versao="4.00"><idLote>{lote_id}</idLote><indSinc>{}</indSinc>"#,
        u8::from(synchronous)
    );
    for (i, note) in signed_notes.iter().enumerate() {
        let note = xml::strip_declaration(note);
        if !note.starts_with("<NFe") {
            return Err(RequestError::InvalidInput {
                field: format!("notes[{i}]"),
                reason: "expected a signed <NFe> document".into(),
            });
        }
        out.push_str(note.trim_end());
    }
    out.push_str("</enviNFe>");
    if out.len() > MAX_LOTE_BYTES {
        return Err(RequestError::InvalidInput {
            field: "notes".into(),
            reason: format!("lote of {} bytes exceeds {MAX_LOTE_BYTES}", out.len()),
        });
    }
    Ok(out)
}

pub(crate) fn parse_submission(answer: &Answer) -> Result<SubmissionAnswer, ResponseError> {
    let ret = answer.message("retEnviNFe")?;
    let status = Status::from_element(ret)?;
    fields::environment(ret)?;
    Ok(match status.code {
        103 => {
            let info = fields::child(ret, "infRec")?;
            SubmissionAnswer::Received {
                status,
                receipt: Receipt {
                    number: fields::digits(info, "nRec", 15..=15)?,
                    average_seconds: fields::digits(info, "tMed", 1..=4)?
                        .parse()
                        .expect("at most four digits fit u32"),
                },
            }
        }
        104 => SubmissionAnswer::Processed {
            protocols: protocols(answer, ret)?,
            status,
        },
        _ => SubmissionAnswer::NotAccepted { status },
    })
}

pub(crate) fn receipt_request(
    environment: Environment,
    receipt: &str,
) -> Result<String, RequestError> {
    if receipt.len() != 15 || !receipt.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::InvalidInput {
            field: "nRec".into(),
            reason: "a receipt number has 15 digits".into(),
        });
    }
    Ok(format!(
        r#"<consReciNFe xmlns="{NFE_NS}" versao="4.00"><tpAmb>{}</tpAmb><nRec>{receipt}</nRec></consReciNFe>"#,
        environment.code()
    ))
}

pub(crate) fn parse_receipt(answer: &Answer) -> Result<ReceiptAnswer, ResponseError> {
    let ret = answer.message("retConsReciNFe")?;
    let status = Status::from_element(ret)?;
    fields::environment(ret)?;
    Ok(match status.code {
        104 => ReceiptAnswer::Processed {
            protocols: protocols(answer, ret)?,
            status,
        },
        105 => ReceiptAnswer::Processing { status },
        _ => ReceiptAnswer::NotProcessed { status },
    })
}

fn protocols(answer: &Answer, ret: &Element) -> Result<Vec<NoteProtocol>, ResponseError> {
    ret.children_named("protNFe")
        .map(|p| parse_protocol(answer, p))
        .collect()
}

pub(crate) fn parse_protocol(
    answer: &Answer,
    prot: &Element,
) -> Result<NoteProtocol, ResponseError> {
    let info = fields::child(prot, "infProt")?;
    Ok(NoteProtocol {
        access_key: fields::access_key(info, "chNFe")?,
        status: Status::from_element(info)?,
        protocol_number: fields::optional_digits(info, "nProt", 15..=15)?,
        received_at: fields::date_time(info, "dhRecbto")?,
        digest_value: fields::optional(info, "digVal"),
        environment: fields::environment(info)?,
        xml: standalone_xml(answer, prot),
    })
}

/// The element's XML as received when it stands alone (default namespace, as SEFAZ sends);
/// otherwise rewritten in the default NF-e namespace so it can be embedded.
pub(crate) fn standalone_xml(answer: &Answer, element: &Element) -> String {
    let raw = answer.raw(element);
    let unprefixed = raw
        .strip_prefix('<')
        .and_then(|r| r.strip_prefix(element.name.as_str()))
        .is_some_and(|r| r.starts_with([' ', '>', '/', '\t', '\r', '\n']));
    if unprefixed {
        raw.to_string()
    } else {
        xml::serialize_in_default_namespace(element)
    }
}
