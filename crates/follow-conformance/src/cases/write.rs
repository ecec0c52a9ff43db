//! Cases of `FollowStore::write`: load → decide → commit, atomic, with counts, mutual marks and events as the state machine says.
//!
//! The rules of edges are here; those of links and follow options, which
//! drive the store with commands directly, are in the submodules.

mod account_mutes;
mod blocks;
mod follow_options;
mod link_rows;
mod requests;

pub use account_mutes::*;
pub use blocks::*;
pub use follow_options::*;
pub use link_rows::*;
pub use requests::*;

use super::prelude::*;

/// follow on an absent edge creates it unmuted at the clock's time:
/// `changed`, one `followed` event, counts move.
pub async fn follow_absent_creates_unmuted_edge(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    f.tick(5);
    let applied = f.graph.follow(&f.admin, "alice", CHANNEL).await.unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    let event = applied.event.expect("a changed follow carries its event");
    assert_eq!(event.kind, EventKind::Followed);
    assert_eq!(event.follower.as_str(), "alice");
    assert_eq!(event.target.as_str(), CHANNEL);
    let following = f.list(ListKind::Following, "alice").await;
    assert_eq!(following.len(), 1);
    assert_eq!(following[0].node.as_str(), CHANNEL);
    assert_eq!(following[0].since, at(5));
    assert!(!following[0].muted);
    let counts = f.graph.counts(&f.admin, CHANNEL).await.unwrap();
    assert_eq!((counts.followers, counts.following), (1, 0));
    let events = f.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0], event);
}

/// follow on a present edge is `unchanged`, emits nothing, keeps `since` and
/// the mute flag.
pub async fn follow_present_is_unchanged_and_keeps_mute(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    f.graph.mute(&f.admin, "alice", "bob").await.unwrap();
    let before = f.events().await;
    f.tick(10);
    let again = f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert!(again.event.is_none());
    let following = f.list(ListKind::Following, "alice").await;
    assert_eq!(following.len(), 1);
    assert!(following[0].muted, "a re-follow must keep the mute flag");
    assert_eq!(following[0].since, at(0), "a re-follow must keep since");
    assert_eq!(f.events().await, before);
}

/// unfollow on an absent edge is `unchanged` (success), no event.
pub async fn unfollow_absent_is_unchanged(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    let applied = f.graph.unfollow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(applied.outcome, Outcome::Unchanged);
    assert!(applied.event.is_none());
    assert!(f.events().await.is_empty());
}

/// unfollow on a present edge removes it: `changed`, `unfollowed`, counts
/// back to zero.
pub async fn unfollow_present_removes_edge(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    let applied = f.graph.unfollow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    assert_eq!(applied.event.map(|e| e.kind), Some(EventKind::Unfollowed));
    assert!(f.list(ListKind::Following, "alice").await.is_empty());
    assert!(f.list(ListKind::Followers, "bob").await.is_empty());
    assert_eq!(
        f.graph.relation(&f.admin, "alice", "bob").await.unwrap(),
        Relation::None
    );
    f.assert_counts_match_lists(&["alice", "bob"]).await;
    let kinds: Vec<_> = f.events().await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Followed, EventKind::Unfollowed]);
}

/// set_mute(true) (and mute) on an absent edge is `not_following` and
/// changes nothing.
pub async fn set_mute_true_on_absent_edge_is_not_following(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    let result = f.graph.set_mute(&f.admin, "alice", CHANNEL, true).await;
    assert_eq!(kind(result), Some(ErrorKind::NotFollowing));
    assert_eq!(
        kind(f.graph.mute(&f.admin, "alice", CHANNEL).await),
        Some(ErrorKind::NotFollowing)
    );
    assert!(f.list(ListKind::Following, "alice").await.is_empty());
    assert!(f.events().await.is_empty());
}

/// set_mute to the value the edge already has is `unchanged`: a set, never
/// a toggle.
pub async fn set_mute_same_value_is_unchanged(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    let unmute = f.graph.set_mute(&f.admin, "alice", "bob", false).await;
    assert_eq!(unmute.unwrap().outcome, Outcome::Unchanged);
    f.graph
        .set_mute(&f.admin, "alice", "bob", true)
        .await
        .unwrap();
    let again = f
        .graph
        .set_mute(&f.admin, "alice", "bob", true)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert!(again.event.is_none());
    assert!(f.list(ListKind::Following, "alice").await[0].muted);
    let kinds: Vec<_> = f.events().await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Followed, EventKind::Muted]);
}

/// set_mute(false) on a muted edge unmutes: `changed`, event `unmuted`; the
/// edge itself (its `since`) stays.
pub async fn unmute_clears_the_flag(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    f.follow("alice", CHANNEL).await;
    f.graph.mute(&f.admin, "alice", CHANNEL).await.unwrap();
    f.tick(3);
    let applied = f
        .graph
        .set_mute(&f.admin, "alice", CHANNEL, false)
        .await
        .unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    assert_eq!(applied.event.map(|e| e.kind), Some(EventKind::Unmuted));
    let entry = &f.list(ListKind::Following, "alice").await[0];
    assert!(!entry.muted);
    assert_eq!(entry.since, at(0));
}

