//! Applying a batch inside a store's transaction, written once for every store.
//!
//! A store opens its transaction, wraps it in a [`WriteTxn`] (plain reads and
//! writes, nothing decided) and calls [`apply_batch`]. The rules (what a
//! command needs to exist, which transition it takes, which counts and events
//! follow) are all here and in [`crate::machine`].
//!
//! A store whose client is async (a networked database) can follow the same
//! path with its own reads around [`crate::machine::transition`]; the
//! conformance suite holds either way to the same behaviour.

mod staged;

use staged::Staged;

use crate::machine::{EdgeCommand, EdgeWrite, Transition, transition};
use crate::{
    AccountId, Applied, Command, CommandResult, CountDelta, Edge, Error, Event, NewEvent, NodeId,
    NodeRecord, Timestamp, WriteBatch,
};

/// Plain reads and writes of one tenant inside one open transaction.
///
/// Implementations persist exactly what they are told; they never decide.
/// Every method fails only for storage reasons (`unavailable`, `internal`).
pub trait WriteTxn {
    /// The node, if registered.
    fn node(&mut self, id: &NodeId) -> Result<Option<NodeRecord>, Error>;
    /// Registers a node as given, counters included. Called only for an
    /// absent node.
    fn insert_node(&mut self, node: &NodeRecord) -> Result<(), Error>;
    /// Deletes a node and its counters. Called only once no edge touches it.
    fn delete_node(&mut self, id: &NodeId) -> Result<(), Error>;
    /// Sets the node's last activity. Called only for a registered node.
    fn set_last_active(&mut self, id: &NodeId, at: Timestamp) -> Result<(), Error>;
    /// The edge follower → target, if present.
    fn edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<Option<Edge>, Error>;
    /// Creates or replaces the edge follower → target.
    fn put_edge(&mut self, follower: &AccountId, target: &NodeId, edge: Edge) -> Result<(), Error>;
    /// Deletes the edge follower → target (present when called).
    fn delete_edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<(), Error>;
    /// Adds `delta` to a registered node's counts.
    fn add_counts(&mut self, id: &NodeId, delta: CountDelta) -> Result<(), Error>;
    /// Every edge (follower, target) that has `id` at either end.
    fn edges_touching(&mut self, id: &NodeId) -> Result<Vec<(AccountId, NodeId)>, Error>;
    /// Appends an event to the outbox, placing it after every earlier one.
    fn append_event(&mut self, event: NewEvent) -> Result<Event, Error>;
}

/// Applies a whole batch.
///
/// # Errors
/// The outer error fails the batch as a whole and the store must roll back
/// everything the batch wrote: a storage failure, or the batch's required
/// actor missing (`not_found`, before anything is written). Per-command
/// rejections are the inner results; a rejected command writes nothing.
pub fn apply_batch<T: WriteTxn + ?Sized>(
    txn: &mut T,
    batch: &WriteBatch,
) -> Result<Vec<CommandResult>, Error> {
    if let Some(actor) = &batch.requires
        && txn.node(actor)?.is_none()
    {
        return Err(Error::node_not_found("actor", actor.as_str()));
    }
    batch
        .commands
        .iter()
        .map(|command| apply_command(txn, batch.at, command))
        .collect()
}

/// [`apply_batch`] with the batch's rows staged: every node and edge its
/// commands name is read once, in key order; the batch runs on copies in
/// memory; each changed row is written once at the end, in key order. A
/// bulk import touches each node once per edge and its edges at random
/// places of every index, so this halves its statements and turns random
/// index walks into ordered ones.
///
/// The store sees a batch's edge and node rows only when the batch ends
/// (edges first), and events as they happen: use it where a write does not
/// look at other rows (SQL tables without foreign keys), and
/// [`apply_batch`] otherwise.
///
/// # Errors
/// As [`apply_batch`]; the store rolls back on either.
pub fn apply_batch_staged<T: WriteTxn + ?Sized>(
    txn: &mut T,
    batch: &WriteBatch,
) -> Result<Vec<CommandResult>, Error> {
    let mut staged = Staged::new(txn);
    staged.prefetch(batch)?;
    let results = apply_batch(&mut staged, batch)?;
    staged.finish()?;
    Ok(results)
}

/// Applies one command at `at`; see [`apply_batch`] for the two error levels.
pub fn apply_command<T: WriteTxn + ?Sized>(
    txn: &mut T,
    at: Timestamp,
    command: &Command,
) -> Result<CommandResult, Error> {
    match command {
        Command::Register { node } => register(txn, node, at),
        Command::Remove { node } => remove(txn, node, at),
        Command::Touch { node, at: active } => touch(txn, node, *active),
        Command::Follow {
            follower,
            target,
            since,
        } => {
            let names = FieldNames::ACTOR_FOLLOWS;
            let command = EdgeCommand::Follow {
                since: since.unwrap_or(at),
            };
            on_edge(txn, command, follower, target, names, at)
        }
        Command::Unfollow { follower, target } => {
            let names = FieldNames::ACTOR_FOLLOWS;
            on_edge(txn, EdgeCommand::Unfollow, follower, target, names, at)
        }
        Command::SetMute {
            follower,
            target,
            muted,
        } => {
            let command = EdgeCommand::SetMute { muted: *muted };
            on_edge(
                txn,
                command,
                follower,
                target,
                FieldNames::ACTOR_FOLLOWS,
                at,
            )
        }
        Command::RemoveFollower { target, follower } => {
            let names = FieldNames::ACTOR_IS_TARGET;
            on_edge(
                txn,
                EdgeCommand::RemoveFollower,
                follower,
                target,
                names,
                at,
            )
        }
    }
}

