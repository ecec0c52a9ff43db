//! The stored graph: nodes, edges and the ordered indexes kept beside them.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use follow_core::{Edge, Event, ListKind, NodeId, NodeRecord, TenantId, Timestamp};

/// An index entry in display order: newest first, ties by id.
pub(crate) type IndexKey = (Reverse<Timestamp>, NodeId);

pub(crate) fn index_key(since: Timestamp, node: NodeId) -> IndexKey {
    (Reverse(since), node)
}

type Index = HashMap<NodeId, BTreeSet<IndexKey>>;

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) tenants: HashMap<TenantId, Tenant>,
    /// The last event position handed out, global to the store.
    pub(crate) next_position: u64,
}

impl State {
    pub(crate) fn tenant(&self, id: &TenantId) -> Option<&Tenant> {
        self.tenants.get(id)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Tenant {
    pub(crate) nodes: HashMap<NodeId, NodeRecord>,
    /// The ids of `nodes` in order, for the nodes walk.
    pub(crate) node_order: BTreeSet<NodeId>,
    /// (follower, target) → edge.
    edges: HashMap<(NodeId, NodeId), Edge>,
    following: Index,
    followers: Index,
    /// Keyed by `mutual_since`; holds only mutual edges.
    mutuals: Index,
    pub(crate) events: Vec<Event>,
}

impl Tenant {
    pub(crate) fn edge(&self, follower: &NodeId, target: &NodeId) -> Option<Edge> {
        self.edges.get(&(follower.clone(), target.clone())).copied()
    }

    /// Sets the node's record (or removes it), keeping the id order in step.
    /// Answers the record it replaced.
    pub(crate) fn set_node(
        &mut self,
        id: &NodeId,
        record: Option<NodeRecord>,
    ) -> Option<NodeRecord> {
        match record {
            Some(record) => {
                self.node_order.insert(id.clone());
                self.nodes.insert(id.clone(), record)
            }
            None => {
                self.node_order.remove(id);
                self.nodes.remove(id)
            }
        }
    }

    pub(crate) fn index(&self, list: ListKind) -> &Index {
        match list {
            ListKind::Following => &self.following,
            ListKind::Followers => &self.followers,
            ListKind::Mutuals => &self.mutuals,
        }
    }

    /// Sets the edge to `edge` (or removes it), keeping every index in step.
    /// Answers the edge it replaced.
    pub(crate) fn set_edge(
        &mut self,
        follower: &NodeId,
        target: &NodeId,
        edge: Option<Edge>,
    ) -> Option<Edge> {
        let key = (follower.clone(), target.clone());
        let old = match edge {
            Some(edge) => self.edges.insert(key, edge),
            None => self.edges.remove(&key),
        };
        if let Some(old) = old {
            self.unindex(follower, target, &old);
        }
        if let Some(edge) = edge {
            self.reindex(follower, target, &edge);
        }
        old
    }

    fn reindex(&mut self, follower: &NodeId, target: &NodeId, edge: &Edge) {
        insert(
            &mut self.following,
            follower,
            index_key(edge.since, target.clone()),
        );
        insert(
            &mut self.followers,
            target,
            index_key(edge.since, follower.clone()),
        );
        if let Some(mark) = edge.mutual_since {
            insert(&mut self.mutuals, follower, index_key(mark, target.clone()));
        }
    }

    fn unindex(&mut self, follower: &NodeId, target: &NodeId, edge: &Edge) {
        remove(
            &mut self.following,
            follower,
            &index_key(edge.since, target.clone()),
        );
        remove(
            &mut self.followers,
            target,
            &index_key(edge.since, follower.clone()),
        );
        if let Some(mark) = edge.mutual_since {
            remove(
                &mut self.mutuals,
                follower,
                &index_key(mark, target.clone()),
            );
        }
    }

    /// Every (follower, target) with `node` at either end.
    pub(crate) fn edges_touching(&self, node: &NodeId) -> Vec<(NodeId, NodeId)> {
        let out = self.following.get(node).into_iter().flatten();
        let into = self.followers.get(node).into_iter().flatten();
        out.map(|(_, target)| (node.clone(), target.clone()))
            .chain(into.map(|(_, follower)| (follower.clone(), node.clone())))
            .collect()
    }
}

fn insert(index: &mut Index, owner: &NodeId, key: IndexKey) {
    index.entry(owner.clone()).or_default().insert(key);
}

fn remove(index: &mut Index, owner: &NodeId, key: &IndexKey) {
    if let Some(set) = index.get_mut(owner) {
        set.remove(key);
        if set.is_empty() {
            index.remove(owner);
        }
    }
}
