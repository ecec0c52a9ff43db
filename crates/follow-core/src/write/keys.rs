//! The rows a batch needs, named before anything is read.

use std::fmt;

use crate::{AccountId, Command, LinkKey, LinkKind, NodeId, NodeRecord, WriteBatch};

/// The key of one edge: `follower → target`, ordered by follower, then target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeKey {
    /// The account that follows.
    pub follower: AccountId,
    /// The node followed.
    pub target: NodeId,
}

impl EdgeKey {
    /// The edge `follower → target`.
    pub fn new(follower: AccountId, target: NodeId) -> Self {
        EdgeKey { follower, target }
    }

    /// The edge back (`target → follower`); a channel follows nothing.
    pub fn reverse(&self) -> Option<EdgeKey> {
        self.target
            .as_account()
            .map(|back| EdgeKey::new(back, NodeId::from(self.follower.clone())))
    }
}

impl fmt::Display for EdgeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.follower, self.target)
    }
}

/// Every node and edge a batch reads, each sorted and without duplicates,
/// so a store loads them in one pass (and, if it locks, locks them in this
/// order, which rules out deadlocks between batches).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// Nodes, by id.
    pub nodes: Vec<NodeId>,
    /// Edges, by follower then target. Every account → account command
    /// names its reverse edge too, whose mutual mark the decision reads and
    /// may rewrite.
    pub edges: Vec<EdgeKey>,
    /// Links, by kind, then `from`, then `to`.
    pub links: Vec<LinkKey>,
}

impl Keys {
    /// The keys `batch` reads.
    pub fn of(batch: &WriteBatch) -> Self {
        let mut keys = KeyLists {
            nodes: batch.requires.iter().cloned().collect(),
            ..KeyLists::default()
        };
        for command in &batch.commands {
            keys.add(command);
        }
        Keys {
            nodes: sorted(keys.nodes),
            edges: sorted(keys.edges),
            links: sorted(keys.links),
        }
    }

    /// The links worth loading once the nodes are loaded: those whose two
    /// accounts are both registered with links ([`NodeRecord::links`]). A
    /// node's count says no link touches it, so a store that loads nodes
    /// first may load only these, which for a batch of follows among
    /// accounts that never blocked, muted or asked is none. `nodes` is the
    /// loaded node rows, in any order.
    pub fn links_to_load(&self, nodes: &[NodeRecord]) -> Vec<&LinkKey> {
        let mut linked: Vec<&NodeId> = nodes
            .iter()
            .filter(|node| node.links > 0)
            .map(|node| &node.id)
            .collect();
        if linked.len() < 2 {
            return Vec::new();
        }
        linked.sort_unstable();
        let has_links = |account: &AccountId| {
            linked
                .binary_search_by(|id| id.as_str().cmp(account.as_str()))
                .is_ok()
        };
        self.links
            .iter()
            .filter(|key| has_links(&key.from) && has_links(&key.to))
            .collect()
    }
}

/// The keys of a batch as its commands name them.
#[derive(Default)]
struct KeyLists {
    nodes: Vec<NodeId>,
    edges: Vec<EdgeKey>,
    links: Vec<LinkKey>,
}