/// Which request field each end of the edge came from, for error details.
#[derive(Clone, Copy)]
struct FieldNames {
    follower: &'static str,
    target: &'static str,
}

impl FieldNames {
    const ACTOR_FOLLOWS: FieldNames = FieldNames {
        follower: "actor",
        target: "target",
    };
    const ACTOR_IS_TARGET: FieldNames = FieldNames {
        follower: "follower",
        target: "actor",
    };
}

fn register<T: WriteTxn + ?Sized>(
    txn: &mut T,
    node: &NodeId,
    at: Timestamp,
) -> Result<CommandResult, Error> {
    if txn.node(node)?.is_some() {
        return Ok(Ok(Applied::UNCHANGED));
    }
    txn.insert_node(&NodeRecord::new(node.clone(), at))?;
    Ok(Ok(Applied::CHANGED))
}

fn remove<T: WriteTxn + ?Sized>(
    txn: &mut T,
    node: &NodeId,
    at: Timestamp,
) -> Result<CommandResult, Error> {
    if txn.node(node)?.is_none() {
        return Ok(Ok(Applied::UNCHANGED));
    }
    for (follower, target) in txn.edges_touching(node)? {
        let current = txn.edge(&follower, &target)?;
        let reverse = reverse_edge(txn, &follower, &target)?;
        // An unfollow never fails, so an error here is a broken invariant.
        let step = transition(EdgeCommand::Unfollow, current.as_ref(), reverse.as_ref())
            .map_err(|cause| Error::internal("cascade unfollow failed").with_source(cause))?;
        persist(txn, &follower, &target, &step, at)?;
    }
    txn.delete_node(node)?;
    Ok(Ok(Applied::CHANGED))
}

fn touch<T: WriteTxn + ?Sized>(
    txn: &mut T,
    node: &NodeId,
    active: Timestamp,
) -> Result<CommandResult, Error> {
    let Some(record) = txn.node(node)? else {
        return Ok(Err(Error::node_not_found("target", node.as_str())));
    };
    if record.last_active.is_some_and(|last| last >= active) {
        return Ok(Ok(Applied::UNCHANGED));
    }
    txn.set_last_active(node, active)?;
    Ok(Ok(Applied::CHANGED))
}

fn on_edge<T: WriteTxn + ?Sized>(
    txn: &mut T,
    command: EdgeCommand,
    follower: &AccountId,
    target: &NodeId,
    names: FieldNames,
    at: Timestamp,
) -> Result<CommandResult, Error> {
    if let Err(rejected) = crate::id::check_not_self(names.target, follower, target) {
        return Ok(Err(rejected));
    }
    let follower_node = NodeId::from(follower.clone());
    if txn.node(&follower_node)?.is_none() {
        return Ok(Err(Error::node_not_found(
            names.follower,
            follower.as_str(),
        )));
    }
    if txn.node(target)?.is_none() {
        return Ok(Err(Error::node_not_found(names.target, target.as_str())));
    }
    let current = txn.edge(follower, target)?;
    let reverse = reverse_edge(txn, follower, target)?;
    let step = match transition(command, current.as_ref(), reverse.as_ref()) {
        Ok(step) => step,
        Err(rejected) => return Ok(Err(rejected)),
    };
    let event = persist(txn, follower, target, &step, at)?;
    Ok(Ok(match event {
        Some(event) => Applied {
            outcome: crate::Outcome::Changed,
            event: Some(event),
        },
        None => Applied::UNCHANGED,
    }))
}

/// The edge target → follower; a channel target follows nothing.
fn reverse_edge<T: WriteTxn + ?Sized>(
    txn: &mut T,
    follower: &AccountId,
    target: &NodeId,
) -> Result<Option<Edge>, Error> {
    match target.as_account() {
        Some(back) => txn.edge(&back, &NodeId::from(follower.clone())),
        None => Ok(None),
    }
}

fn persist<T: WriteTxn + ?Sized>(
    txn: &mut T,
    follower: &AccountId,
    target: &NodeId,
    step: &Transition,
    at: Timestamp,
) -> Result<Option<Event>, Error> {
    match step.edge {
        EdgeWrite::Keep => {}
        EdgeWrite::Put(edge) => txn.put_edge(follower, target, edge)?,
        EdgeWrite::Delete => txn.delete_edge(follower, target)?,
    }
    if let (Some(reverse), Some(back)) = (step.reverse, target.as_account()) {
        txn.put_edge(&back, &NodeId::from(follower.clone()), reverse)?;
    }
    if !step.follower_counts.is_zero() {
        txn.add_counts(&NodeId::from(follower.clone()), step.follower_counts)?;
    }
    if !step.target_counts.is_zero() {
        txn.add_counts(target, step.target_counts)?;
    }
    step.event
        .map(|kind| {
            txn.append_event(NewEvent {
                kind,
                follower: follower.clone(),
                target: target.clone(),
                at,
            })
        })
        .transpose()
}
