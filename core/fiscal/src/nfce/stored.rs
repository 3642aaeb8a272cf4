//! What the point of sale reads back from a note it stored — the signed `NFe`, or the `nfeProc`
//! once SEFAZ authorized it: parsed as XML here, where the layout is known, never scraped by
//! substring by its callers.

use chrono::{DateTime, FixedOffset};

use crate::sefaz::xml::{self, Element, XmlError};

/// The facts of a stored note that later steps (reprint, cancellation, correction, reports)
/// need and that live only in its XML.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredNoteFacts {
    /// `ide/dhEmi`: when the note was issued, in the emitter's offset.
    pub issued_at: Option<DateTime<FixedOffset>>,
    /// `ide/dhCont`: since when the emitter has been in contingency (contingency notes only).
    pub contingency_since: Option<DateTime<FixedOffset>>,
    /// `ide/xJust`: the contingency justification printed on the note.
    pub contingency_justification: Option<String>,
    /// `infNFeSupl/qrCode`: the QR code's content.
    pub qr_code: Option<String>,
    /// `infNFeSupl/urlChave`: the state's consultation page.
    pub url_chave: Option<String>,
    /// `protNFe/infProt/dhRecbto`: when SEFAZ registered the authorization.
    pub authorized_at: Option<DateTime<FixedOffset>>,
    /// `protNFe/infProt/cStat`: SEFAZ's answer code in the protocol (100, 150…).
    pub protocol_status: Option<u16>,
}

impl StoredNoteFacts {
    /// Reads a stored `NFe` or `nfeProc`. A date that is present but not a date is an error of
    /// the document, not an absent fact.
    pub fn read(note_xml: &str) -> Result<StoredNoteFacts, StoredNoteError> {
        let root = xml::parse(note_xml)?;
        let nfe = root.find("NFe").ok_or(StoredNoteError::NotANote)?;
        let ide = nfe.find("ide").ok_or(StoredNoteError::NotANote)?;
        let supplement = nfe.find("infNFeSupl");
        let protocol = root.find("protNFe").and_then(|p| p.child("infProt"));
        Ok(StoredNoteFacts {
            issued_at: date(ide, "dhEmi")?,
            contingency_since: date(ide, "dhCont")?,
            contingency_justification: text(Some(ide), "xJust"),
            qr_code: text(supplement, "qrCode"),
            url_chave: text(supplement, "urlChave"),
            authorized_at: match protocol {
                Some(p) => date(p, "dhRecbto")?,
                None => None,
            },
            protocol_status: match protocol.and_then(|p| p.child_text("cStat")) {
                Some(code) => Some(code.parse().map_err(|_| StoredNoteError::BadField {
                    field: "cStat",
                    value: code.to_owned(),
                })?),
                None => None,
            },
        })
    }
}

/// Why a stored note could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredNoteError {
    #[error("the stored note is not well-formed XML: {0}")]
    Xml(#[from] XmlError),
    #[error("the stored document is not an NF-e")]
    NotANote,
    #[error("the stored note's {field} is not valid: {value:?}")]
    BadField { field: &'static str, value: String },
}

fn text(parent: Option<&Element>, name: &str) -> Option<String> {
    parent
        .and_then(|p| p.child_text(name))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn date(
    parent: &Element,
    name: &'static str,
) -> Result<Option<DateTime<FixedOffset>>, StoredNoteError> {
    match parent.child_text(name) {
        None => Ok(None),
        Some(t) => {
            DateTime::parse_from_rfc3339(t)
                .map(Some)
                .map_err(|_| StoredNoteError::BadField {
                    field: name,
                    value: t.to_owned(),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::nfce::{Emission, build_and_sign};
    use crate::samples::{sample_input, sample_time};
    use crate::sefaz::nfe_proc::nfe_proc;
    use crate::test_support::test_certificate;

    #[test]
    fn a_signed_note_gives_back_what_it_was_issued_with() {
        let mut input = sample_input(7, 2);
        let since = input.issued_at - Duration::minutes(20);
        // Characters the writer escapes: read back as written, not as entities.
        let justification = "SEFAZ fora do ar & sem resposta <timeout>".to_owned();
        input.emission = Emission::Offline {
            since,
            justification: justification.clone(),
        };
        let signed = build_and_sign(&input, test_certificate()).expect("signed");
        let facts = StoredNoteFacts::read(&signed.xml).expect("read");
        assert_eq!(facts.issued_at, Some(input.issued_at));
        assert_eq!(facts.contingency_since, Some(since));
        assert_eq!(facts.contingency_justification, Some(justification));
        assert_eq!(facts.qr_code.as_deref(), Some(signed.qr_code.as_str()));
        assert!(facts.url_chave.is_some());
        // Not yet authorized: no protocol to read.
        assert_eq!((facts.authorized_at, facts.protocol_status), (None, None));
    }

    #[test]
    fn an_authorized_note_gives_its_protocol_and_only_the_protocols_status() {
        let signed = build_and_sign(&sample_input(8, 1), test_certificate()).expect("signed");
        let received = sample_time() + Duration::seconds(3);
        let protocol = format!(
            "<protNFe versao=\"4.00\"><infProt><tpAmb>2</tpAmb><verAplic>SIM</verAplic>\
             <chNFe>{}</chNFe><dhRecbto>{}</dhRecbto><nProt>135000000000001</nProt>\
             <digVal>x</digVal><cStat>100</cStat><xMotivo>Autorizado o uso da NF-e</xMotivo>\
             </infProt></protNFe>",
            signed.access_key,
            received.to_rfc3339()
        );
        let facts = StoredNoteFacts::read(&nfe_proc(&signed.xml, &protocol)).expect("read");
        assert_eq!(facts.authorized_at, Some(received));
        assert_eq!(facts.protocol_status, Some(100));
        assert_eq!(facts.issued_at, Some(signed.issued_at));
        // A normal note has no contingency facts.
        assert_eq!(facts.contingency_since, None);
    }

    #[test]
    fn damaged_documents_are_errors_not_missing_facts() {
        let signed = build_and_sign(&sample_input(9, 1), test_certificate()).expect("signed");
        let truncated = &signed.xml[..signed.xml.len() / 2];
        assert!(matches!(
            StoredNoteFacts::read(truncated),
            Err(StoredNoteError::Xml(_))
        ));
        assert_eq!(
            StoredNoteFacts::read("<retConsStatServ/>"),
            Err(StoredNoteError::NotANote)
        );
        let bad_date = signed.xml.replacen("<dhEmi>", "<dhEmi>ontem ", 1);
        assert!(matches!(
            StoredNoteFacts::read(&bad_date),
            Err(StoredNoteError::BadField { field: "dhEmi", .. })
        ));
    }
}
