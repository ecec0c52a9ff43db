//! Writes as load → decide → commit, with every rule decided here.
//!
//! A store's [`crate::FollowStore::write`] does three things around two pure
//! calls of this module:
//!
//! 1. [`WritePlan::new`] names every row the batch reads ([`Keys`], sorted);
//!    the store opens a transaction and loads those rows in one go (a
//!    networked store in one or two queries, locking them in key order if
//!    it locks) into [`Facts`].
//! 2. [`WritePlan::decide`] applies the batch to a working copy of the facts
//!    and answers a [`Decision`]: the [`ChangeSet`] (rows to delete, insert
//!    and update, counter deltas, events in order) and each command's
//!    result.
//! 3. The store commits the change set atomically, placing the events in
//!    its order, and hands their positions to [`Decision::into_results`].
//!
//! Core never drives a store row by row; a store never decides. A store
//! whose rows another writer could change between load and commit either
//! prevents it (locks taken by the load) or detects it and runs the three
//! steps again.
//!
//! ```
//! use follow_core::write::{Facts, WritePlan};
//! use follow_core::{Command, NodeId, TenantId, Timestamp, WriteBatch};
//!
//! let now = Timestamp::from_unix_seconds(1_800_000_000)?;
//! let batch = WriteBatch::new(TenantId::new("acme")?, now)
//!     .command(Command::Register { node: NodeId::new("alice")? });
//! let plan = WritePlan::new(&batch);
//! assert_eq!(plan.keys().nodes, vec![NodeId::new("alice")?]);
//! // The store found nothing: alice is new.
//! let decision = plan.decide(Facts::new())?;
//! assert_eq!(decision.changes.node_inserts.len(), 1);
//! let results = decision.into_results(&[])?;
//! assert!(results[0].as_ref().is_ok_and(|applied| applied.is_changed()));
//! # Ok::<(), follow_core::Error>(())
//! ```

mod addresses;
mod changes;
mod facts;
mod keys;
mod rules;
mod summary;
mod working;

pub use changes::{ChangeSet, NodeUpdate};
pub use facts::Facts;
pub use keys::{EdgeKey, Keys};
pub(crate) use rules::EDGES_REMAIN;

use keys::Hints;
use rules::Pending;
use working::Working;

use crate::{CommandResult, Error, EventPosition, WriteBatch};

/// One batch on its way through load → decide → commit.
#[derive(Debug)]
pub struct WritePlan<'b> {
    batch: &'b WriteBatch,
    keys: Keys,
    hints: Hints,
}

impl<'b> WritePlan<'b> {
    /// The plan of `batch`: its keys are worked out here, once.
    pub fn new(batch: &'b WriteBatch) -> Self {
        let (keys, hints) = Keys::with_hints(batch);
        WritePlan { keys, hints, batch }
    }

    /// The rows to load, each list sorted.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Where `id` sits in [`Keys::nodes`], if the batch names it. Every id
    /// of the batch's change set is there, so a store that resolves each
    /// node once at load (to a row number, say) can keep what it found
    /// beside the keys and find it again for the change set's ids: those
    /// share their bytes with the keys and are found by the bytes' address,
    /// without reading them; other ids by a search that compares short ids
    /// as integers.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.hints.node_index.find(&self.keys.nodes, id)
    }

    /// Decides the batch on the rows the store loaded for [`Self::keys`].
    /// A store that runs a batch again (after a conflict) decides each run
    /// with the same plan.
    ///
    /// # Errors
    /// The batch fails as a whole, and the store commits nothing: its
    /// required actor is not registered (`not_found`), or the facts break an
    /// invariant (`internal`: counters that disagree with the edges).
    /// Per-command rejections (`not_found`, `not_following`, `forbidden`,
    /// `invalid_argument`) are the commands' own results.
    pub fn decide(&self, facts: Facts) -> Result<Decision, Error> {
        let batch = self.batch;
        let mut rows = Working::new(&self.keys, facts);
        if let Some(actor) = &batch.requires
            && rows.node(actor)?.is_none()
        {
            return Err(Error::node_not_found("actor", actor.as_str()));
        }
        let hints = self.hints.nodes.iter().zip(&self.hints.edges);
        let results = batch
            .commands
            .iter()
            .zip(hints)
            .map(|(command, (nodes, edges))| {
                rows.expect(*nodes, *edges);
                rules::apply(&mut rows, batch.at, command)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Decision {
            changes: rows.into_changes(batch.tenant.clone()),
            results,
        })
    }
}

