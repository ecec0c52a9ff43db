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

    /// The statement for one row, where it differs from the general
    /// shape: a `(VALUES …)` list in an `IN` or in an `UPDATE … FROM` is
    /// copied into an ephemeral table (a B-tree of its own, opened, filled
    /// and freed per run); one row needs none. The parameters are numbered
    /// as in the general shape.
    fn single_row_text(self) -> Option<String> {
        match self {
            Kind::DeleteEdges => Some(
                "DELETE FROM edges WHERE tenant = ?1 AND follower = ?2 AND target = ?3".to_owned(),
            ),
            Kind::DeleteLinks => Some(
                "DELETE FROM links
                 WHERE tenant = ?1 AND kind = ?2 AND from_account = ?3 AND to_account = ?4"
                    .to_owned(),
            ),
            Kind::UpdateEdges => Some(
                "UPDATE OR FAIL edges SET since = ?4, muted = ?5, mutual_since = ?6, options = ?7
                 WHERE tenant = ?1 AND follower = ?2 AND target = ?3"
                    .to_owned(),
            ),
            Kind::UpdateLinks => Some(
                "UPDATE OR FAIL links SET since = ?5, notifications = ?6, expires_at = ?7,
                   options = ?8
                 WHERE tenant = ?1 AND kind = ?2 AND from_account = ?3 AND to_account = ?4"
                    .to_owned(),
            ),
            Kind::UpdateNodes => Some(
                "UPDATE OR FAIL nodes SET following = following + ?3,
                   followers = followers + ?4, mutual = mutual + ?5, links = links + ?6,
                   locked = coalesce(?7, locked), last_active = coalesce(?8, last_active)
                 WHERE tenant = ?1 AND id = ?2"
                    .to_owned(),
            ),
            // The loads join their VALUES list, which SQLite reads in
            // place; `id IN (?2)` is planned as `id = ?2`; a single VALUES
            // row after INSERT is written directly.
            Kind::LoadNodes
            | Kind::LoadEdges
            | Kind::LoadLinks
            | Kind::DeleteNodes
            | Kind::InsertNodes
            | Kind::InsertEdges
            | Kind::InsertLinks
            | Kind::InsertEvents => None,
        }
    }

    /// The statement for `rows` rows.
    fn text(self, rows: usize) -> String {
        if rows == 1
            && let Some(text) = self.single_row_text()
        {
            return text;
        }
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
        let list = || {
            (2..2 + rows)
                .map(|p| format!("?{p}"))
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
            // A row value IN a subquery that names every key column seeks
            // the primary key once per pair (`(follower, target) IN
            // (VALUES …)` without the tenant scans).
            Kind::DeleteLinks => format!(
                "DELETE FROM links WHERE (tenant, kind, from_account, to_account) IN
                   (SELECT ?1, column1, column2, column3 FROM (VALUES {}))",
                tuples(false)
            ),
            Kind::DeleteEdges => format!(
                "DELETE FROM edges WHERE (tenant, follower, target) IN
                   (SELECT ?1, column1, column2 FROM (VALUES {}))",
                tuples(false)
            ),
            Kind::DeleteNodes => {
                format!("DELETE FROM nodes WHERE tenant = ?1 AND id IN ({})", list())
            }
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
            Kind::UpdateEdges => format!(
                "UPDATE OR FAIL edges SET since = d.column3, muted = d.column4,
                   mutual_since = d.column5, options = d.column6
                 FROM (VALUES {}) AS d
                 WHERE edges.tenant = ?1 AND edges.follower = d.column1
                   AND edges.target = d.column2",
                tuples(false)
            ),
            Kind::InsertLinks => format!(
                "INSERT OR FAIL INTO links (tenant, {LINK_COLUMNS}) VALUES {}",
                tuples(true)
            ),
            Kind::UpdateLinks => format!(
                "UPDATE OR FAIL links SET since = d.column4, notifications = d.column5,
                   expires_at = d.column6, options = d.column7
                 FROM (VALUES {}) AS d
                 WHERE links.tenant = ?1 AND links.kind = d.column1
                   AND links.from_account = d.column2 AND links.to_account = d.column3",
                tuples(false)
            ),
            Kind::UpdateNodes => format!(
                "UPDATE OR FAIL nodes SET following = following + d.column2,
                   followers = followers + d.column3, mutual = mutual + d.column4,
                   links = links + d.column5, locked = coalesce(d.column6, locked),
                   last_active = coalesce(d.column7, last_active)
                 FROM (VALUES {}) AS d
                 WHERE nodes.tenant = ?1 AND nodes.id = d.column1",
                tuples(false)
            ),
            Kind::InsertEvents => format!(
                "INSERT OR FAIL INTO events (tenant, kind, follower, target, at) VALUES {}",
                tuples(true)
            ),
        }
    }
}

