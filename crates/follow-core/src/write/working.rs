//! The batch's working copy of the rows it named: read from the loaded
//! facts, changed by the rules, turned into a [`ChangeSet`] at the end.

use super::{ChangeSet, EdgeKey, Facts, Keys, NodeUpdate};
use crate::{
    CountDelta, Counts, Edge, Error, Link, LinkKey, NewEvent, NodeId, NodeRecord, TenantId,
    Timestamp,
};

/// One row as the batch sees it.
#[derive(Debug)]
struct Slot<T> {
    /// As loaded.
    before: Option<T>,
    /// Now.
    now: Option<T>,
    /// Whether the row was deleted at some point of the batch: a row present
    /// before that is deleted and created again is written as both.
    vanished: bool,
}

impl<T> Slot<T> {
    fn new(before: Option<T>, now: Option<T>) -> Self {
        Slot {
            before,
            now,
            vanished: false,
        }
    }

    fn set(&mut self, value: Option<T>) {
        if value.is_none() && self.before.is_some() {
            self.vanished = true;
        }
        self.now = value;
    }
}

impl<T: Copy + PartialEq> Slot<T> {
    /// What committing the slot writes.
    fn write(&self) -> RowWrite<T> {
        match (self.before, self.now) {
            (_, None) if self.vanished => RowWrite::Delete,
            (Some(_), Some(now)) if self.vanished => RowWrite::Replace(now),
            (None, Some(now)) => RowWrite::Insert(now),
            (Some(before), Some(now)) if before != now => RowWrite::Update(now),
            _ => RowWrite::Keep,
        }
    }
}

/// What committing one edge or link slot writes.
#[derive(Debug, PartialEq)]
enum RowWrite<T> {
    /// Nothing: the row is as loaded.
    Keep,
    /// The stored row goes.
    Delete,
    /// A row that was absent is created.
    Insert(T),
    /// The stored row goes and another is created in its place: the batch
    /// deleted it and created it again, which must read as both.
    Replace(T),
    /// The stored row stays, with a new value.
    Update(T),
}

/// The rows of one batch, in the order of its keys; see the module docs.
///
/// The keys are sorted, so a row is found by binary search and the change
/// set comes out in key order without sorting or hashing: for the small
/// batches of live traffic that is cheaper than a hash map, and for an
/// import no worse.
#[derive(Debug)]
pub(super) struct Working<'k> {
    keys: &'k Keys,
    nodes: Vec<Slot<NodeRecord>>,
    edges: Vec<Slot<Edge>>,
    links: Vec<Slot<Link>>,
    /// Whether any link slot has held a row: until one does, every link
    /// read is absent without a search. A batch of follows among accounts
    /// without links (an import, most live traffic) never searches.
    any_link: bool,
    /// The slots last found or expected, newest first: a rule reads and
    /// writes the same two nodes and two edges several times, and a
    /// comparison with a key just read is cheaper than a binary search
    /// through a large batch's keys (an import's hundred thousand).
    recent_nodes: [usize; 2],
    recent_edges: [usize; 2],
    events: Vec<NewEvent>,
}

fn unnamed(what: &str, key: &dyn std::fmt::Display) -> Error {
    Error::internal(format!(
        "the decision read {what} {key}, which the batch's keys do not name"
    ))
}

impl<'k> Working<'k> {
    /// A slot for every key, holding what `facts` has for it (rows for keys
    /// the batch does not name are ignored).
    pub(super) fn new(keys: &'k Keys, facts: Facts) -> Self {
        let Facts {
            nodes,
            edges,
            links,
        } = facts.sorted();
        let mut stored = nodes.into_iter().peekable();
        let nodes = keys
            .nodes
            .iter()
            .map(|id| {
                while stored.next_if(|row| row.id < *id).is_some() {}
                let row = stored.next_if(|row| row.id == *id);
                Slot::new(row.clone(), row)
            })
            .collect();
        let mut stored = edges.into_iter().peekable();
        let edges = keys
            .edges
            .iter()
            .map(|key| {
                while stored.next_if(|(k, _)| k < key).is_some() {}
                let row = stored.next_if(|(k, _)| k == key).map(|(_, edge)| edge);
                Slot::new(row, row)
            })
            .collect();
        let any_link = !links.is_empty();
        let mut stored = links.into_iter().peekable();
        let links = keys
            .links
            .iter()
            .map(|key| {
                while stored.next_if(|(k, _)| k < key).is_some() {}
                let row = stored.next_if(|(k, _)| k == key).map(|(_, link)| link);
                Slot::new(row, row)
            })
            .collect();
        Working {
            keys,
            nodes,
            edges,
            links,
            any_link,
            recent_nodes: [usize::MAX; 2],
            recent_edges: [usize::MAX; 2],
            events: Vec::new(),
        }
    }

