//! The multi-row statements of the write path, one per kind of row and
//! chunk size.
//!
//! A batch of `n` rows of one kind runs as the fewest statements of the
//! sizes in [`CHUNK_SIZES`] (20 rows: one of 16 and one of 4), so a batch
//! pays each statement's fixed cost (lookup in the statement cache,
//! binding, stepping, resetting) a few times rather than once per row, and
//! the statement cache holds a bounded number of texts. Each text is built
//! once per process.
//!
//! Deletes and updates are the exception: they run a one-row statement
//! per row ([`Kind::row_by_row`]). Their multi-row shapes name the rows in
//! an `IN (…)` list or an `UPDATE … FROM (VALUES …)`, which SQLite copies
//! into an ephemeral table (a B-tree of its own, opened, filled and freed)
//! on every run, and that costs more than the runs it saves.
//!
//! The writing statements say `OR FAIL`: a statement that fails part-way
//! keeps the rows it wrote, which costs nothing here because the whole
//! batch is rolled back (its savepoint, or its transaction) on any error.
//! With SQLite's default (`ABORT`), every multi-row write opens a statement
//! journal of its own, a nested savepoint into which SQLite copies each
//! page before the statement first changes it: on a 300,000-edge import
//! three quarters of the time went to `sqlite3BtreeSavepoint`. An upsert's
//! `ON CONFLICT DO UPDATE` resolves its update's conflicts with `ABORT`
//! whatever the statement says, so no statement here is an upsert: edges
//! and links are written by an insert of new rows and an update of stored
//! ones, as the change set lists them apart.

use std::ops::Range;
use std::sync::OnceLock;

use crate::rows::{LINK_COLUMNS, NODE_COLUMNS};

/// Rows per statement, largest first; the last must be 1.
pub(crate) const CHUNK_SIZES: [usize; 5] = [256, 64, 16, 4, 1];

/// What a statement does; `?1` is always the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Node rows by id: `?2…`.
    LoadNodes,
    /// Edge rows by (follower, target): `?2, ?3` per row.
    LoadEdges,
    /// Link rows by (kind, from, to).
    LoadLinks,
    /// Edges by (follower, target).
    DeleteEdges,
    /// Links by (kind, from, to).
    DeleteLinks,
    /// Nodes by id.
    DeleteNodes,
    /// Whole node rows: id, registered_at, last_active, three counters,
    /// locked, links.
    InsertNodes,
    /// New edge rows: follower, target, since, muted, mutual_since,
    /// options.
    InsertEdges,
    /// Stored edge rows' values, by (follower, target): follower, target,
    /// since, muted, mutual_since, options.
    UpdateEdges,
    /// New link rows: kind, from, to, since, notifications, expires_at,
    /// options.
    InsertLinks,
    /// Stored link rows' values, by (kind, from, to): the columns of
    /// `InsertLinks`.
    UpdateLinks,
    /// Counter deltas, locked flag and activity: id, three deltas, links
    /// delta, locked or NULL, last_active or NULL.
    UpdateNodes,
    /// Events: kind, follower, target, at.
    InsertEvents,
}

const KINDS: [Kind; 13] = [
    Kind::LoadNodes,
    Kind::LoadEdges,
    Kind::LoadLinks,
    Kind::DeleteEdges,
    Kind::DeleteLinks,
    Kind::DeleteNodes,
    Kind::InsertNodes,
    Kind::InsertEdges,
    Kind::UpdateEdges,
    Kind::InsertLinks,
    Kind::UpdateLinks,
    Kind::UpdateNodes,
    Kind::InsertEvents,
];

impl Kind {
    /// Bound parameters per row (after the tenant).
    pub(crate) fn width(self) -> usize {
        match self {
            Kind::LoadNodes | Kind::DeleteNodes => 1,
            Kind::LoadEdges | Kind::DeleteEdges => 2,
            Kind::LoadLinks | Kind::DeleteLinks => 3,
            Kind::InsertEvents => 4,
            Kind::InsertEdges | Kind::UpdateEdges => 6,
            Kind::InsertLinks | Kind::UpdateLinks | Kind::UpdateNodes => 7,
            Kind::InsertNodes => 8,
        }
    }

    /// Whether this kind runs one statement per row: the deletes and
    /// updates, whose statements name their rows by key equalities. In
    /// the `write_path_instructions` workload, one-row statements cost
    /// fewer instructions than one multi-row statement of the same rows at
    /// every size tried: 16, 20, 64 and 256 rows, and an import.
    pub(crate) const fn row_by_row(self) -> bool {
        matches!(
            self,
            Kind::DeleteEdges
                | Kind::DeleteLinks
                | Kind::DeleteNodes
                | Kind::UpdateEdges
                | Kind::UpdateLinks
                | Kind::UpdateNodes
        )
    }

