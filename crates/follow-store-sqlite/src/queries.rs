//! The read queries, each run inside one read transaction on some connection.

use follow_core::{
    Error, Event, EventPosition, ListEntry, ListKind, ListQuery, NodeId, NodeKind, NodeRecord,
    PairFacts, StaleEntry, StaleQuery, TenantId,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec;
use crate::error::map_sql;
use crate::rows::{NODE_COLUMNS, NodeRow, read_edge, read_node};

/// Runs `f` inside one read transaction (a snapshot).
pub(crate) fn snapshot<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    let tx = conn.unchecked_transaction().map_err(map_sql)?;
    let out = f(&tx)?;
    tx.commit().map_err(map_sql)?;
    Ok(out)
}

pub(crate) fn node(
    conn: &Connection,
    tenant: &TenantId,
    id: &NodeId,
) -> Result<Option<NodeRecord>, Error> {
    read_node(conn, tenant, id)
}

pub(crate) fn pairs(
    conn: &Connection,
    tenant: &TenantId,
    subject: &NodeId,
    others: &[NodeId],
) -> Result<Option<Vec<PairFacts>>, Error> {
    if let [other] = others {
        return Ok(pair(conn, tenant, subject, other)?.map(|facts| vec![facts]));
    }
    pairs_snapshot(conn, tenant, subject, others)
}

/// `pairs` in one read transaction: the subject's row, then per other its
/// row and the edge each way.
fn pairs_snapshot(
    conn: &Connection,
    tenant: &TenantId,
    subject: &NodeId,
    others: &[NodeId],
) -> Result<Option<Vec<PairFacts>>, Error> {
    snapshot(conn, |conn| {
        if read_node(conn, tenant, subject)?.is_none() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(others.len());
        for other in others {
            let exists = read_node(conn, tenant, other)?.is_some();
            let outgoing = match subject.as_account() {
                Some(_) => read_edge(conn, tenant, subject.as_str(), other.as_str())?,
                None => None,
            };
            let incoming = match other.as_account() {
                Some(_) => read_edge(conn, tenant, other.as_str(), subject.as_str())?.is_some(),
                None => false,
            };
            out.push(PairFacts {
                exists,
                outgoing,
                incoming,
            });
        }
        Ok(Some(out))
    })
}

/// The node as an edge's follower key: NULL for a channel, which follows
/// nothing.
fn follower_key(node: &NodeId) -> Option<&str> {
    (node.kind() == NodeKind::Account).then(|| node.as_str())
}

