//! One tenant's graph: interned ids ([`names`]), one slot per node number
//! holding its record and the headers of its two lists ([`slot`]), the list
//! entries ([`entries`]), the edge operations that keep the lists in step
//! ([`edges`]), the registered nodes in id order, and the outbox.
//!
//! Ids are interned to dense numbers and everything else refers to numbers.
//! Numbers are never freed or reused: events outlive the nodes they name and
//! are kept forever, so a name stays resolvable as long as the store lives.
//! A removed node keeps its number; registering it again reuses it. The
//! layout and its costs are in docs/storage-memory.md.

mod edges;
mod entries;
mod names;
mod slot;
mod table;

use std::cmp::Ordering;

use follow_core::{Error, NodeId, NodeRecord, Timestamp};

use crate::events::EventLog;
use crate::paged::Paged;
use crate::seq::{Pool, Seq};

use entries::{Back, Out};
use names::Names;
use slot::Slot;
pub(crate) use slot::{NodeInfo, timestamp};

/// A tenant's graph.
#[derive(Debug, Default)]
pub(crate) struct Tenant {
    names: Names,
    /// Indexed by node number.
    slots: Paged<Slot>,
    /// The registered nodes in byte order of their ids, for the nodes walk.
    node_order: Seq<u32>,
    /// The blocks of the lists (see [`crate::seq`]).
    out_pool: Pool<Out>,
    back_pool: Pool<Back>,
    order_pool: Pool<u32>,
    pub(crate) events: EventLog,
}

impl Tenant {
    fn slot(&self, node: u32) -> Option<&Slot> {
        self.slots.get(node as usize)
    }

    /// The id a number names (empty for a number never handed out).
    pub(crate) fn name(&self, node: u32) -> &str {
        self.slot(node)
            .map_or("", |slot| self.names.at(slot.name_at))
    }

    /// The number of `id`, if it was ever interned.
    fn number(&self, id: &str) -> Option<u32> {
        self.names.find(id)
    }

    /// The number of a registered node.
    pub(crate) fn registered(&self, id: &str) -> Option<u32> {
        self.number(id)
            .filter(|&node| self.slot(node).is_some_and(Slot::is_registered))
    }

    /// The numbers of two registered nodes, looked up side by side.
    pub(crate) fn registered_two(&self, a: &str, b: &str) -> (Option<u32>, Option<u32>) {
        let (a, b) = self.names.find_two(a, b);
        let registered = |node: Option<u32>| {
            node.filter(|&node| self.slot(node).is_some_and(Slot::is_registered))
        };
        (registered(a), registered(b))
    }

    /// The number of `id`, handing out the next one (with an empty slot) if
    /// it is new.
    ///
    /// # Errors
    /// `unavailable` once the tenant's ids fill 4 GiB or 2³² numbers.
    pub(crate) fn intern(&mut self, id: &str) -> Result<u32, Error> {
        if let Some(node) = self.number(id) {
            return Ok(node);
        }
        // u32::MAX is not handed out: the id table stores numbers plus one.
        let node = u32::try_from(self.slots.len())
            .ok()
            .filter(|&node| node != u32::MAX)
            .ok_or_else(names::full)?;
        let at = self.names.add(id, node)?;
        self.slots.push(Slot::new(at));
        Ok(node)
    }

    /// A registered node's own record.
    pub(crate) fn info(&self, node: u32) -> Option<NodeInfo> {
        self.slot(node)
            .map(Slot::info)
            .filter(NodeInfo::is_registered)
    }

    /// A registered node's record, as the trait answers it.
    pub(crate) fn record(&self, node: u32) -> Result<Option<NodeRecord>, Error> {
        let Some(info) = self.info(node) else {
            return Ok(None);
        };
        Ok(Some(NodeRecord {
            id: self.node_id(node)?,
            registered_at: info.registered_at(),
            last_active: info.last_active(),
            counts: info.counts(),
        }))
    }

    pub(crate) fn node_id(&self, node: u32) -> Result<NodeId, Error> {
        NodeId::new(self.name(node))
            .map_err(|cause| Error::internal("memory store: bad stored id").with_source(cause))
    }

    /// Sets a node's record, or unregisters it with `None`, keeping the id
    /// order in step. Answers the record it replaced.
    pub(crate) fn set_info(&mut self, node: u32, info: Option<NodeInfo>) -> Option<NodeInfo> {
        let slot = self.slots.get_mut(node as usize)?;
        let before = Some(slot.info()).filter(NodeInfo::is_registered);
        let info = info.unwrap_or(NodeInfo::ABSENT);
        slot.set_info(info);
        let mut order = std::mem::take(&mut self.node_order);
        let mut pool = std::mem::take(&mut self.order_pool);
        let name = self.name(node);
        let by_name = |e: &u32| self.name(*e).cmp(name);
        match (before.is_some(), info.is_registered()) {
            (false, true) => order.insert(&mut pool, node, by_name),
            (true, false) => {
                order.remove(&mut pool, by_name);
            }
            _ => {}
        }
        self.node_order = order;
        self.order_pool = pool;
        before
    }

    /// Since when a registered node counts as inactive.
    pub(crate) fn active_at(&self, node: u32) -> Option<Timestamp> {
        self.info(node).map(|info| info.active_at())
    }

    /// The registered nodes in byte order of their ids, strictly after `after`.
    pub(crate) fn nodes_after<'a>(
        &'a self,
        after: Option<&'a str>,
    ) -> impl Iterator<Item = u32> + 'a {
        let seek = move |e: &u32| match after {
            Some(after) => self.name(*e).cmp(after),
            None => Ordering::Greater,
        };
        self.node_order.after(&self.order_pool, seek).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_stable_and_resolve_back() -> Result<(), Error> {
        let mut tenant = Tenant::default();
        assert_eq!(tenant.number("alice"), None);
        let alice = tenant.intern("alice")?;
        let bob = tenant.intern("bob")?;
        assert_eq!((alice, bob), (0, 1));
        assert_eq!(tenant.intern("alice")?, alice);
        assert_eq!(tenant.number("bob"), Some(bob));
        assert_eq!(tenant.name(alice), "alice");
        assert_eq!(tenant.name(bob), "bob");
        assert_eq!(tenant.name(7), "");
        assert_eq!(tenant.registered("bob"), None);
        for n in 0..10_000 {
            tenant.intern(&format!("u{n}"))?;
        }
        assert_eq!(
            tenant.number("u9999").map(|n| tenant.name(n)),
            Some("u9999")
        );
        assert_eq!(tenant.name(bob), "bob");
        Ok(())
    }
}
