//! The two exchanges of a write transaction, each one pipelined round trip:
//! [`load`] (BEGIN, lock the node rows in key order, then read them, the
//! edges and the links) and [`commit`] (write the change set, place its
//! events, COMMIT).
//!
//! Statements of one exchange are all sent before any reply is awaited; the
//! server runs them in order, so a later statement sees the locks of an
//! earlier one and, under READ COMMITTED, a snapshot taken after them.

use std::future::Future;
use std::pin::Pin;

use deadpool_postgres::ClientWrapper;
use futures::future::try_join_all;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::codec::{LINK_COLUMNS, NODE_COLUMNS};

/// How strongly a node row is locked for a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// `FOR UPDATE`: the acting account (and any node the batch may
    /// remove). Two transactions touching one edge pair always lock one of
    /// its ends this way, so they run one after the other.
    Exclusive,
    /// `FOR KEY SHARE`: the node stays registered until commit, while other
    /// transactions may still update its counters and lock it the same way.
    KeyShare,
}

fn lock_sql(lock: Lock) -> String {
    let clause = match lock {
        Lock::Exclusive => "FOR UPDATE",
        Lock::KeyShare => "FOR KEY SHARE",
    };
    // Rows are locked in the order the sort yields them.
    format!(
        "SELECT 1 FROM follow_nodes
         WHERE tenant = $1 AND id = ANY($2::text[]) ORDER BY id {clause}"
    )
}

/// The node rows, read once every lock is held: a row read while locking
/// could predate a transaction that committed while a later lock was
/// awaited, and its counters would disagree with the edges read after.
fn load_nodes_sql() -> String {
    format!(
        "SELECT id, {NODE_COLUMNS} FROM follow_nodes WHERE tenant = $1 AND id = ANY($2::text[])"
    )
}

const LOAD_EDGES: &str = "
SELECT e.follower, e.target, e.since, e.muted, e.mutual_since, e.options
FROM follow_edges e
JOIN unnest($2::text[], $3::text[]) AS k(follower, target)
  ON e.follower = k.follower AND e.target = k.target
WHERE e.tenant = $1";

/// The present links of the keys, each a primary-key probe, locked in key
/// order (kind names sort as [`follow_core::LinkKind`] does) after every
/// node lock. The locks of the two accounts already order every pair of
/// transactions that share a link (one end of it is locked `FOR UPDATE`,
/// see [`crate::write`]); the row locks keep the rule "rows in key order,
/// nodes before links" true of link rows too.
fn load_links_sql() -> String {
    format!(
        "SELECT l.kind, l.from_id, l.to_id, {columns}
         FROM follow_links l
         JOIN unnest($2::text[], $3::text[], $4::text[]) AS k(kind, from_id, to_id)
           ON l.kind = k.kind AND l.from_id = k.from_id AND l.to_id = k.to_id
         WHERE l.tenant = $1
         ORDER BY l.kind, l.from_id, l.to_id
         FOR UPDATE OF l",
        columns = prefixed("l.", LINK_COLUMNS)
    )
}