/// remove_follower when the follower does not follow is `unchanged`.
pub async fn remove_follower_absent_is_unchanged(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    let applied = f
        .graph
        .remove_follower(&f.admin, "bob", "alice")
        .await
        .unwrap();
    assert_eq!(applied.outcome, Outcome::Unchanged);
    assert!(f.events().await.is_empty());
}

/// remove_follower on a present edge removes it: `changed`, event
/// `follower_removed` naming the follower and the target.
pub async fn remove_follower_present_removes_edge(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    f.follow("alice", CHANNEL).await;
    let applied = f
        .graph
        .remove_follower(&f.admin, CHANNEL, "alice")
        .await
        .unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    let event = applied.event.unwrap();
    assert_eq!(event.kind, EventKind::FollowerRemoved);
    assert_eq!(
        (event.follower.as_str(), event.target.as_str()),
        ("alice", CHANNEL)
    );
    assert!(f.list(ListKind::Followers, CHANNEL).await.is_empty());
    f.assert_counts_match_lists(&["alice", CHANNEL]).await;
}

/// After remove_follower the follower may follow again: a new, unmuted edge.
pub async fn refollow_after_remove_follower_is_allowed(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    f.graph.mute(&f.admin, "alice", "bob").await.unwrap();
    f.graph
        .remove_follower(&f.admin, "bob", "alice")
        .await
        .unwrap();
    f.tick(7);
    let again = f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(again.outcome, Outcome::Changed);
    let entry = &f.list(ListKind::Followers, "bob").await[0];
    assert_eq!(
        (entry.node.as_str(), entry.since, entry.muted),
        ("alice", at(7), false)
    );
}

/// A re-follow after an unfollow starts a new edge: unmuted, new `since`.
pub async fn refollow_after_unfollow_starts_a_new_edge(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    f.follow("alice", CHANNEL).await;
    f.graph.mute(&f.admin, "alice", CHANNEL).await.unwrap();
    f.tick(1);
    f.graph.unfollow(&f.admin, "alice", CHANNEL).await.unwrap();
    f.tick(60);
    let again = f.graph.follow(&f.admin, "alice", CHANNEL).await.unwrap();
    assert_eq!(again.outcome, Outcome::Changed);
    let entry = &f.list(ListKind::Following, "alice").await[0];
    assert_eq!(entry.since, at(61));
    assert!(!entry.muted, "a new edge starts unmuted");
}

/// Every edge command applied a second time is `unchanged`, with no event
/// and no change to the edge.
pub async fn second_application_is_unchanged_without_event(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    let g = &f.graph;
    let p = &f.admin;
    let steps: Vec<(&str, EventKind)> = vec![
        ("follow", EventKind::Followed),
        ("mute", EventKind::Muted),
        ("unmute", EventKind::Unmuted),
        ("unfollow", EventKind::Unfollowed),
        ("follow", EventKind::Followed),
        ("remove_follower", EventKind::FollowerRemoved),
    ];
    for (name, expected) in steps {
        let mut outcomes = Vec::new();
        for _ in 0..2 {
            let applied = match name {
                "follow" => g.follow(p, "alice", "bob").await,
                "mute" => g.mute(p, "alice", "bob").await,
                "unmute" => g.set_mute(p, "alice", "bob", false).await,
                "unfollow" => g.unfollow(p, "alice", "bob").await,
                _ => g.remove_follower(p, "bob", "alice").await,
            }
            .unwrap();
            outcomes.push((applied.outcome, applied.event.map(|e| e.kind)));
        }
        assert_eq!(
            outcomes,
            [
                (Outcome::Changed, Some(expected)),
                (Outcome::Unchanged, None)
            ],
            "{name} twice"
        );
    }
    assert_eq!(f.events().await.len(), 6);
}

/// register and remove are upserts: the second is `unchanged`.
pub async fn register_and_remove_are_idempotent(store: Store) {
    let f = Fixture::new(store);
    let first = f.graph.register(&f.admin, "alice").await.unwrap();
    let second = f.graph.register(&f.admin, "alice").await.unwrap();
    assert_eq!(
        (first.outcome, second.outcome),
        (Outcome::Changed, Outcome::Unchanged)
    );
    let first = f.graph.remove(&f.admin, "alice").await.unwrap();
    let second = f.graph.remove(&f.admin, "alice").await.unwrap();
    assert_eq!(
        (first.outcome, second.outcome),
        (Outcome::Changed, Outcome::Unchanged)
    );
    assert_eq!(
        kind(f.graph.node(&f.admin, "alice").await),
        Some(ErrorKind::NotFound)
    );
}