/// `pairs` of one other, cheapest first; each step is one statement, a
/// snapshot by itself (no `BEGIN`/`COMMIT`), and a later step answers from
/// its own snapshot alone:
/// 1. the edge subject → other by primary key, the plain point lookup a
///    hand-written check would run. A present edge answers everything
///    ([`PairFacts::from_outgoing`]). (A compound statement here cost
///    0.4 µs more per check.)
/// 2. otherwise both edges again, `UNION ALL … LIMIT 1`, which stops after
///    the first row: a row either way answers without the node rows.
/// 3. only when neither edge is there, the full path, which reads the nodes.
///
/// A channel follows nothing, so the edge from a channel is not looked up:
/// its follower key is bound to NULL, which matches no row. Not a `LEFT
/// JOIN` of both edges onto one constant row: SQLite 3.54 marks that plan as
/// depending on the bound values, so the statement cache's `clear_bindings`
/// expires it and every call re-prepares it (26 µs instead of 1.6 µs).
fn pair(
    conn: &Connection,
    tenant: &TenantId,
    subject: &NodeId,
    other: &NodeId,
) -> Result<Option<PairFacts>, Error> {
    if subject.kind() == NodeKind::Account
        && let Some(edge) = read_edge(conn, tenant, subject.as_str(), other.as_str())?
    {
        return Ok(Some(PairFacts::from_outgoing(edge)));
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT 0, since, muted, mutual_since, options FROM edges
             WHERE tenant = ?1 AND follower = ?2 AND target = ?3
             UNION ALL
             SELECT 1, since, muted, mutual_since, options FROM edges
             WHERE tenant = ?1 AND follower = ?4 AND target = ?5
             LIMIT 1",
        )
        .map_err(map_sql)?;
    let row = stmt
        .query_row(
            params![
                tenant.as_str(),
                follower_key(subject),
                other.as_str(),
                follower_key(other),
                subject.as_str(),
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()
        .map_err(map_sql)?;
    let Some((way, since, muted, mutual, options)) = row else {
        return pairs_snapshot(conn, tenant, subject, std::slice::from_ref(other))
            .map(|facts| facts.and_then(|mut facts| facts.pop()));
    };
    let edge = codec::STORED.edge(since, muted, mutual, options.as_deref())?;
    Ok(Some(if way == 0 {
        PairFacts::from_outgoing(edge)
    } else {
        PairFacts {
            exists: true,
            outgoing: None,
            incoming: true,
        }
    }))
}

/// The SQL of one list: `?1` tenant, `?2` subject, `?3`/`?4` the position to
/// resume after, `?5` the limit. Each walks one index in display order, from
/// a seek to the resume position, so a page's cost does not grow with depth.
fn list_sql(kind: ListKind, resume: bool) -> String {
    let (node, since, index, extra) = match kind {
        ListKind::Following => ("target", "since", "edges_following", ""),
        ListKind::Followers => ("follower", "since", "edges_followers", ""),
        ListKind::Mutuals => (
            "target",
            "mutual_since",
            "edges_mutuals",
            " AND mutual_since IS NOT NULL",
        ),
    };
    let owner = if kind == ListKind::Followers {
        "target"
    } else {
        "follower"
    };
    let after = if resume {
        format!(" AND {since} <= ?3 AND ({since} < ?3 OR {node} > ?4)")
    } else {
        " AND ?3 IS NULL AND ?4 IS NULL".to_owned()
    };
    format!(
        "SELECT {node}, {since}, muted, options FROM edges INDEXED BY {index}
         WHERE tenant = ?1 AND {owner} = ?2{extra}{after}
         ORDER BY {since} DESC, {node} ASC LIMIT ?5"
    )
}

pub(crate) fn list(conn: &Connection, query: &ListQuery) -> Result<Option<Vec<ListEntry>>, Error> {
    snapshot(conn, |conn| {
        if read_node(conn, &query.tenant, &query.subject)?.is_none() {
            return Ok(None);
        }
        let after_since = query.after.as_ref().map(|p| p.since.as_unix_micros());
        let after_node = query.after.as_ref().map(|p| p.node.as_str());
        let mut stmt = conn
            .prepare_cached(&list_sql(query.list, query.after.is_some()))
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(
                params![
                    query.tenant.as_str(),
                    query.subject.as_str(),
                    after_since,
                    after_node,
                    codec::limit(query.limit),
                ],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .map_err(map_sql)?;
        let mut out = Vec::new();
        for row in rows {
            let (node, since, muted, options) = row.map_err(map_sql)?;
            out.push(ListEntry {
                node: codec::STORED.node_id(&node)?,
                since: codec::STORED.timestamp(since)?,
                muted,
                options: codec::STORED.follow_options(options.as_deref())?,
            });
        }
        Ok(Some(out))
    })
}

pub(crate) fn stale_following(
    conn: &Connection,
    query: &StaleQuery,
) -> Result<Option<Vec<StaleEntry>>, Error> {
    snapshot(conn, |conn| {
        let actor = NodeId::from(query.actor.clone());
        if read_node(conn, &query.tenant, &actor)?.is_none() {
            return Ok(None);
        }
        let after_since = query.after.as_ref().map(|p| p.since.as_unix_micros());
        let after_node = query.after.as_ref().map(|p| p.node.as_str());
        let mut stmt = conn
            .prepare_cached(
                "SELECT e.target, e.since, e.muted, coalesce(n.last_active, n.registered_at)
                 FROM edges AS e INDEXED BY edges_following
                 JOIN nodes AS n ON n.tenant = e.tenant AND n.id = e.target
                 WHERE e.tenant = ?1 AND e.follower = ?2
                   AND (?3 IS NULL OR (e.since <= ?3 AND (e.since < ?3 OR e.target > ?4)))
                   AND coalesce(n.last_active, n.registered_at) < ?6
                 ORDER BY e.since DESC, e.target ASC LIMIT ?5",
            )
            .map_err(map_sql)?;
        let rows = stmt
            .query_map(
                params![
                    query.tenant.as_str(),
                    query.actor.as_str(),
                    after_since,
                    after_node,
                    codec::limit(query.limit),
                    query.inactive_since.as_unix_micros(),
                ],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .map_err(map_sql)?;
        let mut out = Vec::new();
        for row in rows {
            let (node, since, muted, active) = row.map_err(map_sql)?;
            out.push(StaleEntry {
                node: codec::STORED.node_id(&node)?,
                since: codec::STORED.timestamp(since)?,
                muted,
                active_at: codec::STORED.timestamp(active)?,
            });
        }
        Ok(Some(out))
    })
}

pub(crate) fn nodes(
    conn: &Connection,
    tenant: &TenantId,
    after: Option<&NodeId>,
    limit: usize,
) -> Result<Vec<NodeRecord>, Error> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT id, {NODE_COLUMNS} FROM nodes
             WHERE tenant = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id ASC LIMIT ?3"
        ))
        .map_err(map_sql)?;
    let rows = stmt
        .query_map(
            params![
                tenant.as_str(),
                after.map(NodeId::as_str),
                codec::limit(limit)
            ],
            |r| Ok((r.get::<_, String>(0)?, NodeRow::read(r, 1)?)),
        )
        .map_err(map_sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, row) = row.map_err(map_sql)?;
        out.push(row.into_record(codec::STORED.node_id(&id)?)?);
    }
    Ok(out)
}

pub(crate) fn events_after(
    conn: &Connection,
    tenant: &TenantId,
    after: Option<EventPosition>,
    limit: usize,
) -> Result<Vec<Event>, Error> {
    let after = match after {
        Some(p) => codec::STORED.signed(p.0)?,
        None => 0,
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT position, kind, follower, target, at FROM events
             WHERE tenant = ?1 AND position > ?2 ORDER BY position ASC LIMIT ?3",
        )
        .map_err(map_sql)?;
    let rows = stmt
        .query_map(params![tenant.as_str(), after, codec::limit(limit)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(map_sql)?;
    let mut out = Vec::new();
    for row in rows {
        let (position, kind, follower, target, at) = row.map_err(map_sql)?;
        out.push(Event {
            position: EventPosition(codec::STORED.count(position)?),
            tenant: tenant.clone(),
            kind: codec::STORED.event_kind(&kind)?,
            follower: codec::STORED.account_id(&follower)?,
            target: codec::STORED.node_id(&target)?,
            at: codec::STORED.timestamp(at)?,
        });
    }
    Ok(out)
}
