//! The stored rows a store loaded for a batch's keys.

use std::collections::HashMap;

use super::EdgeKey;
use crate::{Edge, NodeRecord};

/// What a store found for the keys of a batch ([`super::Keys`]): the present
/// rows only. A key with no row added is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub(super) nodes: HashMap<crate::NodeId, NodeRecord>,
    pub(super) edges: HashMap<EdgeKey, Edge>,
}

impl Facts {
    /// No rows yet.
    pub fn new() -> Self {
        Facts::default()
    }

    /// Room for `nodes` node rows and `edges` edge rows.
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        Facts {
            nodes: HashMap::with_capacity(nodes),
            edges: HashMap::with_capacity(edges),
        }
    }

    /// A registered node, with its counters and activity as stored.
    pub fn add_node(&mut self, node: NodeRecord) {
        self.nodes.insert(node.id.clone(), node);
    }

    /// A present edge, with its mute flag and mutual mark as stored.
    pub fn add_edge(&mut self, key: EdgeKey, edge: Edge) {
        self.edges.insert(key, edge);
    }
}
