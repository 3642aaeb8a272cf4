//! XSD validation against the official PL_009_V4 schemas (libxml2).
//!
//! The schemas are compiled into the crate and served to libxml2 through a private URL scheme,
//! so validation works inside an app with no schema files on disk. A [`SchemaValidator`] holds
//! one compiled schema and is reusable; [`validate`] keeps one per schema and thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use libxml::parser::{Parser, ParserOptions};
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use libxml::tree::Document;

const SCHEME: &str = "tenda-xsd:///";

macro_rules! embedded_schemas {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../schemas/PL_009_V4/", $name)) as &[u8])),*]
    };
}

/// Every schema file the entry points below need (their `xs:include`/`xs:import` closure).
pub(crate) const EMBEDDED: &[(&str, &[u8])] = embedded_schemas![
    "consReciNFe_v4.00.xsd",
    "consSitNFe_v4.00.xsd",
    "consStatServ_v4.00.xsd",
    "envEventoCancNFe_v1.00.xsd",
    "envEventoCancSubst_v1.00.xsd",
    "enviNFe_v4.00.xsd",
    "eventoCancNFe_v1.00.xsd",
    "eventoCancSubst_v1.00.xsd",
    "inutNFe_v4.00.xsd",
    "leiauteConsSitNFe_v4.00.xsd",
    "leiauteConsStatServ_v4.00.xsd",
    "leiauteEventoCancNFe_v1.00.xsd",
    "leiauteEventoCancSubst_v1.00.xsd",
    "leiauteInutNFe_v4.00.xsd",
    "leiauteNFe_v4.00.xsd",
    "nfe_v4.00.xsd",
    "procEventoCancNFe_v1.00.xsd",
    "procEventoCancSubst_v1.00.xsd",
    "procInutNFe_v4.00.xsd",
    "procNFe_v4.00.xsd",
    "retConsReciNFe_v4.00.xsd",
    "retConsSitNFe_v4.00.xsd",
    "retConsStatServ_v4.00.xsd",
    "retEnvEventoCancNFe_v1.00.xsd",
    "retEnvEventoCancSubst_v1.00.xsd",
    "retEnviNFe_v4.00.xsd",
    "retInutNFe_v4.00.xsd",
    "tiposBasico_v1.03.xsd",
    "tiposBasico_v4.00.xsd",
    "xmldsig-core-schema_v1.01.xsd",
];

/// The documents Tenda writes or reads, each with its root schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Schema {
    /// `<NFe>` (signed note).
    Nfe,
    /// `<enviNFe>` (lote sent to NFeAutorizacao4).
    EnviNfe,
    /// `<retEnviNFe>`.
    RetEnviNfe,
    /// `<nfeProc>` (note + authorization protocol).
    NfeProc,
    /// `<evento>` cancellation (110111).
    EventoCancelamento,
    /// `<envEvento>` lote with cancellations.
    EnvEventoCancelamento,
    RetEnvEventoCancelamento,
    ProcEventoCancelamento,
    /// `<evento>` cancellation by substitution (110112).
    EventoCancSubstituicao,
    EnvEventoCancSubstituicao,
    RetEnvEventoCancSubstituicao,
    ProcEventoCancSubstituicao,
    /// `<inutNFe>` (voiding a range of numbers).
    InutNfe,
    RetInutNfe,
    ProcInutNfe,
    ConsSitNfe,
    RetConsSitNfe,
    ConsStatServ,
    RetConsStatServ,
    ConsReciNfe,
    RetConsReciNfe,
}

