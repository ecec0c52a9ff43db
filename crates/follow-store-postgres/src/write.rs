//! The write path: load → decide → commit, in two round trips, retried
//! when another transaction got in the way.

use std::collections::BTreeSet;
use std::time::Duration;

use deadpool_postgres::{ClientWrapper, Pool};
use follow_core::write::{ChangeSet, EdgeKey, Facts, Keys, WritePlan};
use follow_core::{
    AccountId, Command, CommandResult, CountDelta, Error, EventPosition, LinkKey, NodeId,
    WriteBatch,
};

use crate::codec;
use crate::conn::Conn;
use crate::counters::FOLD_AT;
use crate::error::{Class, classify, map_pg};
use crate::options::PostgresOptions;
use crate::pipeline::{self, Changes, LinkKeys, LoadKeys, Lock, Part, at};
use crate::positions::{EventBase, MAX_EVENTS_PER_TRANSACTION};

/// Applies `batch` in one transaction, running it again (at most
/// `options.write_attempts` times in all) when a concurrent transaction got
/// in the way; then waits at most `options.event_visibility_wait`, and
/// never past three quarters of the time left before `deadline` (the
/// call's), for its events to become readable.
pub(crate) async fn write(
    pool: &Pool,
    batch: &WriteBatch,
    options: &PostgresOptions,
    base: EventBase,
    deadline: tokio::time::Instant,
) -> Result<Vec<CommandResult>, Error> {
    let plan = WritePlan::new(batch);
    let load = load_keys(batch, plan.keys());
    let (fail_after, visibility_wait) = (options.fail_commits_after, options.event_visibility_wait);
    let waits = !visibility_wait.is_zero();
    let conn = Conn::take(pool).await?;
    let mut attempt = 1;
    loop {
        match attempt_once(conn.client(), batch, &plan, &load, fail_after, base, waits).await {
            Ok(Ok((results, Visibility::Readable))) => {
                conn.release();
                return Ok(results);
            }
            Ok(Ok((results, Visibility::AfterOlder(xact)))) => {
                // Committed: whatever the wait meets, the write succeeded.
                // A connection whose wait failed is dropped, not released.
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let limit = visibility_wait.min(left * 3 / 4);
                if wait_until_readable(conn.client(), xact, limit).await {
                    conn.release();
                }
                return Ok(results);
            }
            Ok(Err(decided)) => {
                pipeline::rollback(conn.client()).await.map_err(map_pg)?;
                conn.release();
                return Err(decided);
            }
            Err(error)
                if classify(&error) == Class::Conflict && attempt < options.write_attempts =>
            {
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

/// Whether a committed batch's events are readable yet.
enum Visibility {
    Readable,
    /// Once every transaction older than this one has ended.
    AfterOlder(i64),
}

/// Waits, at most `limit`, until the events of committed transaction
/// `xact` are readable: on the older writers' locks first, then, while an
/// older transaction that is not one of them still runs, asking again
/// after growing pauses. False when the connection failed.
async fn wait_until_readable(client: &ClientWrapper, xact: i64, limit: Duration) -> bool {
    if limit.is_zero() {
        return true;
    }
    let deadline = tokio::time::Instant::now() + limit;
    match pipeline::wait_for_older_writers(client, xact, limit).await {
        Ok(true) => return true,
        Ok(false) => {}
        Err(_) => return false,
    }
    // Another program's transaction is older: it ends when it ends.
    let mut pause = Duration::from_millis(1);
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return true;
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        match pipeline::readable(client, xact).await {
            Ok(true) => return true,
            Ok(false) => pause = (pause * 2).min(Duration::from_millis(20)),
            Err(_) => return false,
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
    plan: &WritePlan<'_>,
    keys: &LoadKeys<'_>,
    fail_after: Option<usize>,
    base: EventBase,
    ask_readable: bool,
) -> Result<Result<(Vec<CommandResult>, Visibility), Error>, tokio_postgres::Error> {
    let loaded = pipeline::load(client, batch.tenant.as_str(), keys).await?;
    let mut counters = Counters::new(&keys.nodes, loaded.xact);
    let facts = match facts(&loaded, &mut counters) {
        Ok(facts) => facts,
        Err(error) => return Ok(Err(error)),
    };
    let decision = match plan.decide(facts) {
        Ok(decision) => decision,
        Err(error) => return Ok(Err(error)),
    };
    let changes = match changes(&decision.changes, base, &counters) {
        Ok(changes) => changes,
        Err(error) => return Ok(Err(error)),
    };
    let committed = match fail_after {
        Some(rows) if changes.len() > rows => {
            pipeline::commit_failing(client, &changes.truncated(rows)).await?
        }
        _ => pipeline::commit(client, &changes, ask_readable.then_some(loaded.xact)).await?,
    };
    let positions: Vec<EventPosition> = committed
        .positions
        .into_iter()
        .map(|p| EventPosition(u64::try_from(p).unwrap_or_default()))
        .collect();
    let visibility = if committed.readable {
        Visibility::Readable
    } else {
        Visibility::AfterOlder(loaded.xact)
    };
    Ok(decision
        .into_results(&positions)
        .map(|results| (results, visibility)))
}

/// The keys of a batch as [`pipeline::load`] binds them.
///
/// Every link is loaded with the nodes and edges, in the same exchange:
/// the batch takes its two round trips whether or not links exist (core's
/// `Keys::links_to_load` saves a later lookup to a store that loads nodes
/// first; here the lookup costs no round trip).
fn load_keys<'k>(batch: &WriteBatch, keys: &'k Keys) -> LoadKeys<'k> {
    LoadKeys {
        nodes: lock_plan(batch, keys),
        edges: keys
            .edges
            .iter()
            .map(|k| (k.follower.as_str(), k.target.as_str()))
            .unzip(),
        links: (
            keys.links.iter().map(|k| k.kind.name()).collect(),
            keys.links.iter().map(|k| k.from.as_str()).collect(),
            keys.links.iter().map(|k| k.to.as_str()).collect(),
        ),
    }
}

/// Which node rows to lock and how, in key order.
///
/// Every transaction that writes an edge pair or a link locks one of its
/// two ends exclusively and the other at least against removal, so two
/// writers of one pair of accounts (its edges, the mutual mark both carry,
/// the links either way, and every decision that reads their absence, such
/// as "no block stands" before a follow) never overlap, while writers that
/// share only a target (many followers of one account) do. Which end is
/// exclusive does not matter for that (an exclusive lock shuts out the
/// other transaction's weaker one on the same row), so it is the end that
/// acts: the batch's actor, nodes it may remove, touch or lock, each
/// command's actor (a follow's follower, a block's blocker, the account
/// answering a request) unless the other end is exclusive already, and
/// then the follower of any other edge and the `from` of any other link
/// neither of whose ends is. The target of a follow is locked only
/// against removal, so its followers' writes run side by side (its
/// counters change as appended deltas, [`crate::counters`]).
fn lock_plan<'k>(batch: &WriteBatch, keys: &'k Keys) -> Vec<(&'k str, Lock)> {
    let mut exclusive: BTreeSet<&NodeId> = BTreeSet::new();
    let named = |id: &NodeId| keys.nodes.binary_search(id).ok().map(|i| &keys.nodes[i]);
    if let Some(actor) = &batch.requires {
        exclusive.extend(named(actor));
    }
    for command in &batch.commands {
        match command {
            Command::Remove { node } | Command::Touch { node, .. } => {
                exclusive.extend(named(node));
            }
            // A follow of the account reads its locked flag.
            Command::SetLocked { node, .. } => {
                exclusive.extend(named(&NodeId::from(node.clone())));
            }
            _ => {}
        }
    }
    for command in &batch.commands {
        if let Some((actor, other)) = acting_pair(command)
            && !exclusive.contains(&actor)
            && !exclusive.contains(&other)
        {
            exclusive.extend(named(&actor));
        }
    }
    for EdgeKey { follower, target } in &keys.edges {
        let follower = NodeId::from(follower.clone());
        if !exclusive.contains(&follower) && !exclusive.contains(target) {
            exclusive.extend(named(&follower));
        }
    }
    for LinkKey { from, to, .. } in &keys.links {
        let from = NodeId::from(from.clone());
        let to = NodeId::from(to.clone());
        if !exclusive.contains(&from) && !exclusive.contains(&to) {
            exclusive.extend(named(&from));
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

/// The node a pair command is made by, and the other node of its pair.
fn acting_pair(command: &Command) -> Option<(NodeId, NodeId)> {
    let account = |id: &AccountId| NodeId::from(id.clone());
    Some(match command {
        Command::Follow {
            follower, target, ..
        }
        | Command::Unfollow { follower, target }
        | Command::SetMute {
            follower, target, ..
        } => (account(follower), target.clone()),
        Command::RemoveFollower { target, follower } => (target.clone(), account(follower)),
        Command::Block { actor, target }
        | Command::Unblock { actor, target }
        | Command::MuteAccount { actor, target, .. }
        | Command::UnmuteAccount { actor, target } => (account(actor), account(target)),
        Command::AuthorizeRequest { target, follower }
        | Command::RejectRequest { target, follower } => (account(target), account(follower)),
        _ => return None,
    })
}

/// The loaded rows as core's facts; the number of counter deltas of each
/// node found goes to `counters`.
fn facts(loaded: &pipeline::Loaded, counters: &mut Counters<'_>) -> Result<Facts, Error> {
    let mut facts = Facts::with_capacity(loaded.rows.len(), loaded.rows.len());
    for row in &loaded.rows {
        match Part::of(row).map_err(map_pg)? {
            Part::Node => {
                let id = codec::STORED.node_id(row.try_get(at::NODE).map_err(map_pg)?)?;
                counters.found(id.as_str(), row.try_get(at::PENDING).map_err(map_pg)?);
                facts.add_node(codec::node_record(id, row, at::NODE + 1)?);
            }
            Part::Edge => {
                let e = at::EDGE;
                let key = EdgeKey::new(
                    codec::STORED.account_id(row.try_get(e).map_err(map_pg)?)?,
                    codec::STORED.node_id(row.try_get(e + 1).map_err(map_pg)?)?,
                );
                let edge = codec::STORED.edge(
                    row.try_get(e + 2).map_err(map_pg)?,
                    row.try_get(e + 3).map_err(map_pg)?,
                    row.try_get(e + 4).map_err(map_pg)?,
                    row.try_get(e + 5).map_err(map_pg)?,
                )?;
                facts.add_edge(key, edge);
            }
            Part::Link => {
                facts.add_link(
                    codec::link_key(row, at::LINK)?,
                    codec::link(row, at::LINK + 3)?,
                );
            }
        }
    }
    Ok(facts)
}

/// What decides how the commit writes each node's counters
/// ([`crate::counters`]).
struct Counters<'k> {
    /// The nodes the load locked, sorted, each with its lock.
    nodes: &'k [(&'k str, Lock)],
    /// Beside each node, its number of counter deltas if the load found it.
    pending: Vec<Option<i64>>,
    /// The transaction's id.
    xact: i64,
}

impl<'k> Counters<'k> {
    fn new(nodes: &'k [(&'k str, Lock)], xact: i64) -> Self {
        Counters {
            nodes,
            pending: vec![None; nodes.len()],
            xact,
        }
    }

    /// Where `id` is among the nodes.
    fn at(&self, id: &str) -> Option<usize> {
        self.nodes
            .binary_search_by(|(node, _)| (*node).cmp(id))
            .ok()
    }

    /// Records that the load found `id`, with `rows` counter deltas.
    fn found(&mut self, id: &str, rows: i64) {
        if let Some(slot) = self.at(id).and_then(|i| self.pending.get_mut(i)) {
            *slot = Some(rows);
        }
    }

    /// Whether changes to `id`'s counters are appended rather than made in
    /// place: a node the load found and holds only against removal.
    fn appends(&self, id: &str) -> bool {
        self.at(id).is_some_and(|i| {
            self.pending.get(i).is_some_and(Option::is_some)
                && self
                    .nodes
                    .get(i)
                    .is_some_and(|(_, lock)| *lock != Lock::Exclusive)
        })
    }

    /// The nodes whose deltas the commit folds first, in key order: those
    /// held exclusively that have any, and those it appends to whose
    /// deltas number a multiple of [`FOLD_AT`], or four times it and more.
    /// While one fold is in flight its row is taken and the others would
    /// find nothing to fold: of many writers that see more than `FOLD_AT`
    /// deltas at once, about one in `FOLD_AT` tries.
    fn folds(&self, appended: &[String]) -> Vec<String> {
        let mut appends = vec![false; self.nodes.len()];
        for at in appended.iter().filter_map(|id| self.at(id)) {
            if let Some(slot) = appends.get_mut(at) {
                *slot = true;
            }
        }
        let due = |rows: i64| rows >= FOLD_AT && (rows % FOLD_AT == 0 || rows >= 4 * FOLD_AT);
        self.nodes
            .iter()
            .zip(&self.pending)
            .zip(&appends)
            .filter(|&((&(_, lock), &pending), &appended)| {
                pending.is_some_and(|rows| {
                    rows > 0 && (lock == Lock::Exclusive || (due(rows) && appended))
                })
            })
            .map(|(((id, _), _), _)| (*id).to_owned())
            .collect()
    }
}

