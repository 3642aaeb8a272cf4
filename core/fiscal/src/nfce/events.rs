//! Events on an authorized NFC-e — cancellation (110111) and cancellation by substitution
//! (110112) — and the inutilização of unused number ranges, built and signed. The lote that
//! carries them to SEFAZ is [`env_evento_xml`]; the transport lives in `sefaz`.

use chrono::{DateTime, Datelike, Duration, FixedOffset};
use serde::{Deserialize, Serialize};

use super::NfceError;
use super::build::{NS_NFE, cnpj_is_valid};
use super::input::Environment;
use super::key::AccessKey;
use super::state::Uf;
use super::text::tstring;
use super::writer::XmlWriter;
use crate::certificate::A1Certificate;
use crate::xmldsig::{sign::push_signature_xml, sign_canonical};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    #[error(transparent)]
    Invalid(#[from] NfceError),
    #[error("the cancellation window of {window_minutes} minutes after authorization has passed")]
    WindowClosed { window_minutes: i64 },
    #[error("the note must be authorized (protocol nProt of 15 digits) before it can be cancelled")]
    NotAuthorized,
    #[error("the substitute note must be another NFC-e of the same emitter")]
    BadSubstitute,
    #[error("the certificate cannot sign for this emitter")]
    Certificate(#[source] crate::certificate::CertificateError),
}

/// How long after authorization a note may be cancelled (30 minutes unless the state or the
/// store says otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationWindow {
    pub minutes: u32,
}

impl Default for CancellationWindow {
    fn default() -> Self {
        CancellationWindow { minutes: 30 }
    }
}

/// Cancelling an authorized note (110111).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    pub access_key: AccessKey,
    pub environment: Environment,
    /// nProt of the authorization.
    pub protocol: String,
    /// dhRecbto of the authorization: the window counts from it.
    pub authorized_at: DateTime<FixedOffset>,
    /// dhEvento.
    pub requested_at: DateTime<FixedOffset>,
    /// 15–255 characters.
    pub justification: String,
    /// nSeqEvento (1 for the first attempt).
    pub sequence: u8,
}

/// Cancelling a note because another one replaces it (110112, chNFeRef).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubstitutionCancellation {
    pub cancellation: Cancellation,
    /// The note that replaces the cancelled one.
    pub substitute_key: AccessKey,
    /// verAplic of the emitting application.
    pub software_version: String,
}

/// A signed `<evento>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEvent {
    /// `ID<tpEvento><chNFe><nSeqEvento>`.
    pub id: String,
    /// 110111 or 110112.
    pub event_type: u32,
    pub access_key: AccessKey,
    pub sequence: u8,
    pub xml: String,
}

/// Voiding a range of unused numbers of one series (inutilização).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inutilizacao {
    pub uf: Uf,
    pub environment: Environment,
    pub cnpj: String,
    /// The year the numbers belong to.
    pub year: i32,
    pub series: u16,
    pub first: u32,
    pub last: u32,
    /// 15–255 characters.
    pub justification: String,
}

/// A signed `<inutNFe>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInutilizacao {
    /// `ID<cUF><AA><CNPJ><mod><serie><nNFIni><nNFFin>`.
    pub id: String,
    pub xml: String,
}

fn date_time(value: &DateTime<FixedOffset>) -> String {
    value.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn check_signer(
    certificate: &A1Certificate,
    cnpj: &str,
    at: DateTime<FixedOffset>,
) -> Result<(), EventError> {
    certificate
        .check_cnpj(cnpj)
        .map_err(EventError::Certificate)?;
    certificate
        .check_valid_at(at.to_utc())
        .map_err(EventError::Certificate)
}

/// Signs `<root>` whose first child `<inner Id=..>` was written into `w` from `inner_start`.
fn sign_into(
    w: &mut XmlWriter,
    inner: &str,
    inner_start: usize,
    id: &str,
    certificate: &A1Certificate,
) -> Result<(), NfceError> {
    let inner_end = w.buf.len();
    let head = format!("<{inner} xmlns=\"{NS_NFE}\"");
    let signed = sign_canonical(
        &[
            head.as_bytes(),
            &w.buf.as_bytes()[inner_start + 1 + inner.len()..inner_end],
        ],
        id,
        certificate,
    )
    .map_err(NfceError::Sign)?;
    push_signature_xml(&mut w.buf, id, &signed, certificate);
    Ok(())
}

fn check_cancellation(c: &Cancellation, window: CancellationWindow) -> Result<(), EventError> {
    if c.protocol.len() != 15 || !c.protocol.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EventError::NotAuthorized);
    }
    let elapsed = c.requested_at.to_utc() - c.authorized_at.to_utc();
    if elapsed > Duration::minutes(i64::from(window.minutes)) {
        return Err(EventError::WindowClosed {
            window_minutes: i64::from(window.minutes),
        });
    }
    if elapsed < Duration::zero() {
        return Err(NfceError::invalid("dhEvento", "earlier than the authorization").into());
    }
    if !(1..=20).contains(&c.sequence) {
        return Err(NfceError::invalid("nSeqEvento", "must be 1..20").into());
    }
    if c.access_key.model() != 65 {
        return Err(NfceError::invalid("chNFe", "not an NFC-e (model 65)").into());
    }
    Ok(())
}

