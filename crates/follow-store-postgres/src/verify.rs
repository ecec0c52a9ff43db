//! Verify and repair: recompute counts and mutual marks from the edges and
//! link counts from the links, compare, and rewrite what disagrees.

use deadpool_postgres::ClientWrapper;
use follow_core::{Counts, Error, LinkKind};

use crate::codec;
use crate::error::map_pg;

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

/// An edge by (tenant, follower, target).
pub type EdgeName = (String, String, String);

/// A link by (tenant, kind, from, to).
pub type LinkName = (String, String, String, String);

/// What [`crate::PostgresStore::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// Nodes whose counts disagree with the edges.
    pub count_mismatches: Vec<CountMismatch>,
    /// Edges with an end that is not registered.
    pub dangling_edges: Vec<EdgeName>,
    /// Edges whose mutual mark (`mutual_since`) disagrees with whether the
    /// edge back exists. Reads answer "followed back?" from the mark.
    pub wrong_mutual_marks: Vec<EdgeName>,
    /// Tenants whose events repeat a position (positions are unique per
    /// store), with the repeated position.
    pub event_order_errors: Vec<(String, i64)>,
    /// Nodes whose link counts disagree with the links (a node is removed
    /// only once its count is zero).
    pub link_count_mismatches: Vec<LinkCountMismatch>,
    /// Links with an end that is not registered, or of a kind this code
    /// does not know (which every read by kind passes over).
    pub broken_links: Vec<LinkName>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.count_mismatches.is_empty()
            && self.dangling_edges.is_empty()
            && self.wrong_mutual_marks.is_empty()
            && self.event_order_errors.is_empty()
            && self.link_count_mismatches.is_empty()
            && self.broken_links.is_empty()
    }
}

/// What [`crate::PostgresStore::repair`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepairReport {
    /// The counts rewritten from the edges.
    pub counts_fixed: Vec<CountMismatch>,
    /// The edges whose mutual mark was set or cleared to match the edge
    /// back (set to the later `since` of the two, as a follow-back sets it).
    pub mutual_marks_fixed: Vec<EdgeName>,
    /// The link counts rewritten from the links.
    pub link_counts_fixed: Vec<LinkCountMismatch>,
}

/// The counts of every node recomputed from the edges, where they differ
/// from the stored ones (its row's plus its counter deltas, one pass over
/// the edges, grouped per node).
const MISMATCHES: &str = "
WITH out_edges AS (
  SELECT e.tenant, e.follower AS id, count(*) AS following,
         count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM follow_edges r WHERE r.tenant = e.tenant
             AND r.follower = e.target AND r.target = e.follower)) AS mutual
  FROM follow_edges e WHERE ($1::text IS NULL OR e.tenant = $1) GROUP BY e.tenant, e.follower),
in_edges AS (
  SELECT tenant, target AS id, count(*) AS followers FROM follow_edges
  WHERE ($1::text IS NULL OR tenant = $1) GROUP BY tenant, target),
stored AS (
  SELECT n.tenant, n.id, n.following + coalesce(p.following, 0) AS following,
         n.followers + coalesce(p.followers, 0) AS followers,
         n.mutual + coalesce(p.mutual, 0) AS mutual
  FROM follow_nodes n
  LEFT JOIN (SELECT tenant, id, sum(following)::bigint AS following,
                    sum(followers)::bigint AS followers, sum(mutual)::bigint AS mutual
             FROM follow_node_deltas WHERE ($1::text IS NULL OR tenant = $1)
             GROUP BY tenant, id) p ON p.tenant = n.tenant AND p.id = n.id
  WHERE ($1::text IS NULL OR n.tenant = $1))
SELECT n.tenant, n.id, n.following, n.followers, n.mutual,
       coalesce(o.following, 0), coalesce(i.followers, 0), coalesce(o.mutual, 0)
FROM stored n
LEFT JOIN out_edges o ON o.tenant = n.tenant AND o.id = n.id
LEFT JOIN in_edges i ON i.tenant = n.tenant AND i.id = n.id
WHERE n.following <> coalesce(o.following, 0)
   OR n.followers <> coalesce(i.followers, 0)
   OR n.mutual <> coalesce(o.mutual, 0)
ORDER BY n.tenant, n.id";

/// The link count of every node recomputed from the links (each counts on
/// both its ends), where it differs.
const LINK_MISMATCHES: &str = "
WITH link_ends AS (
  SELECT tenant, from_id AS id FROM follow_links WHERE ($1::text IS NULL OR tenant = $1)
  UNION ALL
  SELECT tenant, to_id AS id FROM follow_links WHERE ($1::text IS NULL OR tenant = $1)),
link_counts AS (
  SELECT tenant, id, count(*) AS links FROM link_ends GROUP BY tenant, id),
