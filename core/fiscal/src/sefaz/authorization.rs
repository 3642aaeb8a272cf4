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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sefaz::soap::read_answer;

    fn envelope(message: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><nfeResultMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4">{message}</nfeResultMsg></soap:Body></soap:Envelope>"#
        )
    }

    const KEY: &str = "35261106157250000116650010000000011000000019";

    fn prot(prefix: &str) -> String {
        format!(
            r#"<{prefix}protNFe versao="4.00"><{prefix}infProt Id="ID135260000000001"><{prefix}tpAmb>2</{prefix}tpAmb><{prefix}verAplic>SP_NFCE</{prefix}verAplic><{prefix}chNFe>{KEY}</{prefix}chNFe><{prefix}dhRecbto>2026-11-23T10:15:31-03:00</{prefix}dhRecbto><{prefix}nProt>135260000000001</{prefix}nProt><{prefix}digVal>abc=</{prefix}digVal><{prefix}cStat>100</{prefix}cStat><{prefix}xMotivo>Autorizado o uso da NF-e</{prefix}xMotivo></{prefix}infProt></{prefix}protNFe>"#
        )
    }

    fn sync_answer(prot: &str, root_attrs: &str) -> String {
        envelope(&format!(
            r#"<retEnviNFe {root_attrs} versao="4.00"><tpAmb>2</tpAmb><verAplic>SP_NFCE</verAplic><cStat>104</cStat><xMotivo>Lote processado</xMotivo><cUF>35</cUF><dhRecbto>2026-11-23T10:15:31-03:00</dhRecbto>{prot}</retEnviNFe>"#
        ))
    }

    #[test]
    fn synchronous_answer_keeps_the_protocol_as_received() {
        let text = sync_answer(&prot(""), r#"xmlns="http://www.portalfiscal.inf.br/nfe""#);
        let answer = read_answer(200, "application/soap+xml", text.as_bytes()).expect("valid");
        match parse_submission(&answer).expect("typed") {
            SubmissionAnswer::Processed { status, protocols } => {
                assert_eq!(status.code, 104);
                assert_eq!(protocols[0].access_key, KEY);
                assert_eq!(
                    protocols[0].protocol_number.as_deref(),
                    Some("135260000000001")
                );
                assert_eq!(protocols[0].xml, prot(""), "stored byte for byte");
            }
            other => panic!("expected Processed, got {other:?}"),
        }
    }

    #[test]
    fn prefixed_protocol_is_rewritten_in_the_default_namespace() {
        let text = sync_answer(
            &prot("n:"),
            r#"xmlns="http://www.portalfiscal.inf.br/nfe" xmlns:n="http://www.portalfiscal.inf.br/nfe""#,
        );
        let answer = read_answer(200, "application/soap+xml", text.as_bytes()).expect("valid");
        let SubmissionAnswer::Processed { protocols, .. } =
            parse_submission(&answer).expect("typed")
        else {
            panic!("expected Processed");
        };
        assert!(protocols[0].xml.starts_with(
            r#"<protNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><infProt"#
        ));
        assert!(
            !protocols[0].xml.contains("n:"),
            "no dangling prefixes in the stored XML"
        );
    }

    #[test]
    fn missing_or_invalid_fields_are_named() {
        let no_status = envelope(
            r#"<retEnviNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><tpAmb>2</tpAmb></retEnviNFe>"#,
        );
        let answer =
            read_answer(200, "application/soap+xml", no_status.as_bytes()).expect("envelope");
        assert_eq!(
            parse_submission(&answer),
            Err(ResponseError::MissingElement {
                element: "cStat".into(),
                parent: "retEnviNFe".into()
            })
        );
        let bad_status = envelope(
            r#"<retEnviNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><tpAmb>2</tpAmb><cStat>1x4</cStat></retEnviNFe>"#,
        );
        let answer =
            read_answer(200, "application/soap+xml", bad_status.as_bytes()).expect("envelope");
        assert!(
            matches!(parse_submission(&answer), Err(ResponseError::InvalidValue { element, .. }) if element == "cStat")
        );
        let bad_receipt = envelope(
            r#"<retEnviNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><tpAmb>2</tpAmb><cStat>103</cStat><infRec><nRec>12</nRec><tMed>1</tMed></infRec></retEnviNFe>"#,
        );
        let answer =
            read_answer(200, "application/soap+xml", bad_receipt.as_bytes()).expect("envelope");
        assert!(
            matches!(parse_submission(&answer), Err(ResponseError::InvalidValue { element, .. }) if element == "nRec")
        );
    }

    #[test]
    fn lote_requests_respect_sefaz_limits() {
        let note = r#"<NFe xmlns="http://www.portalfiscal.inf.br/nfe"><infNFe Id="NFe1"/></NFe>"#;
        assert!(submission_request(1, false, &[note; 50]).is_ok());
        assert!(
            submission_request(1, false, &[note; 51]).is_err(),
            "at most 50 notes"
        );
        assert!(
            submission_request(1, true, &[note; 2]).is_err(),
            "indSinc=1 takes one note"
        );
        assert!(submission_request(1, false, &[]).is_err());
        assert!(
            submission_request(1, false, &["<evento/>"]).is_err(),
            "only NFe documents"
        );
        let big = format!(
            r#"<NFe xmlns="http://www.portalfiscal.inf.br/nfe">{}</NFe>"#,
            "x".repeat(MAX_LOTE_BYTES)
        );
        assert!(
            submission_request(1, false, &[big.as_str()]).is_err(),
            "at most 500 KB"
        );
    }
}
