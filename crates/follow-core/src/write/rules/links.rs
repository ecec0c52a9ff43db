//! Link commands: block and unblock, account mute and unmute, answering a
//! follow request, dropping a link; and the link bookkeeping the edge
//! commands share (expiry, link counts).

use super::edges::edge_step;
use super::{FieldNames, Pending, Ruled, check_pair, event};
use crate::machine::EdgeCommand;
use crate::write::working::Working;
use crate::{
    AccountId, Error, EventKind, Link, LinkKey, LinkKind, NodeId, OptionsUpdate, Timestamp,
};

/// The link as of `at`. A mute past its expiry is absent, and deleted on
/// the way (lazily, with no event: every read already treats it as gone).
pub(super) fn live_link(
    rows: &mut Working<'_>,
    key: &LinkKey,
    at: Timestamp,
) -> Result<Option<Link>, Error> {
    match rows.link(key)? {
        Some(link) if !link.holds_at(at) => {
            remove_link(rows, key)?;
            Ok(None)
        }
        link => Ok(link),
    }
}

/// Creates an absent link and counts it on both its accounts.
pub(super) fn put_new_link(rows: &mut Working<'_>, key: &LinkKey, link: Link) -> Result<(), Error> {
    rows.put_link(key, link)?;
    count_link(rows, key, 1)
}

/// Deletes a present link and uncounts it on both its accounts.
pub(super) fn remove_link(rows: &mut Working<'_>, key: &LinkKey) -> Result<(), Error> {
    rows.delete_link(key)?;
    count_link(rows, key, -1)
}

fn count_link(rows: &mut Working<'_>, key: &LinkKey, delta: i64) -> Result<(), Error> {
    rows.add_links(&NodeId::from(key.from.clone()), delta)?;
    rows.add_links(&NodeId::from(key.to.clone()), delta)
}

/// `actor` blocks `target`: the follows both ways are cut (`unfollowed`,
/// `follower_removed`), the requests both ways too (`withdrawn`,
/// `rejected`), and the block is made (`blocked`, the command's event).
pub(super) fn block(
    rows: &mut Working<'_>,
    at: Timestamp,
    actor: &AccountId,
    target: &AccountId,
) -> Ruled {
    let target_node = NodeId::from(target.clone());
    if let Err(rejected) = check_pair(
        rows,
        actor,
        &target_node,
        FieldNames::ACTOR_TO_TARGET,
        "block",
    )? {
        return Ok(Err(rejected));
    }
    let key = LinkKey::new(LinkKind::Block, actor.clone(), target.clone());
    if live_link(rows, &key, at)?.is_some() {
        return Ok(Ok(Pending::UNCHANGED));
    }
    let actor_node = NodeId::from(actor.clone());
    for (command, follower, followed) in [
        (EdgeCommand::Unfollow, actor, &target_node),
        (EdgeCommand::RemoveFollower, target, &actor_node),
    ] {
        if let Err(rejected) = edge_step(rows, at, command, follower, followed)? {
            return Err(Error::internal(format!(
                "a block's cut was refused: {rejected}"
            )));
        }
    }
    for (request, kind) in [
        (
            key_of(LinkKind::Request, actor, target),
            EventKind::FollowRequestWithdrawn,
        ),
        (
            key_of(LinkKind::Request, target, actor),
            EventKind::FollowRequestRejected,
        ),
    ] {
        if live_link(rows, &request, at)?.is_some() {
            remove_link(rows, &request)?;
            event(
                rows,
                kind,
                &request.from,
                &NodeId::from(request.to.clone()),
                at,
            );
        }
    }
    put_new_link(rows, &key, Link::block(at))?;
    let index = event(rows, EventKind::Blocked, actor, &target_node, at);
    Ok(Ok(Pending::changed(index)))
}

fn key_of(kind: LinkKind, from: &AccountId, to: &AccountId) -> LinkKey {
    LinkKey::new(kind, from.clone(), to.clone())
}

/// `actor` lifts its block; nothing cut comes back.
pub(super) fn unblock(
    rows: &mut Working<'_>,
    at: Timestamp,
    actor: &AccountId,
    target: &AccountId,
) -> Ruled {
    let key = key_of(LinkKind::Block, actor, target);
    let ending = Ending::new(FieldNames::ACTOR_TO_TARGET, "block", EventKind::Unblocked);
    end_link(rows, at, &key, ending)
}

