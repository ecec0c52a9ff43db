//! The two exchanges of a write transaction, each one pipelined round trip:
//! [`load`] (BEGIN, take the transaction's id and lock the node rows in
//! key order, then read them, the edges and the links) and [`commit`]
//! (write the change set, place its events, COMMIT, and ask whether the
//! events are readable yet: [`crate::positions`]).
//!
//! Statements of one exchange are all sent before any reply is awaited; the
//! server runs them in order, so a later statement sees the locks of an
//! earlier one and, under READ COMMITTED, a snapshot taken after them.
//!
//! The statements' text is built in [`read`] (the load's locks and read)
//! and [`write`] (the commit's statement), from the bound arrays of
//! [`changes`].

mod changes;
mod read;
mod write;

use std::future::Future;
use std::pin::Pin;

use deadpool_postgres::ClientWrapper;
use futures::future::try_join_all;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::bound::Bound;
use crate::counters::FOLD;
use crate::positions::WRITER_LOCK_BITS;

pub(crate) use changes::{Changes, LinkKeys};
use read::{LOCK_SQL, read_sql};
pub(crate) use read::{Lock, Part, at, prefixed};
use write::{DELETE_NODES, INSERT_NODES, write_sql};

/// What [`load`] read: node, edge and link rows, each row's part in
/// column 0 and its columns where [`at`] says.
pub(crate) struct Loaded {
    pub(crate) rows: Vec<Row>,
    /// The transaction's id, which its events' positions carry.
    pub(crate) xact: i64,
}

/// What [`commit`] answered.
pub(crate) struct Committed {
    /// The events' positions, in order.
    pub(crate) positions: Vec<i64>,
    /// Whether a reader can see them already: no transaction older than
    /// this one is still running. True without events, or when not asked.
    pub(crate) readable: bool,
}

/// Whether the events of transaction `xact`, committed, are below every
/// reader's horizon: no older transaction is still running.
const READABLE: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > $1";

/// Asks again whether the events of the committed transaction `xact` are
/// readable.
pub(crate) async fn readable(
    client: &ClientWrapper,
    xact: i64,
) -> Result<bool, tokio_postgres::Error> {
    let stmt = client.prepare_cached(READABLE).await?;
    client.query_one(&stmt, &[&xact]).await?.try_get(0)
}

