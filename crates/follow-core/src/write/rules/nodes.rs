//! Node commands: register, remove, touch, lock.

use super::{EDGES_REMAIN, Pending, Ruled};
use crate::write::working::Working;
use crate::{AccountId, Error, ErrorKind, NodeId, NodeRecord, Timestamp};

pub(super) fn register(rows: &mut Working<'_>, node: &NodeId, at: Timestamp) -> Ruled {
    if rows.node(node)?.is_some() {
        return Ok(Ok(Pending::UNCHANGED));
    }
    rows.insert_node(NodeRecord::new(node.clone(), at))?;
    Ok(Ok(Pending::CHANGED))
}

/// Deletes a node that no edge or link touches. Its edges and links are
/// removed first, by the facade, in batches of bounded size: a node with
/// half a million followers is never read or written in one batch.
pub(super) fn remove(rows: &mut Working<'_>, node: &NodeId) -> Ruled {
    let Some(record) = rows.node(node)? else {
        return Ok(Ok(Pending::UNCHANGED));
    };
    // Counts equal the edges and links, so they say whether any touches it.
    if record.counts.following > 0 || record.counts.followers > 0 || record.links > 0 {
        return Ok(Err(Error::new(
            ErrorKind::Unavailable,
            format!("node {node} still has edges or links; remove them first"),
        )
        .with_detail("reason", EDGES_REMAIN)
        .with_detail("id", node.as_str())));
    }
    rows.delete_node(node)?;
    Ok(Ok(Pending::CHANGED))
}

pub(super) fn touch(rows: &mut Working<'_>, node: &NodeId, active: Timestamp) -> Ruled {
    let Some(record) = rows.node(node)? else {
        return Ok(Err(Error::node_not_found("target", node.as_str())));
    };
    if record.last_active.is_some_and(|last| last >= active) {
        return Ok(Ok(Pending::UNCHANGED));
    }
    rows.set_last_active(node, active)?;
    Ok(Ok(Pending::CHANGED))
}

/// Sets the locked flag. Pending requests stay as they are: the facade
/// authorises them after an unlock ([`crate::FollowGraph::set_locked`]).
pub(super) fn set_locked(rows: &mut Working<'_>, account: &AccountId, locked: bool) -> Ruled {
    let node = NodeId::from(account.clone());
    let Some(record) = rows.node(&node)? else {
        return Ok(Err(Error::node_not_found("account", account.as_str())));
    };
    if record.locked == locked {
        return Ok(Ok(Pending::UNCHANGED));
    }
    rows.set_locked(&node, locked)?;
    Ok(Ok(Pending::CHANGED))
}
