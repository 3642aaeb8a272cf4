//! Errors of the SEFAZ client.

use super::endpoints::EndpointError;
use super::xml::XmlError;

/// Why a SEFAZ answer could not be understood. The request may well have been processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// Not a SOAP answer at all (an HTML error page from a proxy or IIS, an empty body…).
    #[error("HTTP {http_status} answer is not SOAP (content type `{content_type}`)")]
    NotSoap {
        http_status: u16,
        content_type: String,
    },
    #[error("answer is not valid UTF-8")]
    NotUtf8,
    #[error("answer is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("answer is not well-formed XML")]
    Xml(#[source] XmlError),
    /// The server answered with a SOAP fault.
    #[error("SOAP fault `{code}`: {reason}")]
    SoapFault { code: String, reason: String },
    #[error("element `{element}` is in namespace `{found}`, expected `{expected}`")]
    WrongNamespace {
        element: String,
        expected: String,
        found: String,
    },
    #[error("element `{element}` missing in `{parent}`")]
    MissingElement { element: String, parent: String },
    #[error("element `{element}` has invalid value `{value}`: {reason}")]
    InvalidValue {
        element: String,
        value: String,
        reason: String,
    },
}

/// A request that cannot be built from the input given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("field `{field}`: {reason}")]
    InvalidInput { field: String, reason: String },
}

/// Why the TLS client identity or trust store could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    #[error("client certificate or key rejected by TLS")]
    Identity(#[source] rustls::Error),
    #[error("trusted root certificate rejected")]
    TrustRoot(#[source] rustls::Error),
    #[error("no trusted root certificates configured")]
    NoTrustRoots,
    #[error("HTTP client could not be built")]
    HttpClient(#[source] reqwest::Error),
}

/// Any failure of one SEFAZ call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SefazError {
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The connection could not be made: the request never reached SEFAZ.
    #[error("could not connect to SEFAZ")]
    Connect(#[source] reqwest::Error),
    /// No answer in time. The request may have been processed.
    #[error("SEFAZ did not answer in time")]
    Timeout(#[source] reqwest::Error),
    /// The connection failed mid-exchange. The request may have been processed.
    #[error("connection to SEFAZ failed")]
    Transport(#[source] reqwest::Error),
    /// An answer arrived but could not be understood.
    #[error("SEFAZ answer could not be read")]
    Response(#[from] ResponseError),
}

impl SefazError {
    /// Whether SEFAZ may have received and processed the request: before sending the same
    /// documents again, their protocol must be consulted.
    pub fn may_have_been_processed(&self) -> bool {
        match self {
            Self::Endpoint(_) | Self::Request(_) | Self::Connect(_) => false,
            Self::Timeout(_) | Self::Transport(_) | Self::Response(_) => true,
        }
    }
}
