//! Concurrent writers: tasks each issuing single follows and unfollows of
//! their own edges, so that a run leaves the graph as it found it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use follow_core::{Error, FollowGraph, Principal};

use crate::baseline::HandRolled;

/// Targets each writer cycles through.
pub const WRITER_TARGETS: usize = 64;
/// The most writer tasks the fixtures register actors for.
pub const MAX_WRITERS: usize = 16;

/// The actor of writer task `task` (registered by [`register_writers`]).
pub fn writer_actor(task: usize) -> String {
    format!("bw{task}")
}

/// Writer target `k`.
pub fn writer_target(k: usize) -> String {
    format!("bt{k}")
}

/// Registers the writers' actors and targets: nodes with no edges of the
/// generated graph, so a follow is always new and an unfollow always removes
/// it again.
///
/// # Errors
/// Any failure of the facade.
pub async fn register_writers(graph: &FollowGraph, principal: &Principal) -> Result<(), Error> {
    for task in 0..MAX_WRITERS {
        graph.register(principal, &writer_actor(task)).await?;
    }
    for k in 0..WRITER_TARGETS {
        graph.register(principal, &writer_target(k)).await?;
    }
    Ok(())
}

/// The fewest operations a writer task runs per call: with fewer, thread
/// start-up and the first lock waits would dominate a sample.
pub const MIN_PER_TASK: u64 = 32;

/// Operations per task for `ops` in all over `tasks`: at least
/// [`MIN_PER_TASK`], rounded up to an even number, so every follow is undone.
/// Callers scale the time by `ops` over the operations run.
pub fn per_task(ops: u64, tasks: usize) -> u64 {
    let n = ops.div_ceil(tasks.max(1) as u64).max(MIN_PER_TASK);
    n + n % 2
}

/// `tasks` tokio tasks alternate follow and unfollow through the facade.
/// Answers the wall time and the operations run. Call inside a runtime.
///
/// # Errors
/// The first failure of any task.
pub async fn facade_writers(
    graph: &Arc<FollowGraph>,
    principal: &Principal,
    tasks: usize,
    ops: u64,
) -> Result<(Duration, u64), Error> {
    let n = per_task(ops, tasks);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks.max(1))
        .map(|task| {
            let (graph, principal) = (Arc::clone(graph), principal.clone());
            tokio::spawn(async move {
                let actor = writer_actor(task);
                for i in 0..n {
                    let target = writer_target((i / 2) as usize % WRITER_TARGETS);
                    if i % 2 == 0 {
                        graph.follow(&principal, &actor, &target).await?;
                    } else {
                        graph.unfollow(&principal, &actor, &target).await?;
                    }
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for handle in handles {
        handle
            .await
            .map_err(|e| Error::internal(format!("writer task failed: {e}")))??;
    }
    Ok((start.elapsed(), n * tasks.max(1) as u64))
}

/// The same on the hand-rolled baseline: `tasks` threads, one connection
/// each (opened before the clock starts), each call its own transaction.
///
/// # Errors
/// The first SQLite failure.
pub fn hand_writers(db: &HandRolled, tasks: usize, ops: u64) -> rusqlite::Result<(Duration, u64)> {
    let n = per_task(ops, tasks);
    let mut conns = (0..tasks.max(1))
        .map(|_| db.connect())
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let start = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = conns
            .iter_mut()
            .enumerate()
            .map(|(task, conn)| {
                scope.spawn(move || {
                    let actor = writer_actor(task);
                    for i in 0..n {
                        let target = writer_target((i / 2) as usize % WRITER_TARGETS);
                        if i % 2 == 0 {
                            conn.follow(&actor, &target, crate::graph::SINCE_BASE)?;
                        } else {
                            conn.unfollow(&actor, &target)?;
                        }
                    }
                    Ok::<_, rusqlite::Error>(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        }
        Ok::<_, rusqlite::Error>(())
    })?;
    Ok((start.elapsed(), n * tasks.max(1) as u64))
}
