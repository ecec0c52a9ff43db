//! The stored rows a store loaded for a batch's keys.

use super::EdgeKey;
use crate::{Edge, Link, LinkKey, NodeRecord};

/// What a store found for the keys of a batch ([`super::Keys`]): the present
/// rows only. A key with no row added is absent. Rows may be added in any
/// order; a store that loads in key order (as [`super::Keys`] lists them)
/// saves the decision a sort.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub(super) nodes: Vec<NodeRecord>,
    pub(super) edges: Vec<(EdgeKey, Edge)>,
    pub(super) links: Vec<(LinkKey, Link)>,
}

impl Facts {
    /// No rows yet.
    pub fn new() -> Self {
        Facts::default()
    }

    /// Room for `nodes` node rows and `edges` edge rows.
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        Facts {
            nodes: Vec::with_capacity(nodes),
            edges: Vec::with_capacity(edges),
            links: Vec::new(),
        }
    }

    /// A registered node, with its counters and activity as stored.
    pub fn add_node(&mut self, node: NodeRecord) {
        self.nodes.push(node);
    }

    /// A present edge, with its mute flag and mutual mark as stored.
    pub fn add_edge(&mut self, key: EdgeKey, edge: Edge) {
        self.edges.push((key, edge));
    }

    /// A present link, expired or not, as stored.
    pub fn add_link(&mut self, key: LinkKey, link: Link) {
        self.links.push((key, link));
    }

    /// The rows in key order, each key once (the last row added wins).
    pub(super) fn sorted(mut self) -> Self {
        if !self.nodes.is_sorted_by(|a, b| a.id < b.id) {
            self.nodes.sort_by(|a, b| a.id.cmp(&b.id));
            dedup_last(&mut self.nodes, |a, b| a.id == b.id);
        }
        if !self.edges.is_sorted_by(|a, b| a.0 < b.0) {
            self.edges.sort_by(|a, b| a.0.cmp(&b.0));
            dedup_last(&mut self.edges, |a, b| a.0 == b.0);
        }
        if !self.links.is_sorted_by(|a, b| a.0 < b.0) {
            self.links.sort_by(|a, b| a.0.cmp(&b.0));
            dedup_last(&mut self.links, |a, b| a.0 == b.0);
        }
        self
    }
}

/// Keeps the last of each run of equal neighbours (a stable sort keeps
/// rows added later after earlier ones).
fn dedup_last<T>(rows: &mut Vec<T>, same: impl Fn(&T, &T) -> bool) {
    rows.reverse();
    rows.dedup_by(|later, earlier| same(later, earlier));
    rows.reverse();
}