/// `columns` (a comma-separated list) each with `prefix`.
pub(crate) fn prefixed(prefix: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("{prefix}{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What [`load`] read: node rows (columns as [`crate::codec::node_record`]
/// reads them from 1, id at 0), edge rows (follower, target, since, muted,
/// mutual_since, options) and link rows (key as [`crate::codec::link_key`]
/// reads it from 0, the link from 3).
pub(crate) struct Loaded {
    pub(crate) nodes: Vec<Row>,
    pub(crate) edges: Vec<Row>,
    pub(crate) links: Vec<Row>,
}

/// The keys [`load`] reads, as bound arrays.
pub(crate) struct LoadKeys<'k> {
    /// Node ids, sorted, each with its lock.
    pub(crate) nodes: Vec<(&'k str, Lock)>,
    /// Edges: followers and targets.
    pub(crate) edges: (Vec<&'k str>, Vec<&'k str>),
    /// Links: kinds, froms and tos, in key order.
    pub(crate) links: (Vec<&'static str>, Vec<&'k str>, Vec<&'k str>),
}

/// Opens a transaction, locks the present rows of `keys.nodes` in that
/// order, and reads them, the edges and the links.
pub(crate) async fn load(
    client: &ClientWrapper,
    tenant: &str,
    keys: &LoadKeys<'_>,
) -> Result<Loaded, tokio_postgres::Error> {
    let nodes = &keys.nodes;
    let exclusive = client.prepare_cached(&lock_sql(Lock::Exclusive)).await?;
    let shared = client.prepare_cached(&lock_sql(Lock::KeyShare)).await?;
    let load_nodes = client.prepare_cached(&load_nodes_sql()).await?;
    let load_edges = client.prepare_cached(LOAD_EDGES).await?;
    let load_links = client.prepare_cached(&load_links_sql()).await?;
    let ids: Vec<&str> = nodes.iter().map(|(id, _)| *id).collect();
    // Runs of equal lock strength, in key order.
    let mut runs: Vec<(Lock, Vec<&str>)> = Vec::new();
    for &(id, lock) in nodes {
        match runs.last_mut() {
            Some((last, ids)) if *last == lock => ids.push(id),
            _ => runs.push((lock, vec![id])),
        }
    }
    let run_params: Vec<[&(dyn ToSql + Sync); 2]> = runs
        .iter()
        .map(|(_, ids)| [&tenant as &(dyn ToSql + Sync), ids as _])
        .collect();
    let locks = runs.iter().zip(&run_params).map(|((lock, _), params)| {
        let stmt = match lock {
            Lock::Exclusive => &exclusive,
            Lock::KeyShare => &shared,
        };
        client.query(stmt, params)
    });
    let (followers, targets) = &keys.edges;
    let (kinds, froms, tos) = &keys.links;
    let node_params: [&(dyn ToSql + Sync); 2] = [&tenant, &ids];
    let (_, _, nodes, edges, links) = futures::try_join!(
        client.batch_execute("BEGIN"),
        try_join_all(locks),
        client.query(&load_nodes, &node_params),
        async {
            if followers.is_empty() {
                return Ok(Vec::new());
            }
            client
                .query(&load_edges, &[&tenant, followers, targets])
                .await
        },
        async {
            if kinds.is_empty() {
                return Ok(Vec::new());
            }
            client
                .query(&load_links, &[&tenant, kinds, froms, tos])
                .await
        }
    )?;
    Ok(Loaded {
        nodes,
        edges,
        links,
    })
}

/// Rolls back an open transaction.
pub(crate) async fn rollback(client: &ClientWrapper) -> Result<(), tokio_postgres::Error> {
    client.batch_execute("ROLLBACK").await
}

/// Everything a batch persists, as bound arrays, in key order.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub(crate) tenant: String,
    pub(crate) edge_deletes: (Vec<String>, Vec<String>),
    pub(crate) link_deletes: LinkKeys,
    pub(crate) node_deletes: Vec<String>,
    pub(crate) node_inserts: NodeRows,
    pub(crate) edge_puts: EdgeRows,
    pub(crate) link_puts: LinkRows,
    pub(crate) node_updates: NodeDeltas,
    pub(crate) events: EventRows,
}

/// Full node rows.
#[derive(Debug, Default, Clone)]
pub(crate) struct NodeRows {
    pub(crate) ids: Vec<String>,
    pub(crate) registered_at: Vec<i64>,
    pub(crate) last_active: Vec<Option<i64>>,
    pub(crate) following: Vec<i64>,
    pub(crate) followers: Vec<i64>,
    pub(crate) mutual: Vec<i64>,
    pub(crate) locked: Vec<bool>,
    pub(crate) links: Vec<i64>,
}

/// Full edge rows.
#[derive(Debug, Default, Clone)]
pub(crate) struct EdgeRows {
    pub(crate) followers: Vec<String>,
    pub(crate) targets: Vec<String>,
    pub(crate) since: Vec<i64>,
    pub(crate) muted: Vec<bool>,
    pub(crate) mutual_since: Vec<Option<i64>>,
    pub(crate) options: Vec<Option<String>>,
}

/// Link keys.
#[derive(Debug, Default, Clone)]
pub(crate) struct LinkKeys {
    pub(crate) kinds: Vec<&'static str>,
    pub(crate) froms: Vec<String>,
    pub(crate) tos: Vec<String>,
}

/// Full link rows.
#[derive(Debug, Default, Clone)]
pub(crate) struct LinkRows {
    pub(crate) keys: LinkKeys,
    pub(crate) since: Vec<i64>,
    pub(crate) notifications: Vec<bool>,
    pub(crate) expires_at: Vec<Option<i64>>,
    pub(crate) options: Vec<Option<String>>,
}

/// Counter and link-count deltas, locked flags and new last activities.
#[derive(Debug, Default, Clone)]
pub(crate) struct NodeDeltas {
    pub(crate) ids: Vec<String>,
    pub(crate) following: Vec<i64>,
    pub(crate) followers: Vec<i64>,
    pub(crate) mutual: Vec<i64>,
    pub(crate) links: Vec<i64>,
    pub(crate) locked: Vec<Option<bool>>,
    pub(crate) last_active: Vec<Option<i64>>,
}

/// Events in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct EventRows {
    pub(crate) kinds: Vec<&'static str>,
    pub(crate) followers: Vec<String>,
    pub(crate) targets: Vec<String>,
    pub(crate) at: Vec<i64>,
}

/// The first `n` items of `v`.
fn cut<T: Clone>(v: &[T], n: usize) -> Vec<T> {
    v[..n.min(v.len())].to_vec()
}

impl LinkKeys {
    fn truncated(&self, n: usize) -> LinkKeys {
        LinkKeys {
            kinds: cut(&self.kinds, n),
            froms: cut(&self.froms, n),
            tos: cut(&self.tos, n),
        }
    }
}

impl Changes {
    /// How many rows and events it writes.
    pub(crate) fn len(&self) -> usize {
        self.edge_deletes.0.len()
            + self.link_deletes.kinds.len()
            + self.node_deletes.len()
            + self.node_inserts.ids.len()
            + self.edge_puts.followers.len()
            + self.link_puts.keys.kinds.len()
            + self.node_updates.ids.len()
            + self.events.kinds.len()
    }

    /// Its first `rows` rows, in commit order (for fault injection).
    pub(crate) fn truncated(&self, rows: usize) -> Changes {
        let mut left = rows;
        let mut take = |len: usize| {
            let n = len.min(left);
            left -= n;
            n
        };
        let d = take(self.edge_deletes.0.len());
        let ld = take(self.link_deletes.kinds.len());
        let nd = take(self.node_deletes.len());
        let ni = take(self.node_inserts.ids.len());
        let ep = take(self.edge_puts.followers.len());
        let lp = take(self.link_puts.keys.kinds.len());
        let nu = take(self.node_updates.ids.len());
        let ev = take(self.events.kinds.len());
        let n = &self.node_inserts;
        let p = &self.edge_puts;
        let l = &self.link_puts;
        let u = &self.node_updates;
        let e = &self.events;
        Changes {
            tenant: self.tenant.clone(),
            edge_deletes: (cut(&self.edge_deletes.0, d), cut(&self.edge_deletes.1, d)),
            link_deletes: self.link_deletes.truncated(ld),
            node_deletes: cut(&self.node_deletes, nd),
            node_inserts: NodeRows {
                ids: cut(&n.ids, ni),
                registered_at: cut(&n.registered_at, ni),
                last_active: cut(&n.last_active, ni),
                following: cut(&n.following, ni),
                followers: cut(&n.followers, ni),
                mutual: cut(&n.mutual, ni),
                locked: cut(&n.locked, ni),
                links: cut(&n.links, ni),
            },
            edge_puts: EdgeRows {
                followers: cut(&p.followers, ep),
                targets: cut(&p.targets, ep),
                since: cut(&p.since, ep),
                muted: cut(&p.muted, ep),
                mutual_since: cut(&p.mutual_since, ep),
                options: cut(&p.options, ep),
            },
            link_puts: LinkRows {
                keys: l.keys.truncated(lp),
                since: cut(&l.since, lp),
                notifications: cut(&l.notifications, lp),
                expires_at: cut(&l.expires_at, lp),
                options: cut(&l.options, lp),
            },
            node_updates: NodeDeltas {
                ids: cut(&u.ids, nu),
                following: cut(&u.following, nu),
                followers: cut(&u.followers, nu),
                mutual: cut(&u.mutual, nu),
                links: cut(&u.links, nu),
                locked: cut(&u.locked, nu),
                last_active: cut(&u.last_active, nu),
            },
            events: EventRows {
                kinds: cut(&e.kinds, ev),
                followers: cut(&e.followers, ev),
                targets: cut(&e.targets, ev),
                at: cut(&e.at, ev),
            },
        }
    }
}

const INSERT_NODES: &str = "
INSERT INTO follow_nodes
    (tenant, id, registered_at, last_active, following, followers, mutual, locked, links)
SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                         $7::bigint[], $8::boolean[], $9::bigint[])";

