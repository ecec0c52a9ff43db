//! The write path: load → decide → commit, in two round trips, retried
//! when another transaction got in the way.

use std::collections::BTreeSet;
use std::time::Duration;

use deadpool_postgres::{ClientWrapper, Pool};
use follow_core::write::{ChangeSet, EdgeKey, Facts, Keys, WritePlan};
use follow_core::{Command, CommandResult, Error, EventPosition, NodeId, WriteBatch};

use crate::codec;
use crate::conn::Conn;
use crate::error::{Class, classify, map_pg};
use crate::pipeline::{self, Changes, Lock};

/// Applies `batch` in one transaction, running it again (at most
/// `attempts` times in all) when a concurrent transaction got in the way.
pub(crate) async fn write(
    pool: &Pool,
    batch: &WriteBatch,
    attempts: u32,
    fail_after: Option<usize>,
) -> Result<Vec<CommandResult>, Error> {
    let keys = WritePlan::new(batch).keys().clone();
    let locks = lock_plan(batch, &keys);
    let conn = Conn::take(pool).await?;
    let mut attempt = 1;
    loop {
        match attempt_once(conn.client(), batch, &locks, fail_after).await {
            Ok(Ok(results)) => {
                conn.release();
                return Ok(results);
            }
            Ok(Err(decided)) => {
                pipeline::rollback(conn.client()).await.map_err(map_pg)?;
                conn.release();
                return Err(decided);
            }
            Err(error) if classify(&error) == Class::Conflict && attempt < attempts => {
                // The server answered, so the connection is sound; end the
                // failed transaction (a no-op if COMMIT already did).
                pipeline::rollback(conn.client()).await.map_err(map_pg)?;
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            // Dropping `conn` unreleased closes it: the transaction may
            // still be open, or the server gone.
            Err(error) => return Err(map_pg(error)),
        }
    }
}

/// A short, growing pause before running a batch again.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(2u64.saturating_pow(attempt.min(8)))
}

/// One run of load → decide → commit. The outer error is the database's;
/// the inner one the batch's own failure, decided by core (to roll back).
async fn attempt_once(
    client: &ClientWrapper,
    batch: &WriteBatch,
    locks: &[(&str, Lock)],
    fail_after: Option<usize>,
) -> Result<Result<Vec<CommandResult>, Error>, tokio_postgres::Error> {
    let plan = WritePlan::new(batch);
    let keys = plan.keys();
    let followers: Vec<&str> = keys.edges.iter().map(|k| k.follower.as_str()).collect();
    let targets: Vec<&str> = keys.edges.iter().map(|k| k.target.as_str()).collect();
    let loaded =
        pipeline::load(client, batch.tenant.as_str(), locks, (&followers, &targets)).await?;
    let facts = match facts(&loaded) {
        Ok(facts) => facts,
        Err(error) => return Ok(Err(error)),
    };
    let decision = match plan.decide(facts) {
        Ok(decision) => decision,
        Err(error) => return Ok(Err(error)),
    };
    let changes = match changes(&decision.changes) {
        Ok(changes) => changes,
        Err(error) => return Ok(Err(error)),
    };
    let positions = match fail_after {
        Some(rows) if changes.len() > rows => {
            pipeline::commit_failing(client, &changes.truncated(rows)).await?
        }
        _ => pipeline::commit(client, &changes).await?,
    };
    let positions: Vec<EventPosition> = positions
        .into_iter()
        .map(|p| EventPosition(u64::try_from(p).unwrap_or_default()))
        .collect();
    Ok(decision.into_results(&positions))
}

