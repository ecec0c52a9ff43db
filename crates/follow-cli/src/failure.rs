//! Why a command failed: the library's error, or one of the tool's own
//! (the database file), each with a stable code.

use std::path::Path;

use follow_core::Error;
use follow_store_sqlite::OpenError;
use serde_json::{Value, json};

/// A failed command: a stable code, a message, details, as the library's
/// `{"error":{"code","message","details"}}`.
#[derive(Debug)]
pub struct Failure {
    code: &'static str,
    message: String,
    details: Value,
}

impl Failure {
    /// The stable code (`not_found`, `database_missing`, …).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `{"error":{"code","message","details"}}`.
    pub fn to_json(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message, "details": self.details}})
    }

    /// A read-only command named a database that does not exist.
    pub fn database_missing(path: &Path) -> Self {
        Failure {
            code: "database_missing",
            message: format!(
                "{}: no such database (commands that only read never create one)",
                path.display()
            ),
            details: json!({"path": path.display().to_string()}),
        }
    }

    /// A file the tool cannot read or write (an import or export file).
    pub fn file(path: &Path, error: &std::io::Error) -> Self {
        Failure {
            code: "file_error",
            message: format!("{}: {error}", path.display()),
            details: json!({"path": path.display().to_string()}),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            code: error.code(),
            message: error.message().to_owned(),
            details: Value::Object(error.details().clone()),
        }
    }
}

impl From<follow_store_postgres::OpenError> for Failure {
    /// A missing graph reads like a missing file; a bad URL is the
    /// caller's; anything else is the server's.
    fn from(error: follow_store_postgres::OpenError) -> Self {
        use follow_store_postgres::OpenError as Pg;
        let code = match &error {
            Pg::NoSchema { .. } => "database_missing",
            Pg::NewerSchema { .. } => "newer_schema",
            Pg::BadUrl(_) | Pg::BadSchema(_) => "invalid_argument",
            _ => "unavailable",
        };
        Failure {
            code,
            message: error.to_string(),
            details: Value::Object(Default::default()),
        }
    }
}

impl From<OpenError> for Failure {
    /// Each way a database file can be unusable has its own code, so a
    /// script can tell a wrong path from a damaged file.
    fn from(error: OpenError) -> Self {
        let code = match &error {
            OpenError::NotADatabase { .. } => "not_a_database",
            OpenError::Corrupt { .. } => "corrupt_database",
            OpenError::NewerSchema { .. } => "newer_schema",
            OpenError::ForeignDatabase { .. } => "foreign_database",
            _ => "unavailable",
        };
        Failure {
            code,
            message: error.to_string(),
            details: Value::Object(Default::default()),
        }
    }
}
