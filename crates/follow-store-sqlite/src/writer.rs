//! The one writer thread and its group commit.
//!
//! The writer blocks for one job, then drains whatever else is queued (up to
//! a bound) and commits all the queued batches in one transaction, each
//! inside its own savepoint: a batch that fails as a whole (its decision or
//! its commit) rolls back only its savepoint. Callers are answered only after `COMMIT`
//! returns, that is once the group is durable at the configured level.

use crossbeam_channel::Receiver;
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

/// Runs the writer until every sender is gone.
pub(crate) fn run(
    mut conn: Connection,
    jobs: Receiver<WriterJob>,
    max_group: usize,
    fail_after: Option<usize>,
) {
    while let Ok(first) = jobs.recv() {
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