/// A decided batch: what to commit, and what each command answers.
#[derive(Debug)]
pub struct Decision {
    /// The rows and events to commit, atomically.
    pub changes: ChangeSet,
    results: Vec<Result<Pending, Error>>,
}

impl Decision {
    /// Each command's result, in request order, once the store committed
    /// [`Self::changes`] and placed its events at `positions` (one per
    /// event, in order).
    ///
    /// # Errors
    /// `internal` when `positions` does not hold one position per event.
    pub fn into_results(self, positions: &[EventPosition]) -> Result<Vec<CommandResult>, Error> {
        let events = self.changes.events;
        if positions.len() != events.len() {
            return Err(Error::internal(format!(
                "the store placed {} of {} events",
                positions.len(),
                events.len()
            )));
        }
        let tenant = self.changes.tenant;
        let event = |index: usize| {
            let (Some(event), Some(position)) = (events.get(index), positions.get(index)) else {
                return Err(Error::internal("a result names an event the batch has not"));
            };
            Ok(event.clone().at_position(tenant.clone(), *position))
        };
        self.results
            .into_iter()
            .map(|result| match result {
                Ok(pending) => pending.resolve(event).map(Ok),
                Err(rejected) => Ok(Err(rejected)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    //! Given stored rows, when a batch, then this change set and these results.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{
        AccountId, Command, CountDelta, Edge, ErrorKind, EventKind, NodeId, NodeRecord, Outcome,
        TenantId, Timestamp,
    };

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(1_800_000_000 + seconds).unwrap()
    }
    fn node(id: &str) -> NodeId {
        NodeId::new(id).unwrap()
    }
    fn account(id: &str) -> AccountId {
        AccountId::new(id).unwrap()
    }
    fn key(follower: &str, target: &str) -> EdgeKey {
        EdgeKey::new(account(follower), node(target))
    }
    fn batch(commands: Vec<Command>) -> WriteBatch {
        let mut batch = WriteBatch::new(TenantId::new("acme").unwrap(), at(10));
        batch.commands = commands;
        batch
    }
    fn follow(follower: &str, target: &str) -> Command {
        Command::Follow {
            follower: account(follower),
            target: node(target),
            since: None,
            options: crate::OptionsUpdate::NONE,
        }
    }
    fn unfollow(follower: &str, target: &str) -> Command {
        Command::Unfollow {
            follower: account(follower),
            target: node(target),
        }
    }
    /// Facts holding these nodes (with counts) and edges.
    fn facts(nodes: &[(&str, u64, u64, u64)], edges: &[(&str, &str, Edge)]) -> Facts {
        let mut facts = Facts::new();
        for (id, following, followers, mutual) in nodes {
            let mut record = NodeRecord::new(node(id), at(0));
            record.counts = crate::Counts {
                following: *following,
                followers: *followers,
                mutual: *mutual,
            };
            facts.add_node(record);
        }
        for (follower, target, edge) in edges {
            facts.add_edge(key(follower, target), *edge);
        }
        facts
    }
    fn delta(following: i64, followers: i64, mutual: i64) -> CountDelta {
        CountDelta {
            following,
            followers,
            mutual,
        }
    }

    #[test]
    fn keys_name_both_ends_the_edge_and_its_reverse_sorted_once() {
        // Byte order: the channel's digits sort before letters.
        const CHANNEL: &str = "120363012345678901@newsletter";
        let batch = batch(vec![
            follow("bob", "alice"),
            follow("alice", CHANNEL),
            unfollow("bob", "alice"),
            Command::Register {
                node: node("carol"),
            },
        ])
        .requiring(node("zed"));
        let keys = Keys::of(&batch);
        let nodes: Vec<&str> = keys.nodes.iter().map(NodeId::as_str).collect();
        assert_eq!(nodes, [CHANNEL, "alice", "bob", "carol", "zed"]);
        assert_eq!(
            keys.edges,
            vec![
                key("alice", CHANNEL),
                key("alice", "bob"),
                key("bob", "alice")
            ]
        );
        assert_eq!(key("alice", "bob").to_string(), "alice -> bob");
    }

    /// A store may resolve the change set's ids through `node_index`: every
    /// id the change set names is among the plan's nodes, at its place.
    #[test]
    fn every_id_of_the_change_set_is_found_among_the_nodes() {
        let long = "a-rather-long-account-id-0001";
        let batch = batch(vec![
            Command::Register {
                node: node("carol"),
            },
            follow("carol", "alice"),
            follow("bob", long),
            unfollow("alice", "bob"),
            Command::Block {
                actor: account(long),
                target: account("bob"),
            },
            Command::Remove { node: node("dave") },
        ]);
        let plan = WritePlan::new(&batch);
        let back = Edge::new(at(3));
        let facts = facts(
            &[
                ("alice", 1, 0, 0),
                ("bob", 0, 1, 0),
                ("dave", 0, 0, 0),
                (long, 0, 0, 0),
            ],
            &[("alice", "bob", back)],
        );
        let changes = plan.decide(facts).unwrap().changes;
        let mut ids: Vec<&str> = Vec::new();
        for key in changes
            .edge_deletes
            .iter()
            .chain(changes.edge_inserts.iter().map(|(k, _)| k))
            .chain(changes.edge_updates.iter().map(|(k, _)| k))
        {
            ids.extend([key.follower.as_str(), key.target.as_str()]);
        }
        for key in changes
            .link_inserts
            .iter()
            .chain(&changes.link_updates)
            .map(|(k, _)| k)
        {
            ids.extend([key.from.as_str(), key.to.as_str()]);
        }
        ids.extend(changes.node_inserts.iter().map(|n| n.id.as_str()));
        ids.extend(changes.node_deletes.iter().map(NodeId::as_str));
        ids.extend(changes.node_updates.iter().map(|u| u.id.as_str()));
        for event in &changes.events {
            ids.extend([event.follower.as_str(), event.target.as_str()]);
        }
        assert!(ids.len() >= 20, "{ids:?}");
        for id in ids {
            let at = plan.node_index(id);
            assert_eq!(
                at.and_then(|at| plan.keys().nodes.get(at))
                    .map(NodeId::as_str),
                Some(id)
            );
        }
        assert_eq!(plan.node_index("zed"), None);
    }

    /// In a batch large enough to find ids by address, the batch's own ids,
    /// the change set's and copies made elsewhere all land at their place.
    #[test]
    fn a_large_batch_finds_its_ids_by_address_and_copies_by_value() {
        let fans: Vec<String> = (0..100).map(|n| format!("fan{n:03}")).collect();
        let registers = fans
            .iter()
            .map(String::as_str)
            .chain(["star"])
            .map(|id| Command::Register { node: node(id) });
        let follows = fans.iter().map(|fan| follow(fan, "star"));
        let batch = batch(registers.chain(follows).collect());
        let plan = WritePlan::new(&batch);
        let nodes = &plan.keys().nodes;
        assert!(nodes.len() >= super::summary::BY_ADDRESS_FROM);
        let changes = plan.decide(Facts::new()).unwrap().changes;
        let copies: Vec<String> = nodes.iter().map(|id| id.as_str().to_owned()).collect();
        let ids = changes
            .edge_inserts
            .iter()
            .flat_map(|(key, _)| [key.follower.as_str(), key.target.as_str()])
            .chain(copies.iter().map(String::as_str));
        let mut found = 0;
        for id in ids {
            let at = plan.node_index(id);
            assert_eq!(
                at.and_then(|at| nodes.get(at)).map(NodeId::as_str),
                Some(id)
            );
            found += 1;
        }
        assert!(found > 250, "{found} ids");
        assert_eq!(plan.node_index("fan100"), None);
    }

    #[test]
    fn a_follow_inserts_the_edge_moves_both_counters_and_places_its_event() {
        let batch = batch(vec![follow("alice", "bob")]);
        let plan = WritePlan::new(&batch);
        let decision = plan
            .decide(facts(&[("alice", 0, 0, 0), ("bob", 0, 0, 0)], &[]))
            .unwrap();
        let changes = &decision.changes;
        assert_eq!(
            changes.edge_inserts,
            vec![(key("alice", "bob"), Edge::new(at(10)))]
        );
        assert!(changes.edge_updates.is_empty());
        assert!(changes.edge_deletes.is_empty() && changes.node_inserts.is_empty());
        let updates: Vec<(&str, CountDelta)> = changes
            .node_updates
            .iter()
            .map(|u| (u.id.as_str(), u.counts))
            .collect();
        assert_eq!(
            updates,
            [("alice", delta(1, 0, 0)), ("bob", delta(0, 1, 0))]
        );
        assert_eq!(changes.events.len(), 1);
        assert_eq!(changes.len(), 4);
        let results = decision.into_results(&[crate::EventPosition(7)]).unwrap();
        let applied = results[0].as_ref().unwrap();
        assert_eq!(applied.outcome, Outcome::Changed);
        let event = applied.event.as_ref().unwrap();
        assert_eq!(
            (event.position.0, event.kind, event.at),
            (7, EventKind::Followed, at(10))
        );
    }

    #[test]
    fn a_follow_back_marks_both_edges_mutual() {
        let batch = batch(vec![follow("alice", "bob")]);
        let back = Edge::new(at(3));
        let decision = WritePlan::new(&batch)
            .decide(facts(
                &[("alice", 0, 1, 0), ("bob", 1, 0, 0)],
                &[("bob", "alice", back)],
            ))
            .unwrap();
        let marked = Edge {
            mutual_since: Some(at(10)),
            ..Edge::new(at(10))
        };
        assert_eq!(
            decision.changes.edge_inserts,
            vec![(key("alice", "bob"), marked)]
        );
        assert_eq!(
            decision.changes.edge_updates,
            vec![(
                key("bob", "alice"),
                Edge {
                    mutual_since: Some(at(10)),
                    ..back
                }
            )]
        );
        let updates: Vec<CountDelta> = decision
            .changes
            .node_updates
            .iter()
            .map(|u| u.counts)
            .collect();
        assert_eq!(updates, [delta(1, 0, 1), delta(0, 1, 1)]);
    }

    #[test]
    fn an_edge_cut_and_made_again_is_deleted_and_inserted() {
        let batch = batch(vec![unfollow("alice", "bob"), follow("alice", "bob")]);
        let old = Edge {
            muted: true,
            ..Edge::new(at(1))
        };
        let decision = WritePlan::new(&batch)
            .decide(facts(
                &[("alice", 1, 0, 0), ("bob", 0, 1, 0)],
                &[("alice", "bob", old)],
            ))
            .unwrap();
        assert_eq!(decision.changes.edge_deletes, vec![key("alice", "bob")]);
        assert_eq!(
            decision.changes.edge_inserts,
            vec![(key("alice", "bob"), Edge::new(at(10)))]
        );
        assert!(decision.changes.edge_updates.is_empty());
        // The counters end where they began.
        assert!(decision.changes.node_updates.is_empty());
        assert_eq!(decision.changes.events.len(), 2);
    }

    #[test]
    fn a_stored_link_changed_is_updated_a_new_one_inserted() {
        let mute = |target: &str, expires_at: Option<Timestamp>| Command::MuteAccount {
            actor: account("alice"),
            target: account(target),
            notifications: true,
            expires_at,
        };
        let batch = batch(vec![mute("bob", Some(at(50))), mute("carol", None)]);
        let muted_bob =
            crate::LinkKey::new(crate::LinkKind::Mute, account("alice"), account("bob"));
        let mut facts = Facts::new();
        for (id, links) in [("alice", 1), ("bob", 1), ("carol", 0)] {
            let mut record = NodeRecord::new(node(id), at(0));
            record.links = links;
            facts.add_node(record);
        }
        facts.add_link(muted_bob.clone(), crate::Link::mute(at(1), false, None));
        let changes = WritePlan::new(&batch).decide(facts).unwrap().changes;
        assert_eq!(
            changes.link_updates,
            vec![(muted_bob, crate::Link::mute(at(1), true, Some(at(50))))]
        );
        let muted_carol =
            crate::LinkKey::new(crate::LinkKind::Mute, account("alice"), account("carol"));
        assert_eq!(
            changes.link_inserts,
            vec![(muted_carol, crate::Link::mute(at(10), true, None))]
        );
        assert!(changes.link_deletes.is_empty());
    }

    #[test]
    fn a_node_with_edges_is_not_removed_one_without_is() {
        let remove = |id: &str| Command::Remove { node: node(id) };
        let batch = batch(vec![remove("alice"), remove("bob"), remove("ghost")]);
        let decision = WritePlan::new(&batch)
            .decide(facts(&[("alice", 0, 1, 0), ("bob", 0, 0, 0)], &[]))
            .unwrap();
        assert_eq!(decision.changes.node_deletes, vec![node("bob")]);
        let results = decision.into_results(&[]).unwrap();
        let remains = results[0].as_ref().unwrap_err();
        assert_eq!(remains.kind(), ErrorKind::Unavailable);
        assert_eq!(remains.details()["reason"], EDGES_REMAIN);
        assert!(results[1].as_ref().unwrap().is_changed());
        assert_eq!(results[2].as_ref().unwrap().outcome, Outcome::Unchanged);
    }

    #[test]
    fn a_node_that_follows_or_has_links_is_not_removed_either() {
        let remove = |id: &str| Command::Remove { node: node(id) };
        let batch = batch(vec![remove("carol"), remove("dave")]);
        let mut facts = facts(&[("carol", 1, 0, 0)], &[]);
        let mut dave = NodeRecord::new(node("dave"), at(0));
        dave.links = 1;
        facts.add_node(dave);
        let decision = WritePlan::new(&batch).decide(facts).unwrap();
        assert!(decision.changes.node_deletes.is_empty());
        for result in decision.into_results(&[]).unwrap() {
            assert_eq!(result.unwrap_err().details()["reason"], EDGES_REMAIN);
        }
    }

    #[test]
    fn a_node_removed_and_registered_again_is_deleted_and_inserted() {
        let batch = batch(vec![
            Command::Remove { node: node("bob") },
            Command::Register { node: node("bob") },
        ]);
        let decision = WritePlan::new(&batch)
            .decide(facts(&[("bob", 0, 0, 0)], &[]))
            .unwrap();
        assert_eq!(decision.changes.node_deletes, vec![node("bob")]);
        assert_eq!(
            decision.changes.node_inserts,
            vec![NodeRecord::new(node("bob"), at(10))]
        );
    }

    #[test]
    fn touch_moves_activity_forward_only() {
        let touch = |seconds| Command::Touch {
            node: node("bob"),
            at: at(seconds),
        };
        let batch = batch(vec![touch(5), touch(3), touch(5)]);
        let decision = WritePlan::new(&batch)
            .decide(facts(&[("bob", 0, 0, 0)], &[]))
            .unwrap();
        assert_eq!(
            decision.changes.node_updates,
            vec![NodeUpdate {
                id: node("bob"),
                counts: CountDelta::default(),
                links: 0,
                locked: None,
                last_active: Some(at(5)),
            }]
        );
        let outcomes: Vec<Outcome> = decision
            .into_results(&[])
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap().outcome)
            .collect();
        assert_eq!(
            outcomes,
            [Outcome::Changed, Outcome::Unchanged, Outcome::Unchanged]
        );
    }

    #[test]
    fn a_missing_required_actor_fails_the_whole_batch() {
        let batch = batch(vec![Command::Register {
            node: node("alice"),
        }])
        .requiring(node("ghost"));
        let error = WritePlan::new(&batch).decide(Facts::new()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn counters_that_disagree_with_the_edges_fail_the_batch() {
        let batch = batch(vec![unfollow("alice", "bob")]);
        let error = WritePlan::new(&batch)
            .decide(facts(
                &[("alice", 0, 0, 0), ("bob", 0, 1, 0)],
                &[("alice", "bob", Edge::new(at(1)))],
            ))
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Internal);
    }

    #[test]
    fn results_need_one_position_per_event() {
        let batch = batch(vec![follow("alice", "bob")]);
        let decide = || {
            WritePlan::new(&batch)
                .decide(facts(&[("alice", 0, 0, 0), ("bob", 0, 0, 0)], &[]))
                .unwrap()
        };
        assert_eq!(
            decide().into_results(&[]).unwrap_err().kind(),
            ErrorKind::Internal
        );
        let two = [crate::EventPosition(1), crate::EventPosition(2)];
        assert_eq!(
            decide().into_results(&two).unwrap_err().kind(),
            ErrorKind::Internal
        );
    }

    #[test]
    fn facts_may_come_in_any_order_and_the_last_of_a_key_wins() {
        let batch = batch(vec![follow("alice", "bob")]);
        let mut facts = Facts::new();
        let stale = NodeRecord::new(node("bob"), at(0));
        let mut bob = stale.clone();
        bob.counts.followers = 3;
        facts.add_edge(key("zed", "alice"), Edge::new(at(1)));
        facts.add_node(stale);
        facts.add_node(NodeRecord::new(node("alice"), at(0)));
        facts.add_node(bob);
        facts.add_node(NodeRecord::new(node("zed"), at(0)));
        facts.add_edge(key("bob", "alice"), Edge::new(at(2)));
        let decision = WritePlan::new(&batch).decide(facts).unwrap();
        // bob's later row (3 followers) is the one decided on: the follow
        // back is seen, and the counters move from there.
        let changes = &decision.changes;
        assert_eq!(
            (changes.edge_inserts.len(), changes.edge_updates.len()),
            (1, 1),
            "the follow and bob's mutual mark"
        );
        assert_eq!(changes.node_updates[1].counts, delta(0, 1, 1));
        assert!(changes.node_inserts.is_empty());
    }

    #[test]
    fn an_unchanged_batch_changes_nothing() {
        let batch = batch(vec![follow("alice", "bob"), unfollow("bob", "alice")]);
        let decision = WritePlan::new(&batch)
            .decide(facts(
                &[("alice", 1, 0, 0), ("bob", 0, 1, 0)],
                &[("alice", "bob", Edge::new(at(1)))],
            ))
            .unwrap();
        assert!(decision.changes.is_empty());
        assert_eq!(decision.changes.len(), 0);
    }
}
