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
mod relations;
mod slot;
mod table;

use std::cell::Cell;
use std::cmp::Ordering;

use follow_core::{Error, NodeId, NodeRecord};

use crate::broken::broken;
use crate::events::EventLog;
use crate::paged::Paged;
use crate::seq::{Pool, Seq};

use entries::{Back, Out};
use names::Names;
pub(crate) use relations::{NodeExtras, Relations};
pub(crate) use slot::NodeInfo;
use slot::Slot;

/// A tenant's graph.
#[derive(Debug, Default)]
pub(crate) struct Tenant {
    names: Names,
    /// Indexed by node number.
    slots: Paged<Slot>,
    /// The registered nodes in byte order of their ids, for the nodes walk.
    node_order: Seq<IdOrderEntry>,
    /// The blocks of the lists (see [`crate::seq`]).
    out_pool: Pool<Out>,
    back_pool: Pool<Back>,
    order_pool: Pool<IdOrderEntry>,
    /// The id order's chunk of the latest registration: a batch registers
    /// its new nodes in id order, so the next one is at or after it.
    order_finger: usize,
    pub(crate) events: EventLog,
    /// Links, edge options, link counts and locked flags.
    pub(crate) relations: Relations,
}

impl Tenant {
    /// The slot of a number handed out.
    ///
    /// # Errors
    /// `internal` for a number that has none.
    fn slot(&self, node: u32) -> Result<&Slot, Error> {
        self.slots
            .get(node as usize)
            .ok_or_else(|| broken(format_args!("node number {node} has no slot")))
    }

    /// The id a number names, if it names one.
    fn try_name(&self, node: u32) -> Option<&str> {
        self.names.at(self.slots.get(node as usize)?.name_at)
    }

    /// The id a number names.
    ///
    /// # Errors
    /// `internal` for a number that names none.
    pub(crate) fn name(&self, node: u32) -> Result<&str, Error> {
        self.try_name(node).ok_or_else(|| unnamed(node))
    }

    /// The number of a registered node.
    pub(crate) fn registered(&self, id: &str) -> Result<Option<u32>, Error> {
        match self.names.find(id)? {
            Some(node) => self.if_registered(node),
            None => Ok(None),
        }
    }

    /// The numbers of two registered nodes, looked up side by side.
    pub(crate) fn registered_two(
        &self,
        a: &str,
        b: &str,
    ) -> Result<(Option<u32>, Option<u32>), Error> {
        let (a, b) = self.names.find_two(a, b)?;
        let registered = |node: Option<u32>| match node {
            Some(node) => self.if_registered(node),
            None => Ok(None),
        };
        Ok((registered(a)?, registered(b)?))
    }

    /// `node`, if it is registered.
    pub(crate) fn if_registered(&self, node: u32) -> Result<Option<u32>, Error> {
        Ok(self.slot(node)?.is_registered().then_some(node))
    }

