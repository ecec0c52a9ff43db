//! What each command does to the batch's working rows: the one place the
//! commands' rules are applied. The transition of one edge is decided by
//! [`crate::machine::transition`]; this module adds what surrounds it
//! (which nodes must exist, the reverse edge, counts, events).

use super::EdgeKey;
use super::working::Working;
use crate::machine::{EdgeCommand, EdgeWrite, Transition, transition};
use crate::{
    AccountId, Applied, Command, Error, ErrorKind, NewEvent, NodeId, NodeRecord, Outcome, Timestamp,
};

/// A command's success before its event has a position: the index of its
/// event among the batch's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) outcome: Outcome,
    pub(super) event: Option<usize>,
}

impl Pending {
    const UNCHANGED: Pending = Pending {
        outcome: Outcome::Unchanged,
        event: None,
    };
    const CHANGED: Pending = Pending {
        outcome: Outcome::Changed,
        event: None,
    };

    /// The outcome once the store placed the batch's events.
    pub(super) fn resolve(
        self,
        event: impl FnOnce(usize) -> Result<crate::Event, Error>,
    ) -> Result<Applied, Error> {
        Ok(Applied {
            outcome: self.outcome,
            event: self.event.map(event).transpose()?,
        })
    }
}

/// One command's result: its outcome, or its own rejection; the outer error
/// fails the whole batch.
pub(super) type Ruled = Result<Result<Pending, Error>, Error>;

/// The `details.reason` of a removal refused because edges still touch the
/// node; the facade removes them and asks again.
pub(crate) const EDGES_REMAIN: &str = "edges_remain";

/// Applies one command at the batch's time `at`.
pub(super) fn apply(rows: &mut Working<'_>, at: Timestamp, command: &Command) -> Ruled {
    match command {
        Command::Register { node } => register(rows, node, at),
        Command::Remove { node } => remove(rows, node),
        Command::Touch { node, at: active } => touch(rows, node, *active),
        Command::Follow {
            follower,
            target,
            since,
        } => {
            let command = EdgeCommand::Follow {
                since: since.unwrap_or(at),
            };
            on_edge(
                rows,
                command,
                follower,
                target,
                FieldNames::ACTOR_FOLLOWS,
                at,
            )
        }
        Command::Unfollow { follower, target } => on_edge(
            rows,
            EdgeCommand::Unfollow,
            follower,
            target,
            FieldNames::ACTOR_FOLLOWS,
            at,
        ),
        Command::SetMute {
            follower,
            target,
            muted,
        } => on_edge(
            rows,
            EdgeCommand::SetMute { muted: *muted },
            follower,
            target,
            FieldNames::ACTOR_FOLLOWS,
            at,
        ),
        Command::RemoveFollower { target, follower } => on_edge(
            rows,
            EdgeCommand::RemoveFollower,
            follower,
            target,
            FieldNames::ACTOR_IS_TARGET,
            at,
        ),
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

fn register(rows: &mut Working<'_>, node: &NodeId, at: Timestamp) -> Ruled {
    if rows.node(node)?.is_some() {
        return Ok(Ok(Pending::UNCHANGED));
    }
    rows.insert_node(NodeRecord::new(node.clone(), at))?;
    Ok(Ok(Pending::CHANGED))
}

/// Deletes a node that no edge touches. Its edges are unfollowed first, by
/// the facade, in batches of bounded size: a node with half a million
/// followers is never read or written in one batch.
fn remove(rows: &mut Working<'_>, node: &NodeId) -> Ruled {
    let Some(record) = rows.node(node)? else {
        return Ok(Ok(Pending::UNCHANGED));
    };
    // Counts equal the edges, so they say whether any edge touches it.
    if record.counts.following > 0 || record.counts.followers > 0 {
        return Ok(Err(Error::new(
            ErrorKind::Unavailable,
            format!("node {node} still has edges; remove them first"),
        )
        .with_detail("reason", EDGES_REMAIN)
        .with_detail("id", node.as_str())));
    }
    rows.delete_node(node)?;
    Ok(Ok(Pending::CHANGED))
}

fn touch(rows: &mut Working<'_>, node: &NodeId, active: Timestamp) -> Ruled {
    let Some(record) = rows.node(node)? else {
        return Ok(Err(Error::node_not_found("target", node.as_str())));
    };
    if record.last_active.is_some_and(|last| last >= active) {
        return Ok(Ok(Pending::UNCHANGED));
    }
    rows.set_last_active(node, active)?;
    Ok(Ok(Pending::CHANGED))
}

fn on_edge(
    rows: &mut Working<'_>,
    command: EdgeCommand,
    follower: &AccountId,
    target: &NodeId,
    names: FieldNames,
    at: Timestamp,
) -> Ruled {
    if let Err(rejected) = crate::id::check_not_self(names.target, follower, target) {
        return Ok(Err(rejected));
    }
    let follower_node = NodeId::from(follower.clone());
    if rows.node(&follower_node)?.is_none() {
        return Ok(Err(Error::node_not_found(
            names.follower,
            follower.as_str(),
        )));
    }
    if rows.node(target)?.is_none() {
        return Ok(Err(Error::node_not_found(names.target, target.as_str())));
    }
    let key = EdgeKey::new(follower.clone(), target.clone());
    let reverse_key = key.reverse();
    let current = rows.edge(&key)?;
    let reverse = match &reverse_key {
        Some(back) => rows.edge(back)?,
        None => None,
    };
    let step = match transition(command, current.as_ref(), reverse.as_ref()) {
        Ok(step) => step,
        Err(rejected) => return Ok(Err(rejected)),
    };
    let event = persist(rows, &key, reverse_key.as_ref(), &step, at)?;
    Ok(Ok(match event {
        Some(index) => Pending {
            outcome: Outcome::Changed,
            event: Some(index),
        },
        None => Pending::UNCHANGED,
    }))
}

fn persist(
    rows: &mut Working<'_>,
    key: &EdgeKey,
    reverse_key: Option<&EdgeKey>,
    step: &Transition,
    at: Timestamp,
) -> Result<Option<usize>, Error> {
    match step.edge {
        EdgeWrite::Keep => {}
        EdgeWrite::Put(edge) => rows.put_edge(key, edge)?,
        EdgeWrite::Delete => rows.delete_edge(key)?,
    }
    if let (Some(reverse), Some(back)) = (step.reverse, reverse_key) {
        rows.put_edge(back, reverse)?;
    }
    if !step.follower_counts.is_zero() {
        rows.add_counts(&NodeId::from(key.follower.clone()), step.follower_counts)?;
    }
    if !step.target_counts.is_zero() {
        rows.add_counts(&key.target, step.target_counts)?;
    }
    Ok(step.event.map(|kind| {
        rows.append_event(NewEvent {
            kind,
            follower: key.follower.clone(),
            target: key.target.clone(),
            at,
        })
    }))
}
