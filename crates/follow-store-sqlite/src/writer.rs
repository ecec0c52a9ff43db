//! The one writer thread and its group commit.
//!
//! The writer blocks for one job, then drains whatever else is queued (up to
//! a bound) and commits all the queued batches in one transaction, each
//! inside its own savepoint: a batch that fails as a whole (its decision or
//! its commit) rolls back only its savepoint. Callers are answered only after `COMMIT`
//! returns, that is once the group is durable at the configured level.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use follow_core::write::WritePlan;
use follow_core::{CommandResult, Error, WriteBatch};
use futures::channel::oneshot;
use rusqlite::Connection;

use crate::error::map_sql;
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

/// The writer's page cache while bulk groups arrive, in KiB (SQLite takes
/// the pages only as it uses them). A bulk commit writes its edges in key
/// order, so the primary key, `edges_following` and `nodes` are walked
/// front to back, but `edges_followers` takes its entries at random places:
/// once that index outgrows the cache, every insert spills and re-reads a
/// page.
pub(crate) const BULK_CACHE_KIB: u32 = 1024 * 1024;

/// How long the writer waits without work before it gives the bulk cache
/// back.
const BULK_IDLE: Duration = Duration::from_secs(1);

/// The writer connection's page cache: the normal size, or the bulk size
/// from the first bulk group until the writer has been idle for
/// [`BULK_IDLE`].
struct Cache {
    normal_kib: u32,
    bulk: bool,
}

impl Cache {
    fn set(&mut self, conn: &Connection, bulk: bool) {
        if self.bulk == bulk {
            return;
        }
        let kib = if bulk {
            BULK_CACHE_KIB
        } else {
            self.normal_kib
        };
        // A failed pragma only leaves the cache at its size: nothing to undo.
        let _ = conn.execute_batch(&format!("PRAGMA cache_size = -{kib};"));
        if !bulk {
            // Returns the pages beyond the normal size to the allocator.
            let _ = conn.execute_batch("PRAGMA shrink_memory;");
        }
        self.bulk = bulk;
    }
}

/// Runs the writer until every sender is gone.
pub(crate) fn run(
    mut conn: Connection,
    jobs: Receiver<WriterJob>,
    max_group: usize,
    fail_after: Option<usize>,
    normal_cache_kib: u32,
) {
    let mut cache = Cache {
        normal_kib: normal_cache_kib,
        bulk: false,
    };
    loop {
        let first = if cache.bulk {
            match jobs.recv_timeout(BULK_IDLE) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    cache.set(&conn, false);
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
        while taken < max_group.max(1) {
            match jobs.try_recv() {
                Ok(job) => push(job),
                Err(_) => break,
            }
            taken += 1;
        }
        if !writes.is_empty() {
            let commands: usize = writes.iter().map(|(batch, _)| batch.commands.len()).sum();
            if commands >= BULK_COMMANDS {
                cache.set(&conn, true);
            }
            commit_group(&conn, writes, fail_after);
        }
        for job in exclusive {
            job(&mut conn);
        }
    }
}

/// Commits one group and answers every caller in it.
fn commit_group(
    conn: &Connection,
    writes: Vec<(WriteBatch, WriteReply)>,
    fail_after: Option<usize>,
) {
    match apply_group(conn, &writes, fail_after) {
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
fn apply_group(
    conn: &Connection,
    writes: &[(WriteBatch, WriteReply)],
    fail_after: Option<usize>,
) -> Result<Vec<Result<Vec<CommandResult>, Error>>, Error> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(map_sql)?;
    let mut results = Vec::with_capacity(writes.len());
    for (batch, _) in writes {
        conn.execute_batch("SAVEPOINT batch").map_err(map_sql)?;
        match apply_batch(conn, batch, &mut Fault::after(fail_after)) {
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

/// Load → decide → commit of one batch inside the open savepoint.
fn apply_batch(
    conn: &Connection,
    batch: &WriteBatch,
    fault: &mut Fault,
) -> Result<Vec<CommandResult>, Error> {
    let plan = WritePlan::new(batch);
    let facts = load(conn, &batch.tenant, plan.keys())?;
    let decision = plan.decide(facts)?;
    let positions = commit(conn, &decision.changes, fault)?;
    decision.into_results(&positions)
}
