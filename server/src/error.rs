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
        Error::Query(e)
    }
}

impl Error {
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
            Error::InvalidInput { .. } | Error::UnsupportedProtocol(_) => StatusCode::BAD_REQUEST,
            Error::SequenceGap { .. } | Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Database(_) | Error::Query(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Config(_) | Error::Io { .. } | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (code, field, expected_seq) = match self {
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
        (status, axum::Json(self.body())).into_response()
    }
}