    /// The number of `id`, handing out the next one (with an empty slot) if
    /// it is new.
    ///
    /// # Errors
    /// `unavailable` once the tenant's ids fill 4 GiB or 2³² numbers.
    pub(crate) fn intern(&mut self, id: &str) -> Result<u32, Error> {
        if let Some(node) = self.names.find(id)? {
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

    /// A node's own record, if it is registered.
    pub(crate) fn info(&self, node: u32) -> Result<Option<NodeInfo>, Error> {
        Ok(Some(self.slot(node)?.info()).filter(NodeInfo::is_registered))
    }

    /// A registered node's own record.
    ///
    /// # Errors
    /// `internal` if `node` is not registered: a list or the id order
    /// names it, and lists join registered nodes only.
    pub(crate) fn registered_info(&self, node: u32) -> Result<NodeInfo, Error> {
        self.info(node)?.ok_or_else(|| {
            broken(format_args!(
                "node number {node} is listed but not registered"
            ))
        })
    }

    /// A node's record as the trait answers it, if it is registered.
    pub(crate) fn record(&self, node: u32) -> Result<Option<NodeRecord>, Error> {
        match self.info(node)? {
            Some(info) => self.record_of(node, info).map(Some),
            None => Ok(None),
        }
    }

    /// The record of `node`, whose own record is `info`.
    pub(crate) fn record_of(&self, node: u32, info: NodeInfo) -> Result<NodeRecord, Error> {
        Ok(self.record_as(self.node_id(node)?, node, info))
    }

    /// The record of `node`, whose id is `id` and own record `info`: for a
    /// caller that holds the id already, which then costs no copy.
    pub(crate) fn record_as(&self, id: NodeId, node: u32, info: NodeInfo) -> NodeRecord {
        let extras = self.relations.extras(node);
        NodeRecord {
            id,
            registered_at: info.registered_at(),
            last_active: info.last_active(),
            counts: info.counts(),
            locked: extras.locked,
            links: extras.links,
        }
    }

    pub(crate) fn node_id(&self, node: u32) -> Result<NodeId, Error> {
        NodeId::new(self.name(node)?).map_err(|cause| broken("bad stored id").with_source(cause))
    }

    /// Sets a node's record, or unregisters it with `None`, keeping the id
    /// order in step. Answers the record it replaced.
    pub(crate) fn set_info(
        &mut self,
        node: u32,
        info: Option<NodeInfo>,
    ) -> Result<Option<NodeInfo>, Error> {
        let slot = self
            .slots
            .get_mut(node as usize)
            .ok_or_else(|| broken(format_args!("node number {node} has no slot")))?;
        let before = Some(slot.info()).filter(NodeInfo::is_registered);
        let info = info.unwrap_or(NodeInfo::ABSENT);
        slot.set_info(info);
        // The order and its pool are taken out for the change, so that the
        // comparisons can read every id; they go back whatever happens.
        let mut order = std::mem::take(&mut self.node_order);
        let mut pool = std::mem::take(&mut self.order_pool);
        let mut finger = self.order_finger;
        let was_registered = before.is_some();
        let changed = self.change_order(
            &mut order,
            &mut pool,
            &mut finger,
            node,
            was_registered,
            info,
        );
        self.node_order = order;
        self.order_pool = pool;
        self.order_finger = finger;
        changed.map(|()| before)
    }

    /// Adds `node` to the id order or takes it out, as its registration
    /// changed.
    fn change_order(
        &self,
        order: &mut Seq<IdOrderEntry>,
        pool: &mut Pool<IdOrderEntry>,
        finger: &mut usize,
        node: u32,
        was_registered: bool,
        info: NodeInfo,
    ) -> Result<(), Error> {
        let names = Collation::new(self);
        let name = self.name(node)?;
        let entry = IdOrderEntry::new(name, node);
        let by_name = |e: &IdOrderEntry| e.cmp_to(&names, entry.prefix, name);
        match (was_registered, info.is_registered()) {
            (false, true) => order.insert_from(pool, entry, by_name, finger)?,
            (true, false) => {
                order.remove(pool, by_name)?.ok_or_else(|| {
                    broken(format_args!(
                        "registered node number {node} is missing from the id order"
                    ))
                })?;
            }
            _ => {}
        }
        names.check()
    }

    /// The registered nodes in byte order of their ids, strictly after `after`.
    pub(crate) fn nodes_after<'a>(
        &'a self,
        after: Option<&'a str>,
    ) -> Result<impl Iterator<Item = u32> + 'a, Error> {
        let names = Collation::new(self);
        let after = after.map(|after| (prefix(after), after));
        let seek = |e: &IdOrderEntry| match after {
            Some((prefix, after)) => e.cmp_to(&names, prefix, after),
            None => Ordering::Greater,
        };
        let nodes = self
            .node_order
            .after(&self.order_pool, seek)?
            .map(|e| e.node);
        names.check().map(|()| nodes)
    }
}

/// An entry of the id order: a node and its id's first eight bytes, which
/// decide most comparisons without reading the id from the arena (for a
/// registration into millions of nodes, two cache misses a comparison).
#[derive(Debug, Clone, Copy, PartialEq)]
struct IdOrderEntry {
    /// The id's first bytes, zero-padded: ids in byte order have their
    /// prefixes in the same order or equal.
    prefix: [u8; 8],
    node: u32,
}

