//! The comparison of the store's whole state, as every read sees it, with
//! the model's.

use std::collections::{BTreeMap, BTreeSet};

use follow_core::{
    AccountId, Delivery, ErrorKind, FollowOptions, Languages, Link, LinkDirection, LinkEntry,
    LinkKind, LinkQuery, ListKind, ListPosition, NodeId, PageRequest, Principal, Relation,
    Relationship, Timestamp,
};

use super::NODES;
use super::reference::{Model, TenantModel};
use super::system::System;
use crate::StoreFactory;
use crate::fixture::{at, walk};

/// The most pages a walk of a list of the model's universe may take.
const MAX_PAGES: usize = 64;

/// A list item as compared: the other node's id and the item's value.
type Item<T> = (String, T);

/// Sorted as lists are: newest first, ties by id.
fn newest_first<T>(mut items: Vec<(String, Timestamp, T)>) -> Vec<(String, Timestamp, T)> {
    items.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    items
}

/// The model's links of `subject`, of `kind`, one way, as stored values
/// (expired mutes included).
fn model_links(
    t: &TenantModel,
    kind: LinkKind,
    direction: LinkDirection,
    subject: usize,
) -> Vec<Item<Link>> {
    let pairs: Vec<((usize, usize), Link)> = match kind {
        LinkKind::Block => t
            .blocks
            .iter()
            .map(|(k, since)| (*k, Link::block(at(*since))))
            .collect(),
        LinkKind::Mute => t
            .mutes
            .iter()
            .map(|(k, m)| {
                let link = Link::mute(at(m.since), m.notifications, m.expires_at.map(at));
                (*k, link)
            })
            .collect(),
        LinkKind::Request => t
            .requests
            .iter()
            .map(|(k, r)| (*k, Link::request(at(r.since), r.options)))
            .collect(),
    };
    let items = pairs
        .into_iter()
        .filter_map(|((from, to), link)| match direction {
            LinkDirection::Outgoing if from == subject => Some((NODES[to].to_owned(), link)),
            LinkDirection::Incoming if to == subject => Some((NODES[from].to_owned(), link)),
            _ => None,
        })
        .map(|(other, link)| (other, link.since, link))
        .collect();
    newest_first(items)
        .into_iter()
        .map(|(other, _, link)| (other, link))
        .collect()
}

/// What `subject`'s relationship to `other` must read.
fn expected_relationship(t: &TenantModel, now: i64, subject: usize, other: usize) -> Relationship {
    let edge = t.edges.get(&(subject, other));
    let request = t.requests.get(&(subject, other));
    let mute = t.mutes.get(&(subject, other)).filter(|m| m.holds_at(now));
    let options: Option<FollowOptions> = edge
        .map(|e| e.options)
        .or_else(|| request.map(|r| r.options));
    Relationship {
        target: NodeId::new(NODES[other]).unwrap(),
        following: edge.is_some(),
        followed_by: t.edges.contains_key(&(other, subject)),
        requested: request.is_some(),
        requested_by: t.requests.contains_key(&(other, subject)),
        blocking: t.blocks.contains_key(&(subject, other)),
        blocked_by: t.blocks.contains_key(&(other, subject)),
        muting: mute.is_some(),
        muting_notifications: mute.is_some_and(|m| m.notifications),
        muting_expires_at: mute.and_then(|m| m.expires_at).map(at),
        showing_reblogs: options.is_some_and(|o| o.reblogs),
        notifying: options.is_some_and(|o| o.notify),
        languages: options
            .map(|o| o.languages)
            .filter(|l: &Languages| !l.is_all()),
        muted: edge.is_some_and(|e| e.muted),
    }
}

impl<F: StoreFactory> System<F> {
    /// Asserts that every read of the store agrees with the model.
    pub fn check_state(&self, model: &Model) {
        for (ti, t) in model.tenants.iter().enumerate() {
            self.check_nodes_walk(ti, t);
            for ni in 0..NODES.len() {
                if self.check_record(ti, t, ni) {
                    self.check_lists(ti, t, ni);
                    self.check_viewed_lists(ti, t, model.now, ni);
                    self.check_links(ti, t, model.now, ni);
                    self.check_relationships(ti, t, model.now, ni);
                }
            }
        }
    }

