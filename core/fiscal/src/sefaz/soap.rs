//! SOAP 1.2 envelopes around NF-e messages, and unwrapping of the answers.

use super::endpoints::Endpoint;
use super::error::ResponseError;
use super::xml::{self, Element, NFE_NS, SOAP11_NS, SOAP12_NS};

/// The request document: `message` (e.g. `<enviNFe …>`) inside `nfeDadosMsg`.
pub fn envelope(endpoint: &Endpoint, message: &str) -> String {
    let message = xml::strip_declaration(message);
    let namespace = endpoint.message_namespace();
    let mut out = String::with_capacity(message.len() + 400);
    out.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    out.push_str(r#"<soap12:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">"#);
    out.push_str("<soap12:Body><nfeDadosMsg xmlns=\"");
    out.push_str(&namespace);
    out.push_str("\">");
    out.push_str(message);
    out.push_str("</nfeDadosMsg></soap12:Body></soap12:Envelope>");
    out
}

/// `Content-Type` of a SOAP 1.2 request, carrying the action.
pub fn content_type(endpoint: &Endpoint) -> String {
    format!(
        "application/soap+xml; charset=utf-8; action=\"{}\"",
        endpoint.action()
    )
}

/// A parsed answer: the whole text and the NF-e message found in the SOAP body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub text: String,
    pub root: Element,
}

impl Answer {
    /// The message element (e.g. `retEnviNFe`) inside the body.
    pub fn message(&self, expected: &str) -> Result<&Element, ResponseError> {
        let body = soap_body(&self.root)?;
        let found = body
            .find(expected)
            .ok_or_else(|| ResponseError::MissingElement {
                element: expected.into(),
                parent: "soap:Body".into(),
            })?;
        check_nfe_namespace(found)?;
        Ok(found)
    }

    /// Raw text of an element as received (for storing signed sub-documents unchanged).
    pub fn raw(&self, element: &Element) -> &str {
        &self.text[element.span.clone()]
    }
}

