//! The one error type of the library: a stable kind, a message, details and a
//! chained source.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// The stable classification of an [`Error`].
///
/// The code string and the HTTP status of each kind never change; hosts may
/// branch on them and put them on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bad id, limit, cursor or batch, or a self-follow.
    InvalidArgument,
    /// No principal was presented.
    Unauthenticated,
    /// A capability is missing, the principal acts as another account, or the
    /// account interacts with a channel it does not follow.
    Forbidden,
    /// The node is unknown, or belongs to another tenant.
    NotFound,
    /// A mute was asked for an edge that does not exist.
    NotFollowing,
    /// The tenant is over its configured rate; see [`Error::retry_after`].
    RateLimited,
    /// Storage is busy or timed out, or its connection was lost. Retryable;
    /// nothing was half-applied.
    Unavailable,
    /// A feed reader asked for events that retention already removed: the
    /// details say which positions and up to what time were lost. Not
    /// retryable; the reader must decide how to recover (resynchronise,
    /// then acknowledge past the gap).
    FellBehind,
    /// Storage failed for a reason that is nobody's bug and that waiting
    /// alone does not cure: the disk is full, the file is read-only, an I/O
    /// error, a corrupt page. Nothing was half-applied; an operator must
    /// act. The engine's error is the source.
    StorageFailure,
    /// A broken invariant or any other failure; the cause is kept as the
    /// error's source.
    Internal,
}

impl ErrorKind {
    /// Every kind, for tables and tests.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::InvalidArgument,
        ErrorKind::Unauthenticated,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::NotFollowing,
        ErrorKind::RateLimited,
        ErrorKind::Unavailable,
        ErrorKind::FellBehind,
        ErrorKind::StorageFailure,
        ErrorKind::Internal,
    ];

    /// The stable machine code, e.g. `"not_found"`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::NotFollowing => "not_following",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::FellBehind => "fell_behind",
            ErrorKind::StorageFailure => "storage_failure",
            ErrorKind::Internal => "internal",
        }
    }

    /// The HTTP status a gateway answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::InvalidArgument => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::NotFollowing => 409,
            ErrorKind::RateLimited => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::FellBehind => 410,
            ErrorKind::StorageFailure => 500,
            ErrorKind::Internal => 500,
        }
    }

    /// Whether the same request may succeed if sent again unchanged.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::RateLimited | ErrorKind::Unavailable)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

type Source = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// The error of every fallible call in the library.
///
/// It serialises as `{"error":{"code":…,"message":…,"details":{…}}}`. It is
/// cheap to clone (the source is shared), so one storage failure can be handed
/// to every caller it affected.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    details: Map<String, Value>,
    retry_after: Option<Duration>,
    source: Option<Source>,
}

impl Error {
    /// An error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            details: Map::new(),
            retry_after: None,
            source: None,
        }
    }

    /// `invalid_argument`, naming the offending field in the details.
    pub fn invalid_argument(field: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message).with_detail("field", field)
    }

    /// `not_found` for a node, naming the field and the id asked for.
    pub fn node_not_found(field: &str, id: &str) -> Self {
        Error::new(ErrorKind::NotFound, format!("{field} {id:?} not found"))
            .with_detail("field", field)
            .with_detail("id", id)
    }

    /// `forbidden` with a reason.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Forbidden, message)
    }

    /// `unavailable`: storage busy or timed out.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unavailable, message)
    }

    /// `storage_failure`: the storage medium or the database failed.
    pub fn storage_failure(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::StorageFailure, message)
    }

    /// `internal`: a failure that is nobody's input.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// `rate_limited`, answering when a retry may succeed.
    pub fn rate_limited(retry_after: Duration) -> Self {
        let millis = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX);
        let mut error = Error::new(ErrorKind::RateLimited, "tenant is over its call rate")
            .with_detail("retry_after_ms", millis);
        error.retry_after = Some(retry_after);
        error
    }

    /// Adds one detail (kept in insertion order on the wire).
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// Keeps `source` as the cause, reachable through [`std::error::Error::source`].
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Shorthand for `self.kind().code()`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The human-readable message (not stable: do not match on it).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Structured details, such as `field` for `invalid_argument`.
    pub fn details(&self) -> &Map<String, Value> {
        &self.details
    }

    /// For `rate_limited`: how long to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Shorthand for `self.kind().is_retryable()`.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The `{"error":{…}}` document as a JSON value.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug
            .field("kind", &self.kind)
            .field("message", &self.message);
        if !self.details.is_empty() {
            debug.field("details", &self.details);
        }
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// The inner `{"code","message","details"}` object, for documents that nest
/// an error under a key of their own (batch items).
pub(crate) struct ErrorBody<'a>(pub(crate) &'a Error);

impl Serialize for ErrorBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("code", self.0.kind.code())?;
        map.serialize_entry("message", &self.0.message)?;
        map.serialize_entry("details", &self.0.details)?;
        map.end()
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("error", &ErrorBody(self))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_follow_the_spec_table() {
        let table: Vec<(&str, u16)> = ErrorKind::ALL
            .iter()
            .map(|kind| (kind.code(), kind.http_status()))
            .collect();
        assert_eq!(
            table,
            vec![
                ("invalid_argument", 400),
                ("unauthenticated", 401),
                ("forbidden", 403),
                ("not_found", 404),
                ("not_following", 409),
                ("rate_limited", 429),
                ("unavailable", 503),
                ("fell_behind", 410),
                ("storage_failure", 500),
                ("internal", 500),
            ]
        );
    }

    #[test]
    fn serialises_in_the_gateway_form() {
        let error = Error::invalid_argument("target", "target must not be empty");
        assert_eq!(
            error.to_json(),
            serde_json::json!({"error": {"code": "invalid_argument",
                "message": "target must not be empty", "details": {"field": "target"}}})
        );
    }

    #[test]
    fn keeps_its_source_and_retry_hint() {
        let io = std::io::Error::other("disk on fire");
        let error = Error::unavailable("store busy").with_source(io);
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk on fire"));
        assert!(error.is_retryable());

        let limited = Error::rate_limited(Duration::from_millis(5));
        assert_eq!(limited.retry_after(), Some(Duration::from_millis(5)));
        assert_eq!(limited.details()["retry_after_ms"], 5);
        assert!(!Error::internal("x").is_retryable());
        assert!(!Error::storage_failure("disk full").is_retryable());
    }

    #[test]
    fn kind_serde_uses_the_code() {
        for kind in ErrorKind::ALL {
            let json = serde_json::to_value(kind).ok();
            assert_eq!(json, Some(Value::from(kind.code())));
        }
    }
}