    fn check_nodes_walk(&self, ti: usize, t: &TenantModel) {
        let tenant = self.principals[ti].tenant();
        let mut registered: Vec<&str> = t.nodes.keys().map(|ni| NODES[*ni]).collect();
        registered.sort_unstable();
        let walked = self
            .runtime
            .block_on(self.store.nodes(tenant, None, NODES.len() + 1))
            .unwrap();
        let walked: Vec<&str> = walked.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(walked, registered, "nodes walk of {tenant}");
    }

    /// The node's record: presence, activity, counts, the locked flag and
    /// the links count (every stored link row touching it, expired mutes
    /// not yet cleaned up included). Answers whether it is registered.
    fn check_record(&self, ti: usize, t: &TenantModel, ni: usize) -> bool {
        let tenant = self.principals[ti].tenant();
        let name = NODES[ni];
        let record = self
            .runtime
            .block_on(self.store.node(tenant, &NodeId::new(name).unwrap()))
            .unwrap();
        let Some(node) = t.nodes.get(&ni) else {
            assert!(record.is_none(), "{name} in {tenant} should be absent");
            return false;
        };
        let record = record.unwrap_or_else(|| panic!("{name} in {tenant} should exist"));
        assert_eq!(
            record.last_active,
            node.last_active.map(at),
            "last_active of {name}"
        );
        assert_eq!(
            record.locked, node.locked,
            "locked flag of {name} in {tenant}"
        );
        let following = t.edges.keys().filter(|(a, _)| *a == ni).count();
        let followers = t.edges.keys().filter(|(_, b)| *b == ni).count();
        let mutual = t
            .edges
            .keys()
            .filter(|(a, b)| *a == ni && t.edges.contains_key(&(*b, *a)))
            .count();
        assert_eq!(
            (
                record.counts.following,
                record.counts.followers,
                record.counts.mutual
            ),
            (following as u64, followers as u64, mutual as u64),
            "counts of {name} in {tenant}"
        );
        let stored_rows: usize = LinkKind::ALL
            .into_iter()
            .flat_map(|kind| [LinkDirection::Outgoing, LinkDirection::Incoming].map(|d| (kind, d)))
            .map(|(kind, direction)| self.walk_links(ti, kind, direction, ni).len())
            .sum();
        assert_eq!(
            record.links, stored_rows as u64,
            "links count of {name} in {tenant} against its stored link rows"
        );
        true
    }