    /// The next command's first two nodes and edges are at these indices
    /// of the keys (any index: a wrong one only costs a search).
    pub(super) fn expect(&mut self, nodes: [usize; 2], edges: [usize; 2]) {
        self.recent_nodes = nodes;
        self.recent_edges = edges;
    }

    fn node_slot(&mut self, id: &NodeId) -> Result<&mut Slot<NodeRecord>, Error> {
        let index = recall(&mut self.recent_nodes, &self.keys.nodes, id)
            .map_err(|_| unnamed("node", id))?;
        self.nodes.get_mut(index).ok_or_else(|| unnamed("node", id))
    }

    fn edge_slot(&mut self, key: &EdgeKey) -> Result<&mut Slot<Edge>, Error> {
        let index = recall(&mut self.recent_edges, &self.keys.edges, key)
            .map_err(|_| unnamed("edge", key))?;
        self.edges
            .get_mut(index)
            .ok_or_else(|| unnamed("edge", key))
    }

    fn link_slot(&mut self, key: &LinkKey) -> Result<&mut Slot<Link>, Error> {
        let index = self
            .keys
            .links
            .binary_search(key)
            .map_err(|_| unnamed("link", key))?;
        self.links
            .get_mut(index)
            .ok_or_else(|| unnamed("link", key))
    }

    /// The node as the batch sees it.
    pub(super) fn node(&mut self, id: &NodeId) -> Result<Option<&NodeRecord>, Error> {
        Ok(self.node_slot(id)?.now.as_ref())
    }

    /// Registers an absent node.
    pub(super) fn insert_node(&mut self, node: NodeRecord) -> Result<(), Error> {
        let id = node.id.clone();
        self.node_slot(&id)?.set(Some(node));
        Ok(())
    }

    /// Deletes a node no edge touches.
    pub(super) fn delete_node(&mut self, id: &NodeId) -> Result<(), Error> {
        self.node_slot(id)?.set(None);
        Ok(())
    }

    /// The node's record, which must be registered.
    fn record_mut(&mut self, id: &NodeId) -> Result<&mut NodeRecord, Error> {
        self.node_slot(id)?
            .now
            .as_mut()
            .ok_or_else(|| Error::internal(format!("node {id} is not registered")))
    }

    /// Sets a registered node's last activity.
    pub(super) fn set_last_active(&mut self, id: &NodeId, at: Timestamp) -> Result<(), Error> {
        self.record_mut(id)?.last_active = Some(at);
        Ok(())
    }

    /// Adds `delta` to a registered node's counters.
    ///
    /// # Errors
    /// `internal` when a counter would go below zero: the stored counters
    /// disagree with the edges.
    pub(super) fn add_counts(&mut self, id: &NodeId, delta: CountDelta) -> Result<(), Error> {
        let record = self.record_mut(id)?;
        record.counts = record.counts.apply(delta)?;
        Ok(())
    }

    /// Adds `delta` to a registered node's link count.
    ///
    /// # Errors
    /// `internal` when the count would go below zero.
    pub(super) fn add_links(&mut self, id: &NodeId, delta: i64) -> Result<(), Error> {
        let record = self.record_mut(id)?;
        record.links = record.links.checked_add_signed(delta).ok_or_else(|| {
            Error::internal(format!(
                "link count {} of {id} cannot change by {delta}: counters disagree with links",
                record.links
            ))
        })?;
        Ok(())
    }

    /// Sets a registered node's locked flag.
    pub(super) fn set_locked(&mut self, id: &NodeId, locked: bool) -> Result<(), Error> {
        self.record_mut(id)?.locked = locked;
        Ok(())
    }

    /// The link as the batch sees it, expired or not.
    pub(super) fn link(&mut self, key: &LinkKey) -> Result<Option<Link>, Error> {
        if !self.any_link {
            return Ok(None);
        }
        Ok(self.link_slot(key)?.now)
    }

    /// Creates or replaces a link.
    pub(super) fn put_link(&mut self, key: &LinkKey, link: Link) -> Result<(), Error> {
        self.link_slot(key)?.set(Some(link));
        self.any_link = true;
        Ok(())
    }

    /// Deletes a link.
    pub(super) fn delete_link(&mut self, key: &LinkKey) -> Result<(), Error> {
        self.link_slot(key)?.set(None);
        Ok(())
    }

    /// The edge as the batch sees it.
    pub(super) fn edge(&mut self, key: &EdgeKey) -> Result<Option<Edge>, Error> {
        Ok(self.edge_slot(key)?.now)
    }

    /// Creates or replaces an edge.
    pub(super) fn put_edge(&mut self, key: &EdgeKey, edge: Edge) -> Result<(), Error> {
        self.edge_slot(key)?.set(Some(edge));
        Ok(())
    }

