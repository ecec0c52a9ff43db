//! Errors: the typed [`OpenError`], and the mapping of PostgreSQL failures
//! onto the library's error codes by SQLSTATE (never by message text).

use follow_core::Error;
use tokio_postgres::error::SqlState;

/// Why a store could not be opened. Nothing in the database was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The connection URL does not parse.
    #[error("invalid PostgreSQL URL: {0}")]
    BadUrl(#[source] tokio_postgres::Error),
    /// The schema name is not a plain lowercase SQL identifier.
    #[error("invalid schema name {0:?}: use lowercase letters, digits and _")]
    BadSchema(String),
    /// The schema was written by a newer version of this adapter.
    #[error("{store}: schema version {found} is newer than the supported {supported}")]
    NewerSchema {
        /// The store (without password).
        store: String,
        /// The version found in the database.
        found: i32,
        /// The newest version this code knows.
        supported: i32,
    },
    /// The database holds no follow graph, and the store was opened
    /// without creating one ([`crate::PostgresOptions::create_schema`]).
    #[error("{store}: no follow graph here (commands that only read never create one)")]
    NoSchema {
        /// The store (without password).
        store: String,
    },
    /// The stored cursor secret is not 16 bytes.
    #[error("{store}: the stored cursor secret is malformed")]
    BadSecret {
        /// The store (without password).
        store: String,
    },
    /// The server could not be reached, or refused the setup.
    #[error("{store}: {source}")]
    Postgres {
        /// The store (without password).
        store: String,
        /// The cause.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The connection pool could not be built.
    #[error("connection pool: {0}")]
    Pool(String),
    /// Connecting or setting up took longer than the configured timeout.
    #[error("{store}: timed out while opening")]
    Timeout {
        /// The store (without password).
        store: String,
    },
}

/// How the write path treats a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Another transaction got in the way; the whole transaction may run
    /// again (serialisation failure, deadlock, a concurrent insert of the
    /// same key).
    Conflict,
    /// The server or the connection is gone, busy or slow: `unavailable`.
    Unavailable,
    /// The server's disk or files failed (system errors, disk full, data
    /// corruption): `storage_failure`, not retryable.
    StorageFailure,
    /// Anything else: `internal`.
    Internal,
}

/// Classifies a SQLSTATE.
pub(crate) fn classify_state(state: &SqlState) -> Class {
    let code = state.code();
    if code.starts_with("58") // system error: I/O, files
        || code == "53100" // disk_full
        || code == "XX001" // data_corrupted
        || code == "XX002"
    // index_corrupted
    {
        Class::StorageFailure
    } else if *state == SqlState::T_R_SERIALIZATION_FAILURE
        || *state == SqlState::T_R_DEADLOCK_DETECTED
        || *state == SqlState::UNIQUE_VIOLATION
    {
        Class::Conflict
    } else if code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources (too many connections, out of memory)
        || *state == SqlState::QUERY_CANCELED // statement_timeout
        || *state == SqlState::LOCK_NOT_AVAILABLE // lock_timeout
        || *state == SqlState::ADMIN_SHUTDOWN
        || *state == SqlState::CRASH_SHUTDOWN
        || *state == SqlState::CANNOT_CONNECT_NOW
        || *state == SqlState::T_R_STATEMENT_COMPLETION_UNKNOWN
    {
        Class::Unavailable
    } else {
        Class::Internal
    }
}

/// Classifies a client error: a server error by its SQLSTATE; one without
/// a SQLSTATE is the connection failing (closed, reset, refused, I/O).
pub(crate) fn classify(error: &tokio_postgres::Error) -> Class {
    match error.code() {
        Some(state) => classify_state(state),
        None => Class::Unavailable,
    }
}

/// Maps a client error to the library's error.
pub(crate) fn map_pg(error: tokio_postgres::Error) -> Error {
    let message = format!("postgres: {error}");
    match classify(&error) {
        Class::Conflict | Class::Unavailable => Error::unavailable(message).with_source(error),
        Class::StorageFailure => Error::storage_failure(message).with_source(error),
        Class::Internal => Error::internal(message).with_source(error),
    }
}

/// Maps a pool error: waiting for or creating a connection timed out, or
/// the server refused it.
pub(crate) fn map_pool(error: deadpool_postgres::PoolError) -> Error {
    use deadpool_postgres::PoolError;
    match error {
        PoolError::Backend(error) => map_pg(error),
        PoolError::Timeout(_) => Error::unavailable("postgres: no connection within the timeout"),
        PoolError::Closed => Error::unavailable("postgres: the store is closed"),
        other => Error::unavailable(format!("postgres: {other}")),
    }
}

/// A call that did not finish within the configured operation timeout.
pub(crate) fn timed_out() -> Error {
    Error::unavailable("postgres: the call did not finish within the operation timeout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_classes() {
        let table = [
            ("40001", Class::Conflict),       // serialization_failure
            ("40P01", Class::Conflict),       // deadlock_detected
            ("23505", Class::Conflict),       // unique_violation
            ("08000", Class::Unavailable),    // connection_exception
            ("08006", Class::Unavailable),    // connection_failure
            ("08001", Class::Unavailable),    // sqlclient_unable_to_establish_sqlconnection
            ("53300", Class::Unavailable),    // too_many_connections
            ("53200", Class::Unavailable),    // out_of_memory
            ("53100", Class::StorageFailure), // disk_full
            ("58030", Class::StorageFailure), // io_error
            ("58P01", Class::StorageFailure), // undefined_file
            ("XX001", Class::StorageFailure), // data_corrupted
            ("XX002", Class::StorageFailure), // index_corrupted
            ("57014", Class::Unavailable),    // query_canceled (statement_timeout)
            ("55P03", Class::Unavailable),    // lock_not_available
            ("57P01", Class::Unavailable),    // admin_shutdown
            ("57P02", Class::Unavailable),    // crash_shutdown
            ("57P03", Class::Unavailable),    // cannot_connect_now
            ("40003", Class::Unavailable),    // statement_completion_unknown
            ("23514", Class::Internal),       // check_violation (a counter below zero)
            ("42P01", Class::Internal),       // undefined_table
            ("42501", Class::Internal),       // insufficient_privilege
            ("22P02", Class::Internal),       // invalid_text_representation
            ("XX000", Class::Internal),       // internal_error
        ];
        for (code, class) in table {
            assert_eq!(
                classify_state(&SqlState::from_code(code)),
                class,
                "SQLSTATE {code}"
            );
        }
    }
}