    /// Following, followers and mutuals (with the edge's mute flag, since
    /// and options), the relation to every other node, and the delivery
    /// list.
    fn check_lists(&self, ti: usize, t: &TenantModel, ni: usize) {
        let p = &self.principals[ti];
        let name = NODES[ni];
        type Entry = (String, Timestamp, (bool, FollowOptions));
        let out: BTreeMap<usize, _> = t
            .edges
            .iter()
            .filter(|((a, _), _)| *a == ni)
            .map(|((_, b), e)| (*b, *e))
            .collect();
        let inc: BTreeMap<usize, _> = t
            .edges
            .iter()
            .filter(|((_, b), _)| *b == ni)
            .map(|((a, _), e)| (*a, *e))
            .collect();
        let mutual: BTreeSet<usize> = out
            .keys()
            .filter(|b| inc.contains_key(b))
            .copied()
            .collect();
        let entry = |n: usize, since: i64, muted: bool, options| -> Entry {
            (NODES[n].to_owned(), at(since), (muted, options))
        };
        let following = newest_first(
            out.iter()
                .map(|(b, e)| entry(*b, e.since, e.muted, e.options))
                .collect(),
        );
        let followers = newest_first(
            inc.iter()
                .map(|(a, e)| entry(*a, e.since, e.muted, e.options))
                .collect(),
        );
        // A mutual carries the subject's own edge, since the later follow.
        let mutuals = newest_first(
            mutual
                .iter()
                .map(|b| {
                    entry(
                        *b,
                        out[b].since.max(inc[b].since),
                        out[b].muted,
                        out[b].options,
                    )
                })
                .collect(),
        );
        self.runtime.block_on(async {
            let got = |list: Vec<follow_core::ListEntry>| -> Vec<Entry> {
                list.into_iter()
                    .map(|e| (e.node.to_string(), e.since, (e.muted, e.options)))
                    .collect()
            };
            let g = self.graph();
            let lists = [
                (ListKind::Following, following),
                (ListKind::Followers, followers),
                (ListKind::Mutuals, mutuals),
            ];
            for (list, expected) in lists {
                let walked = got(walk(g, p, list, name, 2).await);
                assert_eq!(walked, expected, "{list:?} of {name} in {}", p.tenant());
            }
            for (oi, other) in NODES.iter().enumerate() {
                if oi == ni || !t.nodes.contains_key(&oi) {
                    continue;
                }
                let relation = g.relation(p, name, other).await.unwrap();
                let expected = Relation::from_edges(out.contains_key(&oi), inc.contains_key(&oi));
                assert_eq!(
                    relation,
                    expected,
                    "relation {name} to {other} in {}",
                    p.tenant()
                );
                if AccountId::new(name).is_ok() {
                    // The guard needs the edge, which no block lets stand.
                    let guard = g
                        .ensure_can_interact(p, name, other)
                        .await
                        .map_err(|e| e.kind());
                    let expected = if out.contains_key(&oi) {
                        Ok(())
                    } else {
                        Err(ErrorKind::Forbidden)
                    };
                    assert_eq!(guard, expected, "interaction guard {name} to {other}");
                }
            }
        });
    }

    /// Following and followers of `subject` as each other registered
    /// account sees them, in pages of 2 with each item's relationship to
    /// the viewer: the accounts the viewer blocks or is blocked by are left
    /// out, and the list is empty when `subject` blocks the viewer.
    fn check_viewed_lists(&self, ti: usize, t: &TenantModel, now: i64, subject: usize) {
        let p = &self.principals[ti];
        let name = NODES[subject];
        let g = self.graph();
        let viewers = t
            .nodes
            .keys()
            .copied()
            .filter(|v| *v != subject && AccountId::new(NODES[*v]).is_ok());
        for viewer in viewers {
            for list in [ListKind::Following, ListKind::Followers] {
                let others: Vec<(usize, i64)> = t
                    .edges
                    .iter()
                    .filter_map(|((a, b), e)| match list {
                        ListKind::Following if *a == subject => Some((*b, e.since)),
                        ListKind::Followers if *b == subject => Some((*a, e.since)),
                        _ => None,
                    })
                    .collect();
                let shut_out = t.blocks.contains_key(&(subject, viewer));
                let expected: Vec<(String, Timestamp, Relationship)> = if shut_out {
                    Vec::new()
                } else {
                    newest_first(
                        others
                            .into_iter()
                            .filter(|(o, _)| !t.blocked_either_way(viewer, *o))
                            .map(|(o, since)| {
                                let seen = expected_relationship(t, now, viewer, o);
                                (NODES[o].to_owned(), at(since), seen)
                            })
                            .collect(),
                    )
                };
                let mut got = Vec::new();
                let mut request = PageRequest::first().with_limit(2);
                for _ in 0..MAX_PAGES {
                    let page = self
                        .runtime
                        .block_on(g.list_as(p, NODES[viewer], list, name, &request, true))
                        .unwrap();
                    assert!(
                        page.items.len() == 2 || page.next_cursor.is_none(),
                        "a page of {list:?} of {name} seen by {} is short but not the last",
                        NODES[viewer]
                    );
                    got.extend(page.items.into_iter().map(|item| {
                        let seen = item.viewer.expect("relationships were asked for");
                        (item.entry.node.to_string(), item.entry.since, seen)
                    }));
                    match page.next_cursor {
                        Some(cursor) => request = PageRequest::after(cursor).with_limit(2),
                        None => break,
                    }
                }
                assert_eq!(
                    got,
                    expected,
                    "{list:?} of {name} seen by {} in {}",
                    NODES[viewer],
                    p.tenant()
                );
            }
        }
    }

