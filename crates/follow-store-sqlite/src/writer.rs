//! The one writer thread and its group commit.
//!
//! The writer blocks for one job, then drains whatever else is queued (up to
//! a bound) and commits all the queued batches in one transaction. In a
//! group of several, each batch runs inside its own savepoint: a batch that
//! fails as a whole (its decision or its commit) rolls back only its
//! savepoint. A group of one rolls back the transaction instead. Callers
//! are answered only after `COMMIT` returns, that is once the group is
//! durable at the configured level.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use follow_core::write::WritePlan;
use follow_core::{CommandResult, Error, WriteBatch};
use futures::channel::oneshot;
use rusqlite::Connection;

use crate::error::map_sql;
use crate::rebuild::drop_for_bulk;
use crate::write::{Fault, commit, load};

/// Work run on a connection, answering through its own channel.
pub(crate) type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A reply to one write.
pub(crate) type WriteReply = oneshot::Sender<Result<Vec<CommandResult>, Error>>;

/// What the writer thread is asked to do.
pub(crate) enum WriterJob {
    /// Apply a batch in the next group.
    Write {
        /// The batch.
        batch: WriteBatch,
        /// Where to answer.
        reply: WriteReply,
    },
    /// Run on the writer's connection between groups (reads of an in-memory
    /// store, repair).
    Exclusive(Job),
}

/// Commands in one group from which the writer treats it as part of a bulk
/// load (an import call is one batch of about two commands per edge).
pub(crate) const BULK_COMMANDS: usize = 256;

/// The least page cache of the writer while bulk groups arrive, in KiB
/// (SQLite takes the pages only as it uses them).
pub(crate) const BULK_CACHE_KIB: u32 = 1024 * 1024;

/// Cache allowed per command of a bulk group beyond the file's size, in
/// bytes: an import call is about two commands per edge, and an edge
/// takes about 200 bytes of the file with its index entries and event.
const BULK_CACHE_BYTES_PER_COMMAND: u64 = 256;

/// The writer's page cache for a bulk group: the whole file and what the
/// group may add, and at least [`BULK_CACHE_KIB`]. A bulk commit writes its
/// edges in key order, so the primary key, `edges_following` and `nodes` are
/// walked front to back, but `edges_followers` takes its entries at random
/// places: once the file outgrows the cache, every insert spills a dirty
/// page and reads another back, and a call's cost per edge grows with the
/// file.
fn bulk_cache_kib(conn: &Connection, commands: usize) -> u32 {
    let file = conn
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map_or(0, |bytes| u64::try_from(bytes).unwrap_or(0));
    let growth = u64::try_from(commands)
        .unwrap_or(u64::MAX)
        .saturating_mul(BULK_CACHE_BYTES_PER_COMMAND);
    let kib = file.saturating_add(growth) / 1024;
    u32::try_from(kib).unwrap_or(u32::MAX).max(BULK_CACHE_KIB)
}

/// How long the writer waits without work before it gives the bulk cache
/// back.
const BULK_IDLE: Duration = Duration::from_secs(1);

/// The writer connection's page cache: the normal size, or the bulk size
/// from the first bulk group until the writer has been idle for
/// [`BULK_IDLE`].
struct Cache {
    normal_kib: u32,
    /// The bulk size set, `None` at the normal size.
    bulk_kib: Option<u32>,
}

impl Cache {
    fn set(&mut self, conn: &Connection, bulk_kib: Option<u32>) {
        if self.bulk_kib == bulk_kib {
            return;
        }
        let kib = bulk_kib.unwrap_or(self.normal_kib);
        // A failed pragma only leaves the cache at its size: nothing to undo.
        let _ = conn.execute_batch(&format!("PRAGMA cache_size = -{kib};"));
        if bulk_kib.is_none() {
            // Returns the pages beyond the normal size to the allocator.
            let _ = conn.execute_batch("PRAGMA shrink_memory;");
        }
        self.bulk_kib = bulk_kib;
    }
}

/// How the writer commits, from the store's options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// The most queued jobs committed in one group.
    pub(crate) max_group: usize,
    /// Fail every commit after this many rows (a testing aid).
    pub(crate) fail_after: Option<usize>,
    /// The page cache outside bulk groups, in KiB.
    pub(crate) normal_cache_kib: u32,
    /// The edge writes from which a batch may rebuild the edge indexes
    /// ([`crate::rebuild`]).
    pub(crate) rebuild_from: usize,
}

