//! A small namespace-aware element tree over quick-xml, enough to read SEFAZ answers.
//!
//! Every element keeps the byte range it occupies in the source, so signed sub-documents
//! (`protNFe`, `retEvento`, `retInutNFe`) can be stored exactly as received.

use std::ops::Range;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// Namespace of the NF-e layouts (`enviNFe`, `retEnviNFe`, `protNFe`, …).
pub const NFE_NS: &str = "http://www.portalfiscal.inf.br/nfe";
/// Namespace of SOAP 1.2 envelopes.
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// Namespace of SOAP 1.1 envelopes (some gateways answer faults in 1.1).
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// Deepest nesting accepted; SEFAZ answers are shallow, so anything deeper is hostile or broken.
const MAX_DEPTH: usize = 64;

/// Why a piece of XML could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The text ended before every element was closed.
    #[error("XML ends before the document is complete (truncated at byte {position})")]
    Truncated { position: u64 },
    /// The text is not well-formed XML.
    #[error("malformed XML at byte {position}: {reason}")]
    Malformed { position: u64, reason: String },
    /// There is no root element at all.
    #[error("the document has no root element")]
    Empty,
    /// Nesting deeper than any SEFAZ message.
    #[error("XML nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// One element: namespace, local name, attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub namespace: Option<String>,
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
    /// Byte range of the whole element (start tag to end tag) in the parsed text.
    pub span: Range<usize>,
}

impl Element {
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.name == name && self.namespace.as_deref() == Some(namespace)
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// First child with this local name (any namespace; callers check namespaces at the root).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of a child element, if present.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    /// The first element in document order (depth first) with this local name.
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

/// Parses a whole document and returns its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(v) => v,
            Err(e) => {
                let position = reader.error_position();
                return Err(
                    if matches!(e, quick_xml::Error::Syntax(_)) && !stack.is_empty() {
                        XmlError::Truncated { position }
                    } else {
                        XmlError::Malformed {
                            position,
                            reason: e.to_string(),
                        }
                    },
                );
            }
        };
        let namespace = match resolved {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_string()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(XmlError::Malformed {
                    position: reader.buffer_position(),
                    reason: format!("undeclared namespace prefix `{}`", prefix),
                });
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() {
                    return Err(XmlError::Malformed {
                        position: reader.buffer_position(),
                        reason: "content after the root element".into(),
                    });
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let mut attributes = Vec::new();
                for attribute in e.attributes() {
                    let attribute = attribute.map_err(|err| XmlError::Malformed {
                        position: reader.buffer_position(),
                        reason: err.to_string(),
                    })?;
                    let key = attribute.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|err| XmlError::Malformed {
                            position: reader.buffer_position(),
                            reason: err.to_string(),
                        })?;
                    attributes.push((key.local_name().as_ref().to_string(), value.into_owned()));
                }
                let element = Element {
                    namespace,
                    name: e.local_name().as_ref().to_string(),
                    attributes,
                    text: String::new(),
                    children: Vec::new(),
                    span: start..start,
                };
                if matches!(event, Event::Empty(_)) {
                    let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
                    close(
                        &mut stack,
                        &mut root,
                        Element {
                            span: start..end,
                            ..element
                        },
                    );
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
                let mut element = stack.pop().ok_or_else(|| XmlError::Malformed {
                    position: reader.buffer_position(),
                    reason: "end tag without start tag".into(),
                })?;
                element.span.end = end;
                close(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                push_text(&mut stack, &t, &reader)?;
            }
            Event::CData(t) => {
                push_text(&mut stack, &t, &reader)?;
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name: &str = &r;
                        quick_xml::escape::resolve_predefined_entity(name)
                            .ok_or_else(|| XmlError::Malformed {
                                position: reader.buffer_position(),
                                reason: format!("unknown entity `&{name};`"),
                            })?
                            .to_string()
                    }
                    Err(err) => {
                        return Err(XmlError::Malformed {
                            position: reader.buffer_position(),
                            reason: err.to_string(),
                        });
                    }
                };
                push_text(&mut stack, &resolved, &reader)?;
            }
            Event::DocType(_) => {
                // Entities declared in a DTD could expand without bound; SEFAZ never sends one.
                return Err(XmlError::Malformed {
                    position: reader.buffer_position(),
                    reason: "DOCTYPE declarations are not accepted".into(),
                });
            }
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(XmlError::Truncated {
                        position: reader.buffer_position(),
                    });
                }
                return root.ok_or(XmlError::Empty);
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
}

