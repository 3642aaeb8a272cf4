//! Envelopes around signed notes: the `<enviNFe>` lote sent to NFeAutorizacao4 and the
//! `<nfeProc>` (note + authorization protocol) that is stored after authorization.

use super::NfceError;
use super::build::NS_NFE;

/// Drops a leading XML declaration so the document can be nested.
fn without_declaration(xml: &str) -> &str {
    let trimmed = xml.trim_start_matches('\u{feff}').trim_start();
    match trimmed.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(trimmed, |(_, body)| body.trim_start()),
        None => trimmed,
    }
}

/// `<enviNFe>` with up to 50 signed `<NFe>` documents. `synchronous` (indSinc 1) is only
/// allowed for a single note.
pub fn envi_nfe_xml(lote_id: u64, synchronous: bool, notes: &[&str]) -> Result<String, NfceError> {
    if notes.is_empty() || notes.len() > 50 {
        return Err(NfceError::invalid("enviNFe.NFe", "1 to 50 notes per lote"));
    }
    if synchronous && notes.len() != 1 {
        return Err(NfceError::invalid(
            "enviNFe.indSinc",
            "synchronous processing takes exactly one note",
        ));
    }
    if lote_id > 999_999_999_999_999 {
        return Err(NfceError::invalid("enviNFe.idLote", "at most 15 digits"));
    }
    let mut out = String::with_capacity(notes.iter().map(|n| n.len()).sum::<usize>() + 200);
    out.push_str("<enviNFe xmlns=\"");
    out.push_str(NS_NFE);
    out.push_str("\" versao=\"4.00\"><idLote>");
    out.push_str(&lote_id.to_string());
    out.push_str("</idLote><indSinc>");
    out.push(if synchronous { '1' } else { '0' });
    out.push_str("</indSinc>");
    for note in notes {
        out.push_str(without_declaration(note));
    }
    out.push_str("</enviNFe>");
    Ok(out)
}

/// `<nfeProc>` joining the signed note and SEFAZ's `<protNFe>` exactly as received (their
/// bytes are kept, so both signatures still verify).
pub fn nfe_proc_xml(signed_nfe: &str, prot_nfe: &str) -> String {
    let nfe = without_declaration(signed_nfe);
    let prot = without_declaration(prot_nfe);
    let mut out = String::with_capacity(nfe.len() + prot.len() + 120);
    out.push_str("<nfeProc xmlns=\"");
    out.push_str(NS_NFE);
    out.push_str("\" versao=\"4.00\">");
    out.push_str(nfe);
    out.push_str(prot);
    out.push_str("</nfeProc>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::A1Certificate;
    use crate::samples::sample_input;
    use crate::test_support::{make_pfx, test_certificate};
    use crate::xmldsig::{sign_element, verify};
    use crate::xsd::{Schema, validate};

    #[test]
    fn lote_of_notes_is_valid_and_keeps_their_signatures() {
        let notes: Vec<String> = (1..=3)
            .map(|n| {
                crate::nfce::build_and_sign(&sample_input(n, 2), test_certificate())
                    .expect("builds")
                    .xml
            })
            .collect();
        let refs: Vec<&str> = notes.iter().map(String::as_str).collect();
        let lote = envi_nfe_xml(123, false, &refs).expect("lote");
        validate(Schema::EnviNfe, &lote).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verify(&lote).expect("all verify").len(), 3);
        assert!(
            envi_nfe_xml(1, true, &refs).is_err(),
            "indSinc 1 takes one note"
        );
        let with_declaration = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", notes[0]);
        let single = envi_nfe_xml(9, true, &[&with_declaration]).expect("single");
        validate(Schema::EnviNfe, &single).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn stored_nfe_proc_verifies_both_the_note_and_the_protocol() {
        let signed =
            crate::nfce::build_and_sign(&sample_input(77, 3), test_certificate()).expect("builds");
        // A protocol as SEFAZ returns it, signed with the authority's own certificate.
        let sefaz_pfx = make_pfx("46377222000129", -1, 365, false, "pw");
        let sefaz = A1Certificate::from_pkcs12_der(&sefaz_pfx, "pw").expect("sefaz cert");
        let prot = format!(
            "<protNFe xmlns=\"http://www.portalfiscal.inf.br/nfe\" versao=\"4.00\"><infProt Id=\"ID135260000000077\"><tpAmb>2</tpAmb><verAplic>SP_NFCE_PL_009_V400</verAplic><chNFe>{}</chNFe><dhRecbto>2026-11-23T10:15:32-03:00</dhRecbto><nProt>135260000000077</nProt><digVal>{}</digVal><cStat>100</cStat><xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe>",
            signed.access_key, signed.digest_value
        );
        let prot = sign_element(&prot, "ID135260000000077", &sefaz).expect("sefaz signs");
        let proc = nfe_proc_xml(&signed.xml, &prot);
        validate(Schema::NfeProc, &proc).unwrap_or_else(|e| panic!("{e}"));
        let verified = verify(&proc).expect("both verify");
        assert_eq!(verified.len(), 2);
        assert_eq!(verified[0].cnpj.as_deref(), Some("06157250000116"));
        assert_eq!(verified[1].cnpj.as_deref(), Some("46377222000129"));
        // A stored note altered afterwards no longer verifies.
        let altered = proc.replacen("<vNF>", "<vNF>1", 1);
        assert!(verify(&altered).is_err());
    }
}
