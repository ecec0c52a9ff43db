//! Edge commands: follow (or request a locked account), unfollow, mute,
//! remove a follower.

use super::links::{live_link, put_new_link, remove_link};
use super::{FieldNames, Pending, Ruled, check_pair, event};
use crate::machine::{EdgeCommand, EdgeWrite, Transition, transition};
use crate::write::EdgeKey;
use crate::write::working::Working;
use crate::{
    AccountId, Error, EventKind, FollowOptions, Link, LinkKey, LinkKind, NodeId, OptionsUpdate,
    Outcome, Timestamp,
};

/// Follows; between accounts, a block either way forbids it and a locked
/// target gets a request.
pub(super) fn follow(
    rows: &mut Working<'_>,
    at: Timestamp,
    follower: &AccountId,
    target: &NodeId,
    since: Timestamp,
    options: OptionsUpdate,
) -> Ruled {
    if let Err(rejected) = check_pair(
        rows,
        follower,
        target,
        FieldNames::ACTOR_TO_TARGET,
        "follow",
    )? {
        return Ok(Err(rejected));
    }
    let mut options = options;
    if let Some(account) = target.as_account() {
        let block = |from: &AccountId, to: &AccountId| {
            LinkKey::new(LinkKind::Block, from.clone(), to.clone())
        };
        if live_link(rows, &block(follower, &account), at)?.is_some()
            || live_link(rows, &block(&account, follower), at)?.is_some()
        {
            return Ok(Err(Error::forbidden(
                "a block stands between the actor and the target",
            )
            .with_detail("target", target.as_str())));
        }
        let key = EdgeKey::new(follower.clone(), target.clone());
        if rows.edge(&key)?.is_none() {
            let request_key = LinkKey::new(LinkKind::Request, follower.clone(), account);
            let request = live_link(rows, &request_key, at)?;
            let locked = rows.node(target)?.is_some_and(|record| record.locked);
            if locked {
                return request_follow(rows, at, &request_key, request, since, options);
            }
            if let Some(request) = request {
                // Left by an unlock that has not answered it yet: the follow
                // replaces it, with its options under the ones named now.
                remove_link(rows, &request_key)?;
                options = OptionsUpdate::from(options.apply(request.options));
            }
        }
    }
    let command = EdgeCommand::Follow { since, options };
    Ok(edge_step(rows, at, command, follower, target)?.map(Pending::changed_if))
}

/// A follow of a locked account: a request, or the pending one's options
/// updated (`unchanged`: the follow is still only asked for).
fn request_follow(
    rows: &mut Working<'_>,
    at: Timestamp,
    key: &LinkKey,
    pending: Option<Link>,
    since: Timestamp,
    options: OptionsUpdate,
) -> Ruled {
    if let Some(pending) = pending {
        let wanted = options.apply(pending.options);
        if wanted != pending.options {
            rows.put_link(
                key,
                Link {
                    options: wanted,
                    ..pending
                },
            )?;
        }
        return Ok(Ok(Pending::UNCHANGED));
    }
    let link = Link::request(since, options.apply(FollowOptions::default()));
    put_new_link(rows, key, link)?;
    let target = NodeId::from(key.to.clone());
    let index = event(rows, EventKind::FollowRequested, &key.from, &target, at);
    Ok(Ok(Pending {
        outcome: Outcome::Requested,
        event: Some(index),
    }))
}

/// Unfollows; with no edge, withdraws a pending request.
pub(super) fn unfollow(
    rows: &mut Working<'_>,
    at: Timestamp,
    follower: &AccountId,
    target: &NodeId,
) -> Ruled {
    if let Err(rejected) = check_pair(
        rows,
        follower,
        target,
        FieldNames::ACTOR_TO_TARGET,
        "follow",
    )? {
        return Ok(Err(rejected));
    }
    let key = EdgeKey::new(follower.clone(), target.clone());
    if let Some(account) = target.as_account()
        && rows.edge(&key)?.is_none()
    {
        let request_key = LinkKey::new(LinkKind::Request, follower.clone(), account);
        if live_link(rows, &request_key, at)?.is_some() {
            remove_link(rows, &request_key)?;
            let index = event(
                rows,
                EventKind::FollowRequestWithdrawn,
                follower,
                target,
                at,
            );
            return Ok(Ok(Pending::changed(index)));
        }
    }
    Ok(edge_step(rows, at, EdgeCommand::Unfollow, follower, target)?.map(Pending::changed_if))
}

/// Sets the edge's mute flag.
pub(super) fn set_mute(
    rows: &mut Working<'_>,
    at: Timestamp,
    follower: &AccountId,
    target: &NodeId,
    muted: bool,
) -> Ruled {
    if let Err(rejected) = check_pair(
        rows,
        follower,
        target,
        FieldNames::ACTOR_TO_TARGET,
        "follow",
    )? {
        return Ok(Err(rejected));
    }
    let command = EdgeCommand::SetMute { muted };
    Ok(edge_step(rows, at, command, follower, target)?.map(Pending::changed_if))
}

/// The target drops a follower.
pub(super) fn remove_follower(
    rows: &mut Working<'_>,
    at: Timestamp,
    target: &NodeId,
    follower: &AccountId,
) -> Ruled {
    if let Err(rejected) = check_pair(
        rows,
        follower,
        target,
        FieldNames::FOLLOWER_TO_ACTOR,
        "follow",
    )? {
        return Ok(Err(rejected));
    }
    let command = EdgeCommand::RemoveFollower;
    Ok(edge_step(rows, at, command, follower, target)?.map(Pending::changed_if))
}

/// Decides `command` on the edge `follower → target` of two registered
/// nodes and writes what the transition says; answers its event's index,
/// or the transition's own rejection (`not_following`). The outer error is
/// a broken invariant.
pub(super) fn edge_step(
    rows: &mut Working<'_>,
    at: Timestamp,
    command: EdgeCommand,
    follower: &AccountId,
    target: &NodeId,
) -> Result<Result<Option<usize>, Error>, Error> {
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
    persist(rows, &key, reverse_key.as_ref(), &step, at).map(Ok)
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
    Ok(step
        .event
        .map(|kind| event(rows, kind, &key.follower, &key.target, at)))
}
