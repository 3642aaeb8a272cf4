//! The authorized document to keep: `nfeProc` = the signed `NFe` + SEFAZ's `protNFe`.

use super::xml::{self, NFE_NS};

/// Joins a signed note and its protocol into the `nfeProc` that is stored and shown.
pub fn nfe_proc(signed_nfe: &str, prot_nfe: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><nfeProc xmlns="{NFE_NS}" versao="4.00">{}{}</nfeProc>"#,
        xml::strip_declaration(signed_nfe).trim_end(),
        prot_nfe
    )
}

/// The `DigestValue` of a signed note (compared with the protocol's `digVal`).
pub fn digest_value(signed_nfe: &str) -> Option<&str> {
    let start = signed_nfe.find("<DigestValue>")? + "<DigestValue>".len();
    let end = signed_nfe[start..].find("</DigestValue>")? + start;
    Some(signed_nfe[start..end].trim())
}

/// The access key of a signed note, from `infNFe/@Id` (`NFe` + 44 characters).
pub fn access_key(signed_nfe: &str) -> Option<&str> {
    let start = signed_nfe.find("Id=\"NFe")? + "Id=\"NFe".len();
    let key = signed_nfe.get(start..start + 44)?;
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric())
        .then_some(key)
}
