//! The text of the commit's statements.

use super::Changes;
use crate::bound::Bound;
use crate::positions::position_sql;

pub(super) const INSERT_NODES: &str = "
INSERT INTO follow_nodes
    (tenant, id, registered_at, last_active, following, followers, mutual, locked, links)
SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                         $7::bigint[], $8::boolean[], $9::bigint[])";

/// Deletes nodes with their counter deltas (a node is removed only when
/// its counts are zero, and the removal holds its row exclusively, so no
/// transaction appending to it is in flight).
pub(super) const DELETE_NODES: &str = "
WITH deltas AS (
    DELETE FROM follow_node_deltas WHERE tenant = $1 AND id = ANY($2::text[]))
DELETE FROM follow_nodes WHERE tenant = $1 AND id = ANY($2::text[])";

/// The one statement that writes a change set's edges, links, counters,
/// counter deltas and events (node inserts and removals, rare, and folds
/// of counter deltas, run before it on their own), as data-modifying CTEs
/// of the parts present.
///
/// Edge and link rows need no order: every transaction writing one holds
/// a lock on an end of it (see [`crate::write`]). Counter rows are locked
/// in key order by a locking subquery the update joins, so the update
/// itself only writes rows already held (its own row order follows its
/// plan). Events take their positions from the transaction's id
/// ([`crate::positions`]), so no row is shared by writers that share no
/// node. The rows answered are the events' positions.
pub(super) fn write_sql<'a>(
    bound: &mut Bound<'a>,
    tenant: &'a String,
    changes: &'a Changes,
) -> Option<String> {
    let d = &changes.edge_deletes;
    let ld = &changes.link_deletes;
    let p = &changes.edge_puts;
    let l = &changes.link_puts;
    let u = &changes.node_updates;
    let e = &changes.events;
    let t = bound.bind(tenant);
    let mut ctes: Vec<String> = Vec::new();
    if !d.0.is_empty() {
        ctes.push(format!(
            "edge_deletes AS (
                 DELETE FROM follow_edges e
                 USING unnest({}::text[], {}::text[]) AS k(follower, target)
                 WHERE e.tenant = {t} AND e.follower = k.follower AND e.target = k.target)",
            bound.bind(&d.0),
            bound.bind(&d.1),
        ));
    }
    if !ld.kinds.is_empty() {
        ctes.push(format!(
            "link_deletes AS (
                 DELETE FROM follow_links l
                 USING unnest({}::text[], {}::text[], {}::text[]) AS k(kind, from_id, to_id)
                 WHERE l.tenant = {t} AND l.kind = k.kind AND l.from_id = k.from_id
                   AND l.to_id = k.to_id)",
            bound.bind(&ld.kinds),
            bound.bind(&ld.froms),
            bound.bind(&ld.tos),
        ));
    }
    if !p.followers.is_empty() {
        ctes.push(format!(
            "edge_puts AS (
                 INSERT INTO follow_edges
                     (tenant, follower, target, since, muted, mutual_since, options)
                 SELECT {t}, * FROM unnest({}::text[], {}::text[], {}::bigint[], {}::boolean[],
                                           {}::bigint[], {}::text[])
                 ON CONFLICT (tenant, follower, target) DO UPDATE
                 SET since = EXCLUDED.since, muted = EXCLUDED.muted,
                     mutual_since = EXCLUDED.mutual_since, options = EXCLUDED.options)",
            bound.bind(&p.followers),
            bound.bind(&p.targets),
            bound.bind(&p.since),
            bound.bind(&p.muted),
            bound.bind(&p.mutual_since),
            bound.bind(&p.options),
        ));
    }
    if !l.keys.kinds.is_empty() {
        ctes.push(format!(
            "link_puts AS (
                 INSERT INTO follow_links
                     (tenant, kind, from_id, to_id, since, notifications, expires_at, options)
                 SELECT {t}, * FROM unnest({}::text[], {}::text[], {}::text[], {}::bigint[],
                                           {}::boolean[], {}::bigint[], {}::text[])
                 ON CONFLICT (tenant, kind, from_id, to_id) DO UPDATE
                 SET since = EXCLUDED.since, notifications = EXCLUDED.notifications,
                     expires_at = EXCLUDED.expires_at, options = EXCLUDED.options)",
            bound.bind(&l.keys.kinds),
            bound.bind(&l.keys.froms),
            bound.bind(&l.keys.tos),
            bound.bind(&l.since),
            bound.bind(&l.notifications),
            bound.bind(&l.expires_at),
            bound.bind(&l.options),
        ));
    }
    if !u.counts.ids.is_empty() {
        let ids = bound.bind(&u.counts.ids);
        // One row takes no lock it could take out of order.
        let held = if u.counts.ids.len() > 1 {
            format!(
                "JOIN (SELECT id FROM follow_nodes WHERE tenant = {t} AND id = ANY({ids}::text[])
                       ORDER BY id FOR NO KEY UPDATE) AS held ON held.id = d.id"
            )
        } else {
            String::new()
        };
        ctes.push(format!(
            "counters AS (
                 UPDATE follow_nodes n
                 SET following = n.following + d.following,
                     followers = n.followers + d.followers,
                     mutual = n.mutual + d.mutual,
                     links = n.links + d.links,
                     locked = coalesce(d.locked, n.locked),
                     last_active = greatest(n.last_active, d.last_active)
                 FROM unnest({ids}::text[], {}::bigint[], {}::bigint[], {}::bigint[],
                             {}::bigint[], {}::boolean[], {}::bigint[])
                      AS d(id, following, followers, mutual, links, locked, last_active)
                 {held}
                 WHERE n.tenant = {t} AND n.id = d.id)",
            bound.bind(&u.counts.following),
            bound.bind(&u.counts.followers),
            bound.bind(&u.counts.mutual),
            bound.bind(&u.counts.links),
            bound.bind(&u.locked),
            bound.bind(&u.last_active),
        ));
    }
    let c = &changes.counter_deltas;
    if !c.ids.is_empty() {
        ctes.push(format!(
            "counter_deltas AS (
                 INSERT INTO follow_node_deltas
                     (tenant, id, xact, following, followers, mutual, links)
                 SELECT {t}, d.id, {}, d.following, d.followers, d.mutual, d.links
                 FROM unnest({}::text[], {}::bigint[], {}::bigint[], {}::bigint[], {}::bigint[])
                      AS d(id, following, followers, mutual, links))",
            bound.bind(&changes.xact),
            bound.bind(&c.ids),
            bound.bind(&c.following),
            bound.bind(&c.followers),
            bound.bind(&c.mutual),
            bound.bind(&c.links),
        ));
    }
    let main = if e.kinds.is_empty() {
        "SELECT NULL::bigint WHERE false".to_owned()
    } else {
        let position = position_sql(&bound.bind(&changes.event_base), "k.ord");
        format!(
            "INSERT INTO follow_events (tenant, position, kind, follower, target, at)
             SELECT {t}, {position}, k.kind, k.follower, k.target, k.at
             FROM unnest({}::text[], {}::text[], {}::text[], {}::bigint[])
                  WITH ORDINALITY AS k(kind, follower, target, at, ord)
             RETURNING position",
            bound.bind(&e.kinds),
            bound.bind(&e.followers),
            bound.bind(&e.targets),
            bound.bind(&e.at),
        )
    };
    if ctes.is_empty() {
        return None;
    }
    Some(format!("WITH {}\n{main}", ctes.join(",\n")))
}
