//! Edges: reading one, changing one with every list it is in, and walking a
//! node's lists in page order.
//!
//! Lists are ordered as pages read them (newest `since` first, ties by the
//! id's bytes), so a page is a seek and a walk (see [`crate::seq`]). The
//! entries hold numbers, so the order is evaluated through the tenant's
//! names at each comparison.

use std::cmp::Ordering;

use follow_core::{Edge, Error, ListKind, Timestamp};

use crate::broken::broken;
use crate::seq::{Entry, Pool, Seq};
use crate::tenant::entries::{Back, FOLLOWER, Ordered, Out, follower_key};
use crate::tenant::slot::Slot;
use crate::tenant::{Collation, Tenant};
use crate::time::{micros, timestamp};

/// One item of a list walk: `since`, the other node, the mute flag.
pub(crate) type Item = (Timestamp, u32, bool);

/// A list walk: its items in order, or the error of one that is broken.
pub(crate) type Walk<'a> = Box<dyn Iterator<Item = Result<Item, Error>> + 'a>;

/// How an entry compares to the list position (`since`, `name`).
fn probe<'a, T: Ordered>(
    names: &'a Collation<'a>,
    since: u64,
    name: &'a str,
) -> impl Fn(&T) -> Ordering + 'a {
    move |entry| {
        since
            .cmp(&entry.since())
            .then_with(|| names.name(entry.node()).cmp(name))
    }
}

/// The error for an edge whose entry in a list is missing.
fn unlisted(follower: u32, target: u32, list: &str) -> Error {
    broken(format_args!(
        "the edge {follower} -> {target} is missing from the {list}"
    ))
}