fn write_event(
    c: &Cancellation,
    event_type: u32,
    certificate: &A1Certificate,
    details: impl FnOnce(&mut XmlWriter) -> Result<(), NfceError>,
) -> Result<SignedEvent, EventError> {
    let key = &c.access_key;
    check_signer(certificate, key.cnpj(), c.requested_at)?;
    let id = format!("ID{event_type}{key}{:02}", c.sequence);
    let mut w = XmlWriter::with_capacity(4000);
    w.buf.push_str("<evento xmlns=\"");
    w.buf.push_str(NS_NFE);
    w.buf.push_str("\" versao=\"1.00\">");
    let start = w.buf.len();
    w.open_with("infEvento", &[("Id", &id)]);
    w.num("cOrgao", key.uf_code());
    w.num("tpAmb", c.environment.code());
    w.raw("CNPJ", key.cnpj());
    w.raw("chNFe", key.as_str());
    w.raw("dhEvento", &date_time(&c.requested_at));
    w.num("tpEvento", event_type);
    w.num("nSeqEvento", c.sequence);
    w.raw("verEvento", "1.00");
    w.open_with("detEvento", &[("versao", "1.00")]);
    details(&mut w)?;
    w.close("detEvento");
    w.close("infEvento");
    sign_into(&mut w, "infEvento", start, &id, certificate)?;
    w.close("evento");
    Ok(SignedEvent {
        id,
        event_type,
        access_key: key.clone(),
        sequence: c.sequence,
        xml: w.buf,
    })
}

/// Builds and signs a cancellation (110111) of an authorized note within the window.
pub fn build_cancellation(
    c: &Cancellation,
    window: CancellationWindow,
    certificate: &A1Certificate,
) -> Result<SignedEvent, EventError> {
    check_cancellation(c, window)?;
    let justification = tstring(&|| "detEvento.xJust".into(), &c.justification, 15, 255)?;
    write_event(c, 110_111, certificate, |w| {
        w.raw("descEvento", "Cancelamento");
        w.raw("nProt", &c.protocol);
        w.text("xJust", &justification);
        Ok(())
    })
}

/// Builds and signs a cancellation by substitution (110112) naming the substitute note.
pub fn build_substitution_cancellation(
    s: &SubstitutionCancellation,
    window: CancellationWindow,
    certificate: &A1Certificate,
) -> Result<SignedEvent, EventError> {
    let c = &s.cancellation;
    check_cancellation(c, window)?;
    let substitute = &s.substitute_key;
    if substitute == &c.access_key
        || substitute.model() != 65
        || substitute.cnpj()[..8] != c.access_key.cnpj()[..8]
    {
        return Err(EventError::BadSubstitute);
    }
    let justification = tstring(&|| "detEvento.xJust".into(), &c.justification, 15, 255)?;
    let version = tstring(&|| "detEvento.verAplic".into(), &s.software_version, 1, 20)?;
    write_event(c, 110_112, certificate, |w| {
        w.raw("descEvento", "Cancelamento por substituicao");
        w.num("cOrgaoAutor", c.access_key.uf_code());
        w.raw("tpAutor", "1");
        w.text("verAplic", &version);
        w.raw("nProt", &c.protocol);
        w.text("xJust", &justification);
        w.raw("chNFeRef", substitute.as_str());
        Ok(())
    })
}

