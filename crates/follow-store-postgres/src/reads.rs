//! The read methods: each one statement (a snapshot by itself), seeking an
//! index by tenant first; a relation check whose point lookup finds no edge
//! runs a second, which answers from its own snapshot alone.

use deadpool_postgres::ClientWrapper;
use follow_core::{
    Edge, Error, Event, EventPosition, ListEntry, ListKind, ListQuery, NodeId, NodeKind,
    NodeRecord, PairFacts, StaleEntry, StaleQuery, TenantId,
};

use crate::codec::{self, NODE_COLUMNS};
use crate::counters::pending_sql;
use crate::error::map_pg;
use crate::positions::{EventBase, horizon_sql};

pub(crate) async fn node(
    client: &ClientWrapper,
    tenant: &TenantId,
    id: &NodeId,
) -> Result<Option<NodeRecord>, Error> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {NODE_COLUMNS} FROM follow_nodes n {pending}
             WHERE n.tenant = $1 AND n.id = $2",
            pending = pending_sql("$1"),
        ))
        .await
        .map_err(map_pg)?;
    let row = client
        .query_opt(&stmt, &[&tenant.as_str(), &id.as_str()])
        .await
        .map_err(map_pg)?;
    row.map(|row| codec::node_record(id.clone(), &row, 0))
        .transpose()
}

/// The node as an edge's follower key: NULL for a channel, which follows
/// nothing, so no edge from it is looked up.
fn follower_key(node: &NodeId) -> Option<&str> {
    (node.kind() == NodeKind::Account).then(|| node.as_str())
}

/// One row per other, in order, and none when the subject is missing.
const PAIRS: &str = "
SELECT EXISTS (SELECT 1 FROM follow_nodes n WHERE n.tenant = $1 AND n.id = k.other),
       o.since, o.muted, o.mutual_since,
       EXISTS (SELECT 1 FROM follow_edges i
               WHERE i.tenant = $1 AND i.follower = k.follower AND i.target = $2),
       o.options
FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS k(other, follower, ord)
LEFT JOIN follow_edges o ON o.tenant = $1 AND o.follower = $5 AND o.target = k.other
WHERE EXISTS (SELECT 1 FROM follow_nodes s WHERE s.tenant = $1 AND s.id = $2)
ORDER BY k.ord";

/// The edge subject → other by primary key: a relation check's first
/// statement, the plain point lookup a hand-written check would run. A
/// present edge answers everything ([`PairFacts::from_outgoing`]) without
/// [`PAIR`]'s three other probes, whose tables and indexes would cost more
/// to open than the probes themselves.
const OUTGOING: &str = "
SELECT since, muted, mutual_since, options FROM follow_edges
WHERE tenant = $1 AND follower = $2 AND target = $3";

/// `pairs` of one other (a relation check) when [`OUTGOING`] found no
/// edge: index probes by key alone, no arrays; one row, whose first column
/// says whether the subject exists. Every fact from this one snapshot.
const PAIR: &str = "
SELECT EXISTS (SELECT 1 FROM follow_nodes s WHERE s.tenant = $1 AND s.id = $2),
       EXISTS (SELECT 1 FROM follow_nodes n WHERE n.tenant = $1 AND n.id = $3),
       o.since, o.muted, o.mutual_since,
       EXISTS (SELECT 1 FROM follow_edges i
               WHERE i.tenant = $1 AND i.follower = $4 AND i.target = $2),
       o.options
FROM (SELECT 1) AS one
LEFT JOIN follow_edges o ON o.tenant = $1 AND o.follower = $5 AND o.target = $3";