impl KeyLists {
    fn add(&mut self, command: &Command) {
        match command {
            Command::Register { node } | Command::Remove { node } | Command::Touch { node, .. } => {
                self.nodes.push(node.clone())
            }
            Command::SetLocked { node, .. } => self.nodes.push(NodeId::from(node.clone())),
            Command::Follow {
                follower, target, ..
            } => {
                self.edge_and_back(follower, target);
                if let Some(target) = target.as_account() {
                    self.link(LinkKind::Block, follower, &target);
                    self.link(LinkKind::Block, &target, follower);
                    self.link(LinkKind::Request, follower, &target);
                }
            }
            Command::Unfollow { follower, target } => {
                self.edge_and_back(follower, target);
                if let Some(target) = target.as_account() {
                    self.link(LinkKind::Request, follower, &target);
                }
            }
            Command::SetMute {
                follower, target, ..
            }
            | Command::RemoveFollower { target, follower } => {
                self.edge_and_back(follower, target);
            }
            Command::Block { actor, target } => {
                self.edge_and_back(actor, &NodeId::from(target.clone()));
                self.link(LinkKind::Block, actor, target);
                self.link(LinkKind::Request, actor, target);
                self.link(LinkKind::Request, target, actor);
            }
            Command::Unblock { actor, target } => {
                self.accounts(actor, target);
                self.link(LinkKind::Block, actor, target);
            }
            Command::MuteAccount { actor, target, .. }
            | Command::UnmuteAccount { actor, target } => {
                self.accounts(actor, target);
                self.link(LinkKind::Mute, actor, target);
            }
            Command::AuthorizeRequest { target, follower } => {
                self.edge_and_back(follower, &NodeId::from(target.clone()));
                self.link(LinkKind::Request, follower, target);
            }
            Command::RejectRequest { target, follower } => {
                self.accounts(follower, target);
                self.link(LinkKind::Request, follower, target);
            }
            Command::DropLink { key } => {
                self.accounts(&key.from, &key.to);
                self.link(key.kind, &key.from, &key.to);
            }
        }
    }

    /// The edge, its reverse, and both nodes.
    fn edge_and_back(&mut self, follower: &AccountId, target: &NodeId) {
        let key = EdgeKey::new(follower.clone(), target.clone());
        self.edges.extend(key.reverse());
        self.edges.push(key);
        self.nodes.push(NodeId::from(follower.clone()));
        self.nodes.push(target.clone());
    }

    /// Both accounts of a command that names no edge.
    fn accounts(&mut self, a: &AccountId, b: &AccountId) {
        self.nodes.push(NodeId::from(a.clone()));
        self.nodes.push(NodeId::from(b.clone()));
    }

    /// The link alone: every command that names one names its two accounts
    /// too (through its edge, or [`Self::accounts`]), so a follow puts two
    /// nodes to sort, not eight.
    fn link(&mut self, kind: LinkKind, from: &AccountId, to: &AccountId) {
        self.links
            .push(LinkKey::new(kind, from.clone(), to.clone()));
    }
}

/// Sorted, without duplicates.
fn sorted<K: Ord>(mut keys: Vec<K>) -> Vec<K> {
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{LinkKind, OptionsUpdate, TenantId, Timestamp};

    /// Every link a batch names has both its accounts among the batch's
    /// nodes, whichever command named it, and each node is named once.
    #[test]
    fn every_link_names_its_two_accounts() {
        let acct = |id: &str| AccountId::new(id).unwrap();
        let mut batch = WriteBatch::new(
            TenantId::new("t").unwrap(),
            Timestamp::from_unix_seconds(1).unwrap(),
        );
        let (a, b, c, d, e, g) = (
            acct("a"),
            acct("b"),
            acct("c"),
            acct("d"),
            acct("e"),
            acct("g"),
        );
        batch.commands = vec![
            Command::Follow {
                follower: a.clone(),
                target: NodeId::from(b.clone()),
                since: None,
                options: OptionsUpdate::NONE,
            },
            Command::Unblock {
                actor: c.clone(),
                target: d.clone(),
            },
            Command::MuteAccount {
                actor: d.clone(),
                target: e.clone(),
                notifications: true,
                expires_at: None,
            },
            Command::UnmuteAccount {
                actor: e.clone(),
                target: c.clone(),
            },
            Command::RejectRequest {
                target: g.clone(),
                follower: e.clone(),
            },
            Command::DropLink {
                key: LinkKey::new(LinkKind::Mute, g.clone(), a.clone()),
            },
        ];
        let keys = Keys::of(&batch);
        assert_eq!(keys.links.len(), 8);
        for link in &keys.links {
            for end in [&link.from, &link.to] {
                assert!(
                    keys.nodes.binary_search(&NodeId::from(end.clone())).is_ok(),
                    "{end} of {link}"
                );
            }
        }
        let names: Vec<&str> = keys.nodes.iter().map(NodeId::as_str).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e", "g"]);
    }
}
