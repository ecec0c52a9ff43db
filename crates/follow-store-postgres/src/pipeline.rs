//! The two exchanges of a write transaction, each one pipelined round trip:
//! [`load`] (BEGIN, lock the node rows in key order, then read them and the
//! edges) and [`commit`] (write the change set, place its events, COMMIT).
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

const NODE_ROW: &str = "id, registered_at, last_active, following, followers, mutual";

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
    format!("SELECT {NODE_ROW} FROM follow_nodes WHERE tenant = $1 AND id = ANY($2::text[])")
}

const LOAD_EDGES: &str = "
SELECT e.follower, e.target, e.since, e.muted, e.mutual_since
FROM follow_edges e
JOIN unnest($2::text[], $3::text[]) AS k(follower, target)
  ON e.follower = k.follower AND e.target = k.target
WHERE e.tenant = $1";

/// What [`load`] read: node rows (columns as [`crate::codec::node_record`]
/// reads them from 1, id at 0) and edge rows (follower, target, since,
/// muted, mutual_since).
pub(crate) struct Loaded {
    pub(crate) nodes: Vec<Row>,
    pub(crate) edges: Vec<Row>,
}

/// Opens a transaction, locks the present rows of `nodes` (sorted by id,
/// each with its lock) in that order, and reads them and the edges.
pub(crate) async fn load(
    client: &ClientWrapper,
    tenant: &str,
    nodes: &[(&str, Lock)],
    edges: (&[&str], &[&str]),
) -> Result<Loaded, tokio_postgres::Error> {
    let exclusive = client.prepare_cached(&lock_sql(Lock::Exclusive)).await?;
    let shared = client.prepare_cached(&lock_sql(Lock::KeyShare)).await?;
    let load_nodes = client.prepare_cached(&load_nodes_sql()).await?;
    let load_edges = client.prepare_cached(LOAD_EDGES).await?;
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
    let (followers, targets) = edges;
    let node_params: [&(dyn ToSql + Sync); 2] = [&tenant, &ids];
    let (_, _, nodes, edges) = futures::try_join!(
        client.batch_execute("BEGIN"),
        try_join_all(locks),
        client.query(&load_nodes, &node_params),
        async {
            if followers.is_empty() {
                return Ok(Vec::new());
            }
            client
                .query(&load_edges, &[&tenant, &followers, &targets])
                .await
        }
    )?;
    Ok(Loaded { nodes, edges })
}

/// Rolls back an open transaction.
pub(crate) async fn rollback(client: &ClientWrapper) -> Result<(), tokio_postgres::Error> {
    client.batch_execute("ROLLBACK").await
}

/// Everything a batch persists, as bound arrays, in key order.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    pub(crate) tenant: String,
    pub(crate) node_inserts: NodeRows,
    pub(crate) edge_deletes: (Vec<String>, Vec<String>),
    pub(crate) edge_puts: EdgeRows,
    pub(crate) node_updates: NodeDeltas,
    pub(crate) node_deletes: Vec<String>,
    pub(crate) events: EventRows,
}

/// Full node rows.
#[derive(Debug, Default)]
pub(crate) struct NodeRows {
    pub(crate) ids: Vec<String>,
    pub(crate) registered_at: Vec<i64>,
    pub(crate) last_active: Vec<Option<i64>>,
    pub(crate) following: Vec<i64>,
    pub(crate) followers: Vec<i64>,
    pub(crate) mutual: Vec<i64>,
}

/// Full edge rows.
#[derive(Debug, Default)]
pub(crate) struct EdgeRows {
    pub(crate) followers: Vec<String>,
    pub(crate) targets: Vec<String>,
    pub(crate) since: Vec<i64>,
    pub(crate) muted: Vec<bool>,
    pub(crate) mutual_since: Vec<Option<i64>>,
}

/// Counter deltas and new last activities.
#[derive(Debug, Default)]
pub(crate) struct NodeDeltas {
    pub(crate) ids: Vec<String>,
    pub(crate) following: Vec<i64>,
    pub(crate) followers: Vec<i64>,
    pub(crate) mutual: Vec<i64>,
    pub(crate) last_active: Vec<Option<i64>>,
}