pub(crate) async fn pairs(
    client: &ClientWrapper,
    tenant: &TenantId,
    subject: &NodeId,
    others: &[NodeId],
) -> Result<Option<Vec<PairFacts>>, Error> {
    if others.is_empty() {
        return Ok(node(client, tenant, subject).await?.map(|_| Vec::new()));
    }
    if let [other] = others {
        if let Some(edge) = outgoing(client, tenant, subject, other).await? {
            return Ok(Some(vec![PairFacts::from_outgoing(edge)]));
        }
        let stmt = client.prepare_cached(PAIR).await.map_err(map_pg)?;
        let row = client
            .query_one(
                &stmt,
                &[
                    &tenant.as_str(),
                    &subject.as_str(),
                    &other.as_str(),
                    &follower_key(other),
                    &follower_key(subject),
                ],
            )
            .await
            .map_err(map_pg)?;
        if !row.try_get::<_, bool>(0).map_err(map_pg)? {
            return Ok(None);
        }
        return Ok(Some(vec![pair_facts(&row, 1)?]));
    }
    let stmt = client.prepare_cached(PAIRS).await.map_err(map_pg)?;
    let ids: Vec<&str> = others.iter().map(NodeId::as_str).collect();
    let followers: Vec<Option<&str>> = others.iter().map(follower_key).collect();
    let rows = client
        .query(
            &stmt,
            &[
                &tenant.as_str(),
                &subject.as_str(),
                &ids,
                &followers,
                &follower_key(subject),
            ],
        )
        .await
        .map_err(map_pg)?;
    if rows.is_empty() {
        return Ok(None);
    }
    rows.iter()
        .map(|row| pair_facts(row, 0))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// The edge subject → other; `None` when absent (or the subject is a
/// channel, which follows nothing).
async fn outgoing(
    client: &ClientWrapper,
    tenant: &TenantId,
    subject: &NodeId,
    other: &NodeId,
) -> Result<Option<Edge>, Error> {
    let Some(follower) = follower_key(subject) else {
        return Ok(None);
    };
    let stmt = client.prepare_cached(OUTGOING).await.map_err(map_pg)?;
    let row = client
        .query_opt(&stmt, &[&tenant.as_str(), &follower, &other.as_str()])
        .await
        .map_err(map_pg)?;
    row.map(|row| {
        codec::STORED.edge(
            row.try_get(0).map_err(map_pg)?,
            row.try_get(1).map_err(map_pg)?,
            row.try_get(2).map_err(map_pg)?,
            row.try_get(3).map_err(map_pg)?,
        )
    })
    .transpose()
}

/// One other's facts from columns `at..at + 6`: whether it exists, the
/// edge subject → other (since, muted, mutual_since), whether other →
/// subject exists, the options of the edge subject → other.
fn pair_facts(row: &tokio_postgres::Row, at: usize) -> Result<PairFacts, Error> {
    let since: Option<i64> = row.try_get(at + 1).map_err(map_pg)?;
    let outgoing = match since {
        Some(since) => Some(codec::STORED.edge(
            since,
            row.try_get(at + 2).map_err(map_pg)?,
            row.try_get(at + 3).map_err(map_pg)?,
            row.try_get(at + 5).map_err(map_pg)?,
        )?),
        None => None,
    };
    Ok(PairFacts {
        exists: row.try_get(at).map_err(map_pg)?,
        outgoing,
        incoming: row.try_get(at + 4).map_err(map_pg)?,
    })
}

/// The SQL of one list: `$1` tenant, `$2` subject, `$3` limit, and when
/// resuming `$4`/`$5` the position to resume after. The subject's row is
/// joined with the page, so no row at all means no subject and one row of
/// NULLs an empty page. The page walks one index in display order from a
/// seek, so its cost does not grow with depth.
fn list_sql(kind: ListKind, resume: bool) -> String {
    let (node, since, owner, extra) = match kind {
        ListKind::Following => ("target", "since", "follower", ""),
        ListKind::Followers => ("follower", "since", "target", ""),
        ListKind::Mutuals => (
            "target",
            "mutual_since",
            "follower",
            " AND e.mutual_since IS NOT NULL",
        ),
    };
    let after = if resume {
        format!(" AND e.{since} <= $4 AND (e.{since} < $4 OR e.{node} > $5)")
    } else {
        String::new()
    };
    format!(
        "SELECT p.node, p.since, p.muted, p.options FROM follow_nodes s
         LEFT JOIN LATERAL (
             SELECT e.{node} AS node, e.{since} AS since, e.muted, e.options
             FROM follow_edges e
             WHERE e.tenant = $1 AND e.{owner} = $2{extra}{after}
             ORDER BY e.{since} DESC, e.{node} ASC LIMIT $3
         ) p ON true
         WHERE s.tenant = $1 AND s.id = $2"
    )
}

pub(crate) async fn list(
    client: &ClientWrapper,
    query: &ListQuery,
) -> Result<Option<Vec<ListEntry>>, Error> {
    let stmt = client
        .prepare_cached(&list_sql(query.list, query.after.is_some()))
        .await
        .map_err(map_pg)?;
    let tenant = query.tenant.as_str();
    let subject = query.subject.as_str();
    let limit = codec::limit(query.limit);
    let rows = match &query.after {
        Some(after) => {
            let since = after.since.as_unix_micros();
            let node = after.node.as_str();
            client
                .query(&stmt, &[&tenant, &subject, &limit, &since, &node])
                .await
        }
        None => client.query(&stmt, &[&tenant, &subject, &limit]).await,
    }
    .map_err(map_pg)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(node) = row.try_get::<_, Option<&str>>(0).map_err(map_pg)? else {
            continue;
        };
        out.push(ListEntry {
            node: codec::STORED.node_id(node)?,
            since: codec::STORED.timestamp(row.try_get(1).map_err(map_pg)?)?,
            muted: row.try_get(2).map_err(map_pg)?,
            options: codec::STORED.follow_options(row.try_get(3).map_err(map_pg)?)?,
        });
    }
    Ok(Some(out))
}

