//! Node removal: the cascade of unfollows and dropped links, in batches of
//! bounded size.
//!
//! A node is deleted only once no edge or link touches it ([`crate::write`]
//! refuses otherwise). The facade reads a chunk of the node's edges and
//! links from its lists, cuts them in one batch, and repeats; the last
//! batch, once the lists hold less than a chunk, cuts the rest and deletes
//! the node. So a node
//! with a handful of edges goes in one atomic batch, and a node with half a
//! million followers in many batches of at most [`REMOVAL_CHUNK`] edges
//! each, in bounded memory, every batch atomic with its counts and events.

use super::FollowGraph;
use crate::write::EDGES_REMAIN;
use crate::{
    Applied, Capability, Command, Error, ErrorKind, LinkDirection, LinkKey, LinkKind, LinkQuery,
    ListKind, ListQuery, NodeId, Principal, TenantId, WriteBatch,
};

/// The most edges of each direction (and links of each kind and direction)
/// one removal batch cuts.
pub const REMOVAL_CHUNK: usize = 500;

/// How many times in a row the last batch may find new edges (followers
/// that arrived while the node was being removed) before the removal gives
/// up with `unavailable`. Each round with edges to cut makes progress, so
/// only this race is bounded.
const RACE_ROUNDS: usize = 16;

impl FollowGraph {
    /// Removes a node and every edge and link touching it, emitting an
    /// `unfollowed` event for each edge and the ending event of each link
    /// (`unblocked`, `account_unmuted`, `follow_request_withdrawn`). Removing an absent node is `unchanged`. Needs
    /// `admin`; a bound principal may remove only its own account.
    ///
    /// A node with fewer than [`REMOVAL_CHUNK`] edges each way is removed
    /// in one atomic batch. A larger one is removed in several batches,
    /// each atomic: if a call fails part-way, the node is still registered
    /// with fewer edges (counts and events right), and removing it again
    /// finishes the job.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id (field `id`); `forbidden` when a
    /// bound principal names another node; `unavailable` when
    /// storage fails, or when new followers keep arriving faster than the
    /// removal cuts them.
    pub async fn remove<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        id: &str,
    ) -> Result<Applied, Error> {
        let (principal, now) = self.admit(principal.into(), Capability::Admin)?;
        let node = NodeId::parse_field("id", id)?;
        principal.require_acting_as(&node)?;
        let tenant = principal.tenant();
        let mut races = 0;
        loop {
            let (cascade, rest) = self.edges_to_cut(tenant, &node).await?;
            let mut batch = WriteBatch::new(tenant.clone(), now);
            batch.commands = cascade;
            if !rest {
                batch.commands.push(Command::Remove { node: node.clone() });
            }
            let results = self.write(batch).await?;
            if rest {
                continue;
            }
            match results.into_iter().last() {
                Some(Ok(applied)) => return Ok(applied),
                Some(Err(error)) if is_edges_remain(&error) && races < RACE_ROUNDS => races += 1,
                Some(Err(error)) => return Err(error),
                None => return Err(Error::internal("the store answered no result")),
            }
        }
    }

    /// Unfollows of up to a chunk of the node's edges each way, drops of up
    /// to a chunk of its links of each kind each way, and whether more
    /// remain beyond them.
    async fn edges_to_cut(
        &self,
        tenant: &TenantId,
        node: &NodeId,
    ) -> Result<(Vec<Command>, bool), Error> {
        let mut commands = Vec::new();
        let mut rest = false;
        for list in [ListKind::Following, ListKind::Followers] {
            if list == ListKind::Following && node.as_account().is_none() {
                continue;
            }
            let query = ListQuery {
                tenant: tenant.clone(),
                list,
                subject: node.clone(),
                after: None,
                limit: REMOVAL_CHUNK,
            };
            // An unregistered node has no lists; the removal answers it.
            let entries = self.store.list(query).await?.unwrap_or_default();
            rest |= entries.len() >= REMOVAL_CHUNK;
            for entry in entries {
                commands.push(unfollow(list, node, entry.node)?);
            }
        }
        let Some(account) = node.as_account() else {
            return Ok((commands, rest));
        };
        for kind in LinkKind::ALL {
            for direction in [LinkDirection::Outgoing, LinkDirection::Incoming] {
                let query = LinkQuery {
                    tenant: tenant.clone(),
                    kind,
                    direction,
                    subject: account.clone(),
                    after: None,
                    limit: REMOVAL_CHUNK,
                };
                let entries = self.store.links(query).await?.unwrap_or_default();
                rest |= entries.len() >= REMOVAL_CHUNK;
                for entry in entries {
                    let key = match direction {
                        LinkDirection::Outgoing => {
                            LinkKey::new(kind, account.clone(), entry.account)
                        }
                        LinkDirection::Incoming => {
                            LinkKey::new(kind, entry.account, account.clone())
                        }
                    };
                    commands.push(Command::DropLink { key });
                }
            }
        }
        Ok((commands, rest))
    }
}

/// The unfollow that cuts one edge of `node`'s list.
fn unfollow(list: ListKind, node: &NodeId, other: NodeId) -> Result<Command, Error> {
    let (follower, target) = match list {
        ListKind::Followers => (other, node.clone()),
        _ => (node.clone(), other),
    };
    let follower = follower.as_account().ok_or_else(|| {
        Error::internal(format!(
            "the store listed {follower} as a follower, but a channel follows nothing"
        ))
    })?;
    Ok(Command::Unfollow { follower, target })
}

fn is_edges_remain(error: &Error) -> bool {
    error.kind() == ErrorKind::Unavailable
        && error.details().get("reason").and_then(|r| r.as_str()) == Some(EDGES_REMAIN)
}
