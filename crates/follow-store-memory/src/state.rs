//! The stored graph: per tenant, interned ids, one 64-byte slot per node
//! holding its record and its two ordered lists, and the outbox.
//!
//! An edge follower → target is stored once in full, in the follower's
//! following list (an [`Out`], 12 bytes), and once as a back reference in the
//! target's back list (a follower [`Back`], 12 bytes); a mutual edge also has
//! a mutual [`Back`] in the follower's back list, keyed by when it became
//! mutual. Lists are ordered as pages read them (newest first, ties by the
//! id's bytes), so a page is a seek and a walk (see [`crate::seq`]). The
//! layout and its costs are in docs/storage-memory.md.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

use follow_core::{
    Counts, Edge, Error, ListKind, MAX_ID_BYTES, NodeId, NodeRecord, TenantId, Timestamp,
};
use hashbrown::HashTable;

use crate::events::EventLog;
use crate::seq::{Entry, Pool, Seq};

/// A timestamp as microseconds; timestamps are never negative.
pub(crate) fn micros(at: Timestamp) -> u64 {
    at.as_unix_micros().max(0).unsigned_abs()
}

/// The timestamp of stored microseconds (stored values come from
/// [`micros`], so the saturation never bites).
pub(crate) fn timestamp(micros: u64) -> Timestamp {
    Timestamp::EPOCH.saturating_add(Duration::from_micros(micros))
}

/// A `u64` as two halves, so that entries pack at 4-byte alignment (an
/// entry is 12 bytes instead of 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Split64([u32; 2]);

impl Split64 {
    fn new(value: u64) -> Self {
        Split64([(value >> 32) as u32, value as u32])
    }

    fn get(self) -> u64 {
        (u64::from(self.0[0]) << 32) | u64::from(self.0[1])
    }
}

const MUTED: u64 = 1 << 63;
const MUTUAL: u64 = 1 << 62;
const FLAGS: u64 = MUTED | MUTUAL;
const NONE: u64 = u64::MAX;

/// An entry of a list ordered by (`since` descending, the node's id).
pub(crate) trait Ordered: Entry {
    fn since(&self) -> u64;
}

/// An edge as its follower's following list holds it. A mutual edge's
/// `mutual_since` is in the follower's mutuals list, which holds it anyway:
/// the flag says to look there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    /// `since` in µs (below 2⁵⁸), with [`MUTED`] and [`MUTUAL`] above it.
    since_flags: Split64,
    target: u32,
}

impl Out {
    fn new(target: u32, edge: &Edge) -> Self {
        let muted = if edge.muted { MUTED } else { 0 };
        let mutual = if edge.mutual_since.is_some() {
            MUTUAL
        } else {
            0
        };
        Out {
            since_flags: Split64::new(micros(edge.since) | muted | mutual),
            target,
        }
    }

    fn muted(&self) -> bool {
        self.since_flags.get() & MUTED != 0
    }

    fn mutual(&self) -> bool {
        self.since_flags.get() & MUTUAL != 0
    }
}

impl Entry for Out {
    const INDEXED: bool = true;
    fn node(&self) -> u32 {
        self.target
    }
}

impl Ordered for Out {
    fn since(&self) -> u64 {
        self.since_flags.get() & !FLAGS
    }
}

/// Marks a [`Back`] entry as a follower (else it is a mutual target); it
/// is the top bit of the order key, so a node's followers sort before its
/// mutuals and each list is one run of the sequence.
const FOLLOWER: u64 = 1 << 63;

/// An entry of a node's back list, which holds two lists in one sequence
/// (one 16-byte header a node, not two): its followers (the follower and the
/// edge's `since`) and its mutuals (the target and when the edge became
/// mutual). Only mutual entries are found by node, for every mutual edge
/// read; followers are only ever sought by their order key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Back {
    /// The time in µs, with [`FOLLOWER`] above it for a follower.
    key: Split64,
    node: u32,
}

impl Back {
    fn follower(since: u64, node: u32) -> Self {
        Back {
            key: Split64::new(since | FOLLOWER),
            node,
        }
    }

    fn mutual(since: u64, node: u32) -> Self {
        Back {
            key: Split64::new(since),
            node,
        }
    }

    fn is_follower(&self) -> bool {
        self.key.get() & FOLLOWER != 0
    }

    fn time(&self) -> Timestamp {
        timestamp(self.key.get() & !FOLLOWER)
    }
}

impl Entry for Back {
    const INDEXED: bool = true;
    fn node(&self) -> u32 {
        self.node
    }
    fn indexed(&self) -> bool {
        !self.is_follower()
    }
}

