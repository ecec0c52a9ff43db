//! A failed request before each face renders it: a stable code, an HTTP
//! status, a message safe to show, details. Built from the library's
//! [`follow_core::Error`] or from a request the gateway could not read.
//! Messages never quote a presented credential or a raw request value.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use follow_core::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The code a response failed with, left in its extensions for metrics.
#[derive(Debug, Clone, Copy)]
pub struct FailureCode(pub &'static str);

/// A failed request.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The stable code (`not_found`, `payload_too_large`, …).
    pub code: &'static str,
    /// The HTTP status the JSON faces answer with.
    pub status: StatusCode,
    /// A human-readable message.
    pub message: String,
    /// Structured details.
    pub details: Map<String, Value>,
    /// The library's kind, when the library decided.
    pub kind: Option<ErrorKind>,
}

impl Failure {
    fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            status,
            message: message.into(),
            details: Map::new(),
            kind: None,
        }
    }

    /// `invalid_argument` (400).
    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::new("invalid_argument", StatusCode::BAD_REQUEST, message)
    }

    /// `invalid_argument` naming a field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Failure::invalid(message).with_detail("field", field)
    }

    /// `unauthenticated` (401).
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        let mut failure = Failure::new("unauthenticated", StatusCode::UNAUTHORIZED, message);
        failure.kind = Some(ErrorKind::Unauthenticated);
        failure
    }

    /// `not_found` (404) for a route or action that does not exist.
    pub fn no_such_action(message: impl Into<String>) -> Self {
        Failure::new("not_found", StatusCode::NOT_FOUND, message)
    }

    /// `payload_too_large` (413).
    pub fn too_large() -> Self {
        Failure::new(
            "payload_too_large",
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than this service accepts",
        )
    }

    /// Adds a detail.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// Renames the `field` detail (the library's argument names become the
    /// face's own: `actor` → `session`).
    pub fn rename_field(mut self, renames: &[(&str, &str)]) -> Self {
        if let Some(Value::String(field)) = self.details.get_mut("field")
            && let Some((_, to)) = renames.iter().find(|(from, _)| from == field)
        {
            *field = (*to).to_owned();
        }
        self
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let kind = error.kind();
        let status =
            StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = if kind == ErrorKind::Internal {
            tracing::error!(error = ?error, "internal error");
            "internal error".to_owned()
        } else {
            error.message().to_owned()
        };
        Failure {
            code: kind.code(),
            status,
            message,
            details: if kind == ErrorKind::Internal {
                Map::new()
            } else {
                error.details().clone()
            },
            kind: Some(kind),
        }
    }
}

impl From<BytesRejection> for Failure {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::too_large()
        } else {
            Failure::invalid("the request body could not be read")
        }
    }
}

impl From<PathRejection> for Failure {
    fn from(_: PathRejection) -> Self {
        Failure::invalid("a path segment is not valid percent-encoded UTF-8")
    }
}

impl From<QueryRejection> for Failure {
    fn from(_: QueryRejection) -> Self {
        Failure::invalid("the query string could not be read (check each parameter's type)")
    }
}

/// Parses a JSON body. Unknown fields are refused by the body types
/// themselves; the message gives the position, never the offending text.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|error| {
        let what = match error.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "malformed JSON"
            }
            _ => "JSON of the wrong shape (a missing, unknown or mistyped field)",
        };
        Failure::invalid(format!(
            "the request body is {what} at line {}, column {}",
            error.line(),
            error.column()
        ))
    })
}
