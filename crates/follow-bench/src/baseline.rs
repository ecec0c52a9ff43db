//! The baselines the library is measured against. They live here, never in
//! the library: the point is what a service writes by hand.
//!
//! **Hand-rolled**: one `edges` table keyed by `(follower, target)` with a
//! reverse index on `(target, since)`, plus a `nodes` table for the mixed
//! workload's node operations. One transaction per call, `INSERT OR IGNORE`,
//! `DELETE`, `COUNT(*)` for counts, `LIMIT`/`OFFSET` for pages, one
//! connection per task with a busy timeout. WAL with `synchronous = FULL`,
//! the durability of the adapter's default ([`follow_store_sqlite::Durability::Full`]).
//!
//! **The limit**: a raw prepared-statement insert loop into the same `edges`
//! table, in one transaction, with no library code at all.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::graph::Graph;
use crate::load::remove_db;

/// The hand-rolled schema. `muted` is there because the library's workload
/// sets mute flags; a service offering mute would have the column too.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS edges (
    follower TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    since    INTEGER NOT NULL,
    muted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (follower, target)
);
CREATE INDEX IF NOT EXISTS edges_by_target ON edges (target, since);
CREATE TABLE IF NOT EXISTS nodes (
    id            TEXT    PRIMARY KEY,
    registered_at INTEGER NOT NULL,
    last_active   INTEGER
);
";

/// How long a hand-rolled connection waits on the write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A hand-rolled database file.
#[derive(Debug, Clone)]
pub struct HandRolled {
    path: PathBuf,
}

impl HandRolled {
    /// Creates an empty database at `path`, replacing any file there.
    ///
    /// # Errors
    /// Any SQLite or I/O failure.
    pub fn create(path: &Path) -> Result<Self, crate::SetupError> {
        remove_db(path)?;
        let db = HandRolled::open(path);
        db.connect()?.conn.execute_batch(SCHEMA)?;
        Ok(db)
    }

    /// An existing database at `path`.
    pub fn open(path: &Path) -> Self {
        HandRolled {
            path: path.to_owned(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection: WAL, `synchronous = FULL`, the busy timeout.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn connect(&self) -> rusqlite::Result<HandConn> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
        conn.execute_batch("PRAGMA synchronous = FULL")?;
        Ok(HandConn { conn })
    }

    /// Loads `graph` (its nodes and edges) with [`raw_load`]: fixture
    /// building, not a measurement.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn load(&self, graph: &Graph) -> rusqlite::Result<()> {
        let mut conn = self.connect()?;
        raw_load(&mut conn.conn, graph)?;
        let tx = conn.conn.transaction()?;
        {
            let mut insert =
                tx.prepare("INSERT OR IGNORE INTO nodes (id, registered_at) VALUES (?1, ?2)")?;
            for node in 0..graph.node_count() {
                insert.execute(params![graph.name(node), crate::graph::SINCE_BASE])?;
            }
        }
        tx.commit()
    }
}

/// The limit: every edge of `graph` inserted by one prepared statement in one
/// transaction. Answers the edges inserted.
///
/// # Errors
/// Any SQLite failure.
pub fn raw_load(conn: &mut Connection, graph: &Graph) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let mut inserted = 0;
    {
        let mut insert =
            tx.prepare("INSERT INTO edges (follower, target, since) VALUES (?1, ?2, ?3)")?;
        for edge in &graph.edges {
            inserted += insert.execute(params![
                graph.name(edge.follower),
                graph.name(edge.target),
                edge.since
            ])?;
        }
    }
    tx.commit()?;
    Ok(inserted)
}

/// One hand-rolled connection, as one task of a service holds it.
#[derive(Debug)]
pub struct HandConn {
    conn: Connection,
}