/// Builds and signs an inutilização request for numbers `first..=last` of a series.
pub fn build_inutilizacao(
    request: &Inutilizacao,
    certificate: &A1Certificate,
    now: DateTime<FixedOffset>,
) -> Result<SignedInutilizacao, EventError> {
    if !cnpj_is_valid(&request.cnpj) {
        return Err(NfceError::invalid("infInut.CNPJ", "not a valid CNPJ").into());
    }
    check_signer(certificate, &request.cnpj, now)?;
    if request.series > 999 {
        return Err(NfceError::invalid("infInut.serie", "must be 0..999").into());
    }
    if request.first == 0 || request.last < request.first || request.last > 999_999_999 {
        return Err(NfceError::invalid(
            "infInut.nNFIni",
            "the range must be 1 ≤ first ≤ last ≤ 999999999",
        )
        .into());
    }
    if request.year > now.year() || request.year < 2000 {
        return Err(NfceError::invalid("infInut.ano", "not a past or current year").into());
    }
    let justification = tstring(&|| "infInut.xJust".into(), &request.justification, 15, 255)?;
    let year = request.year % 100;
    let id = format!(
        "ID{:02}{year:02}{}65{:03}{:09}{:09}",
        request.uf.code(),
        request.cnpj,
        request.series,
        request.first,
        request.last
    );
    let mut w = XmlWriter::with_capacity(3500);
    w.buf.push_str("<inutNFe xmlns=\"");
    w.buf.push_str(NS_NFE);
    w.buf.push_str("\" versao=\"4.00\">");
    let start = w.buf.len();
    w.open_with("infInut", &[("Id", &id)]);
    w.num("tpAmb", request.environment.code());
    w.raw("xServ", "INUTILIZAR");
    w.num("cUF", request.uf.code());
    w.raw("ano", &format!("{year:02}"));
    w.raw("CNPJ", &request.cnpj);
    w.raw("mod", "65");
    w.num("serie", request.series);
    w.num("nNFIni", request.first);
    w.num("nNFFin", request.last);
    w.text("xJust", &justification);
    w.close("infInut");
    sign_into(&mut w, "infInut", start, &id, certificate)?;
    w.close("inutNFe");
    Ok(SignedInutilizacao { id, xml: w.buf })
}