impl Ordered for Back {
    fn since(&self) -> u64 {
        self.key.get()
    }
}

/// A node's own record, as the undo log keeps it. `registered_at == NONE`
/// marks a number whose node is not registered (never was, or was removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeInfo {
    registered_at: u64,
    last_active: u64,
    /// following, followers, mutual. 32 bits each: a count past 2³² would
    /// need more edges than memory holds; it is refused, not wrapped.
    counts: [u32; 3],
}

impl NodeInfo {
    const ABSENT: NodeInfo = NodeInfo {
        registered_at: NONE,
        last_active: NONE,
        counts: [0; 3],
    };

    pub(crate) fn new(registered_at: Timestamp) -> Self {
        NodeInfo {
            registered_at: micros(registered_at),
            ..NodeInfo::ABSENT
        }
    }

    fn is_registered(&self) -> bool {
        self.registered_at != NONE
    }

    pub(crate) fn counts(&self) -> Counts {
        let [following, followers, mutual] = self.counts.map(u64::from);
        Counts {
            following,
            followers,
            mutual,
        }
    }

    pub(crate) fn set_counts(&mut self, counts: Counts) -> Result<(), Error> {
        let narrow = |count: u64| {
            u32::try_from(count)
                .map_err(|_| Error::unavailable("the memory store counts at most 2³² edges a node"))
        };
        self.counts = [
            narrow(counts.following)?,
            narrow(counts.followers)?,
            narrow(counts.mutual)?,
        ];
        Ok(())
    }

    pub(crate) fn last_active(&self) -> Option<Timestamp> {
        (self.last_active != NONE).then(|| timestamp(self.last_active))
    }

    pub(crate) fn set_last_active(&mut self, at: Timestamp) {
        self.last_active = micros(at);
    }

    fn active_at(&self) -> u64 {
        if self.last_active == NONE {
            self.registered_at
        } else {
            self.last_active
        }
    }
}

/// Everything of one node number: 64 bytes. The record's fields are laid
/// out flat (not as a [`NodeInfo`]) so that `name_at` fills what would be
/// padding.
#[derive(Debug)]
struct Slot {
    registered_at: u64,
    last_active: u64,
    counts: [u32; 3],
    /// Where the node's id sits in the arena: a length byte, then the id.
    /// Kept here (not in an array of its own) because a lookup reads the
    /// slot anyway: one cache miss fewer per id.
    name_at: u32,
    following: Seq<Out>,
    back: Seq<Back>,
}

impl Slot {
    fn new(name_at: u32) -> Self {
        let NodeInfo {
            registered_at,
            last_active,
            counts,
        } = NodeInfo::ABSENT;
        Slot {
            registered_at,
            last_active,
            counts,
            name_at,
            following: Seq::default(),
            back: Seq::default(),
        }
    }

    fn info(&self) -> NodeInfo {
        NodeInfo {
            registered_at: self.registered_at,
            last_active: self.last_active,
            counts: self.counts,
        }
    }

    fn set_info(&mut self, info: NodeInfo) {
        self.registered_at = info.registered_at;
        self.last_active = info.last_active;
        self.counts = info.counts;
    }
}

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

/// One item of a list walk: `since`, the other node, the mute flag.
pub(crate) type Item = (Timestamp, u32, bool);

fn name_of<'a>(arena: &'a str, slots: &[Slot], node: u32) -> &'a str {
    let Some(slot) = slots.get(node as usize) else {
        return "";
    };
    let start = slot.name_at as usize + 1;
    let len = arena.as_bytes().get(start - 1).copied().unwrap_or(0);
    arena
        .get(start..start + usize::from(len))
        .unwrap_or_default()
}