impl IdOrderEntry {
    fn new(id: &str, node: u32) -> Self {
        IdOrderEntry {
            prefix: prefix(id),
            node,
        }
    }

    /// How this entry's id compares to `id`, whose prefix is `prefix`: by
    /// the prefixes, and by the ids themselves when those are equal.
    fn cmp_to(&self, names: &Collation<'_>, prefix: [u8; 8], id: &str) -> Ordering {
        self.prefix
            .cmp(&prefix)
            .then_with(|| names.name(self.node).cmp(id))
    }
}

impl crate::seq::Entry for IdOrderEntry {
    const INDEXED: bool = false;
    fn node(&self) -> u32 {
        self.node
    }
}

/// The first eight bytes of `id`, zero-padded.
fn prefix(id: &str) -> [u8; 8] {
    let mut prefix = [0; 8];
    for (to, from) in prefix.iter_mut().zip(id.as_bytes()) {
        *to = *from;
    }
    prefix
}

/// The error for a number that names no id.
fn unnamed(node: u32) -> Error {
    broken(format_args!("node number {node} names no id"))
}

/// The ids of a tenant's numbers, for comparisons. A comparison must answer
/// an order, so a number that names no id compares as the empty id and is
/// noted; the seek or change it was part of then fails at [`Self::check`].
pub(crate) struct Collation<'a> {
    tenant: &'a Tenant,
    unnamed: Cell<Option<u32>>,
}

impl<'a> Collation<'a> {
    pub(crate) fn new(tenant: &'a Tenant) -> Self {
        Collation {
            tenant,
            unnamed: Cell::new(None),
        }
    }