/// The statement of `kind` for `rows` rows, which must be one of
/// [`CHUNK_SIZES`] (as [`chunks`] yields them).
pub(crate) fn sql(kind: Kind, rows: usize) -> &'static str {
    static TEXTS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        KINDS
            .iter()
            .map(|kind| CHUNK_SIZES.iter().map(|&n| kind.text(n)).collect())
            .collect()
    });
    let kind_index = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
    let size_index = CHUNK_SIZES
        .iter()
        .position(|&n| n == rows)
        .unwrap_or(CHUNK_SIZES.len() - 1);
    texts
        .get(kind_index)
        .and_then(|sizes| sizes.get(size_index))
        .map_or("", String::as_str)
}

/// `0..n` cut into consecutive ranges whose lengths are in [`CHUNK_SIZES`],
/// largest first.
pub(crate) fn chunks(n: usize) -> impl Iterator<Item = Range<usize>> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = n - start;
        let size = CHUNK_SIZES.iter().copied().find(|&size| size <= left)?;
        let range = start..start + size;
        start += size;
        Some(range)
    })
}

/// Statements the write path may keep prepared: one per kind and size.
pub(crate) const STATEMENTS: usize = KINDS.len() * CHUNK_SIZES.len();

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn chunks_cover_every_row_once_with_the_fewest_statements() {
        for n in [0, 1, 3, 4, 20, 21, 255, 256, 257, 1000, 100_000] {
            let ranges: Vec<_> = chunks(n).collect();
            let mut next = 0;
            for range in &ranges {
                assert_eq!(range.start, next);
                assert!(CHUNK_SIZES.contains(&range.len()));
                next = range.end;
            }
            assert_eq!(next, n);
        }
        assert_eq!(chunks(20).map(|r| r.len()).collect::<Vec<_>>(), [16, 4]);
    }

    #[test]
    fn every_statement_prepares_and_seeks_by_key() {
        let conn = crate::testing::migrated();
        for kind in KINDS {
            for rows in CHUNK_SIZES {
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
            for rows in CHUNK_SIZES {
                let aborts = crate::testing::program(&conn, sql(kind, rows))
                    .into_iter()
                    .any(|(op, p1, p2)| op.starts_with("Halt") && p1 != 0 && p2 == 2);
                assert!(!aborts, "{kind:?} of {rows}");
            }
        }
    }

    /// A one-row statement (every single-command write runs several) and
    /// a load of any size build no ephemeral table; the multi-row shape of
    /// a kind whose one-row text differs does.
    #[test]
    fn one_row_statements_and_loads_open_no_ephemeral_table() {
        let conn = crate::testing::migrated();
        let opcodes = |text: &str| crate::testing::opcodes(&conn, text);
        for kind in [Kind::LoadNodes, Kind::LoadEdges, Kind::LoadLinks] {
            for rows in CHUNK_SIZES {
                let ops = opcodes(sql(kind, rows));
                let ephemeral = ops.iter().any(|op| op == "OpenEphemeral");
                assert!(!ephemeral, "{kind:?} of {rows}");
            }
        }
        for kind in KINDS {
            let one = opcodes(sql(kind, 1));
            assert!(
                !one.iter().any(|op| op == "OpenEphemeral"),
                "{kind:?}: {one:?}"
            );
            if kind.single_row_text().is_some() {
                let four = opcodes(sql(kind, 4));
                assert!(four.iter().any(|op| op == "OpenEphemeral"), "{kind:?} of 4");
            }
        }
    }
}
