//! Verify and repair: recompute counts from the edges and links, compare,
//! and run SQLite's integrity check.

use follow_core::{Counts, Error};
use rusqlite::Connection;

use crate::codec;
use crate::error::map_sql;

/// A node whose stored counts disagree with its edges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountMismatch {
    /// The node's tenant.
    pub tenant: String,
    /// The node.
    pub node: String,
    /// The counts stored with the node.
    pub stored: Counts,
    /// The counts its edges say.
    pub actual: Counts,
}

/// A node whose stored link count disagrees with the links touching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCountMismatch {
    /// The node's tenant.
    pub tenant: String,
    /// The node.
    pub node: String,
    /// The link count stored with the node.
    pub stored: u64,
    /// How many links (either way, of any kind) touch it.
    pub actual: u64,
}

/// A link by (tenant, kind, from, to).
pub type LinkName = (String, String, String, String);

/// What [`crate::SqliteStore::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// The messages of `PRAGMA integrity_check`; empty when it answered `ok`.
    pub integrity_errors: Vec<String>,
    /// Nodes whose counts disagree with the edges.
    pub count_mismatches: Vec<CountMismatch>,
    /// Edges (tenant, follower, target) with an end that is not registered.
    pub dangling_edges: Vec<(String, String, String)>,
    /// Edges (tenant, follower, target) whose mutual mark (`mutual_since`)
    /// disagrees with whether the edge back exists. Reads answer "followed
    /// back?" from the mark, so a wrong one gives a wrong relation.
    pub wrong_mutual_marks: Vec<(String, String, String)>,
    /// Nodes whose link counts disagree with the links. A write loads the
    /// links between two accounts only when both count some, so a count
    /// too low hides links from the decisions.
    pub link_count_mismatches: Vec<LinkCountMismatch>,
    /// Links with an end that is not registered, or of a kind this code
    /// does not know (which every read by kind passes over).
    pub broken_links: Vec<LinkName>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.integrity_errors.is_empty()
            && self.count_mismatches.is_empty()
            && self.dangling_edges.is_empty()
            && self.wrong_mutual_marks.is_empty()
            && self.link_count_mismatches.is_empty()
            && self.broken_links.is_empty()
    }
}

/// What [`crate::SqliteStore::repair`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepairReport {
    /// The counts rewritten from the edges.
    pub counts_fixed: Vec<CountMismatch>,
    /// The edges whose mutual mark was set or cleared to match the edge
    /// back (set to the later `since` of the two, as a follow-back sets it).
    pub mutual_marks_fixed: Vec<(String, String, String)>,
    /// The link counts rewritten from the links.
    pub link_counts_fixed: Vec<LinkCountMismatch>,
}

/// The counts of every node recomputed from the edges, where they differ.
const MISMATCHES: &str = "
SELECT tenant, id, following, followers, mutual, f_actual, fr_actual, m_actual FROM (
  SELECT n.tenant, n.id, n.following, n.followers, n.mutual,
    (SELECT count(*) FROM edges e WHERE e.tenant = n.tenant AND e.follower = n.id) AS f_actual,
    (SELECT count(*) FROM edges e WHERE e.tenant = n.tenant AND e.target = n.id) AS fr_actual,
    (SELECT count(*) FROM edges e WHERE e.tenant = n.tenant AND e.follower = n.id
       AND EXISTS (SELECT 1 FROM edges r WHERE r.tenant = e.tenant
                   AND r.follower = e.target AND r.target = e.follower)) AS m_actual
  FROM nodes n WHERE ?1 IS NULL OR n.tenant = ?1)
WHERE following != f_actual OR followers != fr_actual OR mutual != m_actual";

pub(crate) fn mismatches(
    conn: &Connection,
    tenant: Option<&str>,
) -> Result<Vec<CountMismatch>, Error> {
    let mut stmt = conn.prepare(MISMATCHES).map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                [r.get::<_, i64>(2)?, r.get(3)?, r.get(4)?],
                [r.get::<_, i64>(5)?, r.get(6)?, r.get(7)?],
            ))
        })
        .map_err(map_sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (tenant, node, [a, b, c], [x, y, z]) = row.map_err(map_sql)?;
        out.push(CountMismatch {
            tenant,
            node,
            stored: codec::STORED.counts(a, b, c)?,
            actual: codec::STORED.counts(x, y, z)?,
        });
    }
    Ok(out)
}

/// The link count of every node recomputed from the links, where they
/// differ: one pass over the links (each counted at both ends), joined to
/// the nodes.
const LINK_MISMATCHES: &str = "
WITH ends (tenant, id) AS (
  SELECT tenant, from_account FROM links WHERE ?1 IS NULL OR tenant = ?1
  UNION ALL
  SELECT tenant, to_account FROM links WHERE ?1 IS NULL OR tenant = ?1),
actual (tenant, id, links) AS (SELECT tenant, id, count(*) FROM ends GROUP BY tenant, id)
SELECT n.tenant, n.id, n.links, coalesce(a.links, 0) FROM nodes n
LEFT JOIN actual a ON a.tenant = n.tenant AND a.id = n.id
WHERE (?1 IS NULL OR n.tenant = ?1) AND n.links != coalesce(a.links, 0)";

fn link_mismatches(
    conn: &Connection,
    tenant: Option<&str>,
) -> Result<Vec<LinkCountMismatch>, Error> {
    let mut stmt = conn.prepare(LINK_MISMATCHES).map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(map_sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (tenant, node, stored, actual) = row.map_err(map_sql)?;
        out.push(LinkCountMismatch {
            tenant,
            node,
            stored: codec::STORED.count(stored)?,
            actual: codec::STORED.count(actual)?,
        });
    }
    Ok(out)
}

