//! NFeRecepcaoEvento4 (`envEvento` → `retEnvEvento`): cancellations and other events.

use chrono::{DateTime, FixedOffset};

use super::authorization::standalone_xml;
use super::error::{RequestError, ResponseError};
use super::soap::{Answer, fields};
use super::status_codes::Status;
use super::xml::{self, NFE_NS};

/// Most events one `envEvento` may carry.
pub const MAX_EVENTS_PER_BATCH: usize = 20;

/// Answer to an event batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBatchAnswer {
    /// 128: batch processed (see each result); otherwise the batch was refused as a whole.
    pub status: Status,
    pub results: Vec<EventResult>,
}

/// SEFAZ's answer about one event (`retEvento`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventResult {
    /// 135 registered and linked; 136 registered, not linked; 155 cancellation out of time
    /// accepted; anything else is a rejection of this event.
    pub status: Status,
    pub access_key: Option<String>,
    pub event_type: Option<String>,
    pub sequence: Option<u32>,
    pub protocol_number: Option<String>,
    pub registered_at: Option<DateTime<FixedOffset>>,
    /// The `retEvento` element as received, for the `procEventoNFe`.
    pub xml: String,
}

impl EventResult {
    pub fn is_registered(&self) -> bool {
        matches!(self.status.code, 135 | 136 | 155)
    }
}

/// Builds `envEvento` from signed `<evento>` documents.
pub(crate) fn request(lote_id: u64, signed_events: &[&str]) -> Result<String, RequestError> {
    if signed_events.is_empty() || signed_events.len() > MAX_EVENTS_PER_BATCH {
        return Err(RequestError::InvalidInput {
            field: "events".into(),
            reason: format!("a batch carries 1 to {MAX_EVENTS_PER_BATCH} events"),
        });
    }
    if lote_id == 0 || lote_id > 999_999_999_999_999 {
        return Err(RequestError::InvalidInput {
            field: "idLote".into(),
            reason: "must have 1 to 15 digits".into(),
        });
    }
    let mut out =
        format!(r#"<envEvento xmlns="{NFE_NS}" versao="1.00"><idLote>{lote_id}</idLote>"#);
    for (i, event) in signed_events.iter().enumerate() {
        let event = xml::strip_declaration(event);
        if !event.starts_with("<evento") {
            return Err(RequestError::InvalidInput {
                field: format!("events[{i}]"),
                reason: "expected a signed <evento> document".into(),
            });
        }
        out.push_str(event.trim_end());
    }
    out.push_str("</envEvento>");
    Ok(out)
}

pub(crate) fn parse(answer: &Answer) -> Result<EventBatchAnswer, ResponseError> {
    let ret = answer.message("retEnvEvento")?;
    fields::environment(ret)?;
    let results = ret
        .children_named("retEvento")
        .map(|r| {
            let info = fields::child(r, "infEvento")?;
            Ok(EventResult {
                status: Status::from_element(info)?,
                access_key: match fields::optional(info, "chNFe") {
                    Some(_) => Some(fields::access_key(info, "chNFe")?),
                    None => None,
                },
                event_type: fields::optional_digits(info, "tpEvento", 6..=6)?,
                sequence: fields::optional_digits(info, "nSeqEvento", 1..=2)?
                    .map(|v| v.parse().expect("two digits fit u32")),
                protocol_number: fields::optional_digits(info, "nProt", 15..=15)?,
                registered_at: match fields::optional(info, "dhRegEvento") {
                    Some(_) => Some(fields::date_time(info, "dhRegEvento")?),
                    None => None,
                },
                xml: standalone_xml(answer, r),
            })
        })
        .collect::<Result<Vec<_>, ResponseError>>()?;
    Ok(EventBatchAnswer {
        status: Status::from_element(ret)?,
        results,
    })
}

/// The `procEventoNFe` to store: the signed event and SEFAZ's `retEvento`.
pub fn event_proc(signed_event: &str, ret_evento: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><procEventoNFe xmlns="{NFE_NS}" versao="1.00">{}{}</procEventoNFe>"#,
        xml::strip_declaration(signed_event).trim_end(),
        ret_evento
    )
}