    /// The rows per statement of this kind, largest first, ending in 1.
    pub(crate) const fn chunk_sizes(self) -> &'static [usize] {
        if self.row_by_row() {
            &[1]
        } else {
            &CHUNK_SIZES
        }
    }

    /// The statement for `rows` rows, one of [`Self::chunk_sizes`].
    fn text(self, rows: usize) -> String {
        let width = self.width();
        // "(?2, ?3), (?4, ?5)", optionally with the tenant first in each row.
        let tuples = |tenant_first: bool| {
            (0..rows)
                .map(|row| {
                    let first = 2 + row * width;
                    let params = (first..first + width).map(|p| format!("?{p}"));
                    let params: Vec<String> = if tenant_first {
                        std::iter::once("?1".to_owned()).chain(params).collect()
                    } else {
                        params.collect()
                    };
                    format!("({})", params.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            // The loads walk their VALUES list in place (CROSS JOIN keeps
            // it outermost) and seek the primary key once per row; an `IN`
            // list or subquery would first copy the keys into an ephemeral
            // table. The keys are distinct, so no row is answered twice.
            Kind::LoadNodes => format!(
                "SELECT id, {NODE_COLUMNS} FROM (VALUES {}) AS k CROSS JOIN nodes
                 WHERE tenant = ?1 AND id = k.column1",
                tuples(false)
            ),
            Kind::LoadEdges => format!(
                "SELECT follower, target, since, muted, mutual_since, options
                 FROM (VALUES {}) AS k CROSS JOIN edges
                 WHERE tenant = ?1 AND follower = k.column1 AND target = k.column2",
                tuples(false)
            ),
            Kind::LoadLinks => format!(
                "SELECT {LINK_COLUMNS} FROM (VALUES {}) AS k CROSS JOIN links
                 WHERE tenant = ?1 AND kind = k.column1 AND from_account = k.column2
                   AND to_account = k.column3",
                tuples(false)
            ),
            Kind::DeleteLinks => "DELETE FROM links
                 WHERE tenant = ?1 AND kind = ?2 AND from_account = ?3 AND to_account = ?4"
                .to_owned(),
            Kind::DeleteEdges => {
                "DELETE FROM edges WHERE tenant = ?1 AND follower = ?2 AND target = ?3".to_owned()
            }
            Kind::DeleteNodes => "DELETE FROM nodes WHERE tenant = ?1 AND id = ?2".to_owned(),
            Kind::InsertNodes => format!(
                "INSERT OR FAIL INTO nodes
                   (tenant, id, registered_at, last_active, following, followers, mutual,
                    locked, links)
                 VALUES {}",
                tuples(true)
            ),
            Kind::InsertEdges => format!(
                "INSERT OR FAIL INTO edges
                   (tenant, follower, target, since, muted, mutual_since, options)
                 VALUES {}",
                tuples(true)
            ),
            Kind::UpdateEdges => "UPDATE OR FAIL edges
                 SET since = ?4, muted = ?5, mutual_since = ?6, options = ?7
                 WHERE tenant = ?1 AND follower = ?2 AND target = ?3"
                .to_owned(),
            Kind::InsertLinks => format!(
                "INSERT OR FAIL INTO links (tenant, {LINK_COLUMNS}) VALUES {}",
                tuples(true)
            ),
            Kind::UpdateLinks => "UPDATE OR FAIL links
                 SET since = ?5, notifications = ?6, expires_at = ?7, options = ?8
                 WHERE tenant = ?1 AND kind = ?2 AND from_account = ?3 AND to_account = ?4"
                .to_owned(),
            Kind::UpdateNodes => "UPDATE OR FAIL nodes
                 SET following = following + ?3, followers = followers + ?4,
                   mutual = mutual + ?5, links = links + ?6,
                   locked = coalesce(?7, locked), last_active = coalesce(?8, last_active)
                 WHERE tenant = ?1 AND id = ?2"
                .to_owned(),
            Kind::InsertEvents => format!(
                "INSERT OR FAIL INTO events (tenant, kind, follower, target, at) VALUES {}",
                tuples(true)
            ),
        }
    }
}

/// The statement of `kind` for `rows` rows, which must be one of its
/// [`Kind::chunk_sizes`] (as [`chunks`] yields them).
pub(crate) fn sql(kind: Kind, rows: usize) -> &'static str {
    static TEXTS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        KINDS
            .iter()
            .map(|kind| kind.chunk_sizes().iter().map(|&n| kind.text(n)).collect())
            .collect()
    });
    let kind_index = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
    let sizes = kind.chunk_sizes();
    let size_index = sizes
        .iter()
        .position(|&n| n == rows)
        .unwrap_or(sizes.len() - 1);
    texts
        .get(kind_index)
        .and_then(|sizes| sizes.get(size_index))
        .map_or("", String::as_str)
}

