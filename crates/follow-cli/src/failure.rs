//! Why a command failed: the library's error, or one of the tool's own
//! (the database file, an interrupted import), each with a stable code and
//! an exit status.

use std::path::Path;

use follow_core::Error;
use follow_store_sqlite::OpenError;
use serde_json::{Value, json};

/// The exit status of a command stopped by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED_EXIT: u8 = 130;
/// The exit status when standard output is closed (128 + SIGPIPE), as a
/// Unix tool killed by SIGPIPE reports.
pub const CLOSED_PIPE_EXIT: u8 = 141;

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

    /// The process exit status: 130 for an interrupted command, 1 for
    /// every other failure.
    pub fn exit_code(&self) -> u8 {
        if self.code == "interrupted" {
            INTERRUPTED_EXIT
        } else {
            1
        }
    }

    /// Whether standard output was closed under the command.
    pub fn is_closed_pipe(&self) -> bool {
        self.code == "closed_pipe"
    }

    /// `{"error":{"code","message","details"}}`.
    pub fn to_json(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message, "details": self.details}})
    }

    /// A command that needs an existing database named one that does not
    /// exist.
    pub fn database_missing(path: &Path) -> Self {
        Failure {
            code: "database_missing",
            message: format!(
                "{}: no such database (only add-account, add-channel and import create one)",
                path.display()
            ),
            details: json!({"path": path.display().to_string()}),
        }
    }

    /// Standard output was closed by its reader.
    pub fn closed_pipe() -> Self {
        Failure {
            code: "closed_pipe",
            message: "standard output was closed".to_owned(),
            details: Value::Object(Default::default()),
        }
    }

    /// The command was stopped by Ctrl-C; `message` says what was done and
    /// how to go on.
    pub fn interrupted(message: String, details: Value) -> Self {
        Failure {
            code: "interrupted",
            message,
            details,
        }
    }

    /// An import file whose header is not one the format knows; nothing
    /// was written.
    pub fn bad_header(message: String, details: Value) -> Self {
        Failure {
            code: "invalid_argument",
            message,
            details,
        }
    }

    /// An I/O error writing standard output or a file: a closed pipe, or
    /// a `file_error` on `path`.
    pub fn write(path: &Path, error: &std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::closed_pipe()
        } else {
            Failure::file(path, error)
        }
    }

    /// A `file_error` on `path` with a message of its own.
    pub fn file_message(path: &Path, message: String) -> Self {
        Failure {
            code: "file_error",
            message,
            details: json!({"path": path.display().to_string()}),
        }
    }

    /// The same failure, its message preceded by `context`.
    pub fn prefixed(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
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
