//! Node rows staged for the length of one batch.
//!
//! A batch that touches a node many times (an import registers both ends of
//! every edge and moves their counters once per edge) would otherwise read
//! and rewrite the node's row once per command. [`StagedNodes`] reads each
//! node at most once, keeps its current record in memory, and writes it back
//! once when the batch ends: a new node as one insert with its final
//! counters, a stored node as one counter change (the sum of the batch's
//! deltas). Edges and events pass straight through.

use std::collections::HashMap;

use super::WriteTxn;
use crate::{AccountId, CountDelta, Edge, Error, Event, NewEvent, NodeId, NodeRecord, Timestamp};

/// One node as the batch currently sees it.
struct Staged {
    /// The node now; `None` when absent.
    record: Option<NodeRecord>,
    /// Whether the store holds a row for it right now.
    stored: bool,
    /// Counter changes not yet written to the stored row.
    pending: CountDelta,
}

/// A [`WriteTxn`] that stages node rows over another one; see the module
/// docs. Edge writes reach the inner transaction before the rows of nodes
/// the batch registered.
pub(crate) struct StagedNodes<'t, T: WriteTxn + ?Sized> {
    inner: &'t mut T,
    nodes: HashMap<NodeId, Staged>,
}

impl<'t, T: WriteTxn + ?Sized> StagedNodes<'t, T> {
    /// Stages node rows over `inner`; nothing is written until [`Self::finish`].
    pub(crate) fn new(inner: &'t mut T) -> Self {
        StagedNodes {
            inner,
            nodes: HashMap::new(),
        }
    }

    /// Writes every staged node back, in id order (so the nodes' ordered
    /// index is written front to back).
    ///
    /// # Errors
    /// A storage failure of the inner transaction; the caller rolls back.
    pub(crate) fn finish(self) -> Result<(), Error> {
        let mut nodes: Vec<(NodeId, Staged)> = self.nodes.into_iter().collect();
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

    fn staged(&mut self, id: &NodeId) -> Result<&mut Staged, Error> {
        if !self.nodes.contains_key(id) {
            let record = self.inner.node(id)?;
            let stored = record.is_some();
            self.nodes.insert(
                id.clone(),
                Staged {
                    record,
                    stored,
                    pending: CountDelta::default(),
                },
            );
        }
        self.nodes
            .get_mut(id)
            .ok_or_else(|| Error::internal("staged node vanished"))
    }
}

fn absent(id: &NodeId) -> Error {
    Error::internal(format!("staged node {id} is not registered"))
}

impl<T: WriteTxn + ?Sized> WriteTxn for StagedNodes<'_, T> {
    fn node(&mut self, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        Ok(self.staged(id)?.record.clone())
    }

    fn insert_node(&mut self, node: &NodeRecord) -> Result<(), Error> {
        let staged = self.staged(&node.id)?;
        staged.record = Some(node.clone());
        Ok(())
    }

    fn delete_node(&mut self, id: &NodeId) -> Result<(), Error> {
        let staged = self.staged(id)?;
        let stored = staged.stored;
        staged.record = None;
        staged.stored = false;
        staged.pending = CountDelta::default();
        if stored {
            self.inner.delete_node(id)?;
        }
        Ok(())
    }

    fn set_last_active(&mut self, id: &NodeId, at: Timestamp) -> Result<(), Error> {
        let staged = self.staged(id)?;
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
        self.inner.edge(follower, target)
    }

    fn put_edge(&mut self, follower: &AccountId, target: &NodeId, edge: Edge) -> Result<(), Error> {
        self.inner.put_edge(follower, target, edge)
    }

    fn delete_edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<(), Error> {
        self.inner.delete_edge(follower, target)
    }

    fn add_counts(&mut self, id: &NodeId, delta: CountDelta) -> Result<(), Error> {
        let staged = self.staged(id)?;
        let record = staged.record.as_mut().ok_or_else(|| absent(id))?;
        record.counts = record.counts.apply(delta)?;
        if staged.stored {
            staged.pending = staged.pending.plus(delta);
        }
        Ok(())
    }

    fn edges_touching(&mut self, id: &NodeId) -> Result<Vec<(AccountId, NodeId)>, Error> {
        self.inner.edges_touching(id)
    }

    fn append_event(&mut self, event: NewEvent) -> Result<Event, Error> {
        self.inner.append_event(event)
    }
}