impl Schema {
    pub fn file_name(self) -> &'static str {
        match self {
            Schema::Nfe => "nfe_v4.00.xsd",
            Schema::EnviNfe => "enviNFe_v4.00.xsd",
            Schema::RetEnviNfe => "retEnviNFe_v4.00.xsd",
            Schema::NfeProc => "procNFe_v4.00.xsd",
            Schema::EventoCancelamento => "eventoCancNFe_v1.00.xsd",
            Schema::EnvEventoCancelamento => "envEventoCancNFe_v1.00.xsd",
            Schema::RetEnvEventoCancelamento => "retEnvEventoCancNFe_v1.00.xsd",
            Schema::ProcEventoCancelamento => "procEventoCancNFe_v1.00.xsd",
            Schema::EventoCancSubstituicao => "eventoCancSubst_v1.00.xsd",
            Schema::EnvEventoCancSubstituicao => "envEventoCancSubst_v1.00.xsd",
            Schema::RetEnvEventoCancSubstituicao => "retEnvEventoCancSubst_v1.00.xsd",
            Schema::ProcEventoCancSubstituicao => "procEventoCancSubst_v1.00.xsd",
            Schema::InutNfe => "inutNFe_v4.00.xsd",
            Schema::RetInutNfe => "retInutNFe_v4.00.xsd",
            Schema::ProcInutNfe => "procInutNFe_v4.00.xsd",
            Schema::ConsSitNfe => "consSitNFe_v4.00.xsd",
            Schema::RetConsSitNfe => "retConsSitNFe_v4.00.xsd",
            Schema::ConsStatServ => "consStatServ_v4.00.xsd",
            Schema::RetConsStatServ => "retConsStatServ_v4.00.xsd",
            Schema::ConsReciNfe => "consReciNFe_v4.00.xsd",
            Schema::RetConsReciNfe => "retConsReciNFe_v4.00.xsd",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    #[error("the document is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the bundled schema {0} failed to compile: {1}")]
    SchemaCompile(&'static str, String),
    #[error("the document does not match {schema}: {}", .errors.join("; "))]
    Invalid {
        schema: &'static str,
        /// libxml2's messages, with the offending values blanked (they may be personal data).
        errors: Vec<String>,
    },
}

/// Registers the embedded schemas with libxml2 (once per process) and initialises the parser.
pub(crate) fn init_libxml() {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        let files: HashMap<&'static str, &'static [u8]> = EMBEDDED.iter().copied().collect();
        libxml::io::register_input_callback(
            |url| url.starts_with(SCHEME),
            move |url| {
                url.strip_prefix(SCHEME)
                    .and_then(|name| files.get(name))
                    .map(|bytes| bytes.to_vec())
            },
        );
    });
}

/// Parses XML strictly: no recovery from errors, no network, no DTD defaults.
pub(crate) fn parse_strict(xml: &str) -> Result<Document, SchemaError> {
    init_libxml();
    let parser = Parser::default();
    let options = ParserOptions {
        recover: false,
        no_net: true,
        no_def_dtd: true,
        ..ParserOptions::default()
    };
    match parser.parse_string_with_options(xml, options) {
        Ok(doc) if doc.get_root_element().is_some() => Ok(doc),
        Ok(_) => Err(SchemaError::Malformed("no root element".into())),
        Err(e) => Err(SchemaError::Malformed(format!("{e:?}"))),
    }
}

/// One compiled schema, reusable for many documents. Not `Send` (libxml2 contexts are
/// per-thread); create one per thread or use [`validate`].
pub struct SchemaValidator {
    schema: Schema,
    context: SchemaValidationContext,
}

impl SchemaValidator {
    pub fn new(schema: Schema) -> Result<Self, SchemaError> {
        init_libxml();
        let url = format!("{SCHEME}{}", schema.file_name());
        let mut parser = SchemaParserContext::from_file(&url);
        let context = SchemaValidationContext::from_parser(&mut parser).map_err(|errors| {
            SchemaError::SchemaCompile(schema.file_name(), join_messages(&errors))
        })?;
        Ok(Self { schema, context })
    }

    pub fn schema(&self) -> Schema {
        self.schema
    }

    pub fn validate(&mut self, xml: &str) -> Result<(), SchemaError> {
        let document = parse_strict(xml)?;
        self.validate_document(&document)
    }

