//! The rows a batch needs, named before anything is read.

use std::fmt;

use crate::{AccountId, Command, NodeId, WriteBatch};

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
}

impl Keys {
    /// The keys `batch` reads.
    pub fn of(batch: &WriteBatch) -> Self {
        let mut nodes: Vec<NodeId> = batch.requires.iter().cloned().collect();
        let mut edges = Vec::new();
        for command in &batch.commands {
            match command {
                Command::Register { node }
                | Command::Remove { node }
                | Command::Touch { node, .. } => nodes.push(node.clone()),
                Command::Follow {
                    follower, target, ..
                }
                | Command::Unfollow { follower, target }
                | Command::SetMute {
                    follower, target, ..
                }
                | Command::RemoveFollower { target, follower } => {
                    let key = EdgeKey::new(follower.clone(), target.clone());
                    edges.extend(key.reverse());
                    edges.push(key);
                    nodes.push(NodeId::from(follower.clone()));
                    nodes.push(target.clone());
                }
            }
        }
        Keys {
            nodes: sorted(nodes),
            edges: sorted(edges),
        }
    }
}

/// Sorted, without duplicates.
fn sorted<K: Ord>(mut keys: Vec<K>) -> Vec<K> {
    keys.sort_unstable();
    keys.dedup();
    keys
}