    /// Every stored link row of `subject` of `kind` one way, walked in
    /// pages of 2 (expired mutes included), checked to be in list order.
    fn walk_links(
        &self,
        ti: usize,
        kind: LinkKind,
        direction: LinkDirection,
        subject: usize,
    ) -> Vec<LinkEntry> {
        let tenant = self.principals[ti].tenant();
        let Ok(account) = AccountId::new(NODES[subject]) else {
            return Vec::new();
        };
        let mut rows: Vec<LinkEntry> = Vec::new();
        let mut after: Option<ListPosition> = None;
        for _ in 0..MAX_PAGES {
            let query = LinkQuery {
                tenant: tenant.clone(),
                kind,
                direction,
                subject: account.clone(),
                after: after.clone(),
                limit: 2,
            };
            let page = self
                .runtime
                .block_on(self.store.links(query))
                .unwrap()
                .unwrap_or_else(|| panic!("links of registered {account} answered None"));
            assert!(page.len() <= 2, "a links page exceeds its limit");
            let done = page.len() < 2;
            after = page.last().map(LinkEntry::position).or(after);
            rows.extend(page);
            if done {
                let positions: Vec<_> = rows.iter().map(LinkEntry::position).collect();
                let mut sorted = positions.clone();
                sorted.sort_by(|x, y| x.sort_key().cmp(&y.sort_key()));
                sorted.dedup();
                assert_eq!(
                    positions, sorted,
                    "{kind} {direction:?} links of {account} out of order"
                );
                return rows;
            }
        }
        panic!("links: a walk of {kind} {direction:?} of {account} does not end");
    }

    /// The stored links of `subject` each way: those that hold equal the
    /// model's; an expired one is a mute the model holds expired (a row
    /// not yet cleaned up); `links_between` answers the same rows; the
    /// facade's lists show the ones that hold.
    fn check_links(&self, ti: usize, t: &TenantModel, now: i64, subject: usize) {
        let name = NODES[subject];
        let Ok(account) = AccountId::new(name) else {
            return;
        };
        let p = &self.principals[ti];
        let tenant = p.tenant();
        let mut all_rows: Vec<(LinkKind, String, String, Link)> = Vec::new();
        for kind in LinkKind::ALL {
            for direction in [LinkDirection::Outgoing, LinkDirection::Incoming] {
                let rows = self.walk_links(ti, kind, direction, subject);
                let expected = model_links(t, kind, direction, subject);
                let holds = |link: &Link| link.holds_at(at(now));
                let live: Vec<Item<Link>> = rows
                    .iter()
                    .filter(|r| holds(&r.link))
                    .map(|r| (r.account.to_string(), r.link))
                    .collect();
                let expected_live: Vec<Item<Link>> =
                    expected.iter().filter(|(_, l)| holds(l)).cloned().collect();
                assert_eq!(
                    live, expected_live,
                    "{kind} links of {name} ({direction:?}) in {tenant}"
                );
                for row in rows.iter().filter(|r| !holds(&r.link)) {
                    let item = (row.account.to_string(), row.link);
                    assert!(
                        kind == LinkKind::Mute && expected.contains(&item),
                        "{name} ({direction:?}) in {tenant} has a stored {kind} link {item:?} \
                         that is neither in force nor an expired mute of the model"
                    );
                }
                for row in rows {
                    let other = row.account.to_string();
                    let (from, to) = match direction {
                        LinkDirection::Outgoing => (name.to_owned(), other),
                        LinkDirection::Incoming => (other, name.to_owned()),
                    };
                    all_rows.push((kind, from, to, row.link));
                }
                if direction == LinkDirection::Outgoing || kind == LinkKind::Request {
                    self.check_link_list(p, kind, direction, name, &expected_live);
                }
            }
        }
        let others: Vec<AccountId> = NODES
            .iter()
            .filter(|other| **other != name)
            .filter_map(|other| AccountId::new(other).ok())
            .collect();
        let between = self
            .runtime
            .block_on(self.store.links_between(tenant, &account, &others))
            .unwrap();
        let mut between: Vec<(LinkKind, String, String, Link)> = between
            .into_iter()
            .map(|(key, link)| (key.kind, key.from.to_string(), key.to.to_string(), link))
            .collect();
        let key = |row: &(LinkKind, String, String, Link)| (row.0, row.1.clone(), row.2.clone());
        between.sort_by_key(key);
        all_rows.sort_by_key(key);
        assert_eq!(between, all_rows, "links_between of {name} in {tenant}");
    }