/// `0..n` cut into consecutive ranges whose lengths are among `kind`'s
/// chunk sizes ([`Kind::chunk_sizes`]), largest first.
pub(crate) fn chunks(kind: Kind, n: usize) -> impl Iterator<Item = Range<usize>> {
    let sizes = kind.chunk_sizes();
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = n - start;
        let size = sizes.iter().copied().find(|&size| size <= left)?;
        let range = start..start + size;
        start += size;
        Some(range)
    })
}

/// Statements the write path may keep prepared, at most: one per kind and
/// size (a kind written row by row has one).
pub(crate) const STATEMENTS: usize = KINDS.len() * CHUNK_SIZES.len();

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn chunks_cover_every_row_once_with_the_fewest_statements() {
        for kind in KINDS {
            let sizes = kind.chunk_sizes();
            assert_eq!(sizes.last(), Some(&1), "{kind:?}");
            assert!(sizes.windows(2).all(|w| w[0] > w[1]), "{kind:?}");
            assert!(sizes.iter().all(|n| CHUNK_SIZES.contains(n)), "{kind:?}");
            for n in [0, 1, 3, 4, 20, 21, 255, 256, 257, 1000, 100_000] {
                let mut next = 0;
                for range in chunks(kind, n) {
                    assert_eq!(range.start, next);
                    assert!(sizes.contains(&range.len()));
                    next = range.end;
                }
                assert_eq!(next, n);
            }
        }
        let lengths = |kind, n| chunks(kind, n).map(|r| r.len()).collect::<Vec<_>>();
        assert_eq!(lengths(Kind::LoadEdges, 20), [16, 4]);
        assert_eq!(lengths(Kind::InsertEvents, 321), [256, 64, 1]);
        assert_eq!(lengths(Kind::DeleteEdges, 3), [1; 3]);
        assert_eq!(lengths(Kind::UpdateNodes, 321), [1; 321]);
    }

    #[test]
    fn every_statement_prepares_and_seeks_by_key() {
        let conn = crate::testing::migrated();
        for kind in KINDS {
            for &rows in kind.chunk_sizes() {
                let details = crate::testing::query_plan(&conn, sql(kind, rows));
                // Every read of an existing row is a seek by its whole key,
                // never a scan of a table or of a tenant's rows.
                for line in &details {
                    assert!(
                        !line.starts_with("SCAN nodes")
                            && !line.starts_with("SCAN edges")
                            && !line.starts_with("SCAN links"),
                        "{kind:?} of {rows}: {details:?}"
                    );
                    if line.starts_with("SEARCH") {
                        assert!(
                            line.contains("PRIMARY KEY (tenant=? AND id=?)")
                                || line
                                    .contains("PRIMARY KEY (tenant=? AND follower=? AND target=?)")
                                || line.contains(
                                    "PRIMARY KEY (tenant=? AND kind=? AND from_account=? AND to_account=?)"
                                ),
                            "{kind:?} of {rows}: {details:?}"
                        );
                    }
                }
            }
        }
    }

    /// No write statement can end in `ABORT` (a constraint's `Halt` or
    /// `HaltIfNull` with P2 = 2), which would make SQLite keep a statement
    /// journal for each of its runs.
    #[test]
    fn no_write_can_abort() {
        let conn = crate::testing::migrated();
        for kind in KINDS {
            if matches!(kind, Kind::LoadNodes | Kind::LoadEdges | Kind::LoadLinks) {
                continue;
            }
            for &rows in kind.chunk_sizes() {
                let aborts = crate::testing::program(&conn, sql(kind, rows))
                    .into_iter()
                    .any(|(op, p1, p2)| op.starts_with("Halt") && p1 != 0 && p2 == 2);
                assert!(!aborts, "{kind:?} of {rows}");
            }
        }
    }

    /// No statement the write path runs builds an ephemeral table, at any
    /// size: the loads and inserts read their `VALUES` list in place, and
    /// the deletes and updates run one row at a time. The multi-row shape
    /// those avoid would build one.
    #[test]
    fn no_statement_opens_an_ephemeral_table() {
        let conn = crate::testing::migrated();
        let ephemeral = |text: &str| {
            crate::testing::opcodes(&conn, text)
                .iter()
                .any(|op| op == "OpenEphemeral")
        };
        for kind in KINDS {
            for &rows in kind.chunk_sizes() {
                assert!(!ephemeral(sql(kind, rows)), "{kind:?} of {rows}");
            }
            assert_eq!(kind.row_by_row(), kind.chunk_sizes() == [1], "{kind:?}");
        }
        assert!(ephemeral(
            "DELETE FROM edges WHERE (tenant, follower, target) IN
               (SELECT ?1, column1, column2 FROM (VALUES (?2, ?3), (?4, ?5)))"
        ));
    }
}
