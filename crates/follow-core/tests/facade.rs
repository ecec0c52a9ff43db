//! The facade's own rules (principals, capabilities, id syntax, limits,
//! cursors, rate limits): decided before any store is asked, so they run
//! once, here, over the in-memory store, and not in every adapter's suite.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;

use follow_conformance::fixture::{CHANNEL, Fixture, at, bound, kind, paging_graph, principal};
use follow_core::{
    Capabilities, Capability, ErrorKind, EventKind, FollowStore, ListKind, Outcome, PageRequest,
    RateLimit, Relation,
};
use follow_store_memory::MemoryStore;

type Store = Arc<dyn FollowStore>;

fn store() -> Store {
    Arc::new(MemoryStore::new())
}

async fn a_cursor(f: &Fixture) -> String {
    paging_graph(f).await;
    f.graph
        .followers(&f.admin, "hub", &PageRequest::first().with_limit(2))
        .await
        .unwrap()
        .next_cursor
        .unwrap()
}

/// `mute()` (set_mute with no value) mutes: `changed`, event `muted`.
async fn mute_defaults_to_true_case(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", CHANNEL]).await;
    f.follow("alice", CHANNEL).await;
    let applied = f.graph.mute(&f.admin, "alice", CHANNEL).await.unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    assert_eq!(applied.event.map(|e| e.kind), Some(EventKind::Muted));
    assert!(f.list(ListKind::Following, "alice").await[0].muted);
    assert!(f.list(ListKind::Followers, CHANNEL).await[0].muted);
}

#[tokio::test]
async fn mute_defaults_to_true() {
    mute_defaults_to_true_case(store()).await;
}

/// An empty batch is `invalid_argument` as a whole and changes nothing.
async fn batch_empty_is_invalid_and_changes_nothing_case(store: Store) {
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

#[tokio::test]
async fn batch_empty_is_invalid_and_changes_nothing() {
    batch_empty_is_invalid_and_changes_nothing_case(store()).await;
}

/// A batch of 21 (over the default limit of 20) is `invalid_argument` and
/// changes nothing; 20 is accepted.
async fn batch_over_limit_is_invalid_and_changes_nothing_case(store: Store) {
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

#[tokio::test]
async fn batch_over_limit_is_invalid_and_changes_nothing() {
    batch_over_limit_is_invalid_and_changes_nothing_case(store()).await;
}

/// Every error code a caller can cause is reachable through the facade:
/// invalid_argument, unauthenticated, forbidden, not_found, not_following,
/// rate_limited.
async fn every_error_code_is_reachable_case(store: Store) {
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

#[tokio::test]
async fn every_error_code_is_reachable() {
    every_error_code_is_reachable_case(store()).await;
}

/// With a rate limit, a tenant over its burst is `rate_limited` (with a
/// retry hint) until the clock refills its bucket; other tenants are not
/// affected; a refused call changes nothing.
async fn rate_limited_after_burst_until_refill_case(store: Store) {
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

#[tokio::test]
async fn rate_limited_after_burst_until_refill() {
    rate_limited_after_burst_until_refill_case(store()).await;
}

/// No principal: every call is `unauthenticated`, whatever its arguments.
async fn no_principal_is_unauthenticated_case(store: Store) {
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

#[tokio::test]
async fn no_principal_is_unauthenticated() {
    no_principal_is_unauthenticated_case(store()).await;
}

/// A missing capability is `forbidden`, checked before any lookup: unknown
/// nodes and bad ids answer `forbidden` too, never `not_found`.
async fn missing_capability_is_forbidden_before_lookup_case(store: Store) {
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

#[tokio::test]
async fn missing_capability_is_forbidden_before_lookup() {
    missing_capability_is_forbidden_before_lookup_case(store()).await;
}

/// A principal bound to one account may act only as that account: acting
/// for another is `forbidden`; reading stays allowed.
async fn bound_principal_cannot_act_for_another_account_case(store: Store) {
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

#[tokio::test]
async fn bound_principal_cannot_act_for_another_account() {
    bound_principal_cannot_act_for_another_account_case(store()).await;
}

/// A channel as follower (actor of follow, unfollow, mute, batches; the
/// follower of remove_follower) is `invalid_argument`.
async fn channel_as_follower_is_invalid_case(store: Store) {
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

#[tokio::test]
async fn channel_as_follower_is_invalid() {
    channel_as_follower_is_invalid_case(store()).await;
}

/// Bad ids (empty, 65 bytes, whitespace, control characters, a malformed
/// channel JID) are `invalid_argument` at every entry point; 64 bytes is fine.
async fn bad_ids_are_invalid_case(store: Store) {
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

#[tokio::test]
async fn bad_ids_are_invalid() {
    bad_ids_are_invalid_case(store()).await;
}

/// Page limits of 0 and 101 are `invalid_argument`; 1 and 100 are fine.
async fn page_limits_out_of_range_are_invalid_case(store: Store) {
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

#[tokio::test]
async fn page_limits_out_of_range_are_invalid() {
    page_limits_out_of_range_are_invalid_case(store()).await;
}

/// A tampered cursor (any character changed, truncated, extended) is
/// `invalid_argument`, never a wrong page.
async fn tampered_cursor_is_invalid_case(store: Store) {
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

#[tokio::test]
async fn tampered_cursor_is_invalid() {
    tampered_cursor_is_invalid_case(store()).await;
}

/// A cursor of one list used on another list of the same subject is
/// `invalid_argument`.
async fn cursor_from_another_list_is_invalid_case(store: Store) {
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

#[tokio::test]
async fn cursor_from_another_list_is_invalid() {
    cursor_from_another_list_is_invalid_case(store()).await;
}

/// A cursor of one subject used for another subject is `invalid_argument`.
async fn cursor_for_another_subject_is_invalid_case(store: Store) {
    let f = Fixture::new(store);
    let cursor = a_cursor(&f).await;
    let page = PageRequest::after(cursor);
    for other in ["p0", "p5"] {
        let result = f.graph.followers(&f.admin, other, &page).await;
        assert_eq!(kind(result), Some(ErrorKind::InvalidArgument), "{other}");
    }
}

#[tokio::test]
async fn cursor_for_another_subject_is_invalid() {
    cursor_for_another_subject_is_invalid_case(store()).await;
}

/// A cursor issued in one tenant is `invalid_argument` in another, even for
/// the same subject and list.
async fn cursor_from_another_tenant_is_invalid_case(store: Store) {
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

#[tokio::test]
async fn cursor_from_another_tenant_is_invalid() {
    cursor_from_another_tenant_is_invalid_case(store()).await;
}

/// Arbitrary strings as cursors answer `invalid_argument` (or a page), and
/// never panic.
async fn arbitrary_cursor_strings_never_panic_case(store: Store) {
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

#[tokio::test]
async fn arbitrary_cursor_strings_never_panic() {
    arbitrary_cursor_strings_never_panic_case(store()).await;
}
