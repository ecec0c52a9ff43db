//! Node and edge rows staged for the length of one batch.
//!
//! A batch that touches a node many times (an import registers both ends of
//! every edge and moves their counters once per edge) would otherwise read
//! and rewrite the node's row once per command, and would read and write
//! its edges in request order, that is at random places of every index.
//! [`Staged`] instead:
//! - reads every row the batch's commands name up front, in key order;
//! - applies the batch to its copies in memory;
//! - writes each changed row back once when the batch ends, in key order:
//!   a new node as one insert with its final counters, a stored node as one
//!   counter change (the sum of the batch's deltas), an edge as its final
//!   state.
//!
//! Events pass straight through, so their positions follow the commands. A
//! removal writes the staged edges before the node's delete (a store deletes
//! a node only once no edge touches it); removals are rare next to follows.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::WriteTxn;
use crate::{
    AccountId, Command, CountDelta, Edge, Error, Event, NewEvent, NodeId, NodeRecord, Timestamp,
    WriteBatch,
};

/// One node as the batch currently sees it.
struct StagedNode {
    /// The node now; `None` when absent.
    record: Option<NodeRecord>,
    /// Whether the store holds a row for it right now.
    stored: bool,
    /// Counter changes not yet written to the stored row.
    pending: CountDelta,
}

/// One edge as the batch currently sees it.
struct StagedEdge {
    /// The edge now; `None` when absent.
    edge: Option<Edge>,
    /// Whether the store holds a row for it right now.
    stored: bool,
    /// Whether `edge` differs from what the store holds.
    dirty: bool,
}

type EdgeKey = (AccountId, NodeId);

/// A [`WriteTxn`] that stages rows over another one; see the module docs.
pub(crate) struct Staged<'t, T: WriteTxn + ?Sized> {
    inner: &'t mut T,
    nodes: HashMap<NodeId, StagedNode>,
    edges: HashMap<EdgeKey, StagedEdge>,
}

impl<'t, T: WriteTxn + ?Sized> Staged<'t, T> {
    /// Stages rows over `inner`; nothing is written until [`Self::finish`].
    pub(crate) fn new(inner: &'t mut T) -> Self {
        Staged {
            inner,
            nodes: HashMap::new(),
            edges: HashMap::new(),
        }
    }

    /// Reads every node and edge the batch's commands name, in key order,
    /// so the store walks each index front to back once.
    pub(crate) fn prefetch(&mut self, batch: &WriteBatch) -> Result<(), Error> {
        let mut nodes: Vec<NodeId> = batch.requires.iter().cloned().collect();
        let mut edges: Vec<EdgeKey> = Vec::new();
        for command in &batch.commands {
            match command {
                Command::Register { node }
                | Command::Remove { node }
                | Command::Touch { node, .. } => {
                    nodes.push(node.clone());
                }
                Command::Follow {
                    follower, target, ..
                }
                | Command::Unfollow { follower, target }
                | Command::SetMute {
                    follower, target, ..
                }
                | Command::RemoveFollower { target, follower } => {
                    let follower_node = NodeId::from(follower.clone());
                    if let Some(back) = target.as_account() {
                        edges.push((back, follower_node.clone()));
                    }
                    edges.push((follower.clone(), target.clone()));
                    nodes.push(follower_node);
                    nodes.push(target.clone());
                }
            }
        }
        let (nodes, edges) = (sorted(nodes), sorted(edges));
        self.nodes.reserve(nodes.len());
        self.edges.reserve(edges.len());
        for id in nodes {
            self.staged_node(&id)?;
        }
        for (follower, target) in edges {
            self.staged_edge(&follower, &target)?;
        }
        Ok(())
    }

