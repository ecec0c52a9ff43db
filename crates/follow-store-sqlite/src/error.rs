//! Errors: the typed [`OpenError`] and the mapping of SQLite failures onto
//! the library's error codes.

use std::path::PathBuf;

use follow_core::Error;
use rusqlite::ErrorCode;

/// Why a database could not be opened. The file is left untouched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file exists but is not an SQLite database.
    #[error("{path}: not an SQLite database")]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file is an SQLite database but damaged (for example truncated).
    #[error("{path}: damaged database: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was found wrong.
        detail: String,
    },
    /// The schema was written by a newer version of this adapter.
    #[error("{path}: schema version {found} is newer than the supported {supported}")]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: i64,
        /// The newest version this code knows.
        supported: i64,
    },
    /// The database belongs to another application.
    #[error("{path}: database of another application (application_id {application_id:#x})")]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
        /// The application id found in the file.
        application_id: i64,
    },
    /// Reading the file or starting a thread failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused to open or set up the database.
    #[error("{path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
}

/// Maps an SQLite error to the library's error: busy or locked is
/// `unavailable` (retryable, nothing applied), anything else `internal`.
pub(crate) fn map_sql(error: rusqlite::Error) -> Error {
    let retryable = matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    let message = format!("sqlite: {error}");
    if retryable {
        Error::unavailable(message).with_source(error)
    } else {
        Error::internal(message).with_source(error)
    }
}

/// A value in the database that does not decode: `internal`.
pub(crate) fn bad_value(what: &str, error: Error) -> Error {
    Error::internal(format!("sqlite: stored {what} does not decode")).with_source(error)
}

/// The store's threads are gone (it was dropped or a thread panicked).
pub(crate) fn closed() -> Error {
    Error::unavailable("sqlite: store is closed")
}
