//! Edges: reading one, changing one with every list it is in, and walking a
//! node's lists in page order.
//!
//! Lists are ordered as pages read them (newest `since` first, ties by the
//! id's bytes), so a page is a seek and a walk (see [`crate::seq`]). The
//! entries hold numbers, so the order is evaluated through the tenant's
//! names at each comparison.

use std::cmp::Ordering;

use follow_core::{Edge, Error, ListKind, Timestamp};

use crate::seq::{Entry, Pool, Seq};
use crate::tenant::Tenant;
use crate::tenant::entries::{Back, FOLLOWER, Ordered, Out};
use crate::tenant::slot::{Slot, micros, timestamp};

/// One item of a list walk: `since`, the other node, the mute flag.
pub(crate) type Item = (Timestamp, u32, bool);

impl Tenant {
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

    /// Changes `node`'s following list.
    fn change_following(
        &mut self,
        node: u32,
        change: impl FnOnce(&Tenant, &mut Seq<Out>, &mut Pool<Out>),
    ) {
        self.change_list(node, |s| &mut s.following, |t| &mut t.out_pool, change);
    }

    /// Changes `node`'s back list (its followers and its mutual marks).
    fn change_back(
        &mut self,
        node: u32,
        change: impl FnOnce(&Tenant, &mut Seq<Back>, &mut Pool<Back>),
    ) {
        self.change_list(node, |s| &mut s.back, |t| &mut t.back_pool, change);
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
            self.change_following(follower, |t, seq, pool| {
                seq.remove(pool, t.probe(since, t.name(target)));
            });
            if let Some(mark) = old.mutual_since.map(micros) {
                self.change_back(follower, |t, seq, pool| {
                    seq.remove(pool, t.probe(mark, t.name(target)));
                });
            }
            self.change_back(target, |t, seq, pool| {
                seq.remove(pool, t.probe(since | FOLLOWER, t.name(follower)));
            });
        }
        if let Some(edge) = &edge {
            let since = micros(edge.since);
            let out = Out::new(target, edge);
            self.change_following(follower, |t, seq, pool| {
                seq.insert(pool, out, t.probe(since, t.name(target)));
            });
            if let Some(mark) = edge.mutual_since.map(micros) {
                let back = Back::mutual(mark, target);
                self.change_back(follower, |t, seq, pool| {
                    seq.insert(pool, back, t.probe(mark, t.name(target)));
                });
            }
            let back = Back::follower(since, follower);
            self.change_back(target, |t, seq, pool| {
                seq.insert(pool, back, t.probe(since | FOLLOWER, t.name(follower)));
            });
        }
        Ok(old)
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
}