fn broken_links(conn: &Connection, tenant: Option<&str>) -> Result<Vec<LinkName>, Error> {
    let kinds = codec::link_kinds_sql();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT l.tenant, l.kind, l.from_account, l.to_account FROM links l
             WHERE (?1 IS NULL OR l.tenant = ?1)
               AND (l.kind NOT IN ({kinds})
                OR NOT EXISTS (SELECT 1 FROM nodes n
                               WHERE n.tenant = l.tenant AND n.id = l.from_account)
                OR NOT EXISTS (SELECT 1 FROM nodes n
                               WHERE n.tenant = l.tenant AND n.id = l.to_account))"
        ))
        .map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(map_sql)?;
    rows.map(|r| r.map_err(map_sql)).collect()
}

/// An edge by (tenant, follower, target).
type EdgeName = (String, String, String);

fn integrity(conn: &Connection) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(map_sql)?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(map_sql)?;
    let mut out = Vec::new();
    for row in rows {
        let line = row.map_err(map_sql)?;
        if line != "ok" {
            out.push(line);
        }
    }
    Ok(out)
}

fn dangling(conn: &Connection, tenant: Option<&str>) -> Result<Vec<EdgeName>, Error> {
    let mut stmt = conn
        .prepare(
            "SELECT e.tenant, e.follower, e.target FROM edges e
             WHERE (?1 IS NULL OR e.tenant = ?1)
               AND (NOT EXISTS (SELECT 1 FROM nodes n WHERE n.tenant = e.tenant AND n.id = e.follower)
                OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.tenant = e.tenant AND n.id = e.target))",
        )
        .map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(map_sql)?;
    rows.map(|r| r.map_err(map_sql)).collect()
}

/// Each edge's mark, and what the edge back says it should be.
const MUTUAL_MARKS: &str = "
SELECT tenant, follower, target, right_mark FROM (
  SELECT e.tenant, e.follower, e.target, e.mutual_since,
    (SELECT max(e.since, r.since) FROM edges r WHERE r.tenant = e.tenant
       AND r.follower = e.target AND r.target = e.follower) AS right_mark
  FROM edges e WHERE ?1 IS NULL OR e.tenant = ?1)
WHERE (mutual_since IS NULL) != (right_mark IS NULL)";

/// Edges whose mutual mark is set without an edge back, or missing with one,
/// with the mark each should have.
fn wrong_marks(
    conn: &Connection,
    tenant: Option<&str>,
) -> Result<Vec<(EdgeName, Option<i64>)>, Error> {
    let mut stmt = conn.prepare(MUTUAL_MARKS).map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant], |r| {
            Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?))
        })
        .map_err(map_sql)?;
    rows.map(|r| r.map_err(map_sql)).collect()
}

/// Checks everything in one read transaction: the whole file's integrity,
/// and the counts, edges and marks of one tenant (every tenant for `None`).
pub(crate) fn verify(conn: &Connection, tenant: Option<&str>) -> Result<VerifyReport, Error> {
    crate::queries::snapshot(conn, |conn| {
        Ok(VerifyReport {
            integrity_errors: integrity(conn)?,
            count_mismatches: mismatches(conn, tenant)?,
            dangling_edges: dangling(conn, tenant)?,
            wrong_mutual_marks: wrong_marks(conn, tenant)?
                .into_iter()
                .map(|(edge, _)| edge)
                .collect(),
            link_count_mismatches: link_mismatches(conn, tenant)?,
            broken_links: broken_links(conn, tenant)?,
        })
    })
}

/// Rewrites every wrong mutual mark, then every wrong count from the edges
/// and every wrong link count from the links, of one tenant (every tenant
/// for `None`), in one write transaction.
pub(crate) fn repair(conn: &mut Connection, tenant: Option<&str>) -> Result<RepairReport, Error> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(map_sql)?;
    let marks = wrong_marks(&tx, tenant)?;
    for ((tenant, follower, target), mark) in &marks {
        tx.execute(
            "UPDATE edges SET mutual_since = ?4
             WHERE tenant = ?1 AND follower = ?2 AND target = ?3",
            rusqlite::params![tenant, follower, target, mark],
        )
        .map_err(map_sql)?;
    }
    let fixed = mismatches(&tx, tenant)?;
    for m in &fixed {
        tx.execute(
            "UPDATE nodes SET following = ?3, followers = ?4, mutual = ?5
             WHERE tenant = ?1 AND id = ?2",
            rusqlite::params![
                m.tenant,
                m.node,
                codec::STORED.signed(m.actual.following)?,
                codec::STORED.signed(m.actual.followers)?,
                codec::STORED.signed(m.actual.mutual)?,
            ],
        )
        .map_err(map_sql)?;
    }
    let links_fixed = link_mismatches(&tx, tenant)?;
    for m in &links_fixed {
        tx.execute(
            "UPDATE nodes SET links = ?3 WHERE tenant = ?1 AND id = ?2",
            rusqlite::params![m.tenant, m.node, codec::STORED.signed(m.actual)?],
        )
        .map_err(map_sql)?;
    }
    tx.commit().map_err(map_sql)?;
    Ok(RepairReport {
        counts_fixed: fixed,
        mutual_marks_fixed: marks.into_iter().map(|(edge, _)| edge).collect(),
        link_counts_fixed: links_fixed,
    })
}
