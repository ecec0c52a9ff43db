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

use crate::bound::Bound;
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

/// Where each part of [`load`]'s read puts its columns in a row: column 0
/// names the part ([`Part`]), the others are NULL outside their part.
pub(crate) mod at {
    /// A node's id; its record from `NODE + 1` as
    /// [`crate::codec::node_record`] reads it.
    pub(crate) const NODE: usize = 1;
    /// An edge: follower, target, since, muted, mutual_since, options.
    pub(crate) const EDGE: usize = 9;
    /// A link's key as [`crate::codec::link_key`] reads it; the link from
    /// `LINK + 3`.
    pub(crate) const LINK: usize = 15;
}

/// What a row of [`load`]'s read holds.
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

    /// The part of a row of [`load`]'s read.
    pub(crate) fn of(row: &Row) -> Result<Part, tokio_postgres::Error> {
        Ok(match row.try_get::<_, i32>(0)? {
            0 => Part::Node,
            1 => Part::Edge,
            _ => Part::Link,
        })
    }
}

const NODE_NULLS: &str = "NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, \
                          NULL::bigint, NULL::boolean, NULL::bigint";
const EDGE_NULLS: &str =
    "NULL::text, NULL::text, NULL::bigint, NULL::boolean, NULL::bigint, NULL::text";
const LINK_NULLS: &str = "NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::boolean, \
                          NULL::bigint, NULL::text";

/// The read of [`load`]: the node rows, the edges and the links in one
/// statement, so in one snapshot, taken once every node lock is held (a
/// row read while locking could predate a transaction that committed while
/// a later lock was awaited, and its counters would disagree with the
/// edges). Parts without keys are left out.
///
/// The links present are locked in key order (kind names sort as
/// [`follow_core::LinkKind`] does), after every node lock. The locks of the
/// two accounts already order every pair of transactions that share a link
/// (one end of it is locked `FOR UPDATE`, see [`crate::write`]); the row
/// locks keep the rule "rows in key order, nodes before links" true of
/// link rows too.
fn read_sql<'a>(
    bound: &mut Bound<'a>,
    tenant: &'a (dyn ToSql + Sync),
    ids: &'a (dyn ToSql + Sync),
    keys: &'a LoadKeys<'_>,
) -> String {
    let tenant = bound.bind(tenant);
    let ids = bound.bind(ids);
    let mut sql = format!(
        "SELECT {node}, id, {NODE_COLUMNS}, {EDGE_NULLS}, {LINK_NULLS}
         FROM follow_nodes WHERE tenant = {tenant} AND id = ANY({ids}::text[])",
        node = Part::Node.tag(),
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

/// What [`load`] read: node, edge and link rows, each row's part in
/// column 0 and its columns where [`at`] says.
pub(crate) struct Loaded {
    pub(crate) rows: Vec<Row>,
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
    let ids: Vec<&str> = nodes.iter().map(|(id, _)| *id).collect();
    let mut bound = Bound::default();
    let read = read_sql(&mut bound, &tenant, &ids, keys);
    let read = client.prepare_cached(&read).await?;
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
    let (_, _, rows) = futures::try_join!(
        client.batch_execute("BEGIN"),
        try_join_all(locks),
        client.query(&read, bound.params()),
    )?;
    Ok(Loaded { rows })
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

const DELETE_NODES: &str = "
DELETE FROM follow_nodes WHERE tenant = $1 AND id = ANY($2::text[])";

/// The one statement that writes a change set's edges, links, counters and
/// events (node inserts and removals, rare, run before it on their own),
/// as data-modifying CTEs of the parts present.
///
/// Edge and link rows need no order: every transaction writing one holds
/// a lock on an end of it (see [`crate::write`]). Counter rows are locked
/// in key order by a locking subquery the update joins, so the update
/// itself only writes rows already held (its own row order follows its
/// plan). The clock row is taken last, after every counter row: its update
/// waits on a subquery over the counter update, which PostgreSQL runs to
/// completion before it evaluates that condition for the clock row, and
/// the clock's row lock, held until COMMIT follows at once, makes commits
/// with events happen in position order. The rows answered are the events'
/// positions.
fn write_sql<'a>(
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
    let counters = !u.ids.is_empty();
    if counters {
        let ids = bound.bind(&u.ids);
        // One row takes no lock it could take out of order.
        let held = if u.ids.len() > 1 {
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
                 WHERE n.tenant = {t} AND n.id = d.id
                 RETURNING 1)",
            bound.bind(&u.following),
            bound.bind(&u.followers),
            bound.bind(&u.mutual),
            bound.bind(&u.links),
            bound.bind(&u.locked),
            bound.bind(&u.last_active),
        ));
    }
    let main = if e.kinds.is_empty() {
        "SELECT NULL::bigint WHERE false".to_owned()
    } else {
        let kinds = bound.bind(&e.kinds);
        let after_counters = if counters {
            " AND (SELECT count(*) FROM counters) >= 0"
        } else {
            ""
        };
        ctes.push(format!(
            "clock AS (
                 UPDATE follow_event_clock SET last = last + cardinality({kinds}::text[])
                 WHERE id = 1{after_counters}
                 RETURNING last - cardinality({kinds}::text[]) AS base)"
        ));
        format!(
            "INSERT INTO follow_events (tenant, position, kind, follower, target, at)
             SELECT {t}, clock.base + k.ord, k.kind, k.follower, k.target, k.at
             FROM clock, unnest({kinds}::text[], {}::text[], {}::text[], {}::bigint[])
                  WITH ORDINALITY AS k(kind, follower, target, at, ord)
             RETURNING position",
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
    let tenant = &changes.tenant;
    let n = &changes.node_inserts;
    let mut bound = Bound::default();
    let mut steps: Vec<Step<'_>> = Vec::new();
    if !changes.node_deletes.is_empty() {
        let stmt = client.prepare_cached(DELETE_NODES).await?;
        let ids = &changes.node_deletes;
        steps.push(Box::pin(async move {
            client.query(&stmt, &[tenant, ids]).await
        }));
    }
    if !n.ids.is_empty() {
        let stmt = client.prepare_cached(INSERT_NODES).await?;
        steps.push(Box::pin(async move {
            let params: [&(dyn ToSql + Sync); 9] = [
                tenant,
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
    let mut events_at = None;
    if let Some(sql) = write_sql(&mut bound, tenant, changes) {
        let stmt = client.prepare_cached(&sql).await?;
        events_at = Some(steps.len());
        let params = bound.params();
        steps.push(Box::pin(async move { client.query(&stmt, params).await }));
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