const DELETE_EDGES: &str = "
DELETE FROM follow_edges e USING unnest($2::text[], $3::text[]) AS k(follower, target)
WHERE e.tenant = $1 AND e.follower = k.follower AND e.target = k.target";

const PUT_EDGES: &str = "
INSERT INTO follow_edges (tenant, follower, target, since, muted, mutual_since, options)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::boolean[], $6::bigint[],
                         $7::text[])
ON CONFLICT (tenant, follower, target) DO UPDATE
SET since = EXCLUDED.since, muted = EXCLUDED.muted, mutual_since = EXCLUDED.mutual_since,
    options = EXCLUDED.options";

const DELETE_LINKS: &str = "
DELETE FROM follow_links l USING unnest($2::text[], $3::text[], $4::text[]) AS k(kind, from_id, to_id)
WHERE l.tenant = $1 AND l.kind = k.kind AND l.from_id = k.from_id AND l.to_id = k.to_id";

const PUT_LINKS: &str = "
INSERT INTO follow_links (tenant, kind, from_id, to_id, since, notifications, expires_at, options)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::boolean[],
                         $7::bigint[], $8::text[])
ON CONFLICT (tenant, kind, from_id, to_id) DO UPDATE
SET since = EXCLUDED.since, notifications = EXCLUDED.notifications,
    expires_at = EXCLUDED.expires_at, options = EXCLUDED.options";

