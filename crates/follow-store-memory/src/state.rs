//! The stored graph: per tenant, interned ids, one slot per node holding its
//! record and its three ordered lists, and the outbox.
//!
//! An edge follower → target is stored once in full, in the follower's
//! following list (an [`Out`], 20 bytes), and once as a back reference in the
//! target's followers list (an [`In`], 12 bytes); a mutual edge also has an
//! [`In`] in the follower's mutuals list, keyed by when it became mutual.
//! Lists are ordered as pages read them (newest first, ties by the id's
//! bytes), so a page is a seek and a walk (see [`crate::seq`]).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Duration;

use follow_core::{Counts, Edge, Error, ListKind, NodeId, NodeRecord, TenantId, Timestamp};

use crate::events::EventLog;
use crate::intern::Interner;
use crate::seq::{Entry, Seq};

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
/// [`In`] is 12 bytes instead of 16).
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
const NONE: u64 = u64::MAX;

/// An edge as its follower's following list holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    /// `since` in µs, with [`MUTED`] as the top bit.
    since_muted: Split64,
    /// `mutual_since` in µs, or [`NONE`].
    mutual: Split64,
    target: u32,
}

impl Out {
    fn new(target: u32, edge: &Edge) -> Self {
        let muted = if edge.muted { MUTED } else { 0 };
        Out {
            since_muted: Split64::new(micros(edge.since) | muted),
            mutual: Split64::new(edge.mutual_since.map_or(NONE, micros)),
            target,
        }
    }

    fn since(&self) -> u64 {
        self.since_muted.get() & !MUTED
    }

    fn edge(&self) -> Edge {
        let mutual = self.mutual.get();
        Edge {
            since: timestamp(self.since()),
            muted: self.since_muted.get() & MUTED != 0,
            mutual_since: (mutual != NONE).then(|| timestamp(mutual)),
        }
    }
}

impl Entry for Out {
    const INDEXED: bool = true;
    fn node(&self) -> u32 {
        self.target
    }
}

/// An entry of a followers or mutuals list: the other node and the time
/// the list is ordered by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct In {
    since: Split64,
    node: u32,
}

impl In {
    fn new(since: u64, node: u32) -> Self {
        In {
            since: Split64::new(since),
            node,
        }
    }
}

impl Entry for In {
    const INDEXED: bool = false;
    fn node(&self) -> u32 {
        self.node
    }
}

/// How an entry compares to the list position (`since`, `name`).
fn probe<'a, T>(
    names: &'a Interner,
    since: u64,
    name: &'a str,
    since_of: impl Fn(&T) -> u64 + 'a,
    node_of: impl Fn(&T) -> u32 + 'a,
) -> impl Fn(&T) -> Ordering + 'a {
    move |entry| {
        since
            .cmp(&since_of(entry))
            .then_with(|| names.name(node_of(entry)).cmp(name))
    }
}

fn out_probe<'a>(names: &'a Interner, since: u64, name: &'a str) -> impl Fn(&Out) -> Ordering + 'a {
    probe(names, since, name, Out::since, |e: &Out| e.target)
}

fn in_probe<'a>(names: &'a Interner, since: u64, name: &'a str) -> impl Fn(&In) -> Ordering + 'a {
    probe(names, since, name, |e: &In| e.since.get(), |e: &In| e.node)
}

/// A node's own record. `registered_at == NONE` marks a number whose node
/// is not registered (never was, or was removed).
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

#[derive(Debug)]
struct Slot {
    info: NodeInfo,
    following: Seq<Out>,
    followers: Seq<In>,
    mutuals: Seq<In>,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            info: NodeInfo::ABSENT,
            following: Seq::default(),
            followers: Seq::default(),
            mutuals: Seq::default(),
        }
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

#[derive(Debug, Default)]
pub(crate) struct Tenant {
    pub(crate) names: Interner,
    /// Indexed by node number.
    slots: Vec<Slot>,
    /// The registered nodes in byte order of their ids, for the nodes walk.
    node_order: Seq<u32>,
    pub(crate) events: EventLog,
}

impl Tenant {
    fn slot(&self, node: u32) -> Option<&Slot> {
        self.slots.get(node as usize)
    }

    /// The number of a registered node.
    pub(crate) fn registered(&self, id: &str) -> Option<u32> {
        self.names
            .get(id)
            .filter(|&node| self.slot(node).is_some_and(|s| s.info.is_registered()))
    }

    /// The number of `id`, handing out a new one (with an empty slot) if needed.
    pub(crate) fn intern(&mut self, id: &str) -> Result<u32, Error> {
        let node = self.names.intern(id)?;
        if self.slots.len() <= node as usize {
            self.slots.resize_with(node as usize + 1, Slot::default);
        }
        Ok(node)
    }

    /// A registered node's own record.
    pub(crate) fn info(&self, node: u32) -> Option<NodeInfo> {
        self.slot(node)
            .map(|s| s.info)
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
        NodeId::new(self.names.name(node))
            .map_err(|cause| Error::internal("memory store: bad stored id").with_source(cause))
    }