/// A target named twice in one batch: the first applies, the second is
/// `unchanged`; one event.
pub async fn batch_duplicates_second_is_unchanged(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", CHANNEL]).await;
    let results = f
        .graph
        .follow_many(&f.admin, "alice", &["bob", CHANNEL, "bob"])
        .await
        .unwrap();
    let outcomes: Vec<_> = results
        .iter()
        .map(|i| i.result.as_ref().unwrap().outcome)
        .collect();
    assert_eq!(
        outcomes,
        [Outcome::Changed, Outcome::Changed, Outcome::Unchanged]
    );
    assert_eq!(f.events().await.len(), 2);
    let results = f
        .graph
        .unfollow_many(&f.admin, "alice", &["bob", "bob"])
        .await
        .unwrap();
    let outcomes: Vec<_> = results
        .iter()
        .map(|i| i.result.as_ref().unwrap().outcome)
        .collect();
    assert_eq!(outcomes, [Outcome::Changed, Outcome::Unchanged]);
    assert_eq!(f.ids(ListKind::Following, "alice").await, [CHANNEL]);
    f.assert_counts_match_lists(&["alice", "bob", CHANNEL])
        .await;
}

/// Per-item errors (unknown target `not_found`, self `invalid_argument`, bad
/// id `invalid_argument`) come back in request order, each with its target
/// as given, while the other targets apply.
pub async fn batch_mixed_item_errors_in_request_order(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", CHANNEL]).await;
    let targets = [
        "bob",
        "ghost",
        "alice",
        "bad id",
        "",
        "abc@newsletter",
        CHANNEL,
    ];
    let results = f
        .graph
        .follow_many(&f.admin, "alice", &targets)
        .await
        .unwrap();
    let got: Vec<(&str, Result<Outcome, ErrorKind>)> = results
        .iter()
        .map(|item| {
            let result = item
                .result
                .as_ref()
                .map(|a| a.outcome)
                .map_err(|e| e.kind());
            (item.target.as_str(), result)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("bob", Ok(Outcome::Changed)),
            ("ghost", Err(ErrorKind::NotFound)),
            ("alice", Err(ErrorKind::InvalidArgument)),
            ("bad id", Err(ErrorKind::InvalidArgument)),
            ("", Err(ErrorKind::InvalidArgument)),
            ("abc@newsletter", Err(ErrorKind::InvalidArgument)),
            (CHANNEL, Ok(Outcome::Changed)),
        ]
    );
    let mut ids = f.ids(ListKind::Following, "alice").await;
    ids.sort();
    assert_eq!(ids, [CHANNEL, "bob"]);
    assert_eq!(f.events().await.len(), 2);
    f.assert_counts_match_lists(&["alice", "bob", CHANNEL])
        .await;
}

/// An unknown actor fails the whole batch with `not_found` and nothing
/// changes, even when every target is valid.
pub async fn batch_unknown_actor_is_not_found_and_changes_nothing(store: Store) {
    let f = Fixture::new(store);
    f.register(&["bob", CHANNEL]).await;
    let g = &f.graph;
    assert_eq!(
        kind(g.follow_many(&f.admin, "ghost", &["bob", CHANNEL]).await),
        Some(ErrorKind::NotFound)
    );
    assert_eq!(
        kind(g.unfollow_many(&f.admin, "ghost", &["bob"]).await),
        Some(ErrorKind::NotFound)
    );
    assert_eq!(
        kind(g.check_many(&f.admin, "ghost", &["bob"]).await),
        Some(ErrorKind::NotFound)
    );
    // Even a batch whose every target is invalid checks the actor.
    assert_eq!(
        kind(g.follow_many(&f.admin, "ghost", &["ghost"]).await),
        Some(ErrorKind::NotFound)
    );
    assert!(f.list(ListKind::Followers, "bob").await.is_empty());
    assert!(f.events().await.is_empty());
}

/// unfollow_many removes present edges and answers `unchanged` for absent
/// ones, per target, in order.
pub async fn unfollow_many_applies_per_target(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", CHANNEL]).await;
    f.graph
        .follow_many(&f.admin, "alice", &["bob", CHANNEL])
        .await
        .unwrap();
    let results = f
        .graph
        .unfollow_many(&f.admin, "alice", &[CHANNEL, "carol", "ghost"])
        .await
        .unwrap();
    let got: Vec<_> = results
        .iter()
        .map(|i| i.result.as_ref().map(|a| a.outcome).map_err(|e| e.kind()))
        .collect();
    assert_eq!(
        got,
        [
            Ok(Outcome::Changed),
            Ok(Outcome::Unchanged),
            Err(ErrorKind::NotFound)
        ]
    );
    assert_eq!(f.ids(ListKind::Following, "alice").await, ["bob"]);
    f.assert_counts_match_lists(&["alice", "bob", "carol", CHANNEL])
        .await;
}