/// A tenant's graph.
///
/// Ids are interned to dense numbers: the id strings sit in one arena, each
/// after a length byte, and a hash table of numbers finds an id's number by
/// the id's hash. Numbers are never freed or reused: events outlive the nodes they
/// name and are kept forever, so a name stays resolvable as long as the
/// store lives. A removed node keeps its number; registering it again
/// reuses it.
///
/// The table hashes ids with std's SipHash-1-3 under keys drawn from the OS
/// at start-up: ids come from users, and a keyed hash keeps a crafted set of
/// ids from colliding on purpose (hash flooding).
#[derive(Debug, Default)]
pub(crate) struct Tenant {
    arena: String,
    table: HashTable<u32>,
    hasher: RandomState,
    /// Indexed by node number.
    slots: Vec<Slot>,
    /// The registered nodes in byte order of their ids, for the nodes walk.
    node_order: Seq<u32>,
    /// The blocks of the short lists (see [`crate::seq`]).
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
        name_of(&self.arena, &self.slots, node)
    }

    /// The number of `id`, if it was ever interned.
    fn number(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&node| self.name(node) == id)
            .copied()
    }

    /// The number of a registered node.
    pub(crate) fn registered(&self, id: &str) -> Option<u32> {
        self.number(id)
            .filter(|&node| self.slot(node).is_some_and(|s| s.registered_at != NONE))
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
        let full = || Error::unavailable("the memory store's id table for this tenant is full");
        let node = u32::try_from(self.slots.len()).map_err(|_| full())?;
        let at = u32::try_from(self.arena.len())
            .ok()
            .filter(|at| at.checked_add(1 + MAX_ID_BYTES as u32).is_some())
            .ok_or_else(full)?;
        // Ids are at most 64 bytes, so the length is one ASCII byte and the
        // arena stays UTF-8.
        let len = u8::try_from(id.len())
            .ok()
            .filter(|len| usize::from(*len) <= MAX_ID_BYTES)
            .ok_or_else(|| Error::invalid_argument("id", "id too long"))?;
        self.arena.push(char::from(len));
        self.arena.push_str(id);
        self.slots.push(Slot::new(at));
        let Tenant {
            arena,
            table,
            hasher,
            slots,
            ..
        } = self;
        let hash = hasher.hash_one(id);
        table.insert_unique(hash, node, |&n| hasher.hash_one(name_of(arena, slots, n)));
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
            registered_at: timestamp(info.registered_at),
            last_active: info.last_active(),
            counts: info.counts(),
        }))
    }

    pub(crate) fn node_id(&self, node: u32) -> Result<NodeId, Error> {
        NodeId::new(self.name(node))
            .map_err(|cause| Error::internal("memory store: bad stored id").with_source(cause))
    }

    /// How an entry compares to the list position (`since`, `name`).
    fn probe<'a, T: Ordered>(&'a self, since: u64, name: &'a str) -> impl Fn(&T) -> Ordering + 'a {
        move |entry| {
            since
                .cmp(&entry.since())
                .then_with(|| self.name(entry.node()).cmp(name))
        }
    }

    /// Changes one list of `node`. The list and its pool are taken out of
    /// the tenant for the change, so that the change can read every id, its
    /// owner's included.
    fn change_list<T: Entry>(
        &mut self,
        node: u32,
        list: fn(&mut Slot) -> &mut Seq<T>,
        pool: fn(&mut Tenant) -> &mut Pool<T>,
        change: impl FnOnce(&Tenant, &mut Seq<T>, &mut Pool<T>),
    ) {
        let Some(slot) = self.slots.get_mut(node as usize) else {
            return;
        };
        let mut seq = std::mem::take(list(slot));
        let mut blocks = std::mem::take(pool(self));
        change(self, &mut seq, &mut blocks);
        *pool(self) = blocks;
        if let Some(slot) = self.slots.get_mut(node as usize) {
            *list(slot) = seq;
        }
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

    /// The edge follower → target.
    pub(crate) fn edge(&self, follower: u32, target: u32) -> Option<Edge> {
        let slot = self.slot(follower)?;
        let out = slot.following.find(&self.out_pool, target)?;
        let mutual_since = if out.mutual() {
            slot.back.find(&self.back_pool, target).map(|m| m.time())
        } else {
            None
        };
        Some(Edge {
            since: timestamp(out.since()),
            muted: out.muted(),
            mutual_since,
        })
    }

    /// Whether the edge follower → target is present: [`Tenant::edge`]
    /// without reading the mutual mark.
    pub(crate) fn follows(&self, follower: u32, target: u32) -> Option<Out> {
        self.slot(follower)?.following.find(&self.out_pool, target)
    }

    /// Sets the edge follower → target (or removes it), keeping every list
    /// in step. Answers the edge it replaced.
    pub(crate) fn set_edge(
        &mut self,
        follower: u32,
        target: u32,
        edge: Option<Edge>,
    ) -> Result<Option<Edge>, Error> {
        if self.slot(follower).is_none() || self.slot(target).is_none() {
            return Err(Error::internal("memory store: an edge end has no slot"));
        }
        let old = self.edge(follower, target);
        if let Some(old) = old {
            let since = micros(old.since);
            self.change_list(
                follower,
                |s| &mut s.following,
                |t| &mut t.out_pool,
                |t, seq, pool| {
                    seq.remove(pool, t.probe(since, t.name(target)));
                },
            );
            if let Some(mark) = old.mutual_since.map(micros) {
                self.change_list(
                    follower,
                    |s| &mut s.back,
                    |t| &mut t.back_pool,
                    |t, seq, pool| {
                        seq.remove(pool, t.probe(mark, t.name(target)));
                    },
                );
            }
            self.change_list(
                target,
                |s| &mut s.back,
                |t| &mut t.back_pool,
                |t, seq, pool| {
                    seq.remove(pool, t.probe(since | FOLLOWER, t.name(follower)));
                },
            );
        }
        if let Some(edge) = &edge {
            let since = micros(edge.since);
            let out = Out::new(target, edge);
            self.change_list(
                follower,
                |s| &mut s.following,
                |t| &mut t.out_pool,
                |t, seq, pool| {
                    seq.insert(pool, out, t.probe(since, t.name(target)));
                },
            );
            if let Some(mark) = edge.mutual_since.map(micros) {
                self.change_list(
                    follower,
                    |s| &mut s.back,
                    |t| &mut t.back_pool,
                    |t, seq, pool| {
                        seq.insert(
                            pool,
                            Back::mutual(mark, target),
                            t.probe(mark, t.name(target)),
                        );
                    },
                );
            }
            self.change_list(
                target,
                |s| &mut s.back,
                |t| &mut t.back_pool,
                |t, seq, pool| {
                    let key = since | FOLLOWER;
                    seq.insert(
                        pool,
                        Back::follower(since, follower),
                        t.probe(key, t.name(follower)),
                    );
                },
            );
        }
        Ok(old)
    }

    /// Every (follower, target) with `node` at either end.
    pub(crate) fn edges_touching(&self, node: u32) -> Vec<(u32, u32)> {
        let Some(slot) = self.slot(node) else {
            return Vec::new();
        };
        let out = slot
            .following
            .iter(&self.out_pool)
            .map(|e| (node, e.target));
        let into = slot
            .back
            .iter(&self.back_pool)
            .take_while(|e| e.is_follower())
            .map(|e| (e.node, node));
        out.chain(into).collect()
    }

    /// `subject`'s list in display order, strictly after `after`.
    pub(crate) fn walk<'a>(
        &'a self,
        list: ListKind,
        subject: u32,
        after: Option<(Timestamp, &'a str)>,
    ) -> Box<dyn Iterator<Item = Item> + 'a> {
        let Some(slot) = self.slot(subject) else {
            return Box::new(std::iter::empty());
        };
        let micros_after = after.map(|(since, name)| (micros(since), name));
        match list {
            ListKind::Following => {
                // Since is below 2⁵⁸ µs: no entry sorts before (MAX, "").
                let (since, name) = micros_after.unwrap_or((u64::MAX, ""));
                Box::new(
                    slot.following
                        .after(&self.out_pool, self.probe(since, name))
                        .map(|e| (timestamp(e.since()), e.target, e.muted())),
                )
            }
            ListKind::Followers => {
                let (since, name) =
                    micros_after.map_or((u64::MAX, ""), |(since, name)| (since | FOLLOWER, name));
                Box::new(
                    slot.back
                        .after(&self.back_pool, self.probe(since, name))
                        .take_while(|e| e.is_follower())
                        .filter_map(move |e| {
                            let edge = self.follows(e.node, subject)?;
                            Some((e.time(), e.node, edge.muted()))
                        }),
                )
            }
            ListKind::Mutuals => {
                // (FOLLOWER - 1, "") sorts after every follower entry and
                // before every mutual one.
                let (since, name) = micros_after.unwrap_or((FOLLOWER - 1, ""));
                Box::new(
                    slot.back
                        .after(&self.back_pool, self.probe(since, name))
                        .filter_map(move |e| {
                            let edge = self.follows(subject, e.node)?;
                            Some((e.time(), e.node, edge.muted()))
                        }),
                )
            }
        }
    }

    /// Since when a registered node counts as inactive.
    pub(crate) fn active_at(&self, node: u32) -> Option<Timestamp> {
        self.info(node).map(|info| timestamp(info.active_at()))
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

    #[test]
    fn entries_pack_as_documented() {
        assert_eq!(std::mem::size_of::<Slot>(), 64);
        assert_eq!(std::mem::size_of::<Out>(), 12);
        assert_eq!(std::mem::size_of::<Back>(), 12);
    }
}
