//! The server's error: every failure maps to one HTTP status and an [`ErrorBody`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tenda_sync::protocol::{ErrorBody, ErrorCode};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{field}: {reason}")]
    InvalidInput { field: String, reason: String },
    /// Input a domain rule refuses, with the rule's stable code (the same a device gives) and,
    /// for a pushed mutation, its `seq`.
    #[error("{field}: {reason} ({rule})")]
    Rule {
        field: String,
        rule: String,
        reason: String,
        seq: Option<u64>,
    },
    /// A value that must be unique is already taken (a login, a SKU).
    #[error("{field} is already taken")]
    Taken { field: String },
    /// Too many failed attempts: wait before trying again.
    #[error("too many failed attempts; try again in {retry_after_s} s")]
    Throttled { retry_after_s: u64 },
    #[error("{0}")]
    UnsupportedProtocol(String),
    #[error("mutation {got} is out of order: the server expects {expected} next")]
    SequenceGap { expected: u64, got: u64 },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("database: {0}")]
    Database(String),
    #[error("query failed")]
    Query(#[source] diesel::result::Error),
    #[error("configuration: {0}")]
    Config(String),
    #[error("i/o: {context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("internal: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        match &e {
            // A unique constraint names the field taken, not "retry later": retrying would hit it
            // again.
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => Error::Taken {
                field: taken_field(info.constraint_name(), info.message()),
            },
            _ => Error::Query(e),
        }
    }
}

/// The field a unique-constraint message names: PostgreSQL gives the constraint
/// (`products_store_id_sku_key`), SQLite the columns (`UNIQUE constraint failed: products.store_id,
/// products.sku`). The last column is the one the caller chose.
fn taken_field(constraint: Option<&str>, message: &str) -> String {
    const KNOWN: [&str; 4] = ["sku", "login", "folio", "credential_hash"];
    let text = constraint.unwrap_or(message);
    KNOWN
        .iter()
        .find(|k| text.contains(*k))
        .map_or_else(|| "id".to_owned(), |k| (*k).to_owned())
}

impl Error {
    /// A domain rule's refusal of a field.
    pub fn from_mutation_rule(e: tenda_domain::MutationError) -> Self {
        Error::Rule {
            field: e.field,
            rule: e.code.to_owned(),
            reason: e.reason,
            seq: None,
        }
    }

    /// Checks `value` against the domain's rule for its kind of text.
    pub fn check_text(field: &str, kind: tenda_domain::TextKind, value: &str) -> Result<(), Self> {
        kind.check(value).map_err(|e| Error::Rule {
            field: field.to_owned(),
            rule: e.code().to_owned(),
            reason: e.to_string(),
            seq: None,
        })
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::InvalidInput { .. } | Error::Rule { .. } | Error::UnsupportedProtocol(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::SequenceGap { .. } | Error::Conflict(_) | Error::Taken { .. } => {
                StatusCode::CONFLICT
            }
            Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Database(_) | Error::Query(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Config(_) | Error::Io { .. } | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (mut seq, mut rule) = (None, None);
        let (code, field, expected_seq) = match self {
            Error::Rule {
                field,
                rule: r,
                seq: s,
                ..
            } => {
                seq = *s;
                rule = Some(r.clone());
                (ErrorCode::InvalidInput, Some(field.clone()), None)
            }
            Error::Taken { field } => {
                rule = Some("taken".to_owned());
                (ErrorCode::Conflict, Some(field.clone()), None)
            }
            Error::Throttled { .. } => {
                rule = Some("throttled".to_owned());
                (ErrorCode::Unauthorized, None, None)
            }
            Error::Unauthorized(_) => (ErrorCode::Unauthorized, None, None),
            Error::Forbidden(_) => (ErrorCode::Forbidden, None, None),
            Error::InvalidInput { field, .. } => {
                (ErrorCode::InvalidInput, Some(field.clone()), None)
            }
            Error::UnsupportedProtocol(_) => (
                ErrorCode::UnsupportedProtocol,
                Some("protocol".to_owned()),
                None,
            ),
            Error::SequenceGap { expected, .. } => (ErrorCode::SequenceGap, None, Some(*expected)),
            Error::TooLarge(_) => (ErrorCode::TooLarge, None, None),
            Error::NotFound(_) => (ErrorCode::NotFound, None, None),
            Error::Conflict(_) => (ErrorCode::Conflict, None, None),
            _ => (ErrorCode::Internal, None, None),
        };
        // Internal details stay in the log; the client learns only that it may retry.
        let message = match code {
            ErrorCode::Internal => "the server could not complete the request; retry later".into(),
            _ => self.to_string(),
        };
        ErrorBody {
            code,
            message,
            field,
            expected_seq,
            seq,
            rule,
        }
    }
}

impl From<ErrorBody> for Error {
    fn from(b: ErrorBody) -> Self {
        match b.code {
            ErrorCode::UnsupportedProtocol => Error::UnsupportedProtocol(b.message),
            _ => Error::invalid(b.field.unwrap_or_else(|| "body".into()), b.message),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let retry_after = match &self {
            Error::Throttled { retry_after_s } => Some(retry_after_s.to_string()),
            _ => None,
        };
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(v) = retry_after.and_then(|v| axum::http::HeaderValue::from_str(&v).ok()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}