/// `actor` mutes `target` as an account: a set of both values. A mute that
/// differs in either is rewritten (keeping when it began) with an event.
pub(super) fn mute_account(
    rows: &mut Working<'_>,
    at: Timestamp,
    actor: &AccountId,
    target: &AccountId,
    notifications: bool,
    expires_at: Option<Timestamp>,
) -> Ruled {
    let target_node = NodeId::from(target.clone());
    if let Err(rejected) = check_pair(
        rows,
        actor,
        &target_node,
        FieldNames::ACTOR_TO_TARGET,
        "mute",
    )? {
        return Ok(Err(rejected));
    }
    if let Some(end) = expires_at.filter(|end| *end <= at) {
        return Ok(Err(Error::invalid_argument(
            "expires_at",
            format!("a mute must end after it begins ({at}), not at {end}"),
        )));
    }
    let key = key_of(LinkKind::Mute, actor, target);
    match live_link(rows, &key, at)? {
        Some(mute) if mute.notifications == notifications && mute.expires_at == expires_at => {
            return Ok(Ok(Pending::UNCHANGED));
        }
        Some(mute) => rows.put_link(
            &key,
            Link {
                notifications,
                expires_at,
                ..mute
            },
        )?,
        None => put_new_link(rows, &key, Link::mute(at, notifications, expires_at))?,
    }
    let index = event(rows, EventKind::AccountMuted, actor, &target_node, at);
    Ok(Ok(Pending::changed(index)))
}

/// `actor` ends its account mute of `target`.
pub(super) fn unmute_account(
    rows: &mut Working<'_>,
    at: Timestamp,
    actor: &AccountId,
    target: &AccountId,
) -> Ruled {
    let key = key_of(LinkKind::Mute, actor, target);
    let ending = Ending::new(
        FieldNames::ACTOR_TO_TARGET,
        "mute",
        EventKind::AccountUnmuted,
    );
    end_link(rows, at, &key, ending)
}

/// `target` authorises `follower`'s pending request: the request goes
/// (`follow_request_authorized`, the command's event) and the follow is
/// made with the request's options (`followed`).
pub(super) fn authorize(
    rows: &mut Working<'_>,
    at: Timestamp,
    target: &AccountId,
    follower: &AccountId,
) -> Ruled {
    let target_node = NodeId::from(target.clone());
    if let Err(rejected) = check_pair(
        rows,
        follower,
        &target_node,
        FieldNames::FOLLOWER_TO_ACTOR,
        "follow",
    )? {
        return Ok(Err(rejected));
    }
    let key = key_of(LinkKind::Request, follower, target);
    let Some(request) = live_link(rows, &key, at)? else {
        return Ok(Ok(Pending::UNCHANGED));
    };
    remove_link(rows, &key)?;
    let index = event(
        rows,
        EventKind::FollowRequestAuthorized,
        follower,
        &target_node,
        at,
    );
    let command = EdgeCommand::Follow {
        since: at,
        options: OptionsUpdate::from(request.options),
    };
    if let Err(rejected) = edge_step(rows, at, command, follower, &target_node)? {
        return Err(Error::internal(format!(
            "an authorised follow was refused: {rejected}"
        )));
    }
    Ok(Ok(Pending::changed(index)))
}

/// `target` rejects `follower`'s pending request.
pub(super) fn reject(
    rows: &mut Working<'_>,
    at: Timestamp,
    target: &AccountId,
    follower: &AccountId,
) -> Ruled {
    let key = key_of(LinkKind::Request, follower, target);
    let ending = Ending::new(
        FieldNames::FOLLOWER_TO_ACTOR,
        "follow",
        EventKind::FollowRequestRejected,
    );
    end_link(rows, at, &key, ending)
}

/// Deletes a link of any kind with the event that ends it (a request is
/// `withdrawn`); what a node's removal does to its links. Unregistered ends
/// have no links.
pub(super) fn drop_link(rows: &mut Working<'_>, at: Timestamp, key: &LinkKey) -> Ruled {
    if key.from == key.to {
        let message = "a link joins two accounts, never one to itself";
        return Ok(Err(Error::invalid_argument("to", message)));
    }
    for end in [&key.from, &key.to] {
        if rows.node(&NodeId::from(end.clone()))?.is_none() {
            return Ok(Ok(Pending::UNCHANGED));
        }
    }
    let event = match key.kind {
        LinkKind::Block => EventKind::Unblocked,
        LinkKind::Mute => EventKind::AccountUnmuted,
        LinkKind::Request => EventKind::FollowRequestWithdrawn,
    };
    let ending = Ending::new(FieldNames::ACTOR_TO_TARGET, key.kind.name(), event);
    end_link(rows, at, key, ending)
}

/// How a command ends a link: the fields its ends came from, the verb of
/// its self-link error, and its event.
struct Ending {
    names: FieldNames,
    verb: &'static str,
    event: EventKind,
}

impl Ending {
    fn new(names: FieldNames, verb: &'static str, event: EventKind) -> Self {
        Ending { names, verb, event }
    }
}

/// Ends a link: `unchanged` when absent (or expired), else deleted with
/// the ending's event.
fn end_link(rows: &mut Working<'_>, at: Timestamp, key: &LinkKey, ending: Ending) -> Ruled {
    let to = NodeId::from(key.to.clone());
    if let Err(rejected) = check_pair(rows, &key.from, &to, ending.names, ending.verb)? {
        return Ok(Err(rejected));
    }
    if live_link(rows, key, at)?.is_none() {
        return Ok(Ok(Pending::UNCHANGED));
    }
    remove_link(rows, key)?;
    let index = event(rows, ending.event, &key.from, &to, at);
    Ok(Ok(Pending::changed(index)))
}