/// Takes the counter rows' update locks in key order before one statement
/// updates them all (an UPDATE's own row order follows its plan).
const LOCK_COUNTERS: &str = "
SELECT 1 FROM follow_nodes WHERE tenant = $1 AND id = ANY($2::text[])
ORDER BY id FOR NO KEY UPDATE";

const UPDATE_NODES: &str = "
UPDATE follow_nodes n
SET following = n.following + d.following,
    followers = n.followers + d.followers,
    mutual = n.mutual + d.mutual,
    links = n.links + d.links,
    locked = coalesce(d.locked, n.locked),
    last_active = greatest(n.last_active, d.last_active)
FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
            $7::boolean[], $8::bigint[])
     AS d(id, following, followers, mutual, links, locked, last_active)
WHERE n.tenant = $1 AND n.id = d.id
";

const DELETE_NODES: &str = "
DELETE FROM follow_nodes WHERE tenant = $1 AND id = ANY($2::text[])";

/// Advances the store's clock by the batch's event count and writes the
/// events at the positions it hands out. The clock row stays locked until
/// COMMIT, which follows at once: commits with events happen in position
/// order.
const APPEND_EVENTS: &str = "
WITH clock AS (
    UPDATE follow_event_clock SET last = last + cardinality($2::text[]) WHERE id = 1
    RETURNING last - cardinality($2::text[]) AS base
)
INSERT INTO follow_events (tenant, position, kind, follower, target, at)
SELECT $1, clock.base + k.ord, k.kind, k.follower, k.target, k.at
FROM clock, unnest($2::text[], $3::text[], $4::text[], $5::bigint[])
     WITH ORDINALITY AS k(kind, follower, target, at, ord)
RETURNING position";

type Step<'a> = Pin<Box<dyn Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send + 'a>>;

/// Raised where an injected fault strikes: an I/O error, as a failed disk
/// would give.
const INJECTED_FAULT: &str =
    "DO $$ BEGIN RAISE EXCEPTION 'injected commit fault' USING ERRCODE = '58030'; END $$";

/// Writes `changes` in the open transaction and commits, in one exchange;
/// answers the events' positions, in order.
pub(crate) async fn commit(
    client: &ClientWrapper,
    changes: &Changes,
) -> Result<Vec<i64>, tokio_postgres::Error> {
    write_and_end(client, changes, false).await
}

/// Writes `changes` and then fails, as a commit whose disk fails part-way
/// would: the transaction rolls back.
pub(crate) async fn commit_failing(
    client: &ClientWrapper,
    changes: &Changes,
) -> Result<Vec<i64>, tokio_postgres::Error> {
    write_and_end(client, changes, true).await
}

