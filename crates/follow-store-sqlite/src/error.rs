//! Errors: the typed [`OpenError`] and the mapping of SQLite failures onto
//! the library's error codes.

use std::path::PathBuf;

use follow_core::{Error, ErrorKind};
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

/// Maps an SQLite error to the library's error by its primary result code,
/// never its message: busy, locked or out of memory is `unavailable`
/// (retryable, nothing applied); a fault of the file or the medium (full,
/// read-only, I/O, corrupt, unopenable) is `storage_failure`; anything else
/// (a misused statement, a violated constraint) is `internal`.
pub(crate) fn map_sql(error: rusqlite::Error) -> Error {
    let message = format!("sqlite: {error}");
    let kind = error
        .sqlite_error_code()
        .map_or(ErrorKind::Internal, kind_of);
    Error::new(kind, message).with_source(error)
}

/// The library's kind for an SQLite primary result code.
fn kind_of(code: ErrorCode) -> ErrorKind {
    match code {
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::OutOfMemory => {
            ErrorKind::Unavailable
        }
        ErrorCode::DiskFull
        | ErrorCode::ReadOnly
        | ErrorCode::SystemIoFailure
        | ErrorCode::DatabaseCorrupt
        | ErrorCode::NotADatabase
        | ErrorCode::CannotOpen
        | ErrorCode::PermissionDenied
        | ErrorCode::FileLockingProtocolFailed
        | ErrorCode::TooBig => ErrorKind::StorageFailure,
        _ => ErrorKind::Internal,
    }
}

/// The store's threads are gone (it was dropped or a thread panicked).
pub(crate) fn closed() -> Error {
    Error::unavailable("sqlite: store is closed")
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;

    fn kind(code: std::ffi::c_int) -> ErrorKind {
        let error = rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
        map_sql(error).kind()
    }

    #[test]
    fn engine_errors_map_by_code() {
        let table = [
            (ffi::SQLITE_BUSY, ErrorKind::Unavailable),
            (ffi::SQLITE_BUSY_SNAPSHOT, ErrorKind::Unavailable),
            (ffi::SQLITE_LOCKED, ErrorKind::Unavailable),
            (ffi::SQLITE_NOMEM, ErrorKind::Unavailable),
            (ffi::SQLITE_FULL, ErrorKind::StorageFailure),
            (ffi::SQLITE_READONLY, ErrorKind::StorageFailure),
            (ffi::SQLITE_IOERR, ErrorKind::StorageFailure),
            (ffi::SQLITE_IOERR_FSYNC, ErrorKind::StorageFailure),
            (ffi::SQLITE_CORRUPT, ErrorKind::StorageFailure),
            (ffi::SQLITE_NOTADB, ErrorKind::StorageFailure),
            (ffi::SQLITE_CANTOPEN, ErrorKind::StorageFailure),
            (ffi::SQLITE_PERM, ErrorKind::StorageFailure),
            (ffi::SQLITE_PROTOCOL, ErrorKind::StorageFailure),
            (ffi::SQLITE_TOOBIG, ErrorKind::StorageFailure),
            (ffi::SQLITE_CONSTRAINT, ErrorKind::Internal),
            (ffi::SQLITE_CONSTRAINT_CHECK, ErrorKind::Internal),
            (ffi::SQLITE_MISUSE, ErrorKind::Internal),
            (ffi::SQLITE_ERROR, ErrorKind::Internal),
        ];
        for (code, expected) in table {
            assert_eq!(kind(code), expected, "SQLite result code {code}");
        }
        for (code, expected) in table {
            assert_eq!(
                kind(code).is_retryable(),
                expected == ErrorKind::Unavailable,
                "retryable for {code}"
            );
        }
    }

    #[test]
    fn errors_without_a_code_are_internal_and_keep_their_source() {
        let error = map_sql(rusqlite::Error::QueryReturnedNoRows);
        assert_eq!(error.kind(), ErrorKind::Internal);
        assert!(std::error::Error::source(&error).is_some());
    }
}
