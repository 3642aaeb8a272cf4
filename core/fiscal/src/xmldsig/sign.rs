//! Producing enveloped signatures.

use base64::Engine as _;
use openssl::hash::MessageDigest;
use openssl::sha::Sha1;

use super::{ALG_C14N, ALG_ENVELOPED, ALG_RSA_SHA1, ALG_SHA1, NS_DSIG};
use crate::certificate::A1Certificate;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    #[error("reference id `{0}` must be letters and digits only")]
    BadReferenceId(String),
    #[error("the document to sign is not well-formed XML")]
    Malformed(#[source] crate::xsd::SchemaError),
    #[error("no element with Id=\"{0}\" in the document")]
    ReferenceNotFound(String),
    #[error("the element with Id=\"{0}\" must be a child of the root element")]
    ReferenceNotChildOfRoot(String),
    #[error("libxml2 could not canonicalize the element to sign")]
    Canonicalization,
    #[error("RSA signing failed")]
    Rsa(#[source] openssl::error::ErrorStack),
}

/// Digest of the signed element and RSA signature of the SignedInfo, both base64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDigest {
    pub digest_value: String,
    pub signature_value: String,
}

fn check_reference_id(reference_id: &str) -> Result<(), SignError> {
    if reference_id.is_empty() || !reference_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(SignError::BadReferenceId(reference_id.to_owned()));
    }
    Ok(())
}

/// Everything of `<SignedInfo>` after its start tag, up to and including `</SignedInfo>`.
fn push_signed_info_body(out: &mut String, reference_id: &str, digest_b64: &str) {
    out.push_str("<CanonicalizationMethod Algorithm=\"");
    out.push_str(ALG_C14N);
    out.push_str("\"></CanonicalizationMethod><SignatureMethod Algorithm=\"");
    out.push_str(ALG_RSA_SHA1);
    out.push_str("\"></SignatureMethod><Reference URI=\"#");
    out.push_str(reference_id);
    out.push_str("\"><Transforms><Transform Algorithm=\"");
    out.push_str(ALG_ENVELOPED);
    out.push_str("\"></Transform><Transform Algorithm=\"");
    out.push_str(ALG_C14N);
    out.push_str("\"></Transform></Transforms><DigestMethod Algorithm=\"");
    out.push_str(ALG_SHA1);
    out.push_str("\"></DigestMethod><DigestValue>");
    out.push_str(digest_b64);
    out.push_str("</DigestValue></Reference></SignedInfo>");
}

/// The canonical (C14N 1.0) bytes of the SignedInfo that gets RSA-signed: inside
/// `<Signature xmlns="…xmldsig#">` it inherits the default namespace, which C14N writes out.
pub fn signed_info_canonical(reference_id: &str, digest_b64: &str) -> String {
    let mut out = String::with_capacity(900);
    out.push_str("<SignedInfo xmlns=\"");
    out.push_str(NS_DSIG);
    out.push_str("\">");
    push_signed_info_body(&mut out, reference_id, digest_b64);
    out
}

/// Signs an element given its canonical form, passed in pieces (concatenated, they are the
/// C14N of the element: builders keep the namespace declaration separate so the document and
/// its canonical form share one buffer).
pub fn sign_canonical(
    canonical_parts: &[&[u8]],
    reference_id: &str,
    certificate: &A1Certificate,
) -> Result<SignedDigest, SignError> {
    sign_digest(reference_id, digest_canonical(canonical_parts), certificate)
}

/// The SHA-1 DigestValue (base64) of an element given its canonical form in pieces, as
/// [`sign_canonical`] takes it.
pub fn digest_canonical(canonical_parts: &[&[u8]]) -> String {
    let mut sha1 = Sha1::new();
    for part in canonical_parts {
        sha1.update(part);
    }
    base64::engine::general_purpose::STANDARD.encode(sha1.finish())
}

/// The RSA signature of the SignedInfo referencing `reference_id` with `digest_value` (from
/// [`digest_canonical`]): the second half of [`sign_canonical`], for a builder that needs the
/// digest before the signature is done.
pub fn sign_digest(
    reference_id: &str,
    digest_value: String,
    certificate: &A1Certificate,
) -> Result<SignedDigest, SignError> {
    check_reference_id(reference_id)?;
    let signed_info = signed_info_canonical(reference_id, &digest_value);
    let signature = rsa_sha1_sign(certificate, signed_info.as_bytes())?;
    Ok(SignedDigest {
        digest_value,
        signature_value: base64::engine::general_purpose::STANDARD.encode(signature),
    })
}

pub(crate) fn rsa_sha1_sign(
    certificate: &A1Certificate,
    data: &[u8],
) -> Result<Vec<u8>, SignError> {
    rsa_sha1_sign_with(certificate.private_key(), data).map_err(SignError::Rsa)
}

pub(crate) fn rsa_sha1_sign_with(
    key: &openssl::pkey::PKeyRef<openssl::pkey::Private>,
    data: &[u8],
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha1(), key)?;
    signer.update(data)?;
    signer.sign_to_vec()
}

/// The `<Signature>` element to place right after the signed element.
pub fn signature_xml(
    reference_id: &str,
    signed: &SignedDigest,
    certificate: &A1Certificate,
) -> String {
    let mut out = String::with_capacity(3000);
    push_signature_xml(&mut out, reference_id, signed, certificate);
    out
}

pub(crate) fn push_signature_xml(
    out: &mut String,
    reference_id: &str,
    signed: &SignedDigest,
    certificate: &A1Certificate,
) {
    out.push_str("<Signature xmlns=\"");
    out.push_str(NS_DSIG);
    out.push_str("\"><SignedInfo>");
    push_signed_info_body(out, reference_id, &signed.digest_value);
    out.push_str("<SignatureValue>");
    out.push_str(&signed.signature_value);
    out.push_str("</SignatureValue><KeyInfo><X509Data><X509Certificate>");
    out.push_str(certificate.certificate_base64());
    out.push_str("</X509Certificate></X509Data></KeyInfo></Signature>");
}

/// Signs the element with `Id=reference_id` of an arbitrary document (parsed and canonicalized
/// by libxml2) and returns the document with `<Signature>` appended as the last child of the
/// root, after the signed element — the NF-e layout for `NFe`, `evento` and `inutNFe`.
pub fn sign_element(
    xml: &str,
    reference_id: &str,
    certificate: &A1Certificate,
) -> Result<String, SignError> {
    check_reference_id(reference_id)?;
    let canonical =
        super::verify::canonicalize_by_id(xml, reference_id, true).map_err(|e| match e {
            super::VerifyError::Malformed(m) => SignError::Malformed(m),
            super::VerifyError::ReferenceNotFound(id) => SignError::ReferenceNotFound(id),
            super::VerifyError::ReferenceNotChildOfRoot(id) => {
                SignError::ReferenceNotChildOfRoot(id)
            }
            _ => SignError::Canonicalization,
        })?;
    let signed = sign_canonical(&[canonical.as_bytes()], reference_id, certificate)?;
    let close = xml
        .rfind("</")
        .ok_or_else(|| SignError::ReferenceNotChildOfRoot(reference_id.to_owned()))?;
    let mut out = String::with_capacity(xml.len() + 3000);
    out.push_str(&xml[..close]);
    push_signature_xml(&mut out, reference_id, &signed, certificate);
    out.push_str(&xml[close..]);
    Ok(out)
}