/// Following oneself is `invalid_argument`, alone or in a batch; so is
/// removing oneself as a follower.
pub async fn self_follow_is_invalid(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice"]).await;
    let g = &f.graph;
    assert_eq!(
        kind(g.follow(&f.admin, "alice", "alice").await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.remove_follower(&f.admin, "alice", "alice").await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.relation(&f.admin, "alice", "alice").await),
        Some(ErrorKind::InvalidArgument)
    );
    let items = g.follow_many(&f.admin, "alice", &["alice"]).await.unwrap();
    assert_eq!(
        kind(items[0].result.clone()),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(g.counts(&f.admin, "alice").await.unwrap().following, 0);
    assert!(f.events().await.is_empty());
}

/// Unknown nodes are `not_found` for every call that needs them; removing
/// an unknown node is `unchanged`.
pub async fn unknown_nodes_are_not_found(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice"]).await;
    let g = &f.graph;
    let p = &f.admin;
    let page = PageRequest::first();
    let got = [
        kind(g.follow(p, "ghost", "alice").await),
        kind(g.follow(p, "alice", "ghost").await),
        kind(g.unfollow(p, "alice", "ghost").await),
        kind(g.unfollow(p, "ghost", "alice").await),
        kind(g.mute(p, "alice", "ghost").await),
        kind(g.remove_follower(p, "ghost", "alice").await),
        kind(g.remove_follower(p, "alice", "ghost").await),
        kind(g.relation(p, "alice", "ghost").await),
        kind(g.relation(p, "ghost", "alice").await),
        kind(g.counts(p, "ghost").await),
        kind(g.node(p, "ghost").await),
        kind(g.followers(p, "ghost", &page).await),
        kind(g.following(p, "ghost", &page).await),
        kind(g.mutuals(p, "ghost", &page).await),
        kind(g.touch(p, "ghost", None).await),
        kind(g.ensure_can_interact(p, "alice", "ghost").await),
        kind(g.ensure_can_interact(p, "ghost", "alice").await),
        kind(g.stale_following(p, "ghost", at(0), &page).await),
    ];
    for (index, got) in got.into_iter().enumerate() {
        assert_eq!(got, Some(ErrorKind::NotFound), "call {index}");
    }
    assert_eq!(
        g.remove(p, "ghost").await.unwrap().outcome,
        Outcome::Unchanged
    );
    assert!(f.events().await.is_empty());
}

/// Another tenant's node is `not_found`, never `forbidden`, and nothing of
/// the other tenant changes.
pub async fn other_tenants_node_is_not_found(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    f.register_other(&["carol"]).await;
    let g = &f.graph;
    let o = &f.other;
    let page = PageRequest::first();
    let got = [
        kind(g.follow(o, "alice", "bob").await),
        kind(g.follow(o, "carol", "bob").await),
        kind(g.unfollow(o, "alice", "bob").await),
        kind(g.mute(o, "alice", "bob").await),
        kind(g.remove_follower(o, "bob", "alice").await),
        kind(g.follow_many(o, "alice", &["bob"]).await),
        kind(g.relation(o, "alice", "bob").await),
        kind(g.counts(o, "alice").await),
        kind(g.followers(o, "bob", &page).await),
        kind(g.following(o, "alice", &page).await),
        kind(g.mutuals(o, "alice", &page).await),
        kind(g.ensure_can_interact(o, "alice", "bob").await),
        kind(g.touch(o, "bob", None).await),
        kind(g.stale_following(o, "alice", at(0), &page).await),
    ];
    for (index, got) in got.into_iter().enumerate() {
        assert_eq!(got, Some(ErrorKind::NotFound), "call {index}");
    }
    let items = g.follow_many(o, "carol", &["bob"]).await.unwrap();
    assert_eq!(kind(items[0].result.clone()), Some(ErrorKind::NotFound));
    assert_eq!(f.ids(ListKind::Following, "alice").await, ["bob"]);
    assert!(crate::fixture::events_of(g, o).await.is_empty());
}

/// The same ids in two tenants are two separate graphs.
pub async fn tenants_are_isolated(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.register_other(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    let g = &f.graph;
    assert_eq!(
        g.relation(&f.other, "alice", "bob").await.unwrap(),
        Relation::None
    );
    assert_eq!(g.counts(&f.other, "bob").await.unwrap().followers, 0);
    assert!(crate::fixture::events_of(g, &f.other).await.is_empty());
    g.remove(&f.other, "bob").await.unwrap();
    assert_eq!(
        g.relation(&f.admin, "alice", "bob").await.unwrap(),
        Relation::Following
    );
    assert_eq!(f.events().await.len(), 1);
}

/// Removing a node removes every edge touching it, moves the counts of its
/// neighbours, and emits one `unfollowed` event per edge.
pub async fn node_removal_cascades_edges_counts_and_events(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", CHANNEL]).await;
    f.follow("alice", "bob").await;
    f.follow("bob", "alice").await;
    f.follow("carol", "bob").await;
    f.follow("bob", CHANNEL).await;
    f.follow("alice", CHANNEL).await;
    f.follow("alice", "carol").await;
    let before = f.events().await.len();
    let removed = f.graph.remove(&f.admin, "bob").await.unwrap();
    assert_eq!(removed.outcome, Outcome::Changed);
    assert_eq!(
        kind(f.graph.node(&f.admin, "bob").await),
        Some(ErrorKind::NotFound)
    );
    let events = f.events().await;
    let mut cascade: Vec<(EventKind, String, String)> = events[before..]
        .iter()
        .map(|e| (e.kind, e.follower.to_string(), e.target.to_string()))
        .collect();
    cascade.sort_by_key(|e| format!("{e:?}"));
    let mut expected = vec![
        (EventKind::Unfollowed, "alice".to_owned(), "bob".to_owned()),
        (EventKind::Unfollowed, "bob".to_owned(), "alice".to_owned()),
        (EventKind::Unfollowed, "carol".to_owned(), "bob".to_owned()),
        (EventKind::Unfollowed, "bob".to_owned(), CHANNEL.to_owned()),
    ];
    expected.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(cascade, expected);
    assert_eq!(f.ids(ListKind::Following, "alice").await.len(), 2);
    assert!(f.ids(ListKind::Followers, "alice").await.is_empty());
    assert!(f.ids(ListKind::Mutuals, "alice").await.is_empty());
    assert!(f.ids(ListKind::Following, "carol").await.is_empty());
    assert_eq!(f.ids(ListKind::Followers, CHANNEL).await, ["alice"]);
    f.assert_counts_match_lists(&["alice", "carol", CHANNEL])
        .await;
    let counts = f.graph.counts(&f.admin, "alice").await.unwrap();
    assert_eq!(
        (counts.following, counts.followers, counts.mutual),
        (2, 0, 0)
    );
    // Registered again, the node starts empty.
    f.register(&["bob"]).await;
    f.assert_counts_match_lists(&["bob"]).await;
    assert_eq!(
        f.graph.relation(&f.admin, "alice", "bob").await.unwrap(),
        Relation::None
    );
}

/// After a series of follows, mutes, unfollows, removals and batches, every
/// node's counts equal what its lists say, read directly from the store too.
pub async fn counts_equal_edges_after_operations(store: Store) {
    let f = Fixture::new(store);
    let nodes = ["a", "b", "c", "d", CHANNEL];
    f.register(&nodes).await;
    let g = &f.graph;
    let p = &f.admin;
    g.follow_many(p, "a", &["b", "c", "d", CHANNEL])
        .await
        .unwrap();
    g.follow_many(p, "b", &["a", "c", CHANNEL]).await.unwrap();
    g.follow(p, "c", "a").await.unwrap();
    g.follow(p, "d", "a").await.unwrap();
    g.mute(p, "a", "b").await.unwrap();
    g.unfollow(p, "a", "c").await.unwrap();
    g.remove_follower(p, "a", "d").await.unwrap();
    g.unfollow_many(p, "b", &[CHANNEL, "d"]).await.unwrap();
    g.follow(p, "d", "c").await.unwrap();
    g.follow(p, "c", "d").await.unwrap();
    f.assert_counts_match_lists(&nodes).await;
    let tenant = f.tenant();
    let expected = [
        ("a", 3, 2, 1),
        ("b", 2, 1, 1),
        ("c", 2, 2, 1),
        ("d", 1, 2, 1),
        (CHANNEL, 0, 1, 0),
    ];
    for (id, following, followers, mutual) in expected {
        let record = f.store.node(&tenant, &node(id)).await.unwrap().unwrap();
        assert_eq!(
            (
                record.counts.following,
                record.counts.followers,
                record.counts.mutual
            ),
            (following, followers, mutual),
            "counts of {id}"
        );
    }
}

/// A mutual's `since` is when the relation became mutual: the later follow.
/// Both sides list each other; an unfollow ends it on both.
pub async fn mutual_since_is_the_later_follow(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    f.tick(30);
    f.follow("bob", "alice").await;
    for (x, y) in [("alice", "bob"), ("bob", "alice")] {
        let mutuals = f.list(ListKind::Mutuals, x).await;
        assert_eq!(mutuals.len(), 1);
        assert_eq!((mutuals[0].node.as_str(), mutuals[0].since), (y, at(30)));
    }
    f.graph.unfollow(&f.admin, "bob", "alice").await.unwrap();
    assert!(f.list(ListKind::Mutuals, "alice").await.is_empty());
    assert!(f.list(ListKind::Mutuals, "bob").await.is_empty());
    f.assert_counts_match_lists(&["alice", "bob"]).await;
}

/// Import registers missing nodes, keeps each edge's `since`, sets the mute
/// flag where given, answers `unchanged` for what is already so, and keeps
/// counts equal to the edges.
pub async fn import_registers_nodes_keeps_since_and_mute(store: Store) {
    use follow_core::{AccountId, ImportEdge};
    let f = Fixture::new(store);
    f.register(&["alice"]).await;
    let acct = |id: &str| AccountId::new(id).unwrap();
    let edges = [
        ImportEdge::new(acct("alice"), node("bob")).since(at(-50)),
        ImportEdge::new(acct("bob"), node("alice")).muted(true),
        ImportEdge::new(acct("carol"), node(CHANNEL))
            .since(at(-10))
            .muted(false),
    ];
    let results = f.graph.import(&f.admin, &edges).await.unwrap();
    assert!(results.iter().all(|r| r.as_ref().unwrap().is_changed()));
    let following = f.list(ListKind::Following, "alice").await;
    assert_eq!(following.len(), 1);
    assert_eq!((following[0].since, following[0].muted), (at(-50), false));
    let bob = f.list(ListKind::Following, "bob").await;
    assert_eq!((bob[0].since, bob[0].muted), (at(0), true));
    assert_eq!(f.graph.counts(&f.admin, "alice").await.unwrap().mutual, 1);

    // Again: nothing changes, no event; a different flag is set.
    let before = f.events().await.len();
    let again = f.graph.import(&f.admin, &edges).await.unwrap();
    assert!(again.iter().all(|r| !r.as_ref().unwrap().is_changed()));
    assert_eq!(f.events().await.len(), before);
    let unmute = [ImportEdge::new(acct("bob"), node("alice")).muted(false)];
    let changed = f.graph.import(&f.admin, &unmute).await.unwrap();
    assert!(changed[0].as_ref().unwrap().is_changed());
    assert!(!f.list(ListKind::Following, "bob").await[0].muted);
    f.assert_counts_match_lists(&["alice", "bob", "carol", CHANNEL])
        .await;

    // A bad edge fails alone; the empty call is refused as a whole.
    let mixed = [
        ImportEdge::new(acct("dave"), node("dave")),
        ImportEdge::new(acct("dave"), node("alice")),
    ];
    let results = f.graph.import(&f.admin, &mixed).await.unwrap();
    assert_eq!(kind(results[0].clone()), Some(ErrorKind::InvalidArgument));
    assert!(results[1].as_ref().unwrap().is_changed());
    assert_eq!(
        kind(f.graph.import(&f.admin, &[]).await),
        Some(ErrorKind::InvalidArgument)
    );
}

/// An import writes the events the same follows would: `followed` for each
/// new edge, `muted` for one imported muted, `unmuted` for a muted edge
/// imported unmuted, `follow_requested` for a locked target; none for the
/// nodes it registers, none for edges already as imported.
pub async fn import_writes_the_events_of_the_same_follows(store: Store) {
    use follow_core::{AccountId, ImportEdge};
    let f = Fixture::new(store);
    f.register(&["alice", "locked"]).await;
    f.graph.set_locked(&f.admin, "locked", true).await.unwrap();
    let before = f.events().await.len();
    let acct = |id: &str| AccountId::new(id).unwrap();
    let edges = [
        ImportEdge::new(acct("alice"), node("bob")),
        ImportEdge::new(acct("bob"), node("alice")).muted(true),
        ImportEdge::new(acct("carol"), node("locked")),
    ];
    f.graph.import(&f.admin, &edges).await.unwrap();
    let events = f.events().await;
    let written: Vec<(EventKind, &str, &str)> = events[before..]
        .iter()
        .map(|e| (e.kind, e.follower.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(
        written,
        [
            (EventKind::Followed, "alice", "bob"),
            (EventKind::Followed, "bob", "alice"),
            (EventKind::Muted, "bob", "alice"),
            (EventKind::FollowRequested, "carol", "locked"),
        ]
    );
    f.graph.import(&f.admin, &edges).await.unwrap();
    assert_eq!(f.events().await.len(), events.len());

    let unmute = [ImportEdge::new(acct("bob"), node("alice")).muted(false)];
    f.graph.import(&f.admin, &unmute).await.unwrap();
    let after = f.events().await;
    let written: Vec<(EventKind, &str, &str)> = after[events.len()..]
        .iter()
        .map(|e| (e.kind, e.follower.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(written, [(EventKind::Unmuted, "bob", "alice")]);
}

/// Concurrent follows and unfollows from many tasks leave counts equal to
/// the edges and one event per change.
pub async fn concurrent_follows_keep_counts_equal_to_edges(store: Store) {
    let f = Arc::new(Fixture::new(store));
    let names: Vec<String> = (0..8).map(|i| format!("u{i}")).collect();
    for name in &names {
        f.register(&[name]).await;
    }
    f.register(&[CHANNEL]).await;
    let mut tasks = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let f = f.clone();
        let name = name.clone();
        let names = names.clone();
        tasks.push(tokio::spawn(async move {
            let mut changes = 0usize;
            for round in 0..20usize {
                let target = if round.is_multiple_of(3) {
                    CHANNEL.to_owned()
                } else {
                    names[(i + round) % names.len()].clone()
                };
                if target == name {
                    continue;
                }
                let applied = if (round + i).is_multiple_of(2) {
                    f.graph.follow(&f.admin, &name, &target).await.unwrap()
                } else {
                    f.graph.unfollow(&f.admin, &name, &target).await.unwrap()
                };
                changes += usize::from(applied.is_changed());
            }
            changes
        }));
    }
    let mut changes = 0;
    for task in tasks {
        changes += task.await.unwrap();
    }
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push(CHANNEL);
    f.assert_counts_match_lists(&all).await;
    assert_eq!(f.events().await.len(), changes);
    let total_following: usize = {
        let mut sum = 0;
        for name in &names {
            sum += f.list(ListKind::Following, name).await.len();
        }
        sum
    };
    let mut total_followers = 0;
    for name in &all {
        total_followers += f.list(ListKind::Followers, name).await.len();
    }
    assert_eq!(total_following, total_followers);
}
/// A node with more edges than one removal batch takes
/// ([`follow_core::REMOVAL_CHUNK`]) is removed in several batches: it ends
/// absent, every edge that touched it gone, every other node's counts
/// right, one `unfollowed` event per edge.
pub async fn removal_of_a_node_with_more_edges_than_a_chunk(store: Store) {
    let f = Fixture::new(store);
    let followers = follow_core::REMOVAL_CHUNK + 37;
    let hub = AccountId::new("hub").unwrap();
    let mut edges: Vec<follow_core::ImportEdge> = (0..followers)
        .map(|i| {
            let follower = AccountId::new(&format!("f{i:04}")).unwrap();
            follow_core::ImportEdge::new(follower, node("hub"))
        })
        .collect();
    for i in [3, 100, followers - 1] {
        edges.push(follow_core::ImportEdge::new(
            hub.clone(),
            node(&format!("f{i:04}")),
        ));
    }
    for chunk in edges.chunks(200) {
        let results = f.graph.import(&f.admin, chunk).await.unwrap();
        assert!(results.iter().all(Result::is_ok), "import failed");
    }
    let before = f.events().await.len();
    assert_eq!(before, followers + 3);
    let removed = f.graph.remove(&f.admin, "hub").await.unwrap();
    assert!(removed.is_changed());
    let tenant = f.tenant();
    assert!(f.store.node(&tenant, &node("hub")).await.unwrap().is_none());
    for i in [0, 3, 100, followers - 1] {
        let id = format!("f{i:04}");
        let record = f.store.node(&tenant, &node(&id)).await.unwrap().unwrap();
        assert_eq!(
            (
                record.counts.following,
                record.counts.followers,
                record.counts.mutual
            ),
            (0, 0, 0),
            "counts of {id} after the hub went"
        );
    }
    let events = f.events().await;
    let cut = &events[before..];
    assert_eq!(cut.len(), followers + 3, "one event per edge cut");
    assert!(cut.iter().all(|e| e.kind == EventKind::Unfollowed));
    let pairs: BTreeSet<(String, String)> = cut
        .iter()
        .map(|e| (e.follower.to_string(), e.target.to_string()))
        .collect();
    assert_eq!(pairs.len(), followers + 3, "every edge cut once");
    assert_eq!(
        f.graph.remove(&f.admin, "hub").await.unwrap().outcome,
        Outcome::Unchanged
    );
}

/// `write` answers one result per command, in request order: outcomes,
/// each changed edge command's event with its store position, and each
/// rejected command's own error, while the others apply.
pub async fn write_answers_one_result_per_command_in_order(store: Store) {
    let tenant = TenantId::new("acme").unwrap();
    let account = |id: &str| AccountId::new(id).unwrap();
    let batch = WriteBatch::new(tenant.clone(), at(0))
        .command(Command::Register {
            node: node("alice"),
        })
        .command(Command::Register { node: node("bob") })
        .command(Command::Register {
            node: node("alice"),
        })
        .command(Command::Follow {
            follower: account("alice"),
            target: node("bob"),
            since: None,
            options: follow_core::OptionsUpdate::NONE,
        })
        .command(Command::Follow {
            follower: account("alice"),
            target: node("bob"),
            since: None,
            options: follow_core::OptionsUpdate::NONE,
        })
        .command(Command::SetMute {
            follower: account("bob"),
            target: node("alice"),
            muted: true,
        })
        .command(Command::Unfollow {
            follower: account("bob"),
            target: node("ghost"),
        })
        .command(Command::SetMute {
            follower: account("alice"),
            target: node("bob"),
            muted: true,
        });
    let results = store.write(batch).await.unwrap();
    let summary: Vec<Result<(Outcome, Option<EventKind>), ErrorKind>> = results
        .iter()
        .map(|r| match r {
            Ok(applied) => Ok((applied.outcome, applied.event.as_ref().map(|e| e.kind))),
            Err(error) => Err(error.kind()),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            Ok((Outcome::Changed, None)),
            Ok((Outcome::Changed, None)),
            Ok((Outcome::Unchanged, None)),
            Ok((Outcome::Changed, Some(EventKind::Followed))),
            Ok((Outcome::Unchanged, None)),
            Err(ErrorKind::NotFollowing),
            Err(ErrorKind::NotFound),
            Ok((Outcome::Changed, Some(EventKind::Muted))),
        ]
    );
    let answered: Vec<follow_core::Event> = results
        .into_iter()
        .filter_map(|r| r.ok().and_then(|a| a.event))
        .collect();
    let stored = store.events_after(&tenant, None, 10).await.unwrap();
    assert_eq!(answered, stored, "the results carry the stored events");
    assert_eq!(stored[0].at, at(0));
}

/// A batch that fails as a whole in its decision (its required actor is not
/// registered) answers the error and commits nothing, not even the
/// commands before the failure.
pub async fn a_failing_decision_commits_nothing(store: Store) {
    let tenant = TenantId::new("acme").unwrap();
    let batch = WriteBatch::new(tenant.clone(), at(0))
        .requiring(node("ghost"))
        .command(Command::Register {
            node: node("alice"),
        })
        .command(Command::Register {
            node: node("ghost"),
        });
    let error = store.write(batch).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(store.nodes(&tenant, None, 10).await.unwrap().is_empty());
    assert!(store.node(&tenant, &node("alice")).await.unwrap().is_none());
}

/// A commit that fails part-way (the factory's store fails after writing
/// some rows of a change set) leaves nothing of its batch visible: every
/// node, count, list and event reads as before, at every point of failure.
pub async fn a_failed_commit_leaves_nothing_visible<F: crate::StoreFactory>(factory: Arc<F>) {
    // Setup commits write at most 5 rows each (a follow back: two edges, two
    // counters, one event), so they pass; the batches under test write many
    // more and fail part-way.
    for rows in [5, 6, 7, 9, 12, 17, 25, 40, 61] {
        let store = factory.create_failing_after(rows).await.expect(
            "create_failing_after answered None: declare the rollback cases not_applicable",
        );
        let f = Fixture::new(store.clone());
        let targets: Vec<String> = (0..18).map(|i| format!("t{i:02}")).collect();
        let mut ids: Vec<&str> = vec!["alice", "bob", "carol", CHANNEL];
        ids.extend(targets.iter().map(String::as_str));
        f.register(&ids).await;
        f.follow("alice", "bob").await;
        f.follow("bob", "alice").await;
        f.follow("bob", CHANNEL).await;
        f.graph.mute(&f.admin, "alice", "bob").await.unwrap();
        f.follow("t00", "carol").await;
        let before = f.snapshot(&ids).await;

        let mut many: Vec<&str> = targets.iter().map(String::as_str).collect();
        many.extend(["alice", CHANNEL]);
        let failed = f.graph.follow_many(&f.admin, "carol", &many).await;
        let error = failed.expect_err("a commit of more rows than the fault allows succeeded");
        assert!(
            matches!(
                error.kind(),
                ErrorKind::Unavailable | ErrorKind::StorageFailure
            ),
            "a failed commit is a storage error, not {error:?}"
        );
        assert_eq!(
            f.snapshot(&ids).await,
            before,
            "follow_many failing after {rows} rows"
        );

        // Deletes, a mutual mark and a node delete, failing part-way:
        // removing bob deletes 3 edges and 1 node, updates 2 counters and
        // writes 3 events, 9 rows in one batch.
        let removal = f.graph.remove(&f.admin, "bob").await;
        if rows < 9 {
            assert!(removal.is_err(), "removing bob after {rows} rows succeeded");
            assert_eq!(
                f.snapshot(&ids).await,
                before,
                "remove failing after {rows} rows"
            );
        } else {
            assert!(removal.is_ok_and(|applied| applied.is_changed()));
        }
        drop(f);
        factory.dispose(store).await;
    }
}

/// Accounts following each other at the same moment, from many tasks, end
/// with mutual marks and mutual counts that agree with the edges.
pub async fn concurrent_follows_of_each_other_keep_mutual_marks(store: Store) {
    let f = Arc::new(Fixture::new(store));
    let pairs: Vec<(String, String)> = (0..6).map(|i| (format!("a{i}"), format!("b{i}"))).collect();
    for (a, b) in &pairs {
        f.register(&[a, b]).await;
    }
    let mut tasks = Vec::new();
    for (a, b) in pairs.clone() {
        for (actor, target) in [(a.clone(), b.clone()), (b, a)] {
            let f = f.clone();
            tasks.push(tokio::spawn(async move {
                for round in 0..12 {
                    let step = if round % 3 == 2 {
                        f.graph.unfollow(&f.admin, &actor, &target).await
                    } else {
                        f.graph.follow(&f.admin, &actor, &target).await
                    };
                    step.unwrap();
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    for (a, b) in &pairs {
        f.assert_counts_match_lists(&[a, b]).await;
        let a_follows = f.ids(ListKind::Following, a).await.contains(b);
        let b_follows = f.ids(ListKind::Following, b).await.contains(a);
        let mutual = f.ids(ListKind::Mutuals, a).await.contains(b);
        assert_eq!(mutual, a_follows && b_follows, "mutual mark of {a} and {b}");
        assert_eq!(f.ids(ListKind::Mutuals, b).await.contains(a), mutual);
    }
}