stored AS (
  SELECT n.tenant, n.id, n.links + coalesce(p.links, 0) AS links
  FROM follow_nodes n
  LEFT JOIN (SELECT tenant, id, sum(links)::bigint AS links FROM follow_node_deltas
             WHERE ($1::text IS NULL OR tenant = $1) GROUP BY tenant, id) p
    ON p.tenant = n.tenant AND p.id = n.id
  WHERE ($1::text IS NULL OR n.tenant = $1))
SELECT n.tenant, n.id, n.links, coalesce(l.links, 0)
FROM stored n
LEFT JOIN link_counts l ON l.tenant = n.tenant AND l.id = n.id
WHERE n.links <> coalesce(l.links, 0)
ORDER BY n.tenant, n.id";

const DANGLING: &str = "
SELECT e.tenant, e.follower, e.target FROM follow_edges e
WHERE ($1::text IS NULL OR e.tenant = $1) AND (NOT EXISTS (SELECT 1 FROM follow_nodes n WHERE n.tenant = e.tenant AND n.id = e.follower)
   OR NOT EXISTS (SELECT 1 FROM follow_nodes n WHERE n.tenant = e.tenant AND n.id = e.target))
ORDER BY 1, 2, 3";

/// Links with an end that is not registered or a kind not in `$2`.
const BROKEN_LINKS: &str = "
SELECT l.tenant, l.kind, l.from_id, l.to_id FROM follow_links l
WHERE ($1::text IS NULL OR l.tenant = $1)
  AND (l.kind <> ALL ($2::text[])
    OR NOT EXISTS (SELECT 1 FROM follow_nodes n WHERE n.tenant = l.tenant AND n.id = l.from_id)
    OR NOT EXISTS (SELECT 1 FROM follow_nodes n WHERE n.tenant = l.tenant AND n.id = l.to_id))
ORDER BY 1, 2, 3, 4";

/// Each edge whose mark disagrees with the edge back, and the mark it
/// should have.
const WRONG_MARKS: &str = "
SELECT e.tenant, e.follower, e.target,
       CASE WHEN r.since IS NOT NULL THEN greatest(e.since, r.since) END
FROM follow_edges e
LEFT JOIN follow_edges r
  ON r.tenant = e.tenant AND r.follower = e.target AND r.target = e.follower
WHERE ($1::text IS NULL OR e.tenant = $1) AND (e.mutual_since IS NULL) <> (r.since IS NULL)
ORDER BY 1, 2, 3";

async fn mismatches(
    client: &ClientWrapper,
    tenant: Option<&str>,
) -> Result<Vec<CountMismatch>, Error> {
    let rows = client.query(MISMATCHES, &[&tenant]).await.map_err(map_pg)?;
    rows.iter()
        .map(|r| {
            let get = |i| r.try_get::<_, i64>(i).map_err(map_pg);
            Ok(CountMismatch {
                tenant: r.try_get(0).map_err(map_pg)?,
                node: r.try_get(1).map_err(map_pg)?,
                stored: codec::STORED.counts(get(2)?, get(3)?, get(4)?)?,
                actual: codec::STORED.counts(get(5)?, get(6)?, get(7)?)?,
            })
        })
        .collect()
}

async fn link_mismatches(
    client: &ClientWrapper,
    tenant: Option<&str>,
) -> Result<Vec<LinkCountMismatch>, Error> {
    let rows = client
        .query(LINK_MISMATCHES, &[&tenant])
        .await
        .map_err(map_pg)?;
    rows.iter()
        .map(|r| {
            let get = |i| r.try_get::<_, i64>(i).map_err(map_pg);
            Ok(LinkCountMismatch {
                tenant: r.try_get(0).map_err(map_pg)?,
                node: r.try_get(1).map_err(map_pg)?,
                stored: codec::STORED.count(get(2)?)?,
                actual: codec::STORED.count(get(3)?)?,
            })
        })
        .collect()
}

async fn broken_links(
    client: &ClientWrapper,
    tenant: Option<&str>,
) -> Result<Vec<LinkName>, Error> {
    let kinds: Vec<&str> = LinkKind::ALL.iter().map(|kind| kind.name()).collect();
    let rows = client
        .query(BROKEN_LINKS, &[&tenant, &kinds])
        .await
        .map_err(map_pg)?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(map_pg)?,
                r.try_get(1).map_err(map_pg)?,
                r.try_get(2).map_err(map_pg)?,
                r.try_get(3).map_err(map_pg)?,
            ))
        })
        .collect()
}

fn edge_name(r: &tokio_postgres::Row) -> Result<EdgeName, Error> {
    Ok((
        r.try_get(0).map_err(map_pg)?,
        r.try_get(1).map_err(map_pg)?,
        r.try_get(2).map_err(map_pg)?,
    ))
}