impl Tenant {
    /// Changes one list of `node`. The list and its pool are taken out of
    /// the tenant for the change, so that the change can read every id, its
    /// owner's included; they go back whatever the change answers.
    fn change_list<T: Entry>(
        &mut self,
        node: u32,
        list: fn(&mut Slot) -> &mut Seq<T>,
        pool: fn(&mut Tenant) -> &mut Pool<T>,
        change: impl FnOnce(&Collation<'_>, &mut Seq<T>, &mut Pool<T>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let slot = self
            .slots
            .get_mut(node as usize)
            .ok_or_else(|| broken(format_args!("node number {node} has no slot")))?;
        let mut seq = std::mem::take(list(slot));
        let mut blocks = std::mem::take(pool(self));
        let names = Collation::new(self);
        let changed = change(&names, &mut seq, &mut blocks).and_then(|()| names.check());
        *pool(self) = blocks;
        if let Some(slot) = self.slots.get_mut(node as usize) {
            *list(slot) = seq;
        }
        changed
    }

    /// Changes `node`'s following list.
    fn change_following(
        &mut self,
        node: u32,
        change: impl FnOnce(&Collation<'_>, &mut Seq<Out>, &mut Pool<Out>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.change_list(node, |s| &mut s.following, |t| &mut t.out_pool, change)
    }

    /// Changes `node`'s back list (its followers and its mutual marks).
    fn change_back(
        &mut self,
        node: u32,
        change: impl FnOnce(&Collation<'_>, &mut Seq<Back>, &mut Pool<Back>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.change_list(node, |s| &mut s.back, |t| &mut t.back_pool, change)
    }

    /// The edge follower → target.
    pub(crate) fn edge(&self, follower: u32, target: u32) -> Result<Option<Edge>, Error> {
        let slot = self.slot(follower)?;
        let Some(out) = slot.following.find(&self.out_pool, target)? else {
            return Ok(None);
        };
        let mutual_since = if out.mutual() {
            let mark = slot.back.find(&self.back_pool, target)?;
            let mark = mark.ok_or_else(|| unlisted(follower, target, "follower's mutuals"))?;
            Some(mark.time())
        } else {
            None
        };
        Ok(Some(Edge {
            since: timestamp(out.since()),
            muted: out.muted(),
            mutual_since,
            options: self.relations.options(follower, target),
        }))
    }

    /// Whether the edge follower → target is present: [`Tenant::edge`]
    /// without reading the mutual mark.
    pub(crate) fn follows(&self, follower: u32, target: u32) -> Result<Option<Out>, Error> {
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
        self.slot(target)?;
        let old = self.edge(follower, target)?;
        if let Some(old) = old {
            let since = micros(old.since);
            self.change_following(follower, |names, seq, pool| {
                seq.remove(pool, probe(names, since, names.name(target)))?
                    .map(drop)
                    .ok_or_else(|| unlisted(follower, target, "follower's following"))
            })?;
            if let Some(mark) = old.mutual_since.map(micros) {
                self.change_back(follower, |names, seq, pool| {
                    seq.remove(pool, probe(names, mark, names.name(target)))?
                        .map(drop)
                        .ok_or_else(|| unlisted(follower, target, "follower's mutuals"))
                })?;
            }
            self.change_back(target, |names, seq, pool| {
                let key = follower_key(since);
                seq.remove(pool, probe(names, key, names.name(follower)))?
                    .map(drop)
                    .ok_or_else(|| unlisted(follower, target, "target's followers"))
            })?;
        }
        if let Some(edge) = &edge {
            let since = micros(edge.since);
            let out = Out::new(target, edge);
            self.change_following(follower, |names, seq, pool| {
                seq.insert(pool, out, probe(names, since, names.name(target)))
            })?;
            if let Some(mark) = edge.mutual_since.map(micros) {
                let back = Back::mutual(mark, target);
                self.change_back(follower, |names, seq, pool| {
                    seq.insert(pool, back, probe(names, mark, names.name(target)))
                })?;
            }
            let back = Back::follower(since, follower);
            self.change_back(target, |names, seq, pool| {
                let key = follower_key(since);
                seq.insert(pool, back, probe(names, key, names.name(follower)))
            })?;
        }
        self.relations
            .set_options(follower, target, edge.map(|edge| edge.options));
        Ok(old)
    }

    /// `subject`'s list in display order, strictly after `after`.
    pub(crate) fn walk<'a>(
        &'a self,
        list: ListKind,
        subject: u32,
        after: Option<(Timestamp, &'a str)>,
    ) -> Result<Walk<'a>, Error> {
        let slot = self.slot(subject)?;
        let micros_after = after.map(|(since, name)| (micros(since), name));
        let names = Collation::new(self);
        let walk: Walk<'a> = match list {
            ListKind::Following => {
                // Since is below 2⁵⁸ µs: no entry sorts before (MAX, "").
                let (since, name) = micros_after.unwrap_or((u64::MAX, ""));
                Box::new(
                    slot.following
                        .after(&self.out_pool, probe(&names, since, name))?
                        .map(|e| Ok((timestamp(e.since()), e.target, e.muted()))),
                )
            }
            ListKind::Followers => {
                let (since, name) = micros_after
                    .map_or((u64::MAX, ""), |(since, name)| (follower_key(since), name));
                Box::new(
                    slot.back
                        .after(&self.back_pool, probe(&names, since, name))?
                        .take_while(|e| e.is_follower())
                        .map(move |e| {
                            let edge = self.follows(e.node, subject)?;
                            let edge = edge
                                .ok_or_else(|| unlisted(e.node, subject, "follower's following"))?;
                            Ok((e.time(), e.node, edge.muted()))
                        }),
                )
            }
            ListKind::Mutuals => {
                // (FOLLOWER - 1, "") sorts after every follower entry and
                // before every mutual one.
                let (since, name) = micros_after.unwrap_or((FOLLOWER - 1, ""));
                Box::new(
                    slot.back
                        .after(&self.back_pool, probe(&names, since, name))?
                        .map(move |e| {
                            let edge = self.follows(subject, e.node)?;
                            let edge = edge
                                .ok_or_else(|| unlisted(subject, e.node, "follower's following"))?;
                            Ok((e.time(), e.node, edge.muted()))
                        }),
                )
            }
        };
        names.check().map(|()| walk)
    }
}
