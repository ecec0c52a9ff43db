//! What each command does to the batch's working rows: the one place the
//! commands' rules are applied. The transition of one edge is decided by
//! [`crate::machine::transition`]; these modules add what surrounds it
//! (which nodes must exist, the reverse edge, blocks and requests, counts,
//! events).
//!
//! - [`nodes`]: register, remove, touch, lock.
//! - [`edges`]: follow (or request), unfollow, mute, remove a follower.
//! - [`links`]: block, account mute, answering a request, dropping a link.

mod edges;
mod links;
mod nodes;

use super::working::Working;
use crate::{AccountId, Applied, Command, Error, EventKind, NewEvent, NodeId, Outcome, Timestamp};

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

    /// `changed`, with the event at `index`.
    fn changed(index: usize) -> Pending {
        Pending {
            outcome: Outcome::Changed,
            event: Some(index),
        }
    }

    /// `changed` with the event at `index`, or `unchanged` without one.
    fn changed_if(event: Option<usize>) -> Pending {
        event.map_or(Pending::UNCHANGED, Pending::changed)
    }

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

/// The `details.reason` of a removal refused because edges or links still
/// touch the node; the facade removes them and asks again.
pub(crate) const EDGES_REMAIN: &str = "edges_remain";

/// Applies one command at the batch's time `at`.
pub(super) fn apply(rows: &mut Working<'_>, at: Timestamp, command: &Command) -> Ruled {
    match command {
        Command::Register { node } => nodes::register(rows, node, at),
        Command::Remove { node } => nodes::remove(rows, node),
        Command::Touch { node, at: active } => nodes::touch(rows, node, *active),
        Command::SetLocked { node, locked } => nodes::set_locked(rows, node, *locked),
        Command::Follow {
            follower,
            target,
            since,
            options,
        } => edges::follow(rows, at, follower, target, since.unwrap_or(at), *options),
        Command::Unfollow { follower, target } => edges::unfollow(rows, at, follower, target),
        Command::SetMute {
            follower,
            target,
            muted,
        } => edges::set_mute(rows, at, follower, target, *muted),
        Command::RemoveFollower { target, follower } => {
            edges::remove_follower(rows, at, target, follower)
        }
        Command::Block { actor, target } => links::block(rows, at, actor, target),
        Command::Unblock { actor, target } => links::unblock(rows, at, actor, target),
        Command::MuteAccount {
            actor,
            target,
            notifications,
            expires_at,
        } => links::mute_account(rows, at, actor, target, *notifications, *expires_at),
        Command::UnmuteAccount { actor, target } => links::unmute_account(rows, at, actor, target),
        Command::AuthorizeRequest { target, follower } => {
            links::authorize(rows, at, target, follower)
        }
        Command::RejectRequest { target, follower } => links::reject(rows, at, target, follower),
        Command::DropLink { key } => links::drop_link(rows, at, key),
    }
}

/// Which request field each end of a pair came from, for error details.
#[derive(Clone, Copy)]
struct FieldNames {
    /// The field of the edge's follower, or the link's `from`.
    from: &'static str,
    /// The field of the edge's target, or the link's `to`.
    to: &'static str,
}

impl FieldNames {
    /// The actor acts on the target.
    const ACTOR_TO_TARGET: FieldNames = FieldNames {
        from: "actor",
        to: "target",
    };
    /// The actor is the target of the edge or link (remove a follower,
    /// answer a request).
    const FOLLOWER_TO_ACTOR: FieldNames = FieldNames {
        from: "follower",
        to: "actor",
    };
}

/// The checks every pair command makes first: not the same account
/// (`invalid_argument`: an account cannot `verb` itself), both registered
/// (`not_found`). `Ok(Err)` is the command's own rejection.
fn check_pair(
    rows: &mut Working<'_>,
    from: &AccountId,
    to: &NodeId,
    names: FieldNames,
    verb: &str,
) -> Result<Result<(), Error>, Error> {
    if from == to {
        return Ok(Err(Error::invalid_argument(
            names.to,
            format!("an account cannot {verb} itself"),
        )));
    }
    if rows.node(&NodeId::from(from.clone()))?.is_none() {
        return Ok(Err(Error::node_not_found(names.from, from.as_str())));
    }
    if rows.node(to)?.is_none() {
        return Ok(Err(Error::node_not_found(names.to, to.as_str())));
    }
    Ok(Ok(()))
}

/// Appends an event of `kind` about `follower → target`; answers its index.
fn event(
    rows: &mut Working<'_>,
    kind: EventKind,
    follower: &AccountId,
    target: &NodeId,
    at: Timestamp,
) -> usize {
    rows.append_event(NewEvent {
        kind,
        follower: follower.clone(),
        target: target.clone(),
        at,
    })
}
