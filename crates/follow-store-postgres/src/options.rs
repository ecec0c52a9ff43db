//! What a store is opened with.

use std::time::Duration;

use crate::schema::Layout;

/// Settings of a [`crate::PostgresStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Most connections the pool opens.
    pub max_connections: usize,
    /// Longest time one call (read or whole write, retries included) may
    /// take; past it the call fails `unavailable` and its connection is
    /// closed, so an open transaction cannot outlive it.
    pub operation_timeout: Duration,
    /// Longest time to establish one connection.
    pub connect_timeout: Duration,
    /// The schema (PostgreSQL namespace) holding the tables, created if
    /// missing; `None` uses the connection's `search_path`. Lowercase
    /// letters, digits and `_`.
    pub schema: Option<String>,
    /// How tables are laid out when this store creates them.
    pub layout: Layout,
    /// Whether opening creates (and migrates) the schema. When false, a
    /// database without it is refused with [`crate::OpenError::NoSchema`]
    /// and nothing is written: for tools that only read.
    pub create_schema: bool,
    /// How many times a write runs when another transaction got in the way
    /// (a serialisation failure, deadlock, or concurrent insert of the same
    /// node) before it fails `unavailable`.
    pub write_attempts: u32,
    /// For rollback tests: every commit whose change set has more rows than
    /// this writes that many rows and then fails with `storage_failure`, so
    /// a test can check that nothing of it stays. `None` (the default):
    /// never.
    pub fail_commits_after: Option<usize>,
    /// Longest time a write waits, after its commit, for its events to
    /// become readable: a reader sees an event only once every transaction
    /// older than the one that wrote it has ended (see
    /// `docs/storage-postgres.md`, "Events in commit order"). Within this
    /// time, whoever learns of a write from its answer reads its events;
    /// past it the write answers anyway, and its events appear when the
    /// older transactions end. Zero (the default): a write never waits,
    /// so its events may appear a moment after its answer, and a live
    /// write does not wait behind a long one (an import of 100,000 edges
    /// is one transaction of several seconds).
    pub event_visibility_wait: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 16,
            operation_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            schema: None,
            layout: Layout::Plain,
            create_schema: true,
            write_attempts: 5,
            fail_commits_after: None,
            event_visibility_wait: Duration::ZERO,
        }
    }
}