/// A change set as bound arrays.
fn changes(set: &ChangeSet, base: EventBase, counters: &Counters<'_>) -> Result<Changes, Error> {
    if set.events.len() > MAX_EVENTS_PER_TRANSACTION {
        return Err(Error::invalid_argument(
            "commands",
            format!(
                "a batch of {} events; a PostgreSQL store writes at most {MAX_EVENTS_PER_TRANSACTION} \
             in one transaction",
                set.events.len()
            ),
        ));
    }
    let mut out = Changes {
        tenant: set.tenant.as_str().to_owned(),
        event_base: base.0,
        xact: counters.xact,
        ..Changes::default()
    };
    for key in &set.edge_deletes {
        out.edge_deletes.0.push(key.follower.as_str().to_owned());
        out.edge_deletes.1.push(key.target.as_str().to_owned());
    }
    for key in &set.link_deletes {
        push_link_key(&mut out.link_deletes, key);
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
        n.following
            .push(codec::STORED.signed(node.counts.following)?);
        n.followers
            .push(codec::STORED.signed(node.counts.followers)?);
        n.mutual.push(codec::STORED.signed(node.counts.mutual)?);
        n.locked.push(node.locked);
        n.links.push(codec::STORED.signed(node.links)?);
    }
    // One upsert part of the statement writes inserts and updates alike.
    let p = &mut out.edge_puts;
    for (key, edge) in set.edge_inserts.iter().chain(&set.edge_updates) {
        p.followers.push(key.follower.as_str().to_owned());
        p.targets.push(key.target.as_str().to_owned());
        p.since.push(edge.since.as_unix_micros());
        p.muted.push(edge.muted);
        p.mutual_since
            .push(edge.mutual_since.map(|t| t.as_unix_micros()));
        p.options.push(edge.options.encode());
    }
    let l = &mut out.link_puts;
    for (key, link) in set.link_inserts.iter().chain(&set.link_updates) {
        push_link_key(&mut l.keys, key);
        l.since.push(link.since.as_unix_micros());
        l.notifications.push(link.notifications);
        l.expires_at
            .push(link.expires_at.map(|t| t.as_unix_micros()));
        l.options.push(link.options.encode());
    }
    let (u, c) = (&mut out.node_updates, &mut out.counter_deltas);
    for update in &set.node_updates {
        let id = update.id.as_str();
        let (counts, links) = (&update.counts, update.links);
        let in_place = !counters.appends(id);
        if !in_place && (!counts.is_zero() || links != 0) {
            c.push(id, counts, links);
        }
        if in_place || update.locked.is_some() || update.last_active.is_some() {
            // Counts appended above are not changed in place as well.
            let (counts, links) = if in_place {
                (*counts, links)
            } else {
                (CountDelta::default(), 0)
            };
            u.counts.push(id, &counts, links);
            u.locked.push(update.locked);
            u.last_active
                .push(update.last_active.map(|t| t.as_unix_micros()));
        }
    }
    out.folds = counters.folds(&out.counter_deltas.ids);
    let e = &mut out.events;
    for event in &set.events {
        e.kinds.push(event.kind.name());
        e.followers.push(event.follower.as_str().to_owned());
        e.targets.push(event.target.as_str().to_owned());
        e.at.push(event.at.as_unix_micros());
    }
    Ok(out)
}

