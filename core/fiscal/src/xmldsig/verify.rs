//! Checking enveloped signatures of received or stored documents (nfeProc, events, lotes).

use std::collections::HashMap;

use base64::Engine as _;
use libxml::tree::Node;
use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};
use openssl::hash::MessageDigest;
use openssl::x509::X509;

use super::{
    ALG_C14N, ALG_C14N_WITH_COMMENTS, ALG_ENVELOPED, ALG_RSA_SHA1, ALG_RSA_SHA256, ALG_SHA1,
    ALG_SHA256, NS_DSIG,
};
use crate::xsd::{SchemaError, parse_strict};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("the document is not well-formed XML")]
    Malformed(#[source] SchemaError),
    #[error("the document carries no XMLDSig signature")]
    NoSignature,
    #[error("the signature lacks {0}")]
    MissingPart(&'static str),
    #[error("unsupported {what}: {algorithm}")]
    UnsupportedAlgorithm {
        what: &'static str,
        algorithm: String,
    },
    #[error("the signature must reference exactly one element by `#Id`")]
    BadReference,
    #[error("no element with Id=\"{0}\" in the document")]
    ReferenceNotFound(String),
    #[error("more than one element has Id=\"{0}\"")]
    DuplicateId(String),
    #[error("the element with Id=\"{0}\" must be a child of the root element")]
    ReferenceNotChildOfRoot(String),
    #[error("the signature sits inside the element it signs, which this verifier does not accept")]
    SignatureInsideReference,
    #[error("libxml2 could not canonicalize the document")]
    Canonicalization,
    #[error("{0} is not valid base64")]
    Base64(&'static str),
    #[error("the embedded certificate cannot be read")]
    Certificate(#[source] openssl::error::ErrorStack),
    #[error("the digest of element {reference_id} does not match: the document was changed")]
    DigestMismatch { reference_id: String },
    #[error("the signature value does not verify with the embedded certificate")]
    BadSignature,
}

/// A signature that verified: which element it covers and who signed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The `Id` of the signed element (without `#`).
    pub reference_id: String,
    /// The signer's certificate (DER).
    pub certificate_der: Vec<u8>,
    /// The signer's CNPJ when the certificate carries one.
    pub cnpj: Option<String>,
}

fn element_children(node: &Node) -> impl Iterator<Item = Node> {
    node.get_child_elements().into_iter()
}

fn is_dsig(node: &Node, name: &str) -> bool {
    node.get_name() == name
        && node
            .get_namespace()
            .is_some_and(|ns| ns.get_href() == NS_DSIG)
}

fn child(node: &Node, name: &'static str) -> Result<Node, VerifyError> {
    element_children(node)
        .find(|c| is_dsig(c, name))
        .ok_or(VerifyError::MissingPart(name))
}

fn walk(node: &Node, visit: &mut dyn FnMut(&Node)) {
    visit(node);
    for c in element_children(node) {
        walk(&c, visit);
    }
}

fn c14n_options(with_comments: bool) -> CanonicalizationOptions {
    CanonicalizationOptions {
        mode: CanonicalizationMode::Canonical1_0,
        with_comments,
        inclusive_ns_prefixes: vec![],
    }
}

fn is_ancestor(ancestor: &Node, node: &Node) -> bool {
    let mut current = node.get_parent();
    while let Some(n) = current {
        if n == *ancestor {
            return true;
        }
        current = n.get_parent();
    }
    false
}

fn ids_of(root: &Node) -> Result<HashMap<String, Node>, VerifyError> {
    let mut ids: HashMap<String, Node> = HashMap::new();
    let mut duplicate = None;
    walk(root, &mut |n| {
        if let Some(id) = n.get_attribute_no_ns("Id")
            && ids.insert(id.clone(), n.clone()).is_some()
        {
            duplicate = Some(id);
        }
    });
    match duplicate {
        Some(id) => Err(VerifyError::DuplicateId(id)),
        None => Ok(ids),
    }
}

/// The C14N 1.0 form of the element with `Id=id`, computed by libxml2 (the reference against
/// which Tenda's directly written canonical forms are tested).
pub fn canonicalize_element(xml: &str, id: &str) -> Result<String, VerifyError> {
    canonicalize_by_id(xml, id, false)
}

pub(super) fn canonicalize_by_id(
    xml: &str,
    id: &str,
    require_child_of_root: bool,
) -> Result<String, VerifyError> {
    let document = parse_strict(xml).map_err(VerifyError::Malformed)?;
    let root = document
        .get_root_element()
        .expect("parse_strict guarantees a root element");
    let ids = ids_of(&root)?;
    let mut node = ids
        .get(id)
        .cloned()
        .ok_or_else(|| VerifyError::ReferenceNotFound(id.to_owned()))?;
    if require_child_of_root && node.get_parent().as_ref() != Some(&root) {
        return Err(VerifyError::ReferenceNotChildOfRoot(id.to_owned()));
    }
    node.canonicalize(c14n_options(false))
        .map_err(|()| VerifyError::Canonicalization)
}

/// Verifies every XMLDSig signature in the document (an NFe, an nfeProc with SEFAZ's signed
/// protocol, an evento, an inutNFe, a lote…). Fails if there is none or any one fails.
pub fn verify(xml: &str) -> Result<Vec<VerifiedSignature>, VerifyError> {
    let document = parse_strict(xml).map_err(VerifyError::Malformed)?;
    let root = document
        .get_root_element()
        .expect("parse_strict guarantees a root element");
    let ids = ids_of(&root)?;
    let mut signatures = Vec::new();
    walk(&root, &mut |n| {
        if is_dsig(n, "Signature") {
            signatures.push(n.clone());
        }
    });
    if signatures.is_empty() {
        return Err(VerifyError::NoSignature);
    }
    signatures
        .iter()
        .map(|signature| verify_one(signature, &ids))
        .collect()
}

/// Verifies the document's signatures and returns the one covering `reference_id`.
pub fn verify_reference(xml: &str, reference_id: &str) -> Result<VerifiedSignature, VerifyError> {
    verify(xml)?
        .into_iter()
        .find(|s| s.reference_id == reference_id)
        .ok_or_else(|| VerifyError::ReferenceNotFound(reference_id.to_owned()))
}

fn algorithm(node: &Node) -> String {
    node.get_attribute_no_ns("Algorithm").unwrap_or_default()
}

fn decode_base64(text: &str, what: &'static str) -> Result<Vec<u8>, VerifyError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| VerifyError::Base64(what))
}

fn verify_one(
    signature: &Node,
    ids: &HashMap<String, Node>,
) -> Result<VerifiedSignature, VerifyError> {
    let mut signed_info = child(signature, "SignedInfo")?;
    let c14n_alg = algorithm(&child(&signed_info, "CanonicalizationMethod")?);
    let signed_info_comments = match c14n_alg.as_str() {
        ALG_C14N => false,
        ALG_C14N_WITH_COMMENTS => true,
        other => {
            return Err(VerifyError::UnsupportedAlgorithm {
                what: "canonicalization",
                algorithm: other.to_owned(),
            });
        }
    };
    let signature_digest = match algorithm(&child(&signed_info, "SignatureMethod")?).as_str() {
        ALG_RSA_SHA1 => MessageDigest::sha1(),
        ALG_RSA_SHA256 => MessageDigest::sha256(),
        other => {
            return Err(VerifyError::UnsupportedAlgorithm {
                what: "signature method",
                algorithm: other.to_owned(),
            });
        }
    };
    let references: Vec<Node> = element_children(&signed_info)
        .filter(|c| is_dsig(c, "Reference"))
        .collect();
    let [reference] = references.as_slice() else {
        return Err(VerifyError::BadReference);
    };
    let reference_id = reference
        .get_attribute_no_ns("URI")
        .and_then(|uri| uri.strip_prefix('#').map(str::to_owned))
        .filter(|id| !id.is_empty())
        .ok_or(VerifyError::BadReference)?;
    let mut reference_comments = false;
    if let Ok(transforms) = child(reference, "Transforms") {
        for transform in element_children(&transforms).filter(|t| is_dsig(t, "Transform")) {
            match algorithm(&transform).as_str() {
                ALG_ENVELOPED | ALG_C14N => {}
                ALG_C14N_WITH_COMMENTS => reference_comments = true,
                other => {
                    return Err(VerifyError::UnsupportedAlgorithm {
                        what: "transform",
                        algorithm: other.to_owned(),
                    });
                }
            }
        }
    }
    let digest = match algorithm(&child(reference, "DigestMethod")?).as_str() {
        ALG_SHA1 => MessageDigest::sha1(),
        ALG_SHA256 => MessageDigest::sha256(),
        other => {
            return Err(VerifyError::UnsupportedAlgorithm {
                what: "digest method",
                algorithm: other.to_owned(),
            });
        }
    };
    let digest_value = decode_base64(
        &child(reference, "DigestValue")?.get_content(),
        "DigestValue",
    )?;
    let signature_value = decode_base64(
        &child(signature, "SignatureValue")?.get_content(),
        "SignatureValue",
    )?;
    let certificate_text = child(
        &child(&child(signature, "KeyInfo")?, "X509Data")?,
        "X509Certificate",
    )?
    .get_content();
    let certificate_der = decode_base64(&certificate_text, "X509Certificate")?;
    let certificate = X509::from_der(&certificate_der).map_err(VerifyError::Certificate)?;

    let mut referenced = ids
        .get(&reference_id)
        .cloned()
        .ok_or_else(|| VerifyError::ReferenceNotFound(reference_id.clone()))?;
    if referenced == *signature || is_ancestor(&referenced, signature) {
        return Err(VerifyError::SignatureInsideReference);
    }
    let canonical = referenced
        .canonicalize(c14n_options(reference_comments))
        .map_err(|()| VerifyError::Canonicalization)?;
    let computed =
        openssl::hash::hash(digest, canonical.as_bytes()).map_err(VerifyError::Certificate)?;
    if computed.as_ref() != digest_value.as_slice() {
        return Err(VerifyError::DigestMismatch { reference_id });
    }

    let signed_info_c14n = signed_info
        .canonicalize(c14n_options(signed_info_comments))
        .map_err(|()| VerifyError::Canonicalization)?;
    let public_key = certificate.public_key().map_err(VerifyError::Certificate)?;
    let mut verifier = openssl::sign::Verifier::new(signature_digest, &public_key)
        .map_err(VerifyError::Certificate)?;
    verifier
        .update(signed_info_c14n.as_bytes())
        .map_err(VerifyError::Certificate)?;
    // A malformed signature value is an error from OpenSSL; either way it does not verify.
    if !verifier.verify(&signature_value).unwrap_or(false) {
        return Err(VerifyError::BadSignature);
    }
    Ok(VerifiedSignature {
        reference_id,
        cnpj: crate::certificate::cnpj_of_certificate(&certificate, &certificate_der),
        certificate_der,
    })
}