    /// The facade's list of links of one kind one way: what holds, newest
    /// first.
    fn check_link_list(
        &self,
        p: &Principal,
        kind: LinkKind,
        direction: LinkDirection,
        name: &str,
        expected: &[Item<Link>],
    ) {
        let g = self.graph();
        let page = PageRequest::first().with_limit(100);
        let read = self.runtime.block_on(async {
            match (kind, direction) {
                (LinkKind::Block, _) => g.blocks(p, name, &page).await,
                (LinkKind::Mute, _) => g.mutes(p, name, &page).await,
                (LinkKind::Request, LinkDirection::Outgoing) => g.requested(p, name, &page).await,
                (LinkKind::Request, LinkDirection::Incoming) => {
                    g.follow_requests(p, name, &page).await
                }
            }
        });
        let items: Vec<Item<Link>> = read
            .unwrap()
            .items
            .into_iter()
            .map(|e| (e.account.to_string(), e.link))
            .collect();
        assert_eq!(
            items,
            expected,
            "the facade's {kind} list ({direction:?}) of {name} in {}",
            p.tenant()
        );
    }

    /// The relationship object to every other registered node, and the
    /// delivery list of the node's followers.
    fn check_relationships(&self, ti: usize, t: &TenantModel, now: i64, subject: usize) {
        let p = &self.principals[ti];
        let name = NODES[subject];
        let g = self.graph();
        self.runtime.block_on(async {
            let others: Vec<usize> = t.nodes.keys().copied().filter(|o| *o != subject).collect();
            if AccountId::new(name).is_ok() && !others.is_empty() {
                let targets: Vec<&str> = others.iter().map(|o| NODES[*o]).collect();
                let read = g.relationships(p, name, &targets).await.unwrap();
                let got: Vec<Relationship> = read.into_iter().map(|i| i.result.unwrap()).collect();
                let expected: Vec<Relationship> = others
                    .iter()
                    .map(|o| expected_relationship(t, now, subject, *o))
                    .collect();
                assert_eq!(got, expected, "relationships of {name} in {}", p.tenant());
            }
            // Delivery: an account mute of the author withholds, the
            // follow's own mute delivers silently, else with notification.
            let expected: Vec<(String, Timestamp, (Delivery, FollowOptions))> = newest_first(
                t.edges
                    .iter()
                    .filter(|((_, b), _)| *b == subject)
                    .map(|((a, _), e)| {
                        let delivery = if t.mute_holds(*a, subject, now) {
                            Delivery::Withheld
                        } else if e.muted {
                            Delivery::Silent
                        } else {
                            Delivery::Notified
                        };
                        (NODES[*a].to_owned(), at(e.since), (delivery, e.options))
                    })
                    .collect(),
            );
            let mut got = Vec::new();
            let mut request = PageRequest::first().with_limit(2);
            for _ in 0..MAX_PAGES {
                let page = g.delivery(p, name, &request).await.unwrap();
                got.extend(
                    page.items
                        .into_iter()
                        .map(|e| (e.follower.to_string(), e.since, (e.delivery, e.options))),
                );
                match page.next_cursor {
                    Some(cursor) => request = PageRequest::after(cursor).with_limit(2),
                    None => break,
                }
            }
            assert_eq!(got, expected, "delivery list of {name} in {}", p.tenant());
        });
    }
}