fn close(stack: &mut Vec<Element>, root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn push_text(stack: &mut [Element], text: &str, reader: &NsReader<&[u8]>) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(current) => {
            current.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(XmlError::Malformed {
            position: reader.buffer_position(),
            reason: "text outside the root element".into(),
        }),
    }
}

/// Writes an element (and its subtree) with unprefixed names, declaring each namespace as the
/// default where it changes. Used to embed an answer that arrived with prefixes.
pub fn serialize_in_default_namespace(element: &Element) -> String {
    let mut out = String::new();
    write_element(element, None, &mut out);
    out
}

fn write_element(element: &Element, inherited: Option<&str>, out: &mut String) {
    out.push('<');
    out.push_str(&element.name);
    let namespace = element.namespace.as_deref();
    if namespace != inherited {
        out.push_str(" xmlns=\"");
        out.push_str(&escape(namespace.unwrap_or("")));
        out.push('"');
    }
    for (name, value) in &element.attributes {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(&escape(value));
        out.push('"');
    }
    out.push('>');
    if element.children.is_empty() {
        out.push_str(&escape(&element.text));
    } else {
        for child in &element.children {
            write_element(child, namespace, out);
        }
    }
    out.push_str("</");
    out.push_str(&element.name);
    out.push('>');
}

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// Removes a leading `<?xml …?>` declaration (and a BOM) so a document can be embedded.
pub fn strip_declaration(xml: &str) -> &str {
    let xml = xml.trim_start_matches('\u{feff}').trim_start();
    if xml.starts_with("<?xml") {
        if let Some(end) = xml.find("?>") {
            return xml[end + 2..].trim_start();
        }
    }
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_namespaces_text_and_spans() {
        let text = r#"<?xml version="1.0"?><a xmlns="urn:x"><b id="1">x &amp; y</b><p:c xmlns:p="urn:p"/></a>"#;
        let root = parse(text).expect("well-formed");
        assert!(root.is("urn:x", "a"));
        let b = root.child("b").expect("b present");
        assert_eq!(b.text, "x & y", "entities are resolved");
        assert_eq!(b.attribute("id"), Some("1"));
        assert_eq!(
            &text[b.span.clone()],
            r#"<b id="1">x &amp; y</b>"#,
            "span covers the element exactly"
        );
        let c = root.child("c").expect("c present");
        assert_eq!(c.namespace.as_deref(), Some("urn:p"));
        assert_eq!(&text[c.span.clone()], r#"<p:c xmlns:p="urn:p"/>"#);
        assert_eq!(
            serialize_in_default_namespace(&root),
            r#"<a xmlns="urn:x"><b id="1">x &amp; y</b><c xmlns="urn:p"></c></a>"#
        );
    }

    #[test]
    fn truncated_and_malformed_are_typed() {
        assert!(matches!(
            parse("<a><b>1</b>"),
            Err(XmlError::Truncated { .. })
        ));
        assert!(matches!(
            parse("<a><b>1</c></a>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(parse(""), Err(XmlError::Empty)));
        assert!(matches!(
            parse("<a>&bogus;</a>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(parse("<x:a/>"), Err(XmlError::Malformed { .. })));
        assert!(matches!(
            parse("<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"),
            Err(XmlError::Malformed { .. })
        ));
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse(&deep), Err(XmlError::TooDeep));
    }

    #[test]
    fn strips_declaration_and_bom() {
        assert_eq!(
            strip_declaration("\u{feff}<?xml version=\"1.0\"?>\n<a/>"),
            "<a/>"
        );
        assert_eq!(strip_declaration("<a/>"), "<a/>");
    }
}