/// Runs the writer until every sender is gone.
pub(crate) fn run(mut conn: Connection, jobs: Receiver<WriterJob>, settings: Settings) {
    let mut cache = Cache {
        normal_kib: settings.normal_cache_kib,
        bulk_kib: None,
    };
    loop {
        let first = if cache.bulk_kib.is_some() {
            match jobs.recv_timeout(BULK_IDLE) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    cache.set(&conn, None);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => break,
            }
        };
        let mut writes = Vec::new();
        let mut exclusive = Vec::new();
        let mut push = |job| match job {
            WriterJob::Write { batch, reply } => writes.push((batch, reply)),
            WriterJob::Exclusive(job) => exclusive.push(job),
        };
        push(first);
        let mut taken = 1;
        while taken < settings.max_group.max(1) {
            match jobs.try_recv() {
                Ok(job) => push(job),
                Err(_) => break,
            }
            taken += 1;
        }
        if !writes.is_empty() {
            let commands: usize = writes.iter().map(|(batch, _)| batch.commands.len()).sum();
            if commands >= BULK_COMMANDS {
                // Sized again for every bulk group: the file grows under it.
                cache.set(&conn, Some(bulk_cache_kib(&conn, commands)));
            }
            commit_group(&conn, writes, settings);
        }
        for job in exclusive {
            job(&mut conn);
        }
    }
}

/// Commits one group and answers every caller in it.
fn commit_group(conn: &Connection, writes: Vec<(WriteBatch, WriteReply)>, settings: Settings) {
    match apply_group(conn, &writes, settings) {
        Ok(results) => {
            for ((_, reply), result) in writes.into_iter().zip(results) {
                // A caller that went away needs no answer.
                let _ = reply.send(result);
            }
        }
        Err(error) => {
            // Nothing of the group is committed: every caller gets the error.
            let _ = conn.execute_batch("ROLLBACK");
            for (_, reply) in writes {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

/// Applies every batch of a group in one transaction; the outer error means
/// the transaction as a whole failed and is to be rolled back.
///
/// A group of one batch runs without a savepoint: its failure rolls back
/// the whole transaction, which holds nothing else. A savepoint would make
/// SQLite copy every page the batch changes into a statement journal
/// first, for an import call tens of thousands of pages.
fn apply_group(
    conn: &Connection,
    writes: &[(WriteBatch, WriteReply)],
    settings: Settings,
) -> Result<Vec<Result<Vec<CommandResult>, Error>>, Error> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(map_sql)?;
    if let [(batch, _)] = writes {
        let mut fault = Fault::after(settings.fail_after);
        return match apply_batch(conn, batch, &mut fault, settings.rebuild_from) {
            Ok(result) => {
                conn.execute_batch("COMMIT").map_err(map_sql)?;
                Ok(vec![Ok(result)])
            }
            Err(error) => {
                conn.execute_batch("ROLLBACK").map_err(map_sql)?;
                Ok(vec![Err(error)])
            }
        };
    }
    let mut results = Vec::with_capacity(writes.len());
    for (batch, _) in writes {
        conn.execute_batch("SAVEPOINT batch").map_err(map_sql)?;
        let mut fault = Fault::after(settings.fail_after);
        match apply_batch(conn, batch, &mut fault, settings.rebuild_from) {
            Ok(result) => {
                conn.execute_batch("RELEASE batch").map_err(map_sql)?;
                results.push(Ok(result));
            }
            Err(error) => {
                conn.execute_batch("ROLLBACK TO batch; RELEASE batch")
                    .map_err(map_sql)?;
                results.push(Err(error));
            }
        }
    }
    conn.execute_batch("COMMIT").map_err(map_sql)?;
    Ok(results)
}

/// Load → decide → commit of one batch inside the open transaction or
/// savepoint. A batch
/// that writes at least as many edges as are stored (and at least
/// `rebuild_from`) commits with the edge table's secondary indexes dropped
/// and builds them again afterwards ([`crate::rebuild`]).
fn apply_batch(
    conn: &Connection,
    batch: &WriteBatch,
    fault: &mut Fault,
    rebuild_from: usize,
) -> Result<Vec<CommandResult>, Error> {
    let plan = WritePlan::new(batch);
    let facts = load(conn, &batch.tenant, plan.keys())?;
    let decision = plan.decide(facts)?;
    let changes = &decision.changes;
    let edge_writes = changes.edge_inserts.len() + changes.edge_updates.len();
    let dropped = drop_for_bulk(conn, edge_writes, rebuild_from)?;
    let positions = commit(conn, changes, fault)?;
    if let Some(dropped) = dropped {
        dropped.recreate(conn)?;
    }
    decision.into_results(&positions)
}