    /// Writes every changed row back in key order: edges, then nodes.
    ///
    /// # Errors
    /// A storage failure of the inner transaction; the caller rolls back.
    pub(crate) fn finish(mut self) -> Result<(), Error> {
        self.flush_edges()?;
        let mut nodes: Vec<(NodeId, StagedNode)> = self.nodes.into_iter().collect();
        nodes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (id, staged) in nodes {
            match (&staged.record, staged.stored) {
                (Some(record), false) => self.inner.insert_node(record)?,
                (Some(_), true) if !staged.pending.is_zero() => {
                    self.inner.add_counts(&id, staged.pending)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes the changed edges, in key order, and marks them clean.
    fn flush_edges(&mut self) -> Result<(), Error> {
        let mut dirty: Vec<(&EdgeKey, &mut StagedEdge)> = self
            .edges
            .iter_mut()
            .filter(|(_, staged)| staged.dirty)
            .collect();
        dirty.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for ((follower, target), staged) in dirty {
            match (staged.edge, staged.stored) {
                (Some(edge), _) => self.inner.put_edge(follower, target, edge)?,
                (None, true) => self.inner.delete_edge(follower, target)?,
                (None, false) => {}
            }
            staged.stored = staged.edge.is_some();
            staged.dirty = false;
        }
        Ok(())
    }

    fn staged_node(&mut self, id: &NodeId) -> Result<&mut StagedNode, Error> {
        Ok(match self.nodes.entry(id.clone()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let record = self.inner.node(id)?;
                entry.insert(StagedNode {
                    stored: record.is_some(),
                    record,
                    pending: CountDelta::default(),
                })
            }
        })
    }

    fn staged_edge(
        &mut self,
        follower: &AccountId,
        target: &NodeId,
    ) -> Result<&mut StagedEdge, Error> {
        Ok(match self.edges.entry((follower.clone(), target.clone())) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let edge = self.inner.edge(follower, target)?;
                entry.insert(StagedEdge {
                    edge,
                    stored: edge.is_some(),
                    dirty: false,
                })
            }
        })
    }
}

/// Sorted, without duplicates.
fn sorted<K: Ord>(mut keys: Vec<K>) -> Vec<K> {
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn absent(id: &NodeId) -> Error {
    Error::internal(format!("staged node {id} is not registered"))
}

impl<T: WriteTxn + ?Sized> WriteTxn for Staged<'_, T> {
    fn node(&mut self, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        Ok(self.staged_node(id)?.record.clone())
    }

    fn insert_node(&mut self, node: &NodeRecord) -> Result<(), Error> {
        self.staged_node(&node.id)?.record = Some(node.clone());
        Ok(())
    }

    fn delete_node(&mut self, id: &NodeId) -> Result<(), Error> {
        let staged = self.staged_node(id)?;
        let stored = staged.stored;
        staged.record = None;
        staged.stored = false;
        staged.pending = CountDelta::default();
        if stored {
            // The store deletes a node only once no edge touches it, and the
            // removal's cascade is still staged: write it first.
            self.flush_edges()?;
            self.inner.delete_node(id)?;
        }
        Ok(())
    }

    fn set_last_active(&mut self, id: &NodeId, at: Timestamp) -> Result<(), Error> {
        let staged = self.staged_node(id)?;
        let stored = staged.stored;
        staged
            .record
            .as_mut()
            .ok_or_else(|| absent(id))?
            .last_active = Some(at);
        // Touches are rare next to counter changes: a stored row takes the
        // new time at once rather than growing the staged state.
        if stored {
            self.inner.set_last_active(id, at)?;
        }
        Ok(())
    }

    fn edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<Option<Edge>, Error> {
        Ok(self.staged_edge(follower, target)?.edge)
    }

    fn put_edge(&mut self, follower: &AccountId, target: &NodeId, edge: Edge) -> Result<(), Error> {
        let staged = self.staged_edge(follower, target)?;
        staged.edge = Some(edge);
        staged.dirty = true;
        Ok(())
    }

    fn delete_edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<(), Error> {
        let staged = self.staged_edge(follower, target)?;
        staged.edge = None;
        staged.dirty = true;
        Ok(())
    }

    fn add_counts(&mut self, id: &NodeId, delta: CountDelta) -> Result<(), Error> {
        let staged = self.staged_node(id)?;
        let record = staged.record.as_mut().ok_or_else(|| absent(id))?;
        record.counts = record.counts.apply(delta)?;
        if staged.stored {
            staged.pending = staged.pending.plus(delta);
        }
        Ok(())
    }

    fn edges_touching(&mut self, id: &NodeId) -> Result<Vec<(AccountId, NodeId)>, Error> {
        // The store answers from its own rows, so they must be current.
        self.flush_edges()?;
        self.inner.edges_touching(id)
    }

    fn append_event(&mut self, event: NewEvent) -> Result<Event, Error> {
        self.inner.append_event(event)
    }
}