/// The `<envEvento>` lote (up to 20 events) for NFeRecepcaoEvento4.
pub fn env_evento_xml(lote_id: u64, events: &[SignedEvent]) -> Result<String, NfceError> {
    if events.is_empty() || events.len() > 20 {
        return Err(NfceError::invalid(
            "envEvento.evento",
            "1 to 20 events per lote",
        ));
    }
    if lote_id > 999_999_999_999_999 {
        return Err(NfceError::invalid("envEvento.idLote", "at most 15 digits"));
    }
    let mut out = String::with_capacity(events.iter().map(|e| e.xml.len()).sum::<usize>() + 200);
    out.push_str("<envEvento xmlns=\"");
    out.push_str(NS_NFE);
    out.push_str("\" versao=\"1.00\"><idLote>");
    out.push_str(&lote_id.to_string());
    out.push_str("</idLote>");
    for event in events {
        out.push_str(&event.xml);
    }
    out.push_str("</envEvento>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::sample_input;
    use crate::test_support::test_certificate;
    use crate::xmldsig::verify;
    use crate::xsd::{Schema, validate};

    fn authorized_key() -> AccessKey {
        crate::nfce::build_and_sign(&sample_input(10, 1), test_certificate())
            .expect("builds")
            .access_key
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("date")
    }

    fn cancellation(key: AccessKey) -> Cancellation {
        Cancellation {
            access_key: key,
            environment: Environment::Homologation,
            protocol: "135260000012345".into(),
            authorized_at: at("2026-11-23T10:16:00-03:00"),
            requested_at: at("2026-11-23T10:40:00-03:00"),
            justification: "Cliente desistiu da compra no caixa".into(),
            sequence: 1,
        }
    }

    #[test]
    fn cancellation_is_valid_signed_and_fits_the_lote() {
        let key = authorized_key();
        let event = build_cancellation(
            &cancellation(key.clone()),
            CancellationWindow::default(),
            test_certificate(),
        )
        .expect("within 30 minutes");
        assert_eq!(event.id, format!("ID110111{key}01"));
        validate(Schema::EventoCancelamento, &event.xml)
            .unwrap_or_else(|e| panic!("{e}\n{}", event.xml));
        let verified = verify(&event.xml).expect("verifies");
        assert_eq!(verified[0].reference_id, event.id);
        let lote = env_evento_xml(1, std::slice::from_ref(&event)).expect("lote");
        validate(Schema::EnvEventoCancelamento, &lote).unwrap_or_else(|e| panic!("{e}"));
        verify(&lote).expect("the signature survives inside the lote");
    }

    #[test]
    fn cancellation_outside_the_window_or_unauthorized_is_refused() {
        let mut late = cancellation(authorized_key());
        late.requested_at = at("2026-11-23T10:46:01-03:00");
        assert!(matches!(
            build_cancellation(&late, CancellationWindow::default(), test_certificate()),
            Err(EventError::WindowClosed { window_minutes: 30 })
        ));
        // A state (or store) with a longer window accepts it.
        build_cancellation(
            &late,
            CancellationWindow { minutes: 24 * 60 },
            test_certificate(),
        )
        .expect("inside a 24 h window");
        let mut unauthorized = cancellation(authorized_key());
        unauthorized.protocol = String::new();
        assert!(matches!(
            build_cancellation(
                &unauthorized,
                CancellationWindow::default(),
                test_certificate()
            ),
            Err(EventError::NotAuthorized)
        ));
        let mut short = cancellation(authorized_key());
        short.justification = "desistiu".into();
        assert!(matches!(
            build_cancellation(&short, CancellationWindow::default(), test_certificate()),
            Err(EventError::Invalid(NfceError::InvalidField { .. }))
        ));
    }

    #[test]
    fn substitution_names_the_substitute_and_is_valid() {
        let key = authorized_key();
        let substitute = authorized_key();
        let s = SubstitutionCancellation {
            cancellation: cancellation(key.clone()),
            substitute_key: substitute.clone(),
            software_version: "tenda 0.1.0".into(),
        };
        let event =
            build_substitution_cancellation(&s, CancellationWindow::default(), test_certificate())
                .expect("builds");
        assert_eq!(event.id, format!("ID110112{key}01"));
        assert!(
            event
                .xml
                .contains(&format!("<chNFeRef>{substitute}</chNFeRef>"))
        );
        validate(Schema::EventoCancSubstituicao, &event.xml)
            .unwrap_or_else(|e| panic!("{e}\n{}", event.xml));
        verify(&event.xml).expect("verifies");
        let lote = env_evento_xml(2, &[event]).expect("lote");
        validate(Schema::EnvEventoCancSubstituicao, &lote).unwrap_or_else(|e| panic!("{e}"));

        let same = SubstitutionCancellation {
            substitute_key: key,
            ..s
        };
        assert!(matches!(
            build_substitution_cancellation(
                &same,
                CancellationWindow::default(),
                test_certificate()
            ),
            Err(EventError::BadSubstitute)
        ));
    }

    #[test]
    fn inutilizacao_is_valid_and_signed() {
        let request = Inutilizacao {
            uf: Uf::SP,
            environment: Environment::Homologation,
            cnpj: "06157250000116".into(),
            year: 2026,
            series: 1,
            first: 15,
            last: 17,
            justification: "Numeracao reservada e nao utilizada por queda de energia".into(),
        };
        let now = at("2026-11-23T12:00:00-03:00");
        let signed = build_inutilizacao(&request, test_certificate(), now).expect("builds");
        assert_eq!(signed.id, "ID35260615725000011665001000000015000000017");
        validate(Schema::InutNfe, &signed.xml).unwrap_or_else(|e| panic!("{e}\n{}", signed.xml));
        assert_eq!(
            verify(&signed.xml).expect("verifies")[0].reference_id,
            signed.id
        );

        let reversed = Inutilizacao {
            first: 18,
            ..request.clone()
        };
        assert!(matches!(
            build_inutilizacao(&reversed, test_certificate(), now),
            Err(EventError::Invalid(NfceError::InvalidField { .. }))
        ));
        let other = Inutilizacao {
            cnpj: "11222333000181".into(),
            ..request
        };
        assert!(matches!(
            build_inutilizacao(&other, test_certificate(), now),
            Err(EventError::Certificate(_))
        ));
    }
}