    pub fn validate_document(&mut self, document: &Document) -> Result<(), SchemaError> {
        self.context
            .validate_document(document)
            .map_err(|errors| SchemaError::Invalid {
                schema: self.schema.file_name(),
                errors: errors
                    .iter()
                    .map(|e| redact_values(e.message.as_deref().unwrap_or("").trim()))
                    .collect(),
            })
    }
}

/// Validates `xml` against `schema`, reusing a compiled schema cached for this thread.
pub fn validate(schema: Schema, xml: &str) -> Result<(), SchemaError> {
    thread_local! {
        static VALIDATORS: RefCell<HashMap<Schema, SchemaValidator>> = RefCell::new(HashMap::new());
    }
    VALIDATORS.with(|cell| {
        let mut validators = cell.borrow_mut();
        let validator = match validators.entry(schema) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(SchemaValidator::new(schema)?),
        };
        validator.validate(xml)
    })
}

fn join_messages(errors: &[libxml::error::StructuredError]) -> String {
    errors
        .iter()
        .filter_map(|e| e.message.as_deref())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// libxml2 quotes the offending value (`The value '123' ...`); values may be CPFs or names.
fn redact_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(pos) = rest.find("value '") {
        let (head, tail) = rest.split_at(pos + "value '".len());
        out.push_str(head);
        match tail.find('\'') {
            Some(end) => {
                out.push_str("…'");
                rest = &tail[end + 1..];
            }
            None => {
                rest = tail;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_schemas_equal_the_shared_official_files() {
        // The crate ships copies; they must not drift from the official package.
        let dir = crate::test_support::shared_dir().join("nfce/schemas/PL_009_V4");
        for (name, bytes) in EMBEDDED {
            let official = std::fs::read(dir.join(name)).expect("official schema present");
            assert_eq!(
                &official[..],
                *bytes,
                "{name} differs from the official file"
            );
        }
    }

    #[test]
    fn every_schema_compiles() {
        for schema in [
            Schema::Nfe,
            Schema::EnviNfe,
            Schema::RetEnviNfe,
            Schema::NfeProc,
            Schema::EventoCancelamento,
            Schema::EnvEventoCancelamento,
            Schema::RetEnvEventoCancelamento,
            Schema::ProcEventoCancelamento,
            Schema::EventoCancSubstituicao,
            Schema::EnvEventoCancSubstituicao,
            Schema::RetEnvEventoCancSubstituicao,
            Schema::ProcEventoCancSubstituicao,
            Schema::InutNfe,
            Schema::RetInutNfe,
            Schema::ProcInutNfe,
            Schema::ConsSitNfe,
            Schema::RetConsSitNfe,
            Schema::ConsStatServ,
            Schema::RetConsStatServ,
            Schema::ConsReciNfe,
            Schema::RetConsReciNfe,
        ] {
            SchemaValidator::new(schema).unwrap_or_else(|e| panic!("{schema:?}: {e}"));
        }
    }

    #[test]
    fn malformed_and_invalid_documents_are_typed_errors() {
        let truncated = validate(Schema::ConsStatServ, "<consStatServ xmlns=");
        assert!(
            matches!(truncated, Err(SchemaError::Malformed(_))),
            "{truncated:?}"
        );

        let ok = r#"<consStatServ xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><tpAmb>2</tpAmb><cUF>35</cUF><xServ>STATUS</xServ></consStatServ>"#;
        validate(Schema::ConsStatServ, ok).expect("the minimal status request is valid");

        let bad = ok.replace("<tpAmb>2</tpAmb>", "<tpAmb>7</tpAmb>");
        match validate(Schema::ConsStatServ, &bad) {
            Err(SchemaError::Invalid { errors, .. }) => {
                assert!(errors.iter().any(|e| e.contains("tpAmb")), "{errors:?}");
                assert!(
                    !errors.iter().any(|e| e.contains("'7'")),
                    "values are redacted"
                );
            }
            other => panic!("tpAmb 7 is outside the enumeration: {other:?}"),
        }
    }
}
