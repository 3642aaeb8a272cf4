//! XMLDSig enveloped signatures as the NF-e family uses them: C14N 1.0 (20010315), RSA-SHA1,
//! one Reference to the signed element's `Id` (`#NFe<key>`, `#ID110111<key>01`, `#ID<inut>`),
//! and the signer's certificate in `X509Certificate`.
//!
//! Signing takes the canonical form of the signed element directly (Tenda's builders write it,
//! so nothing is parsed again); [`sign_element`] signs any parsed document. Verification parses
//! with libxml2 and canonicalizes with its C14N.

pub(crate) mod beside;
pub(crate) mod sign;
mod verify;

pub use sign::{
    SignError, SignedDigest, sign_canonical, sign_element, signature_xml, signed_info_canonical,
};
pub use verify::{VerifiedSignature, VerifyError, canonicalize_element, verify, verify_reference};

pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const ALG_C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
pub const ALG_C14N_WITH_COMMENTS: &str =
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
pub const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const ALG_RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ALG_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
pub const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::test_certificate;

    const DOC: &str = r#"<inutNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><infInut Id="ID35260615725000011665001000000010000000010"><tpAmb>2</tpAmb><xServ>INUTILIZAR</xServ><cUF>35</cUF><ano>26</ano><CNPJ>06157250000116</CNPJ><mod>65</mod><serie>1</serie><nNFIni>1</nNFIni><nNFFin>10</nNFFin><xJust>Numeracao pulada por falha de sistema</xJust></infInut></inutNFe>"#;
    const ID: &str = "ID35260615725000011665001000000010000000010";

    #[test]
    fn signed_element_verifies_and_names_the_signer() {
        let signed = sign_element(DOC, ID, test_certificate()).expect("signs");
        let verified = verify(&signed).expect("our own signature verifies");
        assert_eq!(verified.len(), 1);
        assert_eq!(verified[0].reference_id, ID);
        assert_eq!(verified[0].cnpj.as_deref(), Some("06157250000116"));
        let one = verify_reference(&signed, ID).expect("by reference");
        assert_eq!(one, verified[0]);
    }

    #[test]
    fn tampering_breaks_the_digest_or_the_signature() {
        let signed = sign_element(DOC, ID, test_certificate()).expect("signs");
        let changed = signed.replace("<nNFFin>10</nNFFin>", "<nNFFin>11</nNFFin>");
        assert!(matches!(
            verify(&changed),
            Err(VerifyError::DigestMismatch { .. })
        ));
        let start = signed.find("<SignatureValue>").expect("value") + "<SignatureValue>".len();
        let mut forged = signed.clone();
        let first = if &signed[start..start + 1] == "A" {
            "B"
        } else {
            "A"
        };
        forged.replace_range(start..start + 1, first);
        assert!(
            matches!(verify(&forged), Err(VerifyError::BadSignature)),
            "{:?}",
            verify(&forged)
        );
        let reference = signed.replace(&format!("URI=\"#{ID}\""), "URI=\"#IDnothere\"");
        assert!(matches!(
            verify(&reference),
            Err(VerifyError::ReferenceNotFound(_))
        ));
    }

    #[test]
    fn bad_documents_are_typed_errors() {
        assert!(matches!(verify(DOC), Err(VerifyError::NoSignature)));
        assert!(matches!(
            verify("<a><b></a>"),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(verify(""), Err(VerifyError::Malformed(_))));
        assert!(matches!(
            sign_element(DOC, "IDmissing", test_certificate()),
            Err(SignError::ReferenceNotFound(_))
        ));
        assert!(matches!(
            sign_element(DOC, "ID\"x", test_certificate()),
            Err(SignError::BadReferenceId(_))
        ));
        // Two elements with the same Id would let an attacker swap the signed content.
        let dup = DOC.replace("<tpAmb>2</tpAmb>", &format!("<tpAmb Id=\"{ID}\">2</tpAmb>"));
        assert!(matches!(
            canonicalize_element(&dup, ID),
            Err(VerifyError::DuplicateId(_))
        ));
    }

    #[test]
    fn signed_info_canonical_form_equals_libxml_c14n() {
        // The RSA signature is computed over our directly written SignedInfo; libxml2's C14N of
        // the same element inside the signed document must give the very same bytes.
        let signed = sign_element(DOC, ID, test_certificate()).expect("signs");
        let digest = signed
            .split("<DigestValue>")
            .nth(1)
            .and_then(|s| s.split("</DigestValue>").next())
            .expect("digest");
        let with_id = signed.replace("<SignedInfo>", "<SignedInfo Id=\"SI1\">");
        let libxml = canonicalize_element(&with_id, "SI1").expect("c14n");
        let ours = signed_info_canonical(ID, digest);
        assert_eq!(libxml.replace(" Id=\"SI1\"", ""), ours);
    }

    #[test]
    fn xmlsec1_verifies_our_signature() {
        // Independent check with the reference implementation (package xmlsec1).
        let signed = sign_element(DOC, ID, test_certificate()).expect("signs");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inut.xml");
        std::fs::write(&path, signed).expect("write");
        let out = std::process::Command::new("xmlsec1")
            .args(["--verify", "--insecure", "--id-attr:Id", "infInut"])
            .arg(&path)
            .output()
            .expect("xmlsec1 is installed by scripts/setup");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