    /// Deletes an edge.
    pub(super) fn delete_edge(&mut self, key: &EdgeKey) -> Result<(), Error> {
        self.edge_slot(key)?.set(None);
        Ok(())
    }

    /// Appends an event; answers its index among the batch's events.
    pub(super) fn append_event(&mut self, event: NewEvent) -> usize {
        self.events.push(event);
        self.events.len() - 1
    }

    /// The change set that takes the loaded rows to the working ones, each
    /// list in key order (the slots are).
    pub(super) fn into_changes(self, tenant: TenantId) -> ChangeSet {
        let mut changes = ChangeSet::empty(tenant);
        for (id, slot) in self.keys.nodes.iter().zip(self.nodes) {
            match (slot.before, slot.now) {
                (Some(_), now) if slot.vanished => {
                    changes.node_deletes.push(id.clone());
                    changes.node_inserts.extend(now);
                }
                (Some(_), None) => changes.node_deletes.push(id.clone()),
                (None, Some(now)) => changes.node_inserts.push(now),
                (Some(before), Some(now)) => {
                    let update = NodeUpdate {
                        id: id.clone(),
                        counts: difference(before.counts, now.counts),
                        links: signed(now.links).saturating_sub(signed(before.links)),
                        locked: Some(now.locked).filter(|locked| *locked != before.locked),
                        last_active: now
                            .last_active
                            .filter(|_| now.last_active != before.last_active),
                    };
                    if !update.counts.is_zero()
                        || update.links != 0
                        || update.locked.is_some()
                        || update.last_active.is_some()
                    {
                        changes.node_updates.push(update);
                    }
                }
                (None, None) => {}
            }
        }
        list_writes(
            &self.keys.edges,
            &self.edges,
            &mut changes.edge_deletes,
            &mut changes.edge_inserts,
            &mut changes.edge_updates,
        );
        list_writes(
            &self.keys.links,
            &self.links,
            &mut changes.link_deletes,
            &mut changes.link_inserts,
            &mut changes.link_updates,
        );
        changes.events = self.events;
        changes
    }
}

/// Adds what each slot writes to the change set's lists of its kind of
/// row, in the keys' order.
fn list_writes<K: Clone, T: Copy + PartialEq>(
    keys: &[K],
    slots: &[Slot<T>],
    deletes: &mut Vec<K>,
    inserts: &mut Vec<(K, T)>,
    updates: &mut Vec<(K, T)>,
) {
    for (key, slot) in keys.iter().zip(slots) {
        match slot.write() {
            RowWrite::Keep => {}
            RowWrite::Delete => deletes.push(key.clone()),
            RowWrite::Insert(now) => inserts.push((key.clone(), now)),
            RowWrite::Replace(now) => {
                deletes.push(key.clone());
                inserts.push((key.clone(), now));
            }
            RowWrite::Update(now) => updates.push((key.clone(), now)),
        }
    }
}

/// The index of `key` in the sorted `keys`: one of the `recent` indices if
/// it holds `key`, else by binary search, then remembered as the newest.
fn recall<K: Ord>(recent: &mut [usize; 2], keys: &[K], key: &K) -> Result<usize, usize> {
    let [newest, older] = *recent;
    if keys.get(newest) == Some(key) {
        return Ok(newest);
    }
    if keys.get(older) == Some(key) {
        *recent = [older, newest];
        return Ok(older);
    }
    let index = keys.binary_search(key)?;
    *recent = [index, newest];
    Ok(index)
}

/// A count as `i64`; a count past `i64::MAX` saturates (see [`difference`]).
fn signed(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// `after - before`, counter by counter. Counters stay far below `i64::MAX`
/// (they count edges), so the casts cannot wrap on any real graph; a
/// saturated value would fail the store's own checks rather than wrap.
fn difference(before: Counts, after: Counts) -> CountDelta {
    let diff = |b: u64, a: u64| -> i64 { signed(a).saturating_sub(signed(b)) };
    CountDelta {
        following: diff(before.following, after.following),
        followers: diff(before.followers, after.followers),
        mutual: diff(before.mutual, after.mutual),
    }
}

#[cfg(test)]
mod tests {
    use super::recall;

    /// Whatever was found before, a key is answered with its own index,
    /// and an absent key with where it would go.
    #[test]
    fn recall_answers_each_key_its_own_index() {
        let keys = ["a", "c", "e", "g"];
        let mut recent = [usize::MAX; 2];
        for key in ["c", "e", "c", "e", "g", "a", "a", "g", "c"] {
            let expected = keys.binary_search(&key);
            assert_eq!(recall(&mut recent, &keys, &key), expected, "key {key}");
            if let Ok(index) = expected {
                assert_eq!(recent[0], index, "the key found is the newest");
            }
        }
        assert_eq!(recall(&mut recent, &keys, &"d"), Err(2));
        assert_eq!(recall(&mut recent, &keys, &"c"), Ok(1));
    }
}