/// Reads an HTTP answer to a SOAP call. `limit` bounds the accepted body size.
pub fn read_answer(
    http_status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<Answer, ResponseError> {
    let text = std::str::from_utf8(body).map_err(|_| ResponseError::NotUtf8)?;
    let looks_like_xml = {
        let t = xml::strip_declaration(text);
        t.starts_with('<')
            && !t.get(..5).is_some_and(|h| h.eq_ignore_ascii_case("<html"))
            && !t
                .get(..9)
                .is_some_and(|h| h.eq_ignore_ascii_case("<!doctype"))
    };
    let declared_html = content_type.to_ascii_lowercase().contains("html");
    if !looks_like_xml || declared_html {
        return Err(ResponseError::NotSoap {
            http_status,
            content_type: content_type.chars().take(100).collect(),
        });
    }
    let root = xml::parse(text).map_err(ResponseError::Xml)?;
    let is_envelope = root.name == "Envelope"
        && matches!(root.namespace.as_deref(), Some(SOAP12_NS) | Some(SOAP11_NS));
    if !is_envelope {
        if root.name == "Envelope" {
            return Err(ResponseError::WrongNamespace {
                element: "Envelope".into(),
                expected: SOAP12_NS.into(),
                found: root.namespace.clone().unwrap_or_default(),
            });
        }
        return Err(ResponseError::NotSoap {
            http_status,
            content_type: content_type.chars().take(100).collect(),
        });
    }
    let answer = Answer {
        text: text.to_string(),
        root,
    };
    if let Some(fault) = soap_body(&answer.root)?.child("Fault") {
        // SOAP 1.2: Code/Value + Reason/Text; SOAP 1.1: faultcode + faultstring.
        let code = fault
            .child("Code")
            .and_then(|c| c.child_text("Value"))
            .or_else(|| fault.child_text("faultcode"))
            .unwrap_or("")
            .to_string();
        let reason = fault
            .child("Reason")
            .and_then(|r| r.child_text("Text"))
            .or_else(|| fault.child_text("faultstring"))
            .unwrap_or("")
            .chars()
            .take(500)
            .collect();
        return Err(ResponseError::SoapFault { code, reason });
    }
    Ok(answer)
}

fn soap_body(root: &Element) -> Result<&Element, ResponseError> {
    root.child("Body")
        .ok_or_else(|| ResponseError::MissingElement {
            element: "Body".into(),
            parent: "Envelope".into(),
        })
}

/// Every element of an NF-e message must be in the NF-e namespace (signatures excepted).
fn check_nfe_namespace(element: &Element) -> Result<(), ResponseError> {
    if element.name == "Signature" {
        return Ok(());
    }
    if element.namespace.as_deref() != Some(NFE_NS) {
        return Err(ResponseError::WrongNamespace {
            element: element.name.clone(),
            expected: NFE_NS.into(),
            found: element.namespace.clone().unwrap_or_default(),
        });
    }
    element.children.iter().try_for_each(check_nfe_namespace)
}

/// Typed reading of message fields, with errors naming the element.
pub(crate) mod fields {
    use super::super::error::ResponseError;
    use super::super::xml::Element;

    pub fn required<'a>(parent: &'a Element, name: &str) -> Result<&'a str, ResponseError> {
        parent
            .child_text(name)
            .ok_or_else(|| ResponseError::MissingElement {
                element: name.into(),
                parent: parent.name.clone(),
            })
    }

    pub fn optional(parent: &Element, name: &str) -> Option<String> {
        parent
            .child_text(name)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    }

    pub fn child<'a>(parent: &'a Element, name: &str) -> Result<&'a Element, ResponseError> {
        parent
            .child(name)
            .ok_or_else(|| ResponseError::MissingElement {
                element: name.into(),
                parent: parent.name.clone(),
            })
    }

    fn invalid(name: &str, value: &str, reason: &str) -> ResponseError {
        ResponseError::InvalidValue {
            element: name.into(),
            value: value.chars().take(60).collect(),
            reason: reason.into(),
        }
    }

    /// `cStat`: three digits.
    pub fn status_code(parent: &Element) -> Result<u16, ResponseError> {
        let value = required(parent, "cStat")?;
        if value.len() != 3 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("cStat", value, "expected three digits"));
        }
        value
            .parse()
            .map_err(|_| invalid("cStat", value, "expected three digits"))
    }

    pub fn digits(
        parent: &Element,
        name: &str,
        len: std::ops::RangeInclusive<usize>,
    ) -> Result<String, ResponseError> {
        let value = required(parent, name)?;
        if !len.contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                name,
                value,
                &format!("expected {}–{} digits", len.start(), len.end()),
            ));
        }
        Ok(value.to_string())
    }

    pub fn optional_digits(
        parent: &Element,
        name: &str,
        len: std::ops::RangeInclusive<usize>,
    ) -> Result<Option<String>, ResponseError> {
        match parent.child_text(name) {
            None | Some("") => Ok(None),
            Some(_) => digits(parent, name, len).map(Some),
        }
    }

    /// An access key: 44 characters (digits, or letters in the alphanumeric CNPJ part).
    pub fn access_key(parent: &Element, name: &str) -> Result<String, ResponseError> {
        let value = required(parent, name)?;
        if value.len() != 44 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(name, value, "expected a 44-character access key"));
        }
        Ok(value.to_string())
    }

    pub fn environment(
        parent: &Element,
    ) -> Result<super::super::endpoints::Environment, ResponseError> {
        let value = required(parent, "tpAmb")?;
        super::super::endpoints::environment_from_code(value)
            .ok_or_else(|| invalid("tpAmb", value, "expected 1 or 2"))
    }

    pub fn date_time(
        parent: &Element,
        name: &str,
    ) -> Result<chrono::DateTime<chrono::FixedOffset>, ResponseError> {
        let value = required(parent, name)?;
        chrono::DateTime::parse_from_rfc3339(value).map_err(|_| {
            invalid(
                name,
                value,
                "expected a date-time with offset (AAAA-MM-DDThh:mm:ssTZD)",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sefaz::endpoints::{Endpoints, Environment, Service, Uf};

    fn endpoint() -> Endpoint {
        Endpoints::official()
            .endpoint(Uf::SP, Environment::Homologation, Service::ServiceStatus)
            .expect("SP status")
            .clone()
    }

    #[test]
    fn envelope_wraps_message_in_operation_namespace() {
        let env = envelope(&endpoint(), "<?xml version=\"1.0\"?><consStatServ/>");
        assert!(env.contains(r#"<nfeDadosMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeStatusServico4"><consStatServ/></nfeDadosMsg>"#));
        assert!(!env[10..].contains("<?xml"), "inner declaration removed");
        assert_eq!(
            content_type(&endpoint()),
            r#"application/soap+xml; charset=utf-8; action="http://www.portalfiscal.inf.br/nfe/wsdl/NFeStatusServico4/nfeStatusServicoNF""#
        );
    }

    #[test]
    fn html_pages_faults_and_foreign_namespaces_are_typed() {
        let html = b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>";
        assert!(matches!(
            read_answer(503, "text/html", html),
            Err(ResponseError::NotSoap {
                http_status: 503,
                ..
            })
        ));
        assert!(matches!(
            read_answer(200, "text/xml", b"<html><body>x</body></html>"),
            Err(ResponseError::NotSoap { .. })
        ));
        assert!(matches!(
            read_answer(200, "text/xml", b""),
            Err(ResponseError::NotSoap { .. })
        ));
        assert!(matches!(
            read_answer(200, "text/xml", &[0xff, 0xfe, 0x3c]),
            Err(ResponseError::NotUtf8)
        ));
        let fault = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text>Server was unable to process request</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#;
        match read_answer(500, "application/soap+xml", fault.as_bytes()) {
            Err(ResponseError::SoapFault { code, reason }) => {
                assert_eq!(code, "s:Receiver");
                assert!(reason.contains("unable"));
            }
            other => panic!("expected a SOAP fault, got {other:?}"),
        }
        let wrong_envelope = r#"<s:Envelope xmlns:s="urn:other"><s:Body/></s:Envelope>"#;
        assert!(matches!(
            read_answer(200, "application/soap+xml", wrong_envelope.as_bytes()),
            Err(ResponseError::WrongNamespace { .. })
        ));
        let wrong_message = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><nfeResultMsg><retConsStatServ xmlns="http://www.portalfiscal.inf.br/nfe/v3"><cStat>107</cStat></retConsStatServ></nfeResultMsg></s:Body></s:Envelope>"#;
        let answer = read_answer(200, "application/soap+xml", wrong_message.as_bytes())
            .expect("envelope is fine");
        assert!(matches!(
            answer.message("retConsStatServ"),
            Err(ResponseError::WrongNamespace { .. })
        ));
        let truncated = &wrong_message[..wrong_message.len() - 30];
        assert!(matches!(
            read_answer(200, "application/soap+xml", truncated.as_bytes()),
            Err(ResponseError::Xml(_))
        ));
    }
}