async fn write_and_end(
    client: &ClientWrapper,
    changes: &Changes,
    fault: bool,
) -> Result<Vec<i64>, tokio_postgres::Error> {
    let tenant = changes.tenant.as_str();
    let n = &changes.node_inserts;
    let d = &changes.edge_deletes;
    let ld = &changes.link_deletes;
    let p = &changes.edge_puts;
    let l = &changes.link_puts;
    let u = &changes.node_updates;
    let e = &changes.events;
    let mut steps: Vec<Step<'_>> = Vec::new();
    let mut events_at = None;
    if !d.0.is_empty() {
        let stmt = client.prepare_cached(DELETE_EDGES).await?;
        steps.push(Box::pin(async move {
            client.query(&stmt, &[&tenant, &d.0, &d.1]).await
        }));
    }
    if !ld.kinds.is_empty() {
        let stmt = client.prepare_cached(DELETE_LINKS).await?;
        steps.push(Box::pin(async move {
            client
                .query(&stmt, &[&tenant, &ld.kinds, &ld.froms, &ld.tos])
                .await
        }));
    }
    if !changes.node_deletes.is_empty() {
        let stmt = client.prepare_cached(DELETE_NODES).await?;
        let ids = &changes.node_deletes;
        steps.push(Box::pin(async move {
            client.query(&stmt, &[&tenant, ids]).await
        }));
    }
    if !n.ids.is_empty() {
        let stmt = client.prepare_cached(INSERT_NODES).await?;
        steps.push(Box::pin(async move {
            let params: [&(dyn ToSql + Sync); 9] = [
                &tenant,
                &n.ids,
                &n.registered_at,
                &n.last_active,
                &n.following,
                &n.followers,
                &n.mutual,
                &n.locked,
                &n.links,
            ];
            client.query(&stmt, &params).await
        }));
    }
    if !p.followers.is_empty() {
        let stmt = client.prepare_cached(PUT_EDGES).await?;
        steps.push(Box::pin(async move {
            let params: [&(dyn ToSql + Sync); 7] = [
                &tenant,
                &p.followers,
                &p.targets,
                &p.since,
                &p.muted,
                &p.mutual_since,
                &p.options,
            ];
            client.query(&stmt, &params).await
        }));
    }
    if !l.keys.kinds.is_empty() {
        let stmt = client.prepare_cached(PUT_LINKS).await?;
        steps.push(Box::pin(async move {
            let params: [&(dyn ToSql + Sync); 8] = [
                &tenant,
                &l.keys.kinds,
                &l.keys.froms,
                &l.keys.tos,
                &l.since,
                &l.notifications,
                &l.expires_at,
                &l.options,
            ];
            client.query(&stmt, &params).await
        }));
    }
    if u.ids.len() > 1 {
        let stmt = client.prepare_cached(LOCK_COUNTERS).await?;
        steps.push(Box::pin(async move {
            client.query(&stmt, &[&tenant, &u.ids]).await
        }));
    }
    if !u.ids.is_empty() {
        let stmt = client.prepare_cached(UPDATE_NODES).await?;
        steps.push(Box::pin(async move {
            let params: [&(dyn ToSql + Sync); 8] = [
                &tenant,
                &u.ids,
                &u.following,
                &u.followers,
                &u.mutual,
                &u.links,
                &u.locked,
                &u.last_active,
            ];
            client.query(&stmt, &params).await
        }));
    }
    if !e.kinds.is_empty() {
        let stmt = client.prepare_cached(APPEND_EVENTS).await?;
        events_at = Some(steps.len());
        steps.push(Box::pin(async move {
            let params: [&(dyn ToSql + Sync); 5] =
                [&tenant, &e.kinds, &e.followers, &e.targets, &e.at];
            client.query(&stmt, &params).await
        }));
    }
    if fault {
        steps.push(Box::pin(async move {
            client
                .batch_execute(INJECTED_FAULT)
                .await
                .map(|()| Vec::new())
        }));
    }
    steps.push(Box::pin(async move {
        client.batch_execute("COMMIT").await.map(|()| Vec::new())
    }));
    let results = try_join_all(steps).await?;
    let mut positions: Vec<i64> = match events_at {
        Some(at) => results[at]
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    positions.sort_unstable();
    Ok(positions)
}
