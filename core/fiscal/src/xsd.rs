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
    fn bundled_schemas_are_the_official_files() {
        // SHA-256 of each file as published in the official PL_009_V4 package: an edited copy
        // would validate documents against rules SEFAZ does not apply.
        let official: &[(&str, &str)] = &[
            (
                "consReciNFe_v4.00.xsd",
                "cff8456db0a6fe1195543d731ed9563b0664df2d6135ea77115dcd3069506b5a",
            ),
            (
                "consSitNFe_v4.00.xsd",
                "ec103f360d2193f56a18630ec2b9676a1d09d1dbf2d98123f8c42ad0497e3db5",
            ),
            (
                "consStatServ_v4.00.xsd",
                "1712598b391a46e24fb399b79c3e8049349bd00c892ec30249daf21aad0fc324",
            ),
            (
                "envEventoCancNFe_v1.00.xsd",
                "d3f1550b1c3fa6974690cc27e5b74a55fbec3dd11ecdd2992fbcd248b015d534",
            ),
            (
                "envEventoCancSubst_v1.00.xsd",
                "a6d5436c8d04fd6c4a827e2f4a6b3ee8427d57a74181ab116a918f9ae26ef1bd",
            ),
            (
                "enviNFe_v4.00.xsd",
                "2abfc6198ece784e7a6a4bd1093002d1513d3dbecd4b51d9a207d4ae81ffc2ef",
            ),
            (
                "eventoCancNFe_v1.00.xsd",
                "3e5a2840a42f1f66bbbcb21066dcde6aa90407c1ef05456ad9ac38456d96982d",
            ),
            (
                "eventoCancSubst_v1.00.xsd",
                "ad804db5e2b8e8ff098a6836929b0c32940e7779be1608a74c4b53f52c46d36c",
            ),
            (
                "inutNFe_v4.00.xsd",
                "bdb5b01bc77885756f4660bb14f120ae5f8853f962deb50fbf42c96df65b8f29",
            ),
            (
                "leiauteConsSitNFe_v4.00.xsd",
                "5d8826f29ff1b0f2fd3c1ccda808fdc2ebac73f6d4abf716cb9049eb5169c535",
            ),
            (
                "leiauteConsStatServ_v4.00.xsd",
                "a02de771f9cd26b8440dc39f661d43aae8e71205052d0041510984b4143e4070",
            ),
            (
                "leiauteEventoCancNFe_v1.00.xsd",
                "9426ec0d8e3ce441c78d61cf2bd8b6910b7b1cc377a0b337a5a1a9dbe438a66f",
            ),
            (
                "leiauteEventoCancSubst_v1.00.xsd",
                "af98a9eda7e484036cf1b47ad4920650bfd0f3063ff959234ce1fc25ef35feb4",
            ),
            (
                "leiauteInutNFe_v4.00.xsd",
                "0cbd4a8cf24c0a38a1d26d75cef499fd323273e8b914824c6c462e69be6c271c",
            ),
            (
                "leiauteNFe_v4.00.xsd",
                "70499ad19d4c64282ec6a339692f5da84f2b7c57572b2b3b745525bfa1fa5e9a",
            ),
            (
                "nfe_v4.00.xsd",
                "0ac9d4c146b6db779f4b6a531045899b919d42e1bb87eb96d6f692bb14b8b646",
            ),
            (
                "procEventoCancNFe_v1.00.xsd",
                "7e85da1583df86aee753400286d4aad48160846090cd6ecd2c1400fed4afaa69",
            ),
            (
                "procEventoCancSubst_v1.00.xsd",
                "deda761cc68dc06eb25e54f5209f7fc3096fefef846e1015e8e182e2bcc10650",
            ),
            (
                "procInutNFe_v4.00.xsd",
                "fe95c091dab0f35cc56734ffb870d753d35770501dc360956283cad52deb8239",
            ),
            (
                "procNFe_v4.00.xsd",
                "d61d15303f8ccf77e6e5d77a8153255a6906e0d00385dc5000db19ed3bfa96e0",
            ),
            (
                "retConsReciNFe_v4.00.xsd",
                "90c5381a6468726cf63e3c8bf0593cbe8dcbf121d5c3a160dc987add3d88be47",
            ),
            (
                "retConsSitNFe_v4.00.xsd",
                "b1f23b66a55356ecf1207a833ec4d57093a54d7a58f8d6d237db0694ccb4393d",
            ),
            (
                "retConsStatServ_v4.00.xsd",
                "157eb4e4019f584a3473a52c1fb8ca9edcfef4b9767199bb9f169796a9934b33",
            ),
            (
                "retEnvEventoCancNFe_v1.00.xsd",
                "a0a81bf59c9c166f4061f52f8d74cd7aa21bdc1bd8c9b0e0b8bc44d0df34e665",
            ),
            (
                "retEnvEventoCancSubst_v1.00.xsd",
                "4dee4f4de96d32e9166148c36102977b40c54124c3789a3a126ce645a4fd8684",
            ),
            (
                "retEnviNFe_v4.00.xsd",
                "c905bc7690f9171a9183e868b6906edf518a2142531b5977f05d38e7b6768299",
            ),
            (
                "retInutNFe_v4.00.xsd",
                "f088a06df63d8b4e24a726b73ec3328cdb54a575a75351fbf4a9476934c9dafd",
            ),
            (
                "tiposBasico_v1.03.xsd",
                "caa45a091d6ee746c3ab504fee9e4192be6547a21839c44861b2c47f14481f57",
            ),
            (
                "tiposBasico_v4.00.xsd",
                "dff49f86741bc303cc5e5b5a7281267655079871627d82df49e3c7aff858f31d",
            ),
            (
                "xmldsig-core-schema_v1.01.xsd",
                "f56744a5f51c03f027de13f39f869307091781a9ef1d91b1ebe14719ce28e1ac",
            ),
        ];
        assert_eq!(
            EMBEDDED.len(),
            official.len(),
            "every bundled schema is pinned"
        );
        for (name, bytes) in EMBEDDED {
            let (_, digest) = official
                .iter()
                .find(|(file, _)| file == name)
                .expect("the schema is pinned");
            assert_eq!(
                hex::encode(openssl::sha::sha256(bytes)),
                *digest,
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
