//! What a decided batch asks a store to persist.

use super::EdgeKey;
use crate::{CountDelta, Edge, Link, LinkKey, NewEvent, NodeId, NodeRecord, TenantId, Timestamp};

/// A change to a node that was registered before the batch and still is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeUpdate {
    /// The node.
    pub id: NodeId,
    /// Added to its counters. Apply it as `count = count + delta` in the
    /// store: never read, add and write back, which loses concurrent
    /// changes.
    pub counts: CountDelta,
    /// Added to its link count ([`NodeRecord::links`]), as a delta too.
    pub links: i64,
    /// Its new locked flag, when it changed.
    pub locked: Option<bool>,
    /// Its new last activity, when it changed (it only moves forward).
    pub last_active: Option<Timestamp>,
}

/// Every row a batch changes, each list sorted by key, and its events.
///
/// A store commits all of it atomically, in the field order: edge deletes,
/// link deletes, node deletes, node inserts, edge inserts, edge updates,
/// link inserts, link updates, node updates, events. In that order every
/// node a stored edge or link touches is registered after each step, and a
/// node is deleted only once no edge or link touches it (a node removed and
/// registered again in one batch appears in both `node_deletes` and
/// `node_inserts`; an edge removed and created again, in both
/// `edge_deletes` and `edge_inserts`; a link likewise).
///
/// Inserts and updates are told apart by what the batch loaded: an insert's
/// row is absent once the deletes before it are done, an update's row is
/// stored and stays. A store may write each with a plain insert or update
/// (no upsert); a conflict or a missing row then means another writer
/// changed the rows since the load (retry, for a store that detects
/// conflicts) or the load was wrong (an internal error, for a store whose
/// load locks or serialises them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    /// The tenant of every row.
    pub tenant: TenantId,
    /// Edges present before, to delete.
    pub edge_deletes: Vec<EdgeKey>,
    /// Links present before, to delete.
    pub link_deletes: Vec<LinkKey>,
    /// Nodes registered before, to delete; no edge or link touches them
    /// once the deletes before them are done.
    pub node_deletes: Vec<NodeId>,
    /// Nodes to register, as whole records (counters included).
    pub node_inserts: Vec<NodeRecord>,
    /// Edges to create: new follows, and edges created again after
    /// `edge_deletes` removed them.
    pub edge_inserts: Vec<(EdgeKey, Edge)>,
    /// Stored edges that stay, with their new value (mute flag, mutual
    /// mark, options).
    pub edge_updates: Vec<(EdgeKey, Edge)>,
    /// Links to create, as `edge_inserts`.
    pub link_inserts: Vec<(LinkKey, Link)>,
    /// Stored links that stay, with their new value, as `edge_updates`.
    pub link_updates: Vec<(LinkKey, Link)>,
    /// Counter changes, locked flags and activity of nodes registered
    /// before and after.
    pub node_updates: Vec<NodeUpdate>,
    /// The events, in the order the commands caused them. The store places
    /// them in its order (positions are at least 1, never reused, and seen
    /// by readers in increasing order across the whole store) and hands the positions to
    /// [`super::Decision::into_results`].
    pub events: Vec<NewEvent>,
}

impl ChangeSet {
    /// An empty change set of `tenant`.
    pub fn empty(tenant: TenantId) -> Self {
        ChangeSet {
            tenant,
            edge_deletes: Vec::new(),
            link_deletes: Vec::new(),
            node_deletes: Vec::new(),
            node_inserts: Vec::new(),
            edge_inserts: Vec::new(),
            edge_updates: Vec::new(),
            link_inserts: Vec::new(),
            link_updates: Vec::new(),
            node_updates: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Whether committing it would change nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many rows and events it writes: what a store that injects
    /// faults counts, and a measure of a commit's size.
    pub fn len(&self) -> usize {
        self.edge_deletes.len()
            + self.link_deletes.len()
            + self.node_deletes.len()
            + self.node_inserts.len()
            + self.edge_inserts.len()
            + self.edge_updates.len()
            + self.link_inserts.len()
            + self.link_updates.len()
            + self.node_updates.len()
            + self.events.len()
    }
}