fn push_link_key(keys: &mut LinkKeys, key: &LinkKey) {
    keys.kinds.push(key.kind.name());
    keys.froms.push(key.from.as_str().to_owned());
    keys.tos.push(key.to.as_str().to_owned());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use follow_core::{AccountId, LinkKind, TenantId, Timestamp};

    use super::*;

    fn account(id: &str) -> AccountId {
        AccountId::new(id).unwrap()
    }

    /// The lock of each node of `commands` (required: `requires`).
    fn locks(requires: Option<&str>, commands: Vec<Command>) -> Vec<(String, Lock)> {
        let mut batch = WriteBatch::new(
            TenantId::new("acme").unwrap(),
            Timestamp::from_unix_seconds(1_800_000_000).unwrap(),
        );
        batch.requires = requires.map(|id| NodeId::new(id).unwrap());
        batch.commands = commands;
        let keys = Keys::of(&batch);
        lock_plan(&batch, &keys)
            .into_iter()
            .map(|(id, lock)| (id.to_owned(), lock))
            .collect()
    }

    fn expect(pairs: &[(&str, Lock)]) -> Vec<(String, Lock)> {
        pairs.iter().map(|(id, l)| ((*id).to_owned(), *l)).collect()
    }

    #[test]
    fn every_link_has_one_end_locked_exclusively() {
        let block = Command::Block {
            actor: account("bob"),
            target: account("alice"),
        };
        assert_eq!(
            locks(Some("bob"), vec![block]),
            expect(&[("alice", Lock::KeyShare), ("bob", Lock::Exclusive)])
        );
        // A removal's cascade names no actor: the link's `from` is taken.
        let drop = Command::DropLink {
            key: LinkKey::new(LinkKind::Mute, account("dave"), account("carol")),
        };
        assert_eq!(
            locks(None, vec![drop]),
            expect(&[("carol", Lock::KeyShare), ("dave", Lock::Exclusive)])
        );
        let reject = Command::RejectRequest {
            target: account("erin"),
            follower: account("frank"),
        };
        assert_eq!(
            locks(Some("erin"), vec![reject]),
            expect(&[("erin", Lock::Exclusive), ("frank", Lock::KeyShare)])
        );
    }

    #[test]
    fn each_command_locks_its_actor_exclusively_and_the_other_end_against_removal() {
        // The follow-back edge (celebrity → zed) is read too, and sorts
        // first: the follower still takes the exclusive lock.
        let follow = |follower: &str| Command::Follow {
            follower: account(follower),
            target: NodeId::new("celebrity").unwrap(),
            since: None,
            options: Default::default(),
        };
        assert_eq!(
            locks(None, vec![follow("zed")]),
            expect(&[("celebrity", Lock::KeyShare), ("zed", Lock::Exclusive)])
        );
        let unfollow = Command::Unfollow {
            follower: account("amy"),
            target: NodeId::new("celebrity").unwrap(),
        };
        assert_eq!(
            locks(None, vec![unfollow]),
            expect(&[("amy", Lock::Exclusive), ("celebrity", Lock::KeyShare)])
        );
        let remove = Command::RemoveFollower {
            target: NodeId::new("zed").unwrap(),
            follower: account("amy"),
        };
        assert_eq!(
            locks(None, vec![remove]),
            expect(&[("amy", Lock::KeyShare), ("zed", Lock::Exclusive)])
        );
        // The account answering a request acts, not the one who asked.
        for answer in [
            Command::AuthorizeRequest {
                target: account("zed"),
                follower: account("amy"),
            },
            Command::RejectRequest {
                target: account("zed"),
                follower: account("amy"),
            },
        ] {
            assert_eq!(
                locks(None, vec![answer]),
                expect(&[("amy", Lock::KeyShare), ("zed", Lock::Exclusive)])
            );
        }
    }

    #[test]
    fn locking_an_account_locks_its_row_exclusively() {
        let lock = Command::SetLocked {
            node: account("carol"),
            locked: true,
        };
        assert_eq!(
            locks(None, vec![lock]),
            expect(&[("carol", Lock::Exclusive)])
        );
    }
}