/// Waits, at most `limit` in all, for every writer of this store older
/// than the committed transaction `xact` to end (on their advisory locks,
/// each taken and let go at once, so the wait holds no lock), then answers
/// whether its events are readable: false when an older transaction that
/// is not one of this store's writers still runs, or the time ran out.
pub(crate) async fn wait_for_older_writers(
    client: &ClientWrapper,
    xact: i64,
    limit: std::time::Duration,
) -> Result<bool, tokio_postgres::Error> {
    let wait = client
        .prepare_cached(&format!(
            "SELECT pg_advisory_lock_shared(k), pg_advisory_unlock_shared(k)
             FROM (SELECT x::text::bigint # {WRITER_LOCK_BITS} AS k
                   FROM pg_snapshot_xip(pg_current_snapshot()) AS x
                   WHERE x::text::bigint < $1) AS older"
        ))
        .await?;
    let readable_stmt = client.prepare_cached(READABLE).await?;
    let timeout = format!(
        "SET LOCAL statement_timeout = {}",
        limit.as_millis().clamp(1, i32::MAX as u128)
    );
    let params: [&(dyn ToSql + Sync); 1] = [&xact];
    let waited = futures::try_join!(
        client.batch_execute("BEGIN"),
        client.batch_execute(&timeout),
        client.query(&wait, &params),
        client.batch_execute("COMMIT"),
        client.query_one(&readable_stmt, &params),
    );
    match waited {
        Ok((.., row)) => row.try_get(0),
        Err(error) if error.code() == Some(&SqlState::QUERY_CANCELED) => {
            // Out of time. The COMMIT sent after the wait ended its
            // transaction; a lock taken just before the cancel is let go.
            client
                .batch_execute("SELECT pg_advisory_unlock_all()")
                .await?;
            readable(client, xact).await
        }
        Err(error) => Err(error),
    }
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

/// Opens a transaction, takes its id, locks the present rows of
/// `keys.nodes` in that order, and reads them, the edges and the links.
pub(crate) async fn load(
    client: &ClientWrapper,
    tenant: &str,
    keys: &LoadKeys<'_>,
) -> Result<Loaded, tokio_postgres::Error> {
    let nodes = &keys.nodes;
    let lock = client.prepare_cached(&LOCK_SQL).await?;
    let ids: Vec<&str> = nodes.iter().map(|(id, _)| *id).collect();
    let exclusive: Vec<bool> = nodes
        .iter()
        .map(|(_, lock)| *lock == Lock::Exclusive)
        .collect();
    let mut bound = Bound::default();
    let read = read_sql(&mut bound, &tenant, &ids, keys);
    let read = client.prepare_cached(&read).await?;
    let lock_params: [&(dyn ToSql + Sync); 3] = [&tenant, &ids, &exclusive];
    let (_, xact, rows) = futures::try_join!(
        client.batch_execute("BEGIN"),
        client.query_one(&lock, &lock_params),
        client.query(&read, bound.params()),
    )?;
    Ok(Loaded {
        rows,
        xact: xact.try_get(0)?,
    })
}

/// Rolls back an open transaction.
pub(crate) async fn rollback(client: &ClientWrapper) -> Result<(), tokio_postgres::Error> {
    client.batch_execute("ROLLBACK").await
}

type Step<'a> = Pin<Box<dyn Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send + 'a>>;

/// Raised where an injected fault strikes: an I/O error, as a failed disk
/// would give.
const INJECTED_FAULT: &str =
    "DO $$ BEGIN RAISE EXCEPTION 'injected commit fault' USING ERRCODE = '58030'; END $$";

/// Writes `changes` in the open transaction and commits, in one exchange;
/// with `ask_readable` (the transaction's id), also asks whether the
/// events are readable yet.
pub(crate) async fn commit(
    client: &ClientWrapper,
    changes: &Changes,
    ask_readable: Option<i64>,
) -> Result<Committed, tokio_postgres::Error> {
    write_and_end(client, changes, false, ask_readable).await
}

/// Writes `changes` and then fails, as a commit whose disk fails part-way
/// would: the transaction rolls back.
pub(crate) async fn commit_failing(
    client: &ClientWrapper,
    changes: &Changes,
) -> Result<Committed, tokio_postgres::Error> {
    write_and_end(client, changes, true, None).await
}

async fn write_and_end(
    client: &ClientWrapper,
    changes: &Changes,
    fault: bool,
    ask_readable: Option<i64>,
) -> Result<Committed, tokio_postgres::Error> {
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
    if !changes.folds.is_empty() {
        // Before the changes in place, which start from the whole count.
        let stmt = client.prepare_cached(FOLD).await?;
        let ids = &changes.folds;
        steps.push(Box::pin(async move {
            client.query(&stmt, &[tenant, ids]).await
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
    // Asked after the COMMIT but apart from it: once COMMIT succeeded, a
    // failure of this question only means "not known to be readable".
    let mut readable_step: Option<Step<'_>> = None;
    if let Some(xact) = ask_readable.filter(|_| !changes.events.kinds.is_empty()) {
        let stmt = client.prepare_cached(READABLE).await?;
        readable_step = Some(Box::pin(async move { client.query(&stmt, &[&xact]).await }));
    }
    let (results, readable) = futures::join!(try_join_all(steps), async move {
        match readable_step {
            Some(step) => matches!(
                step.await
                    .as_deref()
                    .map(|rows| rows.first().map(|row| row.try_get(0))),
                Ok(Some(Ok(true)))
            ),
            None => true,
        }
    });
    let results = results?;
    let mut positions: Vec<i64> = match events_at {
        Some(at) => results[at]
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    positions.sort_unstable();
    Ok(Committed {
        positions,
        readable,
    })
}
