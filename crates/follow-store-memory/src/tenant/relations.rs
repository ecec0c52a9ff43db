//! What a tenant holds besides nodes and edges: links (blocks, mutes,
//! requests) with the two orders their lists read in, the options of edges
//! that do not use the defaults, and the link counts and locked flags of
//! the nodes that have any.
//!
//! These are rare next to edges (most follows use the default options,
//! most accounts block, mute and lock nothing), so they live in ordinary
//! maps beside the packed lists, and a node or edge without them costs
//! nothing here.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use follow_core::{
    AccountId, Error, FollowOptions, Link, LinkDirection, LinkEntry, LinkKey, LinkKind,
    ListPosition, Timestamp,
};

use crate::broken::broken;

/// A node's link count and locked flag; the default for most nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct NodeExtras {
    pub(crate) links: u64,
    pub(crate) locked: bool,
}

/// A list order key: (kind, owner, newest first, the other account's id;
/// text, so that a seek may start at any id).
type Order = (LinkKind, AccountId, Reverse<Timestamp>, String);

#[derive(Debug, Default)]
pub(crate) struct Relations {
    links: BTreeMap<LinkKey, Link>,
    /// By `from`: the lists of blocks, mutes and requests made.
    outgoing: BTreeSet<Order>,
    /// By `to`: the lists of requests received.
    incoming: BTreeSet<Order>,
    /// Options of edges (follower, target numbers) that are not the defaults.
    options: HashMap<(u32, u32), FollowOptions>,
    /// Nodes (by number) whose extras are not the defaults.
    extras: HashMap<u32, NodeExtras>,
}

impl Relations {
    pub(crate) fn link(&self, key: &LinkKey) -> Option<Link> {
        self.links.get(key).copied()
    }

    /// Sets a link (or removes it with `None`), keeping both orders in
    /// step; answers the link it replaced.
    pub(crate) fn set_link(&mut self, key: &LinkKey, link: Option<Link>) -> Option<Link> {
        let old = match link {
            Some(link) => self.links.insert(key.clone(), link),
            None => self.links.remove(key),
        };
        if let Some(old) = old {
            self.outgoing.remove(&out_key(key, old.since));
            self.incoming.remove(&in_key(key, old.since));
        }
        if let Some(link) = link {
            self.outgoing.insert(out_key(key, link.since));
            self.incoming.insert(in_key(key, link.since));
        }
        old
    }

    /// Every link between `subject` and one of `others`, either way.
    pub(crate) fn between(
        &self,
        subject: &AccountId,
        others: &[AccountId],
    ) -> Vec<(LinkKey, Link)> {
        let mut found = Vec::new();
        let mut seen: Vec<&AccountId> = Vec::with_capacity(others.len());
        for other in others {
            if seen.contains(&other) {
                continue;
            }
            seen.push(other);
            for kind in LinkKind::ALL {
                for key in [
                    LinkKey::new(kind, subject.clone(), other.clone()),
                    LinkKey::new(kind, other.clone(), subject.clone()),
                ] {
                    if let Some(link) = self.link(&key) {
                        found.push((key, link));
                    }
                }
            }
        }
        found
    }

    /// A page of `subject`'s links of `kind` one way, strictly after
    /// `after`, newest first, ties by account.
    ///
    /// # Errors
    /// `internal` for a stored id that no longer parses.
    pub(crate) fn page(
        &self,
        kind: LinkKind,
        direction: LinkDirection,
        subject: &AccountId,
        after: Option<&ListPosition>,
        limit: usize,
    ) -> Result<Vec<LinkEntry>, Error> {
        let order = match direction {
            LinkDirection::Outgoing => &self.outgoing,
            LinkDirection::Incoming => &self.incoming,
        };
        let start = match after {
            Some(position) => Bound::Excluded((
                kind,
                subject.clone(),
                Reverse(position.since),
                position.node.as_str().to_owned(),
            )),
            None => Bound::Included((
                kind,
                subject.clone(),
                Reverse(Timestamp::MAX),
                String::new(),
            )),
        };
        order
            .range((start, Bound::Unbounded))
            .take_while(|(k, owner, ..)| *k == kind && owner == subject)
            .take(limit)
            .map(|(_, owner, _, other)| {
                let other = AccountId::new(other)
                    .map_err(|cause| broken("bad stored link id").with_source(cause))?;
                let key = match direction {
                    LinkDirection::Outgoing => LinkKey::new(kind, owner.clone(), other.clone()),
                    LinkDirection::Incoming => LinkKey::new(kind, other.clone(), owner.clone()),
                };
                let link = self
                    .link(&key)
                    .ok_or_else(|| broken(format_args!("link {key} is listed but not stored")))?;
                Ok(LinkEntry {
                    account: other,
                    link,
                })
            })
            .collect()
    }

    pub(crate) fn options(&self, follower: u32, target: u32) -> FollowOptions {
        self.options
            .get(&(follower, target))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn set_options(
        &mut self,
        follower: u32,
        target: u32,
        options: Option<FollowOptions>,
    ) {
        match options.filter(|options| *options != FollowOptions::default()) {
            Some(options) => self.options.insert((follower, target), options),
            None => self.options.remove(&(follower, target)),
        };
    }

    pub(crate) fn extras(&self, node: u32) -> NodeExtras {
        self.extras.get(&node).copied().unwrap_or_default()
    }

    /// Sets a node's extras; answers the ones it replaced.
    pub(crate) fn set_extras(&mut self, node: u32, extras: NodeExtras) -> NodeExtras {
        let old = if extras == NodeExtras::default() && self.extras.is_empty() {
            None
        } else if extras == NodeExtras::default() {
            self.extras.remove(&node)
        } else {
            self.extras.insert(node, extras)
        };
        old.unwrap_or_default()
    }
}

fn out_key(key: &LinkKey, since: Timestamp) -> Order {
    (
        key.kind,
        key.from.clone(),
        Reverse(since),
        key.to.as_str().to_owned(),
    )
}

fn in_key(key: &LinkKey, since: Timestamp) -> Order {
    (
        key.kind,
        key.to.clone(),
        Reverse(since),
        key.from.as_str().to_owned(),
    )
}
