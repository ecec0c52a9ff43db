//! The text of the load's statements: the node locks, and the one read of
//! nodes, edges and links.

use std::sync::LazyLock;

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::LoadKeys;
use crate::bound::Bound;
use crate::codec::{LINK_COLUMNS, NODE_COLUMNS};
use crate::counters::pending_sql;
use crate::positions::WRITER_LOCK_BITS;

/// How strongly a node row is locked for a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// `FOR UPDATE`: the acting account (and any node the batch may
    /// remove). Two transactions touching one edge pair always lock one of
    /// its ends this way, so they run one after the other.
    Exclusive,
    /// `FOR KEY SHARE`: the node stays registered until commit, while other
    /// transactions may lock it the same way and append to its counters
    /// ([`crate::counters`]).
    KeyShare,
}

/// The load's first statement: takes the transaction's id, and the
/// advisory lock keyed by it that older-writer waits queue on
/// ([`super::wait_for_older_writers`]), then locks the present rows of the
/// nodes `$2` of tenant `$1`, each as `$3` says (true: [`Lock::Exclusive`]),
/// one after another in the arrays' order (the ids come sorted). One row:
/// the id.
///
/// A `SELECT` takes one lock strength, so each node runs two locking
/// subqueries of which its flag lets one read; both join laterally, so
/// they run per node in order, after the id and its lock (which they name
/// for that reason).
pub(super) static LOCK_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT a.x FROM (
             SELECT x, pg_advisory_xact_lock(x # {WRITER_LOCK_BITS})
             FROM (SELECT pg_current_xact_id()::text::bigint AS x) AS t OFFSET 0) AS a
         CROSS JOIN LATERAL (
             SELECT count(e.*) + count(s.*) AS held
             FROM unnest($2::text[], $3::boolean[]) AS k(id, exclusive)
             LEFT JOIN LATERAL (
                 SELECT 1 FROM follow_nodes n
                 WHERE n.tenant = $1 AND n.id = k.id AND k.exclusive AND a.x IS NOT NULL
                 FOR UPDATE) AS e ON true
             LEFT JOIN LATERAL (
                 SELECT 1 FROM follow_nodes n
                 WHERE n.tenant = $1 AND n.id = k.id AND NOT k.exclusive AND a.x IS NOT NULL
                 FOR KEY SHARE) AS s ON true) AS locked"
    )
});

/// Where each part of [`super::load`]'s read puts its columns in a row: column 0
/// names the part ([`Part`]), the others are NULL outside their part.
pub(crate) mod at {
    /// A node's id; its record from `NODE + 1` as
    /// [`crate::codec::node_record`] reads it.
    pub(crate) const NODE: usize = 1;
    /// The number of a node's counter deltas not yet folded into its row
    /// ([`crate::counters`]).
    pub(crate) const PENDING: usize = 9;
    /// An edge: follower, target, since, muted, mutual_since, options.
    pub(crate) const EDGE: usize = 10;
    /// A link's key as [`crate::codec::link_key`] reads it; the link from
    /// `LINK + 3`.
    pub(crate) const LINK: usize = 16;
}

/// What a row of [`super::load`]'s read holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// A node row.
    Node,
    /// An edge row.
    Edge,
    /// A link row.
    Link,
}

impl Part {
    fn tag(self) -> i32 {
        match self {
            Part::Node => 0,
            Part::Edge => 1,
            Part::Link => 2,
        }
    }

    /// The part of a row of [`super::load`]'s read.
    pub(crate) fn of(row: &Row) -> Result<Part, tokio_postgres::Error> {
        Ok(match row.try_get::<_, i32>(0)? {
            0 => Part::Node,
            1 => Part::Edge,
            _ => Part::Link,
        })
    }
}

const NODE_NULLS: &str = "NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, \
                          NULL::bigint, NULL::boolean, NULL::bigint, NULL::bigint";
const EDGE_NULLS: &str =
    "NULL::text, NULL::text, NULL::bigint, NULL::boolean, NULL::bigint, NULL::text";
const LINK_NULLS: &str = "NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::boolean, \
                          NULL::bigint, NULL::text";

/// The read of [`super::load`]: the node rows (with their pending counter
/// deltas), the edges and the links in one statement, so in one snapshot,
/// taken once every node lock is held (a row read while locking could
/// predate a transaction that committed while a later lock was awaited,
/// and its counters would disagree with the edges). Parts without keys are
/// left out.
///
/// The links present are locked in key order (kind names sort as
/// [`follow_core::LinkKind`] does), after every node lock. The locks of the
/// two accounts already order every pair of transactions that share a link
/// (one end of it is locked `FOR UPDATE`, see [`crate::write`]); the row
/// locks keep the rule "rows in key order, nodes before links" true of
/// link rows too.
pub(super) fn read_sql<'a>(
    bound: &mut Bound<'a>,
    tenant: &'a (dyn ToSql + Sync),
    ids: &'a (dyn ToSql + Sync),
    keys: &'a LoadKeys<'_>,
) -> String {
    let tenant = bound.bind(tenant);
    let ids = bound.bind(ids);
    let mut sql = format!(
        "SELECT {node}, n.id, {NODE_COLUMNS}, d.rows, {EDGE_NULLS}, {LINK_NULLS}
         FROM follow_nodes n {pending}
         WHERE n.tenant = {tenant} AND n.id = ANY({ids}::text[])",
        node = Part::Node.tag(),
        pending = pending_sql(&tenant),
    );
    let (followers, targets) = &keys.edges;
    if !followers.is_empty() {
        sql.push_str(&format!(
            "
             UNION ALL
             SELECT {edge}, {NODE_NULLS},
                    e.follower, e.target, e.since, e.muted, e.mutual_since, e.options, {LINK_NULLS}
             FROM follow_edges e
             JOIN unnest({followers}::text[], {targets}::text[]) AS k(follower, target)
               ON e.follower = k.follower AND e.target = k.target
             WHERE e.tenant = {tenant}",
            edge = Part::Edge.tag(),
            followers = bound.bind(followers),
            targets = bound.bind(targets),
        ));
    }
    let (kinds, froms, tos) = &keys.links;
    if !kinds.is_empty() {
        sql.push_str(&format!(
            "
             UNION ALL
             SELECT {link}, {NODE_NULLS}, {EDGE_NULLS}, locked.*
             FROM (SELECT l.kind, l.from_id, l.to_id, {columns}
                   FROM follow_links l
                   JOIN unnest({kinds}::text[], {froms}::text[], {tos}::text[])
                        AS k(kind, from_id, to_id)
                     ON l.kind = k.kind AND l.from_id = k.from_id AND l.to_id = k.to_id
                   WHERE l.tenant = {tenant}
                   ORDER BY l.kind, l.from_id, l.to_id
                   FOR UPDATE OF l) AS locked",
            link = Part::Link.tag(),
            columns = prefixed("l.", LINK_COLUMNS),
            kinds = bound.bind(kinds),
            froms = bound.bind(froms),
            tos = bound.bind(tos),
        ));
    }
    sql
}

/// `columns` (a comma-separated list) each with `prefix`.
pub(crate) fn prefixed(prefix: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("{prefix}{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}
