//! The behaviour suite: one documented `pub async fn` per rule of the spec.
//!
//! Each takes a fresh, empty store and panics when the store breaks the
//! rule. [`crate::suite!`] turns each into a `#[test]` of the same name.
//! Cases drive the public facade ([`follow_core::FollowGraph`]) with a manual
//! clock, and read the store directly where that says more.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use follow_core::{
    Capabilities, Capability, ErrorKind, EventKind, FollowStore, ListKind, NodeId, Outcome,
    PageRequest, RateLimit, Relation, Timestamp,
};

use crate::fixture::{CHANNEL, Fixture, at, bound, kind, principal};

type Store = Arc<dyn FollowStore>;

fn node(id: &str) -> NodeId {
    NodeId::new(id).unwrap()
}

// ---------------------------------------------------------------------------
// The state machine table
// ---------------------------------------------------------------------------

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

/// set_mute on an absent edge is `not_following`, for either value, and
/// changes nothing.
pub async fn set_mute_absent_is_not_following(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    for muted in [true, false] {
        let result = f.graph.set_mute(&f.admin, "alice", CHANNEL, muted).await;
        assert_eq!(kind(result), Some(ErrorKind::NotFollowing));
    }
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

/// `mute()` (set_mute with no value) mutes: `changed`, event `muted`.
pub async fn mute_defaults_to_true(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    f.follow("alice", CHANNEL).await;
    let applied = f.graph.mute(&f.admin, "alice", CHANNEL).await.unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    assert_eq!(applied.event.map(|e| e.kind), Some(EventKind::Muted));
    assert!(f.list(ListKind::Following, "alice").await[0].muted);
    assert!(f.list(ListKind::Followers, CHANNEL).await[0].muted);
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

// ---------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------

/// An empty batch is `invalid_argument` as a whole and changes nothing.
pub async fn batch_empty_is_invalid_and_changes_nothing(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice"]).await;
    let g = &f.graph;
    assert_eq!(
        kind(g.follow_many(&f.admin, "alice", &[]).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.unfollow_many(&f.admin, "alice", &[]).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.check_many(&f.admin, "alice", &[]).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert!(f.events().await.is_empty());
}

/// A batch of 21 (over the default limit of 20) is `invalid_argument` and
/// changes nothing; 20 is accepted.
pub async fn batch_over_limit_is_invalid_and_changes_nothing(store: Store) {
    let f = Fixture::new(store);
    let names: Vec<String> = (0..21).map(|i| format!("t{i:02}")).collect();
    let targets: Vec<&str> = names.iter().map(String::as_str).collect();
    f.register(&["alice"]).await;
    f.register(&targets).await;
    let g = &f.graph;
    assert_eq!(
        kind(g.follow_many(&f.admin, "alice", &targets).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.unfollow_many(&f.admin, "alice", &targets).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.check_many(&f.admin, "alice", &targets).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert!(f.list(ListKind::Following, "alice").await.is_empty());
    assert!(f.events().await.is_empty());
    let twenty = g
        .follow_many(&f.admin, "alice", &targets[..20])
        .await
        .unwrap();
    assert_eq!(twenty.len(), 20);
    assert!(
        twenty
            .iter()
            .all(|item| item.result.as_ref().unwrap().is_changed())
    );
    assert_eq!(f.list(ListKind::Following, "alice").await.len(), 20);
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

/// check_many answers the actor's relation to each target in request order,
/// with per-item errors.
pub async fn check_many_answers_relations_in_request_order(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", "dave", CHANNEL])
        .await;
    f.follow("alice", "bob").await;
    f.follow("bob", "alice").await;
    f.follow("alice", CHANNEL).await;
    f.follow("carol", "alice").await;
    let targets = ["dave", "bob", CHANNEL, "carol", "ghost", "alice", "bad id"];
    let results = f
        .graph
        .check_many(&f.admin, "alice", &targets)
        .await
        .unwrap();
    let got: Vec<_> = results
        .iter()
        .map(|i| {
            (
                i.target.as_str(),
                i.result.as_ref().copied().map_err(|e| e.kind()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("dave", Ok(Relation::None)),
            ("bob", Ok(Relation::Mutual)),
            (CHANNEL, Ok(Relation::Following)),
            ("carol", Ok(Relation::FollowedBy)),
            ("ghost", Err(ErrorKind::NotFound)),
            ("alice", Err(ErrorKind::InvalidArgument)),
            ("bad id", Err(ErrorKind::InvalidArgument)),
        ]
    );
}

// ---------------------------------------------------------------------------
// Errors and authorisation
// ---------------------------------------------------------------------------

/// Every error code a caller can cause is reachable through the facade:
/// invalid_argument, unauthenticated, forbidden, not_found, not_following,
/// rate_limited.
pub async fn every_error_code_is_reachable(store: Store) {
    let f = Fixture::with(store, |b| {
        b.rate_limit(RateLimit::per_second(
            std::num::NonZeroU32::new(1000).unwrap(),
        ))
    });
    f.register(&["alice", "bob"]).await;
    let g = &f.graph;
    let reader = principal("acme", Capability::Read);
    let got = [
        kind(g.follow(&f.admin, "alice", "alice").await),
        kind(g.follow(None, "alice", "bob").await),
        kind(g.follow(&reader, "alice", "bob").await),
        kind(g.follow(&f.admin, "alice", "ghost").await),
        kind(g.mute(&f.admin, "alice", "bob").await),
    ];
    assert_eq!(
        got,
        [
            Some(ErrorKind::InvalidArgument),
            Some(ErrorKind::Unauthenticated),
            Some(ErrorKind::Forbidden),
            Some(ErrorKind::NotFound),
            Some(ErrorKind::NotFollowing),
        ]
    );
    let mut limited = None;
    for _ in 0..2000 {
        if let Err(error) = g.relation(&f.admin, "alice", "bob").await {
            limited = Some(error.kind());
            break;
        }
    }
    assert_eq!(limited, Some(ErrorKind::RateLimited));
}

/// With a rate limit, a tenant over its burst is `rate_limited` (with a
/// retry hint) until the clock refills its bucket; other tenants are not
/// affected; a refused call changes nothing.
pub async fn rate_limited_after_burst_until_refill(store: Store) {
    let f = Fixture::with(store, |b| {
        b.rate_limit(RateLimit::per_second(std::num::NonZeroU32::new(3).unwrap()))
    });
    let g = &f.graph;
    for id in ["alice", "bob", "carol"] {
        g.register(&f.admin, id).await.unwrap();
    }
    let refused = g.follow(&f.admin, "alice", "bob").await;
    let error = refused.expect_err("the fourth call in one second is refused");
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert!(error.retry_after().is_some());
    g.register(&f.other, "alice").await.unwrap();
    f.tick(1);
    assert_eq!(
        g.relation(&f.admin, "alice", "bob").await.unwrap(),
        Relation::None,
        "the refused follow must not have applied"
    );
}

/// No principal: every call is `unauthenticated`, whatever its arguments.
pub async fn no_principal_is_unauthenticated(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    let g = &f.graph;
    let page = PageRequest::first();
    let got = [
        kind(g.register(None, "carol").await),
        kind(g.remove(None, "alice").await),
        kind(g.follow(None, "alice", "bob").await),
        kind(g.unfollow(None, "alice", "bob").await),
        kind(g.mute(None, "alice", "bob").await),
        kind(g.remove_follower(None, "bob", "alice").await),
        kind(g.follow_many(None, "alice", &["bob"]).await),
        kind(g.unfollow_many(None, "alice", &["bob"]).await),
        kind(g.check_many(None, "alice", &["bob"]).await),
        kind(g.relation(None, "alice", "bob").await),
        kind(g.counts(None, "alice").await),
        kind(g.following(None, "alice", &page).await),
        kind(g.followers(None, "alice", &page).await),
        kind(g.mutuals(None, "alice", &page).await),
        kind(g.ensure_can_interact(None, "alice", "bob").await),
        kind(g.touch(None, "bob", None).await),
        kind(g.stale_following(None, "alice", at(0), &page).await),
        kind(g.events(None, None, None).await),
        kind(g.follow(None, "", "").await),
    ];
    for (index, got) in got.into_iter().enumerate() {
        assert_eq!(got, Some(ErrorKind::Unauthenticated), "call {index}");
    }
    assert!(f.events().await.is_empty());
}

/// A missing capability is `forbidden`, checked before any lookup: unknown
/// nodes and bad ids answer `forbidden` too, never `not_found`.
pub async fn missing_capability_is_forbidden_before_lookup(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    let g = &f.graph;
    let reader = principal("acme", Capability::Read);
    let sender = principal("acme", Capability::Send);
    let nobody = principal("acme", Capabilities::NONE);
    let page = PageRequest::first();
    let got = [
        kind(g.follow(&reader, "ghost", "nobody").await),
        kind(g.follow(&reader, "alice", "bob").await),
        kind(g.unfollow(&reader, "ghost", "nobody").await),
        kind(g.mute(&reader, "ghost", "nobody").await),
        kind(g.remove_follower(&reader, "ghost", "nobody").await),
        kind(g.follow_many(&reader, "ghost", &["nobody"]).await),
        kind(g.follow_many(&reader, "ghost", &[]).await),
        kind(g.unfollow_many(&reader, "ghost", &["nobody"]).await),
        kind(g.ensure_can_interact(&reader, "ghost", "nobody").await),
        kind(g.touch(&reader, "ghost", None).await),
        kind(g.register(&sender, "carol").await),
        kind(g.remove(&sender, "ghost").await),
        kind(g.remove(&sender, "alice").await),
        kind(g.followers(&nobody, "ghost", &page).await),
        kind(g.following(&nobody, "ghost", &page).await),
        kind(g.mutuals(&nobody, "ghost", &page).await),
        kind(g.relation(&nobody, "ghost", "nobody").await),
        kind(g.check_many(&nobody, "ghost", &["nobody"]).await),
        kind(g.counts(&nobody, "ghost").await),
        kind(g.stale_following(&nobody, "ghost", at(0), &page).await),
        kind(g.events(&nobody, None, None).await),
        kind(g.follow(&reader, "bad id", "").await),
    ];
    for (index, got) in got.into_iter().enumerate() {
        assert_eq!(got, Some(ErrorKind::Forbidden), "call {index}");
    }
    assert!(
        g.node(&f.admin, "alice").await.is_ok(),
        "alice must survive"
    );
    assert_eq!(
        kind(g.node(&f.admin, "carol").await),
        Some(ErrorKind::NotFound)
    );
    assert!(f.events().await.is_empty());
}

/// A principal bound to one account may act only as that account: acting
/// for another is `forbidden`; reading stays allowed.
pub async fn bound_principal_cannot_act_for_another_account(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol"]).await;
    f.follow("bob", "carol").await;
    f.follow("carol", "alice").await;
    let g = &f.graph;
    let alice = bound("alice");
    let got = [
        kind(g.follow(&alice, "bob", "alice").await),
        kind(g.unfollow(&alice, "bob", "carol").await),
        kind(g.mute(&alice, "bob", "carol").await),
        kind(g.remove_follower(&alice, "carol", "bob").await),
        kind(g.follow_many(&alice, "bob", &["alice"]).await),
        kind(g.unfollow_many(&alice, "bob", &["carol"]).await),
        kind(g.ensure_can_interact(&alice, "bob", "carol").await),
        kind(g.touch(&alice, "bob", None).await),
        kind(g.follow(&alice, "ghost", "alice").await),
    ];
    for (index, got) in got.into_iter().enumerate() {
        assert_eq!(got, Some(ErrorKind::Forbidden), "call {index}");
    }
    assert!(g.follow(&alice, "alice", "bob").await.unwrap().is_changed());
    assert!(
        g.remove_follower(&alice, "alice", "carol")
            .await
            .unwrap()
            .is_changed()
    );
    assert!(g.relation(&alice, "bob", "carol").await.is_ok());
    let kinds: Vec<_> = f.events().await.into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Followed,
            EventKind::Followed,
            EventKind::Followed,
            EventKind::FollowerRemoved
        ]
    );
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

// ---------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------

/// A channel as follower (actor of follow, unfollow, mute, batches; the
/// follower of remove_follower) is `invalid_argument`.
pub async fn channel_as_follower_is_invalid(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    let g = &f.graph;
    let p = &f.admin;
    let got = [
        kind(g.follow(p, CHANNEL, "alice").await),
        kind(g.unfollow(p, CHANNEL, "alice").await),
        kind(g.mute(p, CHANNEL, "alice").await),
        kind(g.follow_many(p, CHANNEL, &["alice"]).await),
        kind(g.unfollow_many(p, CHANNEL, &["alice"]).await),
        kind(g.remove_follower(p, "alice", CHANNEL).await),
        kind(g.ensure_can_interact(p, CHANNEL, "alice").await),
    ];
    for (index, got) in got.into_iter().enumerate() {
        assert_eq!(got, Some(ErrorKind::InvalidArgument), "call {index}");
    }
    assert!(f.events().await.is_empty());
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

/// Bad ids (empty, 65 bytes, whitespace, control characters, a malformed
/// channel JID) are `invalid_argument` at every entry point; 64 bytes is fine.
pub async fn bad_ids_are_invalid(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    let long = "a".repeat(65);
    let bad = [
        "",
        long.as_str(),
        " alice",
        "al ice",
        "alice\n",
        "al\tice",
        "al\u{0}ice",
        "\u{7f}x",
        "\u{a0}nbsp",
        "abc@newsletter",
        "@newsletter",
        "12 3@newsletter",
    ];
    let g = &f.graph;
    let p = &f.admin;
    let page = PageRequest::first();
    for id in bad {
        let got = [
            kind(g.register(p, id).await),
            kind(g.remove(p, id).await),
            kind(g.follow(p, id, "bob").await),
            kind(g.follow(p, "alice", id).await),
            kind(g.unfollow(p, "alice", id).await),
            kind(g.mute(p, "alice", id).await),
            kind(g.remove_follower(p, id, "alice").await),
            kind(g.remove_follower(p, "bob", id).await),
            kind(g.follow_many(p, id, &["bob"]).await),
            kind(g.relation(p, id, "bob").await),
            kind(g.relation(p, "alice", id).await),
            kind(g.counts(p, id).await),
            kind(g.followers(p, id, &page).await),
            kind(g.following(p, id, &page).await),
            kind(g.mutuals(p, id, &page).await),
            kind(g.touch(p, id, None).await),
            kind(g.ensure_can_interact(p, "alice", id).await),
            kind(g.stale_following(p, id, at(0), &page).await),
        ];
        for (index, got) in got.into_iter().enumerate() {
            assert_eq!(
                got,
                Some(ErrorKind::InvalidArgument),
                "call {index} with {id:?}"
            );
        }
    }
    let max = "b".repeat(64);
    assert!(g.register(p, &max).await.unwrap().is_changed());
    assert!(g.follow(p, "alice", &max).await.unwrap().is_changed());
    assert_eq!(f.events().await.len(), 1);
}

/// Page limits of 0 and 101 are `invalid_argument`; 1 and 100 are fine.
pub async fn page_limits_out_of_range_are_invalid(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    let g = &f.graph;
    let p = &f.admin;
    for limit in [0, 101, u32::MAX] {
        let page = PageRequest::first().with_limit(limit);
        let got = [
            kind(g.followers(p, "bob", &page).await),
            kind(g.following(p, "alice", &page).await),
            kind(g.mutuals(p, "alice", &page).await),
            kind(g.stale_following(p, "alice", at(10), &page).await),
        ];
        assert_eq!(got, [Some(ErrorKind::InvalidArgument); 4], "limit {limit}");
    }
    assert_eq!(
        kind(g.events(p, None, Some(0)).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.events(p, None, Some(1001)).await),
        Some(ErrorKind::InvalidArgument)
    );
    for limit in [1, 100] {
        let page = PageRequest::first().with_limit(limit);
        assert_eq!(g.followers(p, "bob", &page).await.unwrap().items.len(), 1);
    }
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

// ---------------------------------------------------------------------------
// Node removal and counts
// ---------------------------------------------------------------------------

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

/// relation(a, b) is the reverse of relation(b, a), and agrees with the lists.
pub async fn relation_is_consistent_both_ways(store: Store) {
    let f = Fixture::new(store);
    let nodes = ["a", "b", "c", CHANNEL];
    f.register(&nodes).await;
    f.follow("a", "b").await;
    f.follow("b", "a").await;
    f.follow("c", "a").await;
    f.follow("a", CHANNEL).await;
    for x in nodes {
        let following: BTreeSet<String> = f.ids(ListKind::Following, x).await.into_iter().collect();
        let followers: BTreeSet<String> = f.ids(ListKind::Followers, x).await.into_iter().collect();
        for y in nodes {
            if x == y {
                continue;
            }
            let xy = f.graph.relation(&f.admin, x, y).await.unwrap();
            let yx = f.graph.relation(&f.admin, y, x).await.unwrap();
            assert_eq!(xy.reversed(), yx, "{x} and {y}");
            let expected = Relation::from_edges(following.contains(y), followers.contains(y));
            assert_eq!(xy, expected, "{x} to {y}");
        }
    }
    assert_eq!(
        f.graph.relation(&f.admin, "a", "b").await.unwrap(),
        Relation::Mutual
    );
    assert_eq!(
        f.graph.relation(&f.admin, "a", "c").await.unwrap(),
        Relation::FollowedBy
    );
    assert_eq!(
        f.graph.relation(&f.admin, "a", CHANNEL).await.unwrap(),
        Relation::Following
    );
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

// ---------------------------------------------------------------------------
// Paging and cursors
// ---------------------------------------------------------------------------

/// Builds a hub with 7 followers, 7 followees and 7 mutuals whose `since`
/// values tie in groups; answers the expected order (since desc, id asc).
async fn paging_graph(f: &Fixture) -> Vec<(String, Timestamp)> {
    f.register(&["hub"]).await;
    // Registered out of id order; times tie in groups of 3, 2 and 2.
    let plan = [
        ("p2", 0),
        ("p0", 0),
        ("p1", 0),
        ("p4", 1),
        ("p3", 1),
        ("p6", 2),
        ("p5", 2),
    ];
    for (id, _) in plan {
        f.register(&[id]).await;
    }
    for (id, seconds) in plan {
        f.clock.set(at(seconds));
        f.follow(id, "hub").await;
        f.follow("hub", id).await;
    }
    let mut expected: Vec<(String, Timestamp)> = plan
        .iter()
        .map(|(id, s)| ((*id).to_owned(), at(*s)))
        .collect();
    expected.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    expected
}

/// A full walk of followers, following and mutuals returns every item
/// exactly once, newest first with ties by id, for every page size.
pub async fn full_walk_returns_every_item_once_in_order(store: Store) {
    let f = Fixture::new(store);
    let expected = paging_graph(&f).await;
    assert_eq!(expected[0].0, "p5");
    for list in [ListKind::Followers, ListKind::Following, ListKind::Mutuals] {
        for limit in [1, 2, 3, 7, 8, 100] {
            let got: Vec<(String, Timestamp)> = f
                .walk(list, "hub", limit)
                .await
                .into_iter()
                .map(|e| (e.node.to_string(), e.since))
                .collect();
            assert_eq!(got, expected, "{list:?} with pages of {limit}");
        }
    }
    let page = PageRequest::first().with_limit(7);
    let exact = f.graph.followers(&f.admin, "hub", &page).await.unwrap();
    assert_eq!(exact.items.len(), 7);
    assert!(
        exact.next_cursor.is_none(),
        "no cursor when nothing follows"
    );
    let empty = f
        .graph
        .followers(&f.admin, "p0", &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(empty.items.len(), 1);
    assert!(empty.next_cursor.is_none());
}

/// The cursor is exclusive: the next page starts after the last item of the
/// previous one, even when that item is removed in between.
pub async fn cursor_is_exclusive(store: Store) {
    let f = Fixture::new(store);
    let expected = paging_graph(&f).await;
    let first = f
        .graph
        .followers(&f.admin, "hub", &PageRequest::first().with_limit(2))
        .await
        .unwrap();
    let cursor = first.next_cursor.clone().unwrap();
    let next = f
        .graph
        .followers(
            &f.admin,
            "hub",
            &PageRequest::after(cursor.clone()).with_limit(1),
        )
        .await
        .unwrap();
    assert_eq!(next.items[0].node.as_str(), expected[2].0);
    // The cursor's own item removed: the next page is still the same.
    let last = first.items[1].node.to_string();
    f.graph.unfollow(&f.admin, &last, "hub").await.unwrap();
    let again = f
        .graph
        .followers(&f.admin, "hub", &PageRequest::after(cursor).with_limit(1))
        .await
        .unwrap();
    assert_eq!(again.items[0].node.as_str(), expected[2].0);
}

/// Edges added and removed between pages never make an item present during
/// the whole walk be skipped or repeated, and no item appears twice.
pub async fn walk_survives_changes_between_pages(store: Store) {
    let f = Fixture::new(store);
    let names: Vec<String> = (0..12).map(|i| format!("f{i:02}")).collect();
    f.register(&["hub"]).await;
    let extra: Vec<String> = (0..12).map(|i| format!("n{i:02}")).collect();
    for name in names.iter().chain(&extra) {
        f.register(&[name]).await;
    }
    for (i, name) in names.iter().enumerate() {
        f.clock.set(at(i as i64 / 2));
        f.follow(name, "hub").await;
    }
    // Removed during the walk: one early, one late. Everything else stays.
    let removed = ["f11", "f01"];
    let stable: BTreeSet<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !removed.contains(n))
        .collect();
    let mut seen: Vec<ListEntry> = Vec::new();
    let mut request = PageRequest::first().with_limit(3);
    let mut step = 0usize;
    loop {
        let page = f.graph.followers(&f.admin, "hub", &request).await.unwrap();
        seen.extend(page.items);
        // Between pages: add a new follower (old and new times), remove one.
        if let Some(name) = extra.get(step) {
            f.clock
                .set(at(if step.is_multiple_of(2) { 100 } else { 2 }));
            f.follow(name, "hub").await;
        }
        if let Some(name) = removed.get(step) {
            f.graph.unfollow(&f.admin, name, "hub").await.unwrap();
        }
        step += 1;
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(3),
            None => break,
        }
    }
    let ids: Vec<&str> = seen.iter().map(|e| e.node.as_str()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "an item was repeated: {ids:?}");
    for name in &stable {
        assert!(unique.contains(name), "{name} was skipped: {ids:?}");
    }
    for pair in seen.windows(2) {
        assert!(
            pair[0].position() < pair[1].position(),
            "out of order: {ids:?}"
        );
    }
}

use follow_core::ListEntry;

async fn a_cursor(f: &Fixture) -> String {
    paging_graph(f).await;
    f.graph
        .followers(&f.admin, "hub", &PageRequest::first().with_limit(2))
        .await
        .unwrap()
        .next_cursor
        .unwrap()
}

/// A tampered cursor (any character changed, truncated, extended) is
/// `invalid_argument`, never a wrong page.
pub async fn tampered_cursor_is_invalid(store: Store) {
    let f = Fixture::new(store);
    let cursor = a_cursor(&f).await;
    let mut variants: Vec<String> = Vec::new();
    for (index, c) in cursor.char_indices() {
        let replacement = if c == 'A' { 'B' } else { 'A' };
        let mut tampered = cursor.clone();
        tampered.replace_range(index..index + c.len_utf8(), &replacement.to_string());
        variants.push(tampered);
    }
    variants.push(cursor[..cursor.len() - 1].to_owned());
    variants.push(format!("{cursor}A"));
    variants.push(format!("{cursor}AAAA"));
    variants.push(String::new());
    for tampered in variants {
        let result = f
            .graph
            .followers(&f.admin, "hub", &PageRequest::after(tampered.clone()))
            .await;
        assert_eq!(
            kind(result),
            Some(ErrorKind::InvalidArgument),
            "{tampered:?}"
        );
    }
}

/// A cursor of one list used on another list of the same subject is
/// `invalid_argument`.
pub async fn cursor_from_another_list_is_invalid(store: Store) {
    let f = Fixture::new(store);
    let cursor = a_cursor(&f).await;
    let page = PageRequest::after(cursor);
    let g = &f.graph;
    assert_eq!(
        kind(g.following(&f.admin, "hub", &page).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.mutuals(&f.admin, "hub", &page).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.stale_following(&f.admin, "hub", at(100), &page).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert!(g.followers(&f.admin, "hub", &page).await.is_ok());
}

/// A cursor of one subject used for another subject is `invalid_argument`.
pub async fn cursor_for_another_subject_is_invalid(store: Store) {
    let f = Fixture::new(store);
    let cursor = a_cursor(&f).await;
    let page = PageRequest::after(cursor);
    for other in ["p0", "p5"] {
        let result = f.graph.followers(&f.admin, other, &page).await;
        assert_eq!(kind(result), Some(ErrorKind::InvalidArgument), "{other}");
    }
}

/// A cursor issued in one tenant is `invalid_argument` in another, even for
/// the same subject and list.
pub async fn cursor_from_another_tenant_is_invalid(store: Store) {
    let f = Fixture::new(store);
    let cursor = a_cursor(&f).await;
    f.register_other(&["hub", "p0", "p1", "p2"]).await;
    for id in ["p0", "p1", "p2"] {
        f.graph.follow(&f.other, id, "hub").await.unwrap();
    }
    let result = f
        .graph
        .followers(&f.other, "hub", &PageRequest::after(cursor))
        .await;
    assert_eq!(kind(result), Some(ErrorKind::InvalidArgument));
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

/// The nodes walk answers every registered node of the tenant once, in id
/// order, with its counts; it resumes after a removed node, and its cursors
/// are bound to the walk and the tenant.
pub async fn nodes_walk_lists_every_node_once_in_order(store: Store) {
    let f = Fixture::new(store);
    let mut ids: Vec<String> = (0..7).map(|i| format!("n{i}")).collect();
    ids.push(CHANNEL.to_owned());
    // The walk's first page of 3 ends before n2.
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    f.register(&refs).await;
    f.register_other(&["z-other"]).await;
    f.follow("n3", CHANNEL).await;
    let mut seen = Vec::new();
    let mut request = PageRequest::first().with_limit(3);
    let mut removed = false;
    loop {
        let page = f.graph.nodes(&f.admin, &request).await.unwrap();
        seen.extend(page.items);
        if !removed {
            // The next page resumes after n2 even once it is gone.
            f.graph.remove(&f.admin, "n2").await.unwrap();
            removed = true;
        }
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(3),
            None => break,
        }
    }
    // n2 was removed before the walk reached it.
    let mut expected: Vec<&str> = refs.iter().copied().filter(|id| *id != "n2").collect();
    expected.sort_unstable();
    let got: Vec<&str> = seen.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(got, expected);
    let n3 = seen.iter().find(|n| n.id.as_str() == "n3").unwrap();
    assert_eq!(n3.counts.following, 1);
    let channel = seen.iter().find(|n| n.id.as_str() == CHANNEL).unwrap();
    assert_eq!(channel.counts.followers, 1);

    let first = f
        .graph
        .nodes(&f.admin, &PageRequest::first().with_limit(1))
        .await
        .unwrap();
    let cursor = first.next_cursor.unwrap();
    let other_tenant = f.graph.nodes(&f.other, &PageRequest::after(&*cursor)).await;
    assert_eq!(kind(other_tenant), Some(ErrorKind::InvalidArgument));
    let as_list = f
        .graph
        .followers(&f.admin, "n1", &PageRequest::after(&*cursor))
        .await;
    assert_eq!(kind(as_list), Some(ErrorKind::InvalidArgument));
    let others = f
        .graph
        .nodes(&f.other, &PageRequest::first())
        .await
        .unwrap();
    let other_ids: Vec<&str> = others.items.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(other_ids, ["z-other"]);
}

/// Arbitrary strings as cursors answer `invalid_argument` (or a page), and
/// never panic.
pub async fn arbitrary_cursor_strings_never_panic(store: Store) {
    use proptest::strategy::{Strategy, ValueTree};
    let f = Fixture::new(store);
    let cursor = a_cursor(&f).await;
    let mut inputs: Vec<String> = vec![
        String::new(),
        "=".into(),
        "AAAA".into(),
        "A".repeat(300),
        "é".repeat(40),
        "\u{0}".into(),
        cursor.to_uppercase(),
        cursor.to_lowercase(),
        cursor.replace('-', "+").replace('_', "/"),
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = proptest::string::string_regex("(.{0,40}|[A-Za-z0-9_-]{20,80})").unwrap();
    for _ in 0..300 {
        inputs.push(strategy.new_tree(&mut runner).unwrap().current());
    }
    for input in inputs {
        let page = PageRequest::after(input.clone());
        for list in 0..3 {
            let result = match list {
                0 => f.graph.followers(&f.admin, "hub", &page).await,
                1 => f.graph.following(&f.admin, "hub", &page).await,
                _ => f.graph.mutuals(&f.admin, "hub", &page).await,
            };
            if let Err(error) = result {
                assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{input:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Delivery, the interaction guard, the audit
// ---------------------------------------------------------------------------

/// followers(t) is who receives t's posts: every follower, each with its
/// muted flag (muted: delivered without notification).
pub async fn followers_carry_the_muted_flag_for_delivery(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", CHANNEL]).await;
    for id in ["alice", "bob", "carol"] {
        f.follow(id, CHANNEL).await;
    }
    f.graph.mute(&f.admin, "bob", CHANNEL).await.unwrap();
    let delivery: BTreeMap<String, bool> = f
        .list(ListKind::Followers, CHANNEL)
        .await
        .into_iter()
        .map(|e| (e.node.to_string(), e.muted))
        .collect();
    let expected: BTreeMap<String, bool> = [("alice", false), ("bob", true), ("carol", false)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(delivery, expected);
}

/// Once an unfollow returns, the account is no longer among the followers
/// (delivery stops); the same after remove_follower.
pub async fn unfollow_stops_delivery(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", CHANNEL]).await;
    f.follow("alice", CHANNEL).await;
    f.follow("bob", CHANNEL).await;
    f.graph.unfollow(&f.admin, "alice", CHANNEL).await.unwrap();
    assert_eq!(f.ids(ListKind::Followers, CHANNEL).await, ["bob"]);
    f.graph
        .remove_follower(&f.admin, CHANNEL, "bob")
        .await
        .unwrap();
    assert!(f.ids(ListKind::Followers, CHANNEL).await.is_empty());
    assert_eq!(
        f.graph.counts(&f.admin, CHANNEL).await.unwrap().followers,
        0
    );
}

/// ensure_can_interact is `Ok` only while the actor follows the target
/// (muted or not); otherwise `forbidden`; unknown nodes `not_found`.
pub async fn interaction_guard_requires_following(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", CHANNEL]).await;
    let g = &f.graph;
    let p = &f.admin;
    assert_eq!(
        kind(g.ensure_can_interact(p, "alice", CHANNEL).await),
        Some(ErrorKind::Forbidden)
    );
    f.follow("alice", CHANNEL).await;
    assert!(g.ensure_can_interact(p, "alice", CHANNEL).await.is_ok());
    g.mute(p, "alice", CHANNEL).await.unwrap();
    assert!(g.ensure_can_interact(p, "alice", CHANNEL).await.is_ok());
    // Being followed is not following.
    f.follow("bob", "alice").await;
    assert_eq!(
        kind(g.ensure_can_interact(p, "alice", "bob").await),
        Some(ErrorKind::Forbidden)
    );
    g.unfollow(p, "alice", CHANNEL).await.unwrap();
    assert_eq!(
        kind(g.ensure_can_interact(p, "alice", CHANNEL).await),
        Some(ErrorKind::Forbidden)
    );
    assert_eq!(
        kind(g.ensure_can_interact(p, "alice", "ghost").await),
        Some(ErrorKind::NotFound)
    );
}

/// touch records activity (a later time kept, an earlier one `unchanged`);
/// stale_following lists the actor's follows whose target has been inactive
/// since the given time, in following order, with working pages.
pub async fn touch_and_stale_following_audit(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", CHANNEL, "dave"])
        .await;
    for target in ["bob", "carol", CHANNEL] {
        f.follow("alice", target).await;
    }
    let g = &f.graph;
    let p = &f.admin;
    f.tick(100);
    assert!(g.touch(p, "bob", None).await.unwrap().is_changed());
    assert_eq!(
        g.touch(p, "bob", Some(at(50))).await.unwrap().outcome,
        Outcome::Unchanged
    );
    assert_eq!(
        g.touch(p, "bob", Some(at(100))).await.unwrap().outcome,
        Outcome::Unchanged
    );
    assert!(
        g.touch(p, "carol", Some(at(40)))
            .await
            .unwrap()
            .is_changed()
    );
    let record = g.node(p, "bob").await.unwrap();
    assert_eq!(record.last_active, Some(at(100)));
    let stale = |since: i64, page: PageRequest| async move {
        g.stale_following(p, "alice", at(since), &page)
            .await
            .unwrap()
    };
    let all = stale(100, PageRequest::first()).await;
    let mut ids: Vec<String> = all.items.iter().map(|e| e.node.to_string()).collect();
    ids.sort();
    assert_eq!(ids, [CHANNEL, "carol"]);
    let carol = all
        .items
        .iter()
        .find(|e| e.node.as_str() == "carol")
        .unwrap();
    assert_eq!(carol.active_at, at(40));
    let early = stale(30, PageRequest::first()).await;
    let ids: Vec<&str> = early.items.iter().map(|e| e.node.as_str()).collect();
    assert_eq!(ids, [CHANNEL]);
    assert!(stale(0, PageRequest::first()).await.items.is_empty());
    // Pages of one walk the same set.
    let mut walked = Vec::new();
    let mut page = PageRequest::first().with_limit(1);
    loop {
        let got = stale(100, page.clone()).await;
        walked.extend(got.items.into_iter().map(|e| e.node.to_string()));
        match got.next_cursor {
            Some(cursor) => page = PageRequest::after(cursor).with_limit(1),
            None => break,
        }
    }
    let listed: Vec<String> = all.items.iter().map(|e| e.node.to_string()).collect();
    assert_eq!(walked, listed);
    assert!(
        g.stale_following(p, "dave", at(100), &PageRequest::first())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Touch emits no follow event.
    assert_eq!(f.events().await.len(), 3);
}

/// Events read back in order equal the changes: one per `changed` outcome,
/// none for `unchanged` or errors, positions strictly increasing, each
/// naming its tenant, follower, target and time.
pub async fn events_read_back_in_order_equal_the_changes(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", CHANNEL]).await;
    let g = &f.graph;
    let p = &f.admin;
    let mut expected = Vec::new();
    let mut record = |applied: follow_core::Applied, expect: Option<(EventKind, &str, &str)>| {
        assert_eq!(applied.is_changed(), expect.is_some());
        assert_eq!(applied.event.is_some(), expect.is_some());
        if let Some(e) = expect {
            expected.push((e.0, e.1.to_owned(), e.2.to_owned()));
        }
    };
    record(
        g.follow(p, "alice", "bob").await.unwrap(),
        Some((EventKind::Followed, "alice", "bob")),
    );
    f.tick(1);
    record(g.follow(p, "alice", "bob").await.unwrap(), None);
    record(
        g.mute(p, "alice", "bob").await.unwrap(),
        Some((EventKind::Muted, "alice", "bob")),
    );
    record(g.mute(p, "alice", "bob").await.unwrap(), None);
    assert!(g.mute(p, "alice", CHANNEL).await.is_err());
    f.tick(1);
    record(
        g.set_mute(p, "alice", "bob", false).await.unwrap(),
        Some((EventKind::Unmuted, "alice", "bob")),
    );
    record(
        g.follow(p, "bob", CHANNEL).await.unwrap(),
        Some((EventKind::Followed, "bob", CHANNEL)),
    );
    record(
        g.remove_follower(p, CHANNEL, "bob").await.unwrap(),
        Some((EventKind::FollowerRemoved, "bob", CHANNEL)),
    );
    record(
        g.unfollow(p, "alice", "bob").await.unwrap(),
        Some((EventKind::Unfollowed, "alice", "bob")),
    );
    record(g.unfollow(p, "alice", "bob").await.unwrap(), None);
    let batch = g
        .follow_many(p, "alice", &["bob", CHANNEL, "bob"])
        .await
        .unwrap();
    for (item, expect) in batch.into_iter().zip([
        Some((EventKind::Followed, "alice", "bob")),
        Some((EventKind::Followed, "alice", CHANNEL)),
        None,
    ]) {
        record(item.result.unwrap(), expect);
    }
    let events = f.events().await;
    let got: Vec<(EventKind, String, String)> = events
        .iter()
        .map(|e| (e.kind, e.follower.to_string(), e.target.to_string()))
        .collect();
    assert_eq!(got, expected);
    for pair in events.windows(2) {
        assert!(pair[0].position < pair[1].position);
        assert!(pair[0].at <= pair[1].at);
    }
    assert!(events.iter().all(|e| e.tenant.as_str() == "acme"));
    assert_eq!(events[0].at, at(0));
    assert_eq!(events.last().unwrap().at, at(2));
}

/// events(after) answers exactly the events after that position, oldest
/// first, at most `limit`.
pub async fn events_after_position_is_exclusive(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    for _ in 0..3 {
        f.follow("alice", "bob").await;
        f.graph.unfollow(&f.admin, "alice", "bob").await.unwrap();
    }
    let all = f.events().await;
    assert_eq!(all.len(), 6);
    for (index, event) in all.iter().enumerate() {
        let rest = f
            .graph
            .events(&f.admin, Some(event.position), Some(1000))
            .await
            .unwrap();
        assert_eq!(rest, all[index + 1..].to_vec());
    }
    let two = f.graph.events(&f.admin, None, Some(2)).await.unwrap();
    assert_eq!(two, all[..2].to_vec());
}

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// The cursor secret
// ---------------------------------------------------------------------------

/// The store's cursor secret is stable, not a constant anyone knows, and is
/// what a facade signs cursors with by default: its cursors are accepted
/// by another facade over the same store and refused under any other key.
pub async fn cursor_secret_is_the_stores_own_and_signs_cursors_by_default(store: Store) {
    let secret = store.cursor_secret();
    assert_eq!(store.cursor_secret(), secret, "the secret changed");
    assert_ne!(secret, [0; 16], "an all-zero secret");
    assert_ne!(&secret, b"follow-cursor-v1", "a secret anyone knows");
    let f = Fixture::new(store.clone());
    f.register(&["alice", "bob", "carol"]).await;
    f.follow("alice", "bob").await;
    f.follow("alice", "carol").await;
    let page = f
        .graph
        .following(&f.admin, "alice", &PageRequest::first().with_limit(1))
        .await
        .unwrap();
    let cursor = page.next_cursor.expect("a second page");
    let next = PageRequest::after(cursor).with_limit(1);
    let same_store = Fixture::new(store.clone());
    let rest = same_store
        .graph
        .following(&same_store.admin, "alice", &next)
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    let mut other_key = secret;
    other_key[0] ^= 1;
    for key in [other_key, *b"follow-cursor-v1"] {
        let forger = Fixture::with(store.clone(), |b| b.cursor_key(key));
        let refused = forger.graph.following(&forger.admin, "alice", &next).await;
        assert_eq!(kind(refused), Some(ErrorKind::InvalidArgument));
    }
    // A host's own key still wins over the store's.
    let host = Fixture::with(store, |b| b.cursor_key(other_key));
    let page = host
        .graph
        .following(&host.admin, "alice", &PageRequest::first().with_limit(1))
        .await
        .unwrap();
    let cursor = PageRequest::after(page.next_cursor.expect("a second page")).with_limit(1);
    let refused = f.graph.following(&f.admin, "alice", &cursor).await;
    assert_eq!(kind(refused), Some(ErrorKind::InvalidArgument));
}