/// Events in order.
#[derive(Debug, Default)]
pub(crate) struct EventRows {
    pub(crate) kinds: Vec<&'static str>,
    pub(crate) followers: Vec<String>,
    pub(crate) targets: Vec<String>,
    pub(crate) at: Vec<i64>,
}

impl Changes {
    /// How many rows and events it writes.
    pub(crate) fn len(&self) -> usize {
        self.edge_deletes.0.len()
            + self.node_deletes.len()
            + self.node_inserts.ids.len()
            + self.edge_puts.followers.len()
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
        let cut = |v: &Vec<String>, n: usize| v[..n].to_vec();
        let d = take(self.edge_deletes.0.len());
        let nd = take(self.node_deletes.len());
        let ni = take(self.node_inserts.ids.len());
        let ep = take(self.edge_puts.followers.len());
        let nu = take(self.node_updates.ids.len());
        let ev = take(self.events.kinds.len());
        let n = &self.node_inserts;
        let p = &self.edge_puts;
        let u = &self.node_updates;
        let e = &self.events;
        Changes {
            tenant: self.tenant.clone(),
            edge_deletes: (cut(&self.edge_deletes.0, d), cut(&self.edge_deletes.1, d)),
            node_deletes: cut(&self.node_deletes, nd),
            node_inserts: NodeRows {
                ids: cut(&n.ids, ni),
                registered_at: n.registered_at[..ni].to_vec(),
                last_active: n.last_active[..ni].to_vec(),
                following: n.following[..ni].to_vec(),
                followers: n.followers[..ni].to_vec(),
                mutual: n.mutual[..ni].to_vec(),
            },
            edge_puts: EdgeRows {
                followers: cut(&p.followers, ep),
                targets: cut(&p.targets, ep),
                since: p.since[..ep].to_vec(),
                muted: p.muted[..ep].to_vec(),
                mutual_since: p.mutual_since[..ep].to_vec(),
            },
            node_updates: NodeDeltas {
                ids: cut(&u.ids, nu),
                following: u.following[..nu].to_vec(),
                followers: u.followers[..nu].to_vec(),
                mutual: u.mutual[..nu].to_vec(),
                last_active: u.last_active[..nu].to_vec(),
            },
            events: EventRows {
                kinds: e.kinds[..ev].to_vec(),
                followers: cut(&e.followers, ev),
                targets: cut(&e.targets, ev),
                at: e.at[..ev].to_vec(),
            },
        }
    }
}

const INSERT_NODES: &str = "
INSERT INTO follow_nodes (tenant, id, registered_at, last_active, following, followers, mutual)
SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])";

const DELETE_EDGES: &str = "
DELETE FROM follow_edges e USING unnest($2::text[], $3::text[]) AS k(follower, target)
WHERE e.tenant = $1 AND e.follower = k.follower AND e.target = k.target";

const PUT_EDGES: &str = "
INSERT INTO follow_edges (tenant, follower, target, since, muted, mutual_since)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::boolean[], $6::bigint[])
ON CONFLICT (tenant, follower, target) DO UPDATE
SET since = EXCLUDED.since, muted = EXCLUDED.muted, mutual_since = EXCLUDED.mutual_since";

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
    last_active = greatest(n.last_active, d.last_active)
FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
     AS d(id, following, followers, mutual, last_active)
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
    let p = &changes.edge_puts;
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
            let params: [&(dyn ToSql + Sync); 7] = [
                &tenant,
                &n.ids,
                &n.registered_at,
                &n.last_active,
                &n.following,
                &n.followers,
                &n.mutual,
            ];
            client.query(&stmt, &params).await
        }));
    }
    if !p.followers.is_empty() {
        let stmt = client.prepare_cached(PUT_EDGES).await?;
        steps.push(Box::pin(async move {
            let params: [&(dyn ToSql + Sync); 6] = [
                &tenant,
                &p.followers,
                &p.targets,
                &p.since,
                &p.muted,
                &p.mutual_since,
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
            let params: [&(dyn ToSql + Sync); 6] = [
                &tenant,
                &u.ids,
                &u.following,
                &u.followers,
                &u.mutual,
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