fn stale_sql(resume: bool) -> String {
    let after = if resume {
        " AND e.since <= $5 AND (e.since < $5 OR e.target > $6)"
    } else {
        ""
    };
    format!(
        "SELECT p.target, p.since, p.muted, p.active_at FROM follow_nodes s
         LEFT JOIN LATERAL (
             SELECT e.target, e.since, e.muted,
                    coalesce(n.last_active, n.registered_at) AS active_at
             FROM follow_edges e
             JOIN follow_nodes n ON n.tenant = e.tenant AND n.id = e.target
             WHERE e.tenant = $1 AND e.follower = $2{after}
               AND coalesce(n.last_active, n.registered_at) < $4
             ORDER BY e.since DESC, e.target ASC LIMIT $3
         ) p ON true
         WHERE s.tenant = $1 AND s.id = $2"
    )
}

pub(crate) async fn stale_following(
    client: &ClientWrapper,
    query: &StaleQuery,
) -> Result<Option<Vec<StaleEntry>>, Error> {
    let stmt = client
        .prepare_cached(&stale_sql(query.after.is_some()))
        .await
        .map_err(map_pg)?;
    let tenant = query.tenant.as_str();
    let actor = query.actor.as_str();
    let limit = codec::limit(query.limit);
    let inactive = query.inactive_since.as_unix_micros();
    let rows = match &query.after {
        Some(after) => {
            let since = after.since.as_unix_micros();
            let node = after.node.as_str();
            client
                .query(&stmt, &[&tenant, &actor, &limit, &inactive, &since, &node])
                .await
        }
        None => {
            client
                .query(&stmt, &[&tenant, &actor, &limit, &inactive])
                .await
        }
    }
    .map_err(map_pg)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(node) = row.try_get::<_, Option<&str>>(0).map_err(map_pg)? else {
            continue;
        };
        out.push(StaleEntry {
            node: codec::STORED.node_id(node)?,
            since: codec::STORED.timestamp(row.try_get(1).map_err(map_pg)?)?,
            muted: row.try_get(2).map_err(map_pg)?,
            active_at: codec::STORED.timestamp(row.try_get(3).map_err(map_pg)?)?,
        });
    }
    Ok(Some(out))
}

pub(crate) async fn nodes(
    client: &ClientWrapper,
    tenant: &TenantId,
    after: Option<&NodeId>,
    limit: usize,
) -> Result<Vec<NodeRecord>, Error> {
    let limit = codec::limit(limit);
    let rows = match after {
        Some(after) => {
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT n.id, {NODE_COLUMNS} FROM follow_nodes n {pending}
                     WHERE n.tenant = $1 AND n.id > $3 ORDER BY n.id ASC LIMIT $2",
                    pending = pending_sql("$1"),
                ))
                .await
                .map_err(map_pg)?;
            client
                .query(&stmt, &[&tenant.as_str(), &limit, &after.as_str()])
                .await
        }
        None => {
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT n.id, {NODE_COLUMNS} FROM follow_nodes n {pending}
                     WHERE n.tenant = $1 ORDER BY n.id ASC LIMIT $2",
                    pending = pending_sql("$1"),
                ))
                .await
                .map_err(map_pg)?;
            client.query(&stmt, &[&tenant.as_str(), &limit]).await
        }
    }
    .map_err(map_pg)?;
    rows.iter()
        .map(|row| {
            let id = codec::STORED.node_id(row.try_get(0).map_err(map_pg)?)?;
            codec::node_record(id, row, 1)
        })
        .collect()
}

pub(crate) async fn events_after(
    client: &ClientWrapper,
    tenant: &TenantId,
    after: Option<EventPosition>,
    limit: usize,
    base: EventBase,
) -> Result<Vec<Event>, Error> {
    let after = match after {
        Some(p) => codec::STORED.signed(p.0)?,
        None => 0,
    };
    // Only below the horizon: an event above it may still be joined by one
    // of a lower position that commits later.
    let stmt = client
        .prepare_cached(&format!(
            "SELECT position, kind, follower, target, at FROM follow_events
             WHERE tenant = $1 AND position > $2 AND position < {}
             ORDER BY position ASC LIMIT $3",
            horizon_sql("$4")
        ))
        .await
        .map_err(map_pg)?;
    let rows = client
        .query(
            &stmt,
            &[&tenant.as_str(), &after, &codec::limit(limit), &base.0],
        )
        .await
        .map_err(map_pg)?;
    rows.iter()
        .map(|row| {
            Ok(Event {
                position: EventPosition(codec::STORED.count(row.try_get(0).map_err(map_pg)?)?),
                tenant: tenant.clone(),
                kind: codec::STORED.event_kind(row.try_get(1).map_err(map_pg)?)?,
                follower: codec::STORED.account_id(row.try_get(2).map_err(map_pg)?)?,
                target: codec::STORED.node_id(row.try_get(3).map_err(map_pg)?)?,
                at: codec::STORED.timestamp(row.try_get(4).map_err(map_pg)?)?,
            })
        })
        .collect()
}