async fn wrong_marks(
    client: &ClientWrapper,
    tenant: Option<&str>,
) -> Result<Vec<(EdgeName, Option<i64>)>, Error> {
    let rows = client
        .query(WRONG_MARKS, &[&tenant])
        .await
        .map_err(map_pg)?;
    rows.iter()
        .map(|r| Ok((edge_name(r)?, r.try_get(3).map_err(map_pg)?)))
        .collect()
}

/// Checks everything (of one tenant, if given) in one repeatable-read
/// transaction (one snapshot).
pub(crate) async fn verify(
    client: &ClientWrapper,
    tenant: Option<&str>,
) -> Result<VerifyReport, Error> {
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(map_pg)?;
    let count_mismatches = mismatches(client, tenant).await?;
    let dangling_edges = client
        .query(DANGLING, &[&tenant])
        .await
        .map_err(map_pg)?
        .iter()
        .map(edge_name)
        .collect::<Result<_, _>>()?;
    let wrong_mutual_marks = wrong_marks(client, tenant)
        .await?
        .into_iter()
        .map(|(edge, _)| edge)
        .collect();
    let event_order_errors = client
        .query(
            "SELECT tenant, position FROM follow_events
             WHERE ($1::text IS NULL OR tenant = $1)
               AND position IN (SELECT position FROM follow_events
                                GROUP BY position HAVING count(*) > 1)
             ORDER BY 1, 2",
            &[&tenant],
        )
        .await
        .map_err(map_pg)?
        .iter()
        .map(|r| Ok((r.try_get(0).map_err(map_pg)?, r.try_get(1).map_err(map_pg)?)))
        .collect::<Result<_, Error>>()?;
    let link_count_mismatches = link_mismatches(client, tenant).await?;
    let broken_links = broken_links(client, tenant).await?;
    client.batch_execute("COMMIT").await.map_err(map_pg)?;
    Ok(VerifyReport {
        count_mismatches,
        dangling_edges,
        wrong_mutual_marks,
        event_order_errors,
        link_count_mismatches,
        broken_links,
    })
}

/// Rewrites every wrong mutual mark and then every wrong count (of one
/// tenant, if given) from the edges, and every wrong link count from the
/// links, in one transaction that shuts out writers meanwhile. Broken
/// links and dangling edges are reported by verify and left alone: which
/// end is right is not for repair to guess.
pub(crate) async fn repair(
    client: &ClientWrapper,
    tenant: Option<&str>,
) -> Result<RepairReport, Error> {
    client
        .batch_execute(
            "BEGIN;
             LOCK TABLE follow_nodes, follow_node_deltas, follow_edges, follow_links
                 IN SHARE ROW EXCLUSIVE MODE",
        )
        .await
        .map_err(map_pg)?;
    let marks = wrong_marks(client, tenant).await?;
    for ((tenant, follower, target), mark) in &marks {
        client
            .execute(
                "UPDATE follow_edges SET mutual_since = $4
                 WHERE tenant = $1 AND follower = $2 AND target = $3",
                &[tenant, follower, target, mark],
            )
            .await
            .map_err(map_pg)?;
    }
    let fixed = mismatches(client, tenant).await?;
    for m in &fixed {
        client
            .execute(
                // The node's counter deltas go: its link delta is folded
                // in (a wrong link count, below, is rewritten whole).
                "WITH gone AS (DELETE FROM follow_node_deltas WHERE tenant = $1 AND id = $2
                               RETURNING links)
                 UPDATE follow_nodes SET following = $3, followers = $4, mutual = $5,
                     links = greatest(0, links + coalesce((SELECT sum(links) FROM gone), 0))
                 WHERE tenant = $1 AND id = $2",
                &[
                    &m.tenant,
                    &m.node,
                    &codec::STORED.signed(m.actual.following)?,
                    &codec::STORED.signed(m.actual.followers)?,
                    &codec::STORED.signed(m.actual.mutual)?,
                ],
            )
            .await
            .map_err(map_pg)?;
    }
    let links_fixed = link_mismatches(client, tenant).await?;
    for m in &links_fixed {
        client
            .execute(
                "WITH gone AS (DELETE FROM follow_node_deltas WHERE tenant = $1 AND id = $2
                               RETURNING following, followers, mutual)
                 UPDATE follow_nodes SET links = $3,
                     following = following + coalesce((SELECT sum(following) FROM gone), 0),
                     followers = followers + coalesce((SELECT sum(followers) FROM gone), 0),
                     mutual = mutual + coalesce((SELECT sum(mutual) FROM gone), 0)
                 WHERE tenant = $1 AND id = $2",
                &[&m.tenant, &m.node, &codec::STORED.signed(m.actual)?],
            )
            .await
            .map_err(map_pg)?;
    }
    client.batch_execute("COMMIT").await.map_err(map_pg)?;
    Ok(RepairReport {
        counts_fixed: fixed,
        mutual_marks_fixed: marks.into_iter().map(|(edge, _)| edge).collect(),
        link_counts_fixed: links_fixed,
    })
}