impl HandConn {
    /// The connection, for fixture code.
    pub fn raw(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// `INSERT OR IGNORE` of one edge in its own transaction; true if new.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn follow(&mut self, follower: &str, target: &str, since: i64) -> rusqlite::Result<bool> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO edges (follower, target, since) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![follower, target, since])
            .map(|n| n == 1)
        })
    }

    /// `DELETE` of one edge in its own transaction; true if it was there.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn unfollow(&mut self, follower: &str, target: &str) -> rusqlite::Result<bool> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM edges WHERE follower = ?1 AND target = ?2")?
                .execute(params![follower, target])
                .map(|n| n == 1)
        })
    }

    /// `DELETE` of several edges of one follower in one transaction.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn unfollow_many(&mut self, follower: &str, targets: &[&str]) -> rusqlite::Result<usize> {
        self.write(|tx| {
            let mut delete =
                tx.prepare_cached("DELETE FROM edges WHERE follower = ?1 AND target = ?2")?;
            let mut n = 0;
            for target in targets {
                n += delete.execute(params![follower, target])?;
            }
            Ok(n)
        })
    }

    /// `INSERT OR IGNORE` of several edges of one follower in one transaction.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn follow_many(
        &mut self,
        follower: &str,
        targets: &[&str],
        since: i64,
    ) -> rusqlite::Result<usize> {
        self.write(|tx| {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO edges (follower, target, since) VALUES (?1, ?2, ?3)",
            )?;
            let mut n = 0;
            for target in targets {
                n += insert.execute(params![follower, target, since])?;
            }
            Ok(n)
        })
    }

    /// Sets the mute flag; false if there is no such edge.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn set_mute(
        &mut self,
        follower: &str,
        target: &str,
        muted: bool,
    ) -> rusqlite::Result<bool> {
        self.write(|tx| {
            tx.prepare_cached("UPDATE edges SET muted = ?3 WHERE follower = ?1 AND target = ?2")?
                .execute(params![follower, target, muted])
                .map(|n| n == 1)
        })
    }

    /// The raw point lookup: does `follower` follow `target`?
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn is_following(&self, follower: &str, target: &str) -> rusqlite::Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM edges WHERE follower = ?1 AND target = ?2")?
            .query_row(params![follower, target], |_| Ok(()))
            .optional()
            .map(|row| row.is_some())
    }

    /// Point lookups of `follower` against each target, in one read
    /// transaction.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn check_many(&mut self, follower: &str, targets: &[&str]) -> rusqlite::Result<Vec<bool>> {
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(targets.len());
        {
            let mut stmt =
                tx.prepare_cached("SELECT 1 FROM edges WHERE follower = ?1 AND target = ?2")?;
            for target in targets {
                out.push(
                    stmt.query_row(params![follower, target], |_| Ok(()))
                        .optional()?
                        .is_some(),
                );
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// A page of `target`'s followers, newest first, by `LIMIT`/`OFFSET`.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn followers_page(
        &self,
        target: &str,
        offset: i64,
        limit: u32,
    ) -> rusqlite::Result<Vec<(String, i64)>> {
        // Ordered by `since` alone: the index's own order, so that SQLite
        // walks it without a sort. (A tie-break on the follower would sort
        // all of a celebrity's rows for every page.)
        let mut stmt = self.conn.prepare_cached(
            "SELECT follower, since FROM edges WHERE target = ?1
             ORDER BY since DESC LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(params![target, limit, offset], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect()
    }

    /// A page of what `follower` follows, by `LIMIT`/`OFFSET` (ordered by
    /// the primary key: the table has no `(follower, since)` index).
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn following_page(
        &self,
        follower: &str,
        offset: i64,
        limit: u32,
    ) -> rusqlite::Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT target, since FROM edges WHERE follower = ?1
             ORDER BY target LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(params![follower, limit, offset], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect()
    }

    /// `COUNT(*)` of `target`'s followers.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn follower_count(&self, target: &str) -> rusqlite::Result<i64> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM edges WHERE target = ?1")?
            .query_row(params![target], |r| r.get(0))
    }

    /// `COUNT(*)` of what `follower` follows.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn following_count(&self, follower: &str) -> rusqlite::Result<i64> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM edges WHERE follower = ?1")?
            .query_row(params![follower], |r| r.get(0))
    }

    /// The node's row (registration and last activity), if registered.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn node(&self, id: &str) -> rusqlite::Result<Option<(i64, Option<i64>)>> {
        self.conn
            .prepare_cached("SELECT registered_at, last_active FROM nodes WHERE id = ?1")?
            .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
    }

    /// Registers a node (`INSERT OR IGNORE`).
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn register(&mut self, id: &str, at: i64) -> rusqlite::Result<bool> {
        self.write(|tx| {
            tx.prepare_cached("INSERT OR IGNORE INTO nodes (id, registered_at) VALUES (?1, ?2)")?
                .execute(params![id, at])
                .map(|n| n == 1)
        })
    }

    /// Removes a node and every edge touching it, in one transaction.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn remove(&mut self, id: &str) -> rusqlite::Result<bool> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM edges WHERE follower = ?1")?
                .execute(params![id])?;
            tx.prepare_cached("DELETE FROM edges WHERE target = ?1")?
                .execute(params![id])?;
            tx.prepare_cached("DELETE FROM nodes WHERE id = ?1")?
                .execute(params![id])
                .map(|n| n == 1)
        })
    }

    /// Records activity of a node.
    ///
    /// # Errors
    /// Any SQLite failure.
    pub fn touch(&mut self, id: &str, at: i64) -> rusqlite::Result<bool> {
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE nodes SET last_active = max(coalesce(last_active, 0), ?2) WHERE id = ?1",
            )?
            .execute(params![id, at])
            .map(|n| n == 1)
        })
    }
}