    /// Sets a node's record, or unregisters it with `None`, keeping the id
    /// order in step. Answers the record it replaced.
    pub(crate) fn set_info(&mut self, node: u32, info: Option<NodeInfo>) -> Option<NodeInfo> {
        let Tenant {
            names,
            slots,
            node_order,
            ..
        } = self;
        let slot = slots.get_mut(node as usize)?;
        let before = Some(slot.info).filter(NodeInfo::is_registered);
        slot.info = info.unwrap_or(NodeInfo::ABSENT);
        let name = names.name(node);
        let by_name = |e: &u32| names.name(*e).cmp(name);
        match (before.is_some(), slot.info.is_registered()) {
            (false, true) => node_order.insert(node, by_name),
            (true, false) => {
                node_order.remove(by_name);
            }
            _ => {}
        }
        before
    }

    /// The edge follower → target.
    pub(crate) fn edge(&self, follower: u32, target: u32) -> Option<Edge> {
        Some(self.slot(follower)?.following.find(target)?.edge())
    }

    /// Sets the edge follower → target (or removes it), keeping every list
    /// in step. Answers the edge it replaced.
    pub(crate) fn set_edge(
        &mut self,
        follower: u32,
        target: u32,
        edge: Option<Edge>,
    ) -> Result<Option<Edge>, Error> {
        let missing = || Error::internal("memory store: an edge end has no slot");
        if self.slot(follower).is_none() || self.slot(target).is_none() {
            return Err(missing());
        }
        let Tenant { names, slots, .. } = self;
        let (follower_name, target_name) = (names.name(follower), names.name(target));
        let old = slots
            .get(follower as usize)
            .and_then(|s| s.following.find(target));
        if let Some(old) = old {
            let since = old.since();
            let slot = slots.get_mut(follower as usize).ok_or_else(missing)?;
            slot.following.remove(out_probe(names, since, target_name));
            let mutual = old.mutual.get();
            if mutual != NONE {
                slot.mutuals.remove(in_probe(names, mutual, target_name));
            }
            let slot = slots.get_mut(target as usize).ok_or_else(missing)?;
            slot.followers.remove(in_probe(names, since, follower_name));
        }
        if let Some(edge) = &edge {
            let out = Out::new(target, edge);
            let since = out.since();
            let slot = slots.get_mut(follower as usize).ok_or_else(missing)?;
            slot.following
                .insert(out, out_probe(names, since, target_name));
            let mutual = out.mutual.get();
            if mutual != NONE {
                let entry = In::new(mutual, target);
                slot.mutuals
                    .insert(entry, in_probe(names, mutual, target_name));
            }
            let slot = slots.get_mut(target as usize).ok_or_else(missing)?;
            let entry = In::new(since, follower);
            slot.followers
                .insert(entry, in_probe(names, since, follower_name));
        }
        Ok(old.map(|old| old.edge()))
    }

    /// Every (follower, target) with `node` at either end.
    pub(crate) fn edges_touching(&self, node: u32) -> Vec<(u32, u32)> {
        let Some(slot) = self.slot(node) else {
            return Vec::new();
        };
        let out = slot.following.iter().map(|e| (node, e.target));
        let into = slot.followers.iter().map(|e| (e.node, node));
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
        let names = &self.names;
        // No position sorts before every entry: since is at most 2⁵⁸ µs.
        let (since, name) = after.map_or((u64::MAX, ""), |(since, name)| (micros(since), name));
        match list {
            ListKind::Following => Box::new(
                slot.following
                    .after(out_probe(names, since, name))
                    .map(|e| (timestamp(e.since()), e.target, e.edge().muted)),
            ),
            ListKind::Followers => Box::new(
                slot.followers
                    .after(in_probe(names, since, name))
                    .filter_map(move |e| {
                        let edge = self.edge(e.node, subject)?;
                        Some((edge.since, e.node, edge.muted))
                    }),
            ),
            ListKind::Mutuals => Box::new(
                slot.mutuals
                    .after(in_probe(names, since, name))
                    .filter_map(move |e| {
                        let edge = self.edge(subject, e.node)?;
                        Some((timestamp(e.since.get()), e.node, edge.muted))
                    }),
            ),
        }
    }

    /// When a registered node counts as inactive from, in µs.
    pub(crate) fn active_at(&self, node: u32) -> Option<Timestamp> {
        self.info(node).map(|info| timestamp(info.active_at()))
    }

    /// The registered nodes in byte order of their ids, strictly after `after`.
    pub(crate) fn nodes_after<'a>(
        &'a self,
        after: Option<&'a str>,
    ) -> impl Iterator<Item = u32> + 'a {
        let names = &self.names;
        let start = after.unwrap_or_default();
        let seek = move |e: &u32| match after {
            Some(_) => names.name(*e).cmp(start),
            None => Ordering::Greater,
        };
        self.node_order.after(seek).copied()
    }
}