/// Which node rows to lock and how, in key order.
///
/// Every transaction that writes an edge pair locks one of its ends
/// exclusively and the other at least against removal, so two writers of
/// one pair (its edges, or the mutual mark both carry) never overlap,
/// while writers that share only a target (many followers of one account)
/// do. Exclusive: the batch's actor, nodes it may remove or touch, and the
/// follower of any edge neither of whose ends is otherwise exclusive.
fn lock_plan<'k>(batch: &WriteBatch, keys: &'k Keys) -> Vec<(&'k str, Lock)> {
    let mut exclusive: BTreeSet<&NodeId> = BTreeSet::new();
    let named = |id: &NodeId| keys.nodes.binary_search(id).ok().map(|i| &keys.nodes[i]);
    if let Some(actor) = &batch.requires {
        exclusive.extend(named(actor));
    }
    for command in &batch.commands {
        if let Command::Remove { node } | Command::Touch { node, .. } = command {
            exclusive.extend(named(node));
        }
    }
    for EdgeKey { follower, target } in &keys.edges {
        let follower = NodeId::from(follower.clone());
        if !exclusive.contains(&follower) && !exclusive.contains(target) {
            exclusive.extend(named(&follower));
        }
    }
    keys.nodes
        .iter()
        .map(|id| {
            let lock = if exclusive.contains(id) {
                Lock::Exclusive
            } else {
                Lock::KeyShare
            };
            (id.as_str(), lock)
        })
        .collect()
}

/// The loaded rows as core's facts.
fn facts(loaded: &pipeline::Loaded) -> Result<Facts, Error> {
    let mut facts = Facts::with_capacity(loaded.nodes.len(), loaded.edges.len());
    for row in &loaded.nodes {
        let id = codec::node_id(row.try_get(0).map_err(map_pg)?)?;
        facts.add_node(codec::node_record(id, row, 1)?);
    }
    for row in &loaded.edges {
        let key = EdgeKey::new(
            codec::account_id(row.try_get(0).map_err(map_pg)?)?,
            codec::node_id(row.try_get(1).map_err(map_pg)?)?,
        );
        let edge = codec::edge(
            row.try_get(2).map_err(map_pg)?,
            row.try_get(3).map_err(map_pg)?,
            row.try_get(4).map_err(map_pg)?,
        )?;
        facts.add_edge(key, edge);
    }
    Ok(facts)
}

/// A change set as bound arrays.
fn changes(set: &ChangeSet) -> Result<Changes, Error> {
    let mut out = Changes {
        tenant: set.tenant.as_str().to_owned(),
        ..Changes::default()
    };
    for key in &set.edge_deletes {
        out.edge_deletes.0.push(key.follower.as_str().to_owned());
        out.edge_deletes.1.push(key.target.as_str().to_owned());
    }
    out.node_deletes = set
        .node_deletes
        .iter()
        .map(|id| id.as_str().to_owned())
        .collect();
    let n = &mut out.node_inserts;
    for node in &set.node_inserts {
        n.ids.push(node.id.as_str().to_owned());
        n.registered_at.push(node.registered_at.as_unix_micros());
        n.last_active
            .push(node.last_active.map(|t| t.as_unix_micros()));
        n.following.push(codec::signed(node.counts.following)?);
        n.followers.push(codec::signed(node.counts.followers)?);
        n.mutual.push(codec::signed(node.counts.mutual)?);
    }
    let p = &mut out.edge_puts;
    for (key, edge) in &set.edge_puts {
        p.followers.push(key.follower.as_str().to_owned());
        p.targets.push(key.target.as_str().to_owned());
        p.since.push(edge.since.as_unix_micros());
        p.muted.push(edge.muted);
        p.mutual_since
            .push(edge.mutual_since.map(|t| t.as_unix_micros()));
    }
    let u = &mut out.node_updates;
    for update in &set.node_updates {
        u.ids.push(update.id.as_str().to_owned());
        u.following.push(update.counts.following);
        u.followers.push(update.counts.followers);
        u.mutual.push(update.counts.mutual);
        u.last_active
            .push(update.last_active.map(|t| t.as_unix_micros()));
    }
    let e = &mut out.events;
    for event in &set.events {
        e.kinds.push(codec::kind_name(event.kind));
        e.followers.push(event.follower.as_str().to_owned());
        e.targets.push(event.target.as_str().to_owned());
        e.at.push(event.at.as_unix_micros());
    }
    Ok(out)
}
