//! Building the edge table's secondary indexes once, in bulk, around a
//! batch that writes more edges than the table holds.
//!
//! A commit writes its edges in primary-key order, so the primary key is
//! walked front to back, but each secondary index takes its entries at
//! random places: every edge costs a descent of each index, and once an
//! index outgrows the page cache, a page read and a page spilled. Building
//! an index from the finished table sorts its entries once and writes each
//! page once, full. The rebuild reads every edge of every tenant, so it
//! pays only when the batch writes at least as many edges as are already
//! stored ([`REBUILD_RATIO`]): a load into an empty or nearly empty file.
//!
//! The indexes are dropped and created again inside the batch's savepoint
//! or transaction (SQLite's DDL is transactional): a batch that fails rolls
//! the drop back with its rows, a reader keeps its snapshot and its indexes
//! until the group commits, and the rows and index entries written are the
//! ones the per-row path writes.

use rusqlite::Connection;

use crate::error::map_sql;
use follow_core::Error;

/// The edge writes of one batch from which it may take the bulk path, when
/// no option says otherwise: below it, the rebuild's fixed costs (a
/// schema change that every connection re-prepares its statements for,
/// and the scan of the table) outweigh the random inserts saved.
pub(crate) const DEFAULT_REBUILD_FROM: usize = 10_000;

/// A batch rebuilds the edge indexes when the table holds at most this
/// many edges per edge row it writes: then the build sorts no more than
/// twice the batch's own entries. A larger share does not pay on this
/// machine: with 4, a one-million-edge load in ten calls (five of them
/// rebuilding) took 43.5 and 50.0 s against 37.4 and 43.7 s entry by entry,
/// two alternating pairs, with the same CPU time.
pub(crate) const REBUILD_RATIO: usize = 1;

/// The secondary indexes of `edges` a batch dropped, to be created again
/// before its batch ends.
#[derive(Debug)]
pub(crate) struct DroppedIndexes {
    /// Each index's `CREATE INDEX` statement as the schema stores it.
    definitions: Vec<String>,
}

/// Drops the secondary indexes of `edges` when a batch writing
/// `edge_writes` edge rows (inserted or updated) should rebuild them: at
/// least `from` rows, and at least as many as the table holds ([`REBUILD_RATIO`]; every tenant's edges,
/// counted no further than that bound, so the check costs at most the
/// batch's size).
/// `None` when the batch takes the per-row path.
pub(crate) fn drop_for_bulk(
    conn: &Connection,
    edge_writes: usize,
    from: usize,
) -> Result<Option<DroppedIndexes>, Error> {
    if edge_writes == 0 || edge_writes < from {
        return Ok(None);
    }
    let most = edge_writes.saturating_mul(REBUILD_RATIO);
    let limit = i64::try_from(most)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1);
    let stored: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM edges LIMIT ?1)",
            [limit],
            |row| row.get(0),
        )
        .map_err(map_sql)?;
    if stored >= limit {
        return Ok(None);
    }
    let definitions = {
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM sqlite_master
                 WHERE type = 'index' AND tbl_name = 'edges' AND sql IS NOT NULL
                 ORDER BY name",
            )
            .map_err(map_sql)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))
            .map_err(map_sql)?;
        rows.collect::<rusqlite::Result<Vec<(String, String)>>>()
            .map_err(map_sql)?
    };
    for (name, _) in &definitions {
        conn.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
            .map_err(map_sql)?;
    }
    Ok(Some(DroppedIndexes {
        definitions: definitions.into_iter().map(|(_, sql)| sql).collect(),
    }))
}

impl DroppedIndexes {
    /// Creates the dropped indexes again from the table as it now is.
    pub(crate) fn recreate(self, conn: &Connection) -> Result<(), Error> {
        for sql in &self.definitions {
            conn.execute_batch(sql).map_err(map_sql)?;
        }
        Ok(())
    }
}

/// The names of the secondary indexes `edges` has now.
#[cfg(test)]
pub(crate) fn edge_indexes(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'edges'
         AND sql IS NOT NULL ORDER BY name",
    )?;
    let names = stmt.query_map([], |row| row.get(0))?;
    names.collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::testing::migrated;

    fn insert_edges(conn: &Connection, n: usize) {
        for i in 0..n {
            conn.execute(
                "INSERT INTO edges (tenant, follower, target, since, muted) VALUES ('t', ?1, 'x', 0, 0)",
                [format!("a{i}")],
            )
            .unwrap();
        }
    }

    #[test]
    fn a_batch_rebuilds_only_when_it_is_a_large_share_of_the_stored_edges() {
        let conn = migrated();
        let all = edge_indexes(&conn).unwrap();
        assert_eq!(all, ["edges_followers", "edges_following", "edges_mutuals"]);

        assert!(drop_for_bulk(&conn, 0, 0).unwrap().is_none());
        assert!(drop_for_bulk(&conn, 9, 10).unwrap().is_none());
        insert_edges(&conn, 2 * REBUILD_RATIO + 1);
        assert!(
            drop_for_bulk(&conn, 2, 1).unwrap().is_none(),
            "2 writes, more than {} stored",
            2 * REBUILD_RATIO
        );

        let dropped = drop_for_bulk(&conn, 3, 1).unwrap().unwrap();
        assert!(edge_indexes(&conn).unwrap().is_empty());
        dropped.recreate(&conn).unwrap();
        assert_eq!(edge_indexes(&conn).unwrap(), all);
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    #[test]
    fn a_rolled_back_savepoint_brings_the_indexes_back() {
        let conn = migrated();
        conn.execute_batch("BEGIN; SAVEPOINT batch").unwrap();
        let dropped = drop_for_bulk(&conn, 1, 1).unwrap();
        assert!(dropped.is_some());
        assert!(edge_indexes(&conn).unwrap().is_empty());
        conn.execute_batch("ROLLBACK TO batch; RELEASE batch; COMMIT")
            .unwrap();
        assert_eq!(edge_indexes(&conn).unwrap().len(), 3);
    }
}