    /// The id `node` names, or "" (noted) if none.
    pub(crate) fn name(&self, node: u32) -> &'a str {
        self.tenant.try_name(node).unwrap_or_else(|| {
            self.unnamed.set(Some(node));
            ""
        })
    }

    /// Whether every number compared named an id.
    ///
    /// # Errors
    /// `internal` naming the first number that did not.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match self.unnamed.get() {
            Some(node) => Err(unnamed(node)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_stable_and_resolve_back() -> Result<(), Error> {
        let mut tenant = Tenant::default();
        assert_eq!(tenant.names.find("alice")?, None);
        let alice = tenant.intern("alice")?;
        let bob = tenant.intern("bob")?;
        assert_eq!((alice, bob), (0, 1));
        assert_eq!(tenant.intern("alice")?, alice);
        assert_eq!(tenant.names.find("bob")?, Some(bob));
        assert_eq!(tenant.name(alice)?, "alice");
        assert_eq!(tenant.name(bob)?, "bob");
        assert_eq!(tenant.registered("bob")?, None);
        for n in 0..10_000 {
            tenant.intern(&format!("u{n}"))?;
        }
        let u9999 = tenant.names.find("u9999")?.map(|n| tenant.name(n));
        assert_eq!(u9999.transpose()?, Some("u9999"));
        assert_eq!(tenant.name(bob)?, "bob");
        Ok(())
    }

    fn is_internal<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
        match result {
            Err(error) => {
                assert_eq!(error.kind(), follow_core::ErrorKind::Internal, "{what}");
                assert!(
                    error.to_string().contains("memory store"),
                    "{what}: {error}"
                );
            }
            Ok(value) => panic!("{what}: answered {value:?}, not an internal error"),
        }
    }

    /// A number never handed out is a broken invariant wherever it is read,
    /// never an empty id or an absent node.
    #[test]
    fn a_number_without_a_slot_is_an_internal_error() -> Result<(), Error> {
        let mut tenant = Tenant::default();
        let alice = tenant.intern("alice")?;
        tenant.set_info(alice, Some(NodeInfo::new(follow_core::Timestamp::EPOCH)))?;
        is_internal(tenant.name(7), "name");
        is_internal(tenant.node_id(7), "node_id");
        is_internal(tenant.info(7), "info");
        is_internal(tenant.record(7), "record");
        is_internal(tenant.set_info(7, None), "set_info");
        is_internal(tenant.set_edge(alice, 7, None), "set_edge");
        is_internal(tenant.edge(7, alice), "edge from");
        let walk = tenant.walk(follow_core::ListKind::Followers, 7, None);
        is_internal(walk.map(|walk| walk.count()), "walk");
        // A registered node that is not in the id order.
        tenant.node_order = Seq::default();
        is_internal(tenant.set_info(alice, None), "unregister");
        Ok(())
    }

    /// A registered node's info is only ever read for a registered node.
    #[test]
    fn a_listed_node_that_is_not_registered_is_an_internal_error() -> Result<(), Error> {
        let mut tenant = Tenant::default();
        let alice = tenant.intern("alice")?;
        is_internal(tenant.registered_info(alice), "registered_info");
        assert_eq!(tenant.info(alice)?, None);
        assert_eq!(tenant.record(alice)?, None);
        tenant.set_info(alice, Some(NodeInfo::new(follow_core::Timestamp::EPOCH)))?;
        assert!(tenant.registered_info(alice)?.is_registered());
        Ok(())
    }

    /// The id order holds the registered nodes, whatever order they come
    /// and go in; a number in it that names no id fails the walk.
    #[test]
    fn the_id_order_follows_registration() -> Result<(), Error> {
        let mut tenant = Tenant::default();
        let at = NodeInfo::new(follow_core::Timestamp::EPOCH);
        let walk = |tenant: &Tenant, after| -> Result<Vec<String>, Error> {
            tenant
                .nodes_after(after)?
                .map(|node| tenant.name(node).map(str::to_owned))
                .collect()
        };
        let [carol, alice, bob] = ["carol", "alice", "bob"].map(|id| tenant.intern(id));
        let (carol, alice, bob) = (carol?, alice?, bob?);
        for node in [carol, alice, bob] {
            assert_eq!(tenant.set_info(node, Some(at))?, None);
        }
        // Setting a record again changes nothing in the order.
        assert_eq!(tenant.set_info(alice, Some(at))?, Some(at));
        assert_eq!(walk(&tenant, None)?, ["alice", "bob", "carol"]);
        assert_eq!(walk(&tenant, Some("alice"))?, ["bob", "carol"]);
        assert_eq!(tenant.set_info(bob, None)?, Some(at));
        assert_eq!(tenant.set_info(bob, None)?, None);
        assert_eq!(walk(&tenant, None)?, ["alice", "carol"]);
        // Ids alike in their first eight bytes and beyond, registered out
        // of order, among shorter and longer ones.
        let alike = [
            "carolinee",
            "caroline",
            "carolina-b",
            "carolina-a",
            "carolina",
            "carol-",
        ];
        for id in alike {
            let node = tenant.intern(id)?;
            tenant.set_info(node, Some(at))?;
        }
        let mut sorted: Vec<&str> = alike.iter().copied().chain(["alice", "carol"]).collect();
        sorted.sort_unstable();
        assert_eq!(walk(&tenant, None)?, sorted);
        assert_eq!(
            walk(&tenant, Some("carolina-a"))?,
            ["carolina-b", "caroline", "carolinee"]
        );
        assert_eq!(walk(&tenant, Some("carolin"))?.len(), 5);
        let caroline = tenant.registered("caroline")?;
        tenant.set_info(caroline.unwrap_or(u32::MAX), None)?;
        assert_eq!(walk(&tenant, Some("carolina-b"))?, ["carolinee"]);
        // A number naming no id, whose prefix ties with the seek's.
        let mut pool = std::mem::take(&mut tenant.order_pool);
        let mut order = std::mem::take(&mut tenant.node_order);
        let unnamed = IdOrderEntry::new("d", 99);
        order.insert(&mut pool, unnamed, |e| e.prefix.cmp(&unnamed.prefix))?;
        (tenant.order_pool, tenant.node_order) = (pool, order);
        // The seek meets it; reading the order without a seek does not.
        assert_eq!(tenant.nodes_after(None)?.count(), 8);
        assert!(tenant.nodes_after(Some("d")).is_err());
        Ok(())
    }
}
