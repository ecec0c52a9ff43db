//! Mastodon's and Bluesky's relationship behaviours, run as scenarios
//! through the facade over the in-memory store: blocks, account mutes,
//! follow requests of locked accounts, follow options, the relationship
//! object, lists as a viewer sees them, and delivery. Each test is named
//! after the behaviour it checks.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

use follow_conformance::fixture::{CHANNEL, Fixture, bound, kind, principal};
use follow_core::{
    Capabilities, Capability, Delivery, ErrorKind, Event, EventKind, Languages, LinkEntry,
    ListKind, OptionsUpdate, Outcome, PageRequest,
};
use follow_store_memory::MemoryStore;

fn fixture() -> Fixture {
    Fixture::new(Arc::new(MemoryStore::new()))
}

/// A fixture with alice, bob and carol registered.
async fn three() -> Fixture {
    let f = fixture();
    f.register(&["alice", "bob", "carol"]).await;
    f
}

/// The events since `from`, as (kind, follower, target).
fn shape(events: &[Event]) -> Vec<(EventKind, String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e.kind,
                e.follower.as_str().to_owned(),
                e.target.as_str().to_owned(),
            )
        })
        .collect()
}

fn ev(kind: EventKind, follower: &str, target: &str) -> (EventKind, String, String) {
    (kind, follower.to_owned(), target.to_owned())
}

async fn new_events(f: &Fixture, before: usize) -> Vec<(EventKind, String, String)> {
    shape(&f.events().await[before..])
}

fn accounts(page: &[LinkEntry]) -> Vec<&str> {
    page.iter().map(|entry| entry.account.as_str()).collect()
}

async fn lock(f: &Fixture, account: &str) {
    let applied = f.graph.set_locked(&f.admin, account, true).await.unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
}

// Blocks

#[tokio::test]
async fn block_severs_follows_both_ways() {
    let f = three().await;
    f.follow("alice", "bob").await;
    f.follow("bob", "alice").await;
    f.follow("carol", "alice").await;
    let before = f.events().await.len();
    let applied = f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    assert_eq!(applied.event.map(|e| e.kind), Some(EventKind::Blocked));
    assert_eq!(
        new_events(&f, before).await,
        [
            ev(EventKind::Unfollowed, "alice", "bob"),
            ev(EventKind::FollowerRemoved, "bob", "alice"),
            ev(EventKind::Blocked, "alice", "bob"),
        ]
    );
    assert_eq!(f.ids(ListKind::Followers, "alice").await, ["carol"]);
    assert!(f.ids(ListKind::Following, "alice").await.is_empty());
    assert!(f.ids(ListKind::Following, "bob").await.is_empty());
    f.assert_counts_match_lists(&["alice", "bob", "carol"])
        .await;
    for node in ["alice", "bob"] {
        let record = f.graph.node(&f.admin, node).await.unwrap();
        assert_eq!(record.links, 1, "{node} is one end of the block");
    }
}

#[tokio::test]
async fn block_rejects_pending_requests_both_ways() {
    let f = three().await;
    lock(&f, "alice").await;
    lock(&f, "bob").await;
    let asked = f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(asked.outcome, Outcome::Requested);
    f.graph.follow(&f.admin, "bob", "alice").await.unwrap();
    let before = f.events().await.len();
    f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(
        new_events(&f, before).await,
        [
            ev(EventKind::FollowRequestWithdrawn, "alice", "bob"),
            ev(EventKind::FollowRequestRejected, "bob", "alice"),
            ev(EventKind::Blocked, "alice", "bob"),
        ]
    );
    for subject in ["alice", "bob"] {
        let incoming = f
            .graph
            .follow_requests(&f.admin, subject, &PageRequest::first())
            .await
            .unwrap();
        assert!(incoming.items.is_empty(), "{subject} has no request left");
    }
    let record = f.graph.node(&f.admin, "alice").await.unwrap();
    assert_eq!(record.links, 1, "only the block is left");
}

#[tokio::test]
async fn block_is_idempotent_and_unblock_of_absent_is_unchanged() {
    let f = three().await;
    let unblock = f.graph.unblock(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(unblock.outcome, Outcome::Unchanged);
    f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    let before = f.events().await.len();
    let again = f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!((again.outcome, again.event), (Outcome::Unchanged, None));
    assert_eq!(f.events().await.len(), before);
    let record = f.graph.node(&f.admin, "bob").await.unwrap();
    assert_eq!(record.links, 1);
}

#[tokio::test]
async fn blocking_yourself_or_a_channel_is_invalid() {
    let f = three().await;
    f.register(&[CHANNEL]).await;
    let g = &f.graph;
    assert_eq!(
        kind(g.block(&f.admin, "alice", "alice").await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.block(&f.admin, "alice", CHANNEL).await),
        Some(ErrorKind::InvalidArgument)
    );
    assert_eq!(
        kind(g.block(&f.admin, "alice", "ghost").await),
        Some(ErrorKind::NotFound)
    );
    assert!(f.events().await.is_empty());
}

#[tokio::test]
async fn follow_either_way_across_a_block_is_forbidden() {
    let f = three().await;
    f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    for (actor, target) in [("alice", "bob"), ("bob", "alice")] {
        let error = f.graph.follow(&f.admin, actor, target).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Forbidden, "{actor} -> {target}");
    }
    // A locked blocker gets no request either.
    lock(&f, "alice").await;
    let error = f.graph.follow(&f.admin, "bob", "alice").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    // In a batch, the refusal is the item's own.
    let items = f
        .graph
        .follow_many(&f.admin, "bob", &["alice", "carol"])
        .await
        .unwrap();
    assert_eq!(
        items[0].result.as_ref().map_err(|e| e.kind()).err(),
        Some(ErrorKind::Forbidden)
    );
    assert!(items[1].result.as_ref().unwrap().is_changed());
}

#[tokio::test]
async fn the_interaction_guard_is_forbidden_across_a_block() {
    let f = three().await;
    f.follow("bob", "alice").await;
    f.graph
        .ensure_can_interact(&f.admin, "bob", "alice")
        .await
        .unwrap();
    f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    let error = f
        .graph
        .ensure_can_interact(&f.admin, "bob", "alice")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Forbidden);
}

#[tokio::test]
async fn unblock_restores_nothing() {
    let f = three().await;
    f.follow("alice", "bob").await;
    f.follow("bob", "alice").await;
    f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    let applied = f.graph.unblock(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(applied.event.map(|e| e.kind), Some(EventKind::Unblocked));
    assert!(f.ids(ListKind::Following, "alice").await.is_empty());
    assert!(f.ids(ListKind::Following, "bob").await.is_empty());
    // Following is allowed again.
    f.follow("bob", "alice").await;
    let record = f.graph.node(&f.admin, "alice").await.unwrap();
    assert_eq!(record.links, 0);
}

#[tokio::test]
async fn blocks_are_listed_newest_first_and_paged() {
    let f = fixture();
    f.register(&["alice", "b1", "b2", "b3"]).await;
    for target in ["b1", "b2", "b3"] {
        f.graph.block(&f.admin, "alice", target).await.unwrap();
        f.tick(1);
    }
    let first = f
        .graph
        .blocks(&f.admin, "alice", &PageRequest::first().with_limit(2))
        .await
        .unwrap();
    assert_eq!(accounts(&first.items), ["b3", "b2"]);
    let cursor = first.next_cursor.unwrap();
    let rest = f
        .graph
        .blocks(&f.admin, "alice", &PageRequest::after(cursor.clone()))
        .await
        .unwrap();
    assert_eq!(
        (accounts(&rest.items), rest.next_cursor),
        (vec!["b1"], None)
    );
    // A blocks cursor is not a mutes cursor.
    let error = f
        .graph
        .mutes(&f.admin, "alice", &PageRequest::after(cursor))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn the_relationship_says_blocking_and_blocked_by() {
    let f = three().await;
    f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.blocking && !seen.blocked_by);
    let back = f
        .graph
        .relationship(&f.admin, "bob", "alice")
        .await
        .unwrap();
    assert!(back.blocked_by && !back.blocking);
}

// Account mutes

#[tokio::test]
async fn an_account_mute_applies_to_any_account_and_does_not_unfollow() {
    let f = three().await;
    f.follow("alice", "bob").await;
    let before = f.events().await.len();
    for target in ["bob", "carol"] {
        let applied = f
            .graph
            .mute_account(&f.admin, "alice", target, None, None)
            .await
            .unwrap();
        assert_eq!(applied.outcome, Outcome::Changed);
    }
    assert_eq!(
        new_events(&f, before).await,
        [
            ev(EventKind::AccountMuted, "alice", "bob"),
            ev(EventKind::AccountMuted, "alice", "carol"),
        ]
    );
    assert_eq!(f.ids(ListKind::Following, "alice").await, ["bob"]);
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "carol")
        .await
        .unwrap();
    assert!(seen.muting && seen.muting_notifications && !seen.following);
    assert_eq!(
        kind(
            f.graph
                .mute_account(&f.admin, "alice", "alice", None, None)
                .await
        ),
        Some(ErrorKind::InvalidArgument)
    );
}

#[tokio::test]
async fn muting_again_sets_notifications_as_given_and_back_to_true_when_left_out() {
    let f = three().await;
    let mute = |notifications| {
        f.graph
            .mute_account(&f.admin, "alice", "bob", notifications, None)
    };
    assert_eq!(mute(Some(false)).await.unwrap().outcome, Outcome::Changed);
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.muting && !seen.muting_notifications);
    assert_eq!(mute(Some(false)).await.unwrap().outcome, Outcome::Unchanged);
    // Left out: back to true (Mastodon's rule), which is a change.
    assert_eq!(mute(None).await.unwrap().outcome, Outcome::Changed);
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.muting_notifications);
    assert_eq!(mute(Some(true)).await.unwrap().outcome, Outcome::Unchanged);
    let record = f.graph.node(&f.admin, "bob").await.unwrap();
    assert_eq!(record.links, 1, "one mute, however often it is set");
}

#[tokio::test]
async fn an_expired_mute_is_absent_from_every_read_at_once() {
    let f = three().await;
    f.follow("bob", "alice").await;
    let hour = Duration::from_secs(3600);
    f.graph
        .mute_account(&f.admin, "alice", "bob", None, Some(hour))
        .await
        .unwrap();
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.muting);
    assert!(seen.muting_expires_at.is_some());
    let mutes = f
        .graph
        .mutes(&f.admin, "alice", &PageRequest::first())
        .await;
    assert_eq!(accounts(&mutes.unwrap().items), ["bob"]);
    f.tick(3600);
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(!seen.muting && seen.muting_expires_at.is_none());
    let mutes = f
        .graph
        .mutes(&f.admin, "alice", &PageRequest::first())
        .await;
    assert!(mutes.unwrap().items.is_empty());
    let delivery = f
        .graph
        .delivery(&f.admin, "alice", &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(delivery.items[0].delivery, Delivery::Notified);
    // Unmuting what expired is unchanged, and cleans the row up.
    let unmute = f
        .graph
        .unmute_account(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert_eq!((unmute.outcome, unmute.event), (Outcome::Unchanged, None));
    let record = f.graph.node(&f.admin, "alice").await.unwrap();
    assert_eq!(record.links, 0, "the expired mute was deleted lazily");
}

#[tokio::test]
async fn an_expired_mute_is_replaced_by_a_new_one() {
    let f = three().await;
    let second = Duration::from_secs(1);
    f.graph
        .mute_account(&f.admin, "alice", "bob", Some(false), Some(second))
        .await
        .unwrap();
    f.tick(5);
    let again = f
        .graph
        .mute_account(&f.admin, "alice", "bob", Some(false), None)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Changed);
    let page = f
        .graph
        .mutes(&f.admin, "alice", &PageRequest::first())
        .await;
    let page = page.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        page.items[0].link.since,
        f.graph.now(),
        "a new mute begins now"
    );
    assert_eq!(f.graph.node(&f.admin, "bob").await.unwrap().links, 1);
}

#[tokio::test]
async fn muting_again_sets_the_expiry_as_given() {
    let f = three().await;
    let hour = Some(Duration::from_secs(3600));
    let mute = |duration| {
        f.graph
            .mute_account(&f.admin, "alice", "bob", None, duration)
    };
    mute(hour).await.unwrap();
    let end = f.graph.now().saturating_add(Duration::from_secs(3600));
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert_eq!(seen.muting_expires_at, Some(end));
    // Left out, the mute no longer ends: a change.
    assert_eq!(mute(None).await.unwrap().outcome, Outcome::Changed);
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert_eq!(seen.muting_expires_at, None);
    f.tick(7200);
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.muting, "a mute without end outlives the old expiry");
}

#[tokio::test]
async fn a_zero_mute_duration_is_invalid() {
    let f = three().await;
    let error = f
        .graph
        .mute_account(&f.admin, "alice", "bob", None, Some(Duration::ZERO))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert_eq!(error.details()["field"], "duration");
}

#[tokio::test]
async fn unmute_of_an_absent_mute_is_unchanged_and_of_a_present_one_emits_account_unmuted() {
    let f = three().await;
    let absent = f
        .graph
        .unmute_account(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert_eq!(absent.outcome, Outcome::Unchanged);
    f.graph
        .mute_account(&f.admin, "alice", "bob", None, None)
        .await
        .unwrap();
    let applied = f
        .graph
        .unmute_account(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert_eq!(
        applied.event.map(|e| e.kind),
        Some(EventKind::AccountUnmuted)
    );
    assert_eq!(f.graph.node(&f.admin, "bob").await.unwrap().links, 0);
}

#[tokio::test]
async fn the_mutes_list_fills_its_page_past_expired_mutes() {
    let f = fixture();
    let names: Vec<String> = (0..8).map(|i| format!("m{i}")).collect();
    let mut ids: Vec<&str> = names.iter().map(String::as_str).collect();
    ids.push("alice");
    f.register(&ids).await;
    // m0..m3 expire in a minute; m4..m7 never. Newest first: m7 .. m0.
    for (index, name) in names.iter().enumerate() {
        let duration = (index < 4).then_some(Duration::from_secs(60));
        f.graph
            .mute_account(&f.admin, "alice", name, None, duration)
            .await
            .unwrap();
        f.tick(1);
    }
    f.tick(120);
    let mut seen = Vec::new();
    let mut page = PageRequest::first().with_limit(3);
    loop {
        let got = f.graph.mutes(&f.admin, "alice", &page).await.unwrap();
        assert!(
            got.next_cursor.is_none() || got.items.len() == 3,
            "only the last page is short"
        );
        seen.extend(got.items.iter().map(|e| e.account.as_str().to_owned()));
        match got.next_cursor {
            Some(cursor) => page = PageRequest::after(cursor).with_limit(3),
            None => break,
        }
    }
    assert_eq!(seen, ["m7", "m6", "m5", "m4"]);
}

#[tokio::test]
async fn set_mute_false_on_an_absent_edge_is_unchanged_true_is_not_following() {
    let f = three().await;
    let unmute = f
        .graph
        .set_mute(&f.admin, "alice", "bob", false)
        .await
        .unwrap();
    assert_eq!((unmute.outcome, unmute.event), (Outcome::Unchanged, None));
    let error = f
        .graph
        .set_mute(&f.admin, "alice", "bob", true)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFollowing);
}

#[tokio::test]
async fn delivery_says_notified_silent_or_withheld() {
    let f = fixture();
    f.register(&["author", "loud", "quiet", "muter"]).await;
    for follower in ["loud", "quiet", "muter"] {
        f.follow(follower, "author").await;
    }
    f.graph.mute(&f.admin, "quiet", "author").await.unwrap();
    f.graph
        .mute_account(&f.admin, "muter", "author", Some(false), None)
        .await
        .unwrap();
    let notify = OptionsUpdate {
        notify: Some(true),
        ..OptionsUpdate::NONE
    };
    f.graph
        .follow_with(&f.admin, "loud", "author", notify)
        .await
        .unwrap();
    let page = f
        .graph
        .delivery(&f.admin, "author", &PageRequest::first())
        .await
        .unwrap();
    let got: Vec<(&str, Delivery, bool)> = page
        .items
        .iter()
        .map(|d| (d.follower.as_str(), d.delivery, d.options.notify))
        .collect();
    assert_eq!(
        got,
        [
            ("loud", Delivery::Notified, true),
            ("muter", Delivery::Withheld, false),
            ("quiet", Delivery::Silent, false),
        ]
    );
}

// Follow requests

#[tokio::test]
async fn following_a_locked_account_makes_a_request_not_a_follow() {
    let f = three().await;
    lock(&f, "bob").await;
    let applied = f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(applied.outcome, Outcome::Requested);
    assert_eq!(
        applied.event.map(|e| e.kind),
        Some(EventKind::FollowRequested)
    );
    assert!(f.ids(ListKind::Followers, "bob").await.is_empty());
    let counts = f.graph.counts(&f.admin, "bob").await.unwrap();
    assert_eq!(counts.followers, 0, "a request is not a follower");
    let incoming = f
        .graph
        .follow_requests(&f.admin, "bob", &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(accounts(&incoming.items), ["alice"]);
    let outgoing = f
        .graph
        .requested(&f.admin, "alice", &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(accounts(&outgoing.items), ["bob"]);
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.requested && !seen.following);
    let back = f
        .graph
        .relationship(&f.admin, "bob", "alice")
        .await
        .unwrap();
    assert!(back.requested_by && !back.followed_by);
}

#[tokio::test]
async fn following_again_while_requested_is_unchanged_but_updates_the_request_options() {
    let f = three().await;
    lock(&f, "bob").await;
    f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    let before = f.events().await.len();
    let quiet = OptionsUpdate {
        reblogs: Some(false),
        ..OptionsUpdate::NONE
    };
    let again = f
        .graph
        .follow_with(&f.admin, "alice", "bob", quiet)
        .await
        .unwrap();
    assert_eq!((again.outcome, again.event), (Outcome::Unchanged, None));
    assert_eq!(f.events().await.len(), before);
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.requested && !seen.showing_reblogs);
    // Authorised, the follow carries the request's options.
    f.graph
        .authorize_request(&f.admin, "bob", "alice")
        .await
        .unwrap();
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.following && !seen.requested && !seen.showing_reblogs);
}

#[tokio::test]
async fn unfollowing_while_requested_withdraws_the_request() {
    let f = three().await;
    lock(&f, "bob").await;
    f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    let applied = f.graph.unfollow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(
        applied.event.map(|e| e.kind),
        Some(EventKind::FollowRequestWithdrawn)
    );
    let again = f.graph.unfollow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert_eq!(f.graph.node(&f.admin, "bob").await.unwrap().links, 0);
}

#[tokio::test]
async fn authorising_makes_the_follow_with_events_for_both() {
    let f = three().await;
    lock(&f, "bob").await;
    f.follow("bob", "alice").await;
    f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    let before = f.events().await.len();
    let applied = f
        .graph
        .authorize_request(&f.admin, "bob", "alice")
        .await
        .unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    assert_eq!(
        new_events(&f, before).await,
        [
            ev(EventKind::FollowRequestAuthorized, "alice", "bob"),
            ev(EventKind::Followed, "alice", "bob"),
        ]
    );
    assert_eq!(f.ids(ListKind::Mutuals, "alice").await, ["bob"]);
    f.assert_counts_match_lists(&["alice", "bob"]).await;
    let again = f
        .graph
        .authorize_request(&f.admin, "bob", "alice")
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
}

#[tokio::test]
async fn rejecting_removes_the_request_and_makes_nothing() {
    let f = three().await;
    lock(&f, "bob").await;
    f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    let before = f.events().await.len();
    let applied = f
        .graph
        .reject_request(&f.admin, "bob", "alice")
        .await
        .unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    assert_eq!(
        new_events(&f, before).await,
        [ev(EventKind::FollowRequestRejected, "alice", "bob")]
    );
    assert!(f.ids(ListKind::Followers, "bob").await.is_empty());
    let again = f
        .graph
        .reject_request(&f.admin, "bob", "alice")
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
    // Only the asked account (or admin) answers.
    let error = f
        .graph
        .reject_request(&bound("alice"), "bob", "alice")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Forbidden);
}

#[tokio::test]
async fn unlocking_authorises_every_pending_request() {
    let f = fixture();
    let names: Vec<String> = (0..7).map(|i| format!("fan{i}")).collect();
    let mut ids: Vec<&str> = names.iter().map(String::as_str).collect();
    ids.push("star");
    f.register(&ids).await;
    lock(&f, "star").await;
    for name in &names {
        let asked = f.graph.follow(&f.admin, name, "star").await.unwrap();
        assert_eq!(asked.outcome, Outcome::Requested);
    }
    let applied = f.graph.set_locked(&f.admin, "star", false).await.unwrap();
    assert_eq!(applied.outcome, Outcome::Changed);
    assert_eq!(f.list(ListKind::Followers, "star").await.len(), 7);
    assert_eq!(f.graph.counts(&f.admin, "star").await.unwrap().followers, 7);
    let pending = f
        .graph
        .follow_requests(&f.admin, "star", &PageRequest::first())
        .await
        .unwrap();
    assert!(pending.items.is_empty());
    assert_eq!(f.graph.node(&f.admin, "star").await.unwrap().links, 0);
    // Unlocked, a follow is a follow.
    f.register(&["late"]).await;
    let late = f.graph.follow(&f.admin, "late", "star").await.unwrap();
    assert_eq!(late.outcome, Outcome::Changed);
}

#[tokio::test]
async fn only_an_admin_or_the_account_itself_locks_it() {
    let f = three().await;
    let mine = f.graph.set_locked(&bound("alice"), "alice", true).await;
    assert_eq!(mine.unwrap().outcome, Outcome::Changed);
    let theirs = f.graph.set_locked(&bound("alice"), "bob", true).await;
    assert_eq!(kind(theirs), Some(ErrorKind::Forbidden));
    let sender = principal("acme", Capabilities::from(Capability::Send));
    let error = f.graph.set_locked(&sender, "bob", true).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    assert!(f.graph.node(&f.admin, "alice").await.unwrap().locked);
    assert!(!f.graph.node(&f.admin, "bob").await.unwrap().locked);
    let channel = f.graph.set_locked(&f.admin, CHANNEL, true).await;
    assert_eq!(kind(channel), Some(ErrorKind::InvalidArgument));
}

// Follow options

#[tokio::test]
async fn a_follow_has_mastodon_default_options() {
    let f = three().await;
    f.follow("alice", "bob").await;
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.showing_reblogs && !seen.notifying);
    assert_eq!(seen.languages, None);
}

#[tokio::test]
async fn following_again_with_options_updates_only_those_named() {
    let f = three().await;
    let english = Languages::parse(["en"]).unwrap();
    let first = OptionsUpdate {
        notify: Some(true),
        languages: Some(english),
        ..OptionsUpdate::NONE
    };
    let applied = f
        .graph
        .follow_with(&f.admin, "alice", "bob", first)
        .await
        .unwrap();
    assert_eq!(applied.event.map(|e| e.kind), Some(EventKind::Followed));
    let no_reblogs = OptionsUpdate {
        reblogs: Some(false),
        ..OptionsUpdate::NONE
    };
    let changed = f
        .graph
        .follow_with(&f.admin, "alice", "bob", no_reblogs)
        .await
        .unwrap();
    assert_eq!(
        changed.event.map(|e| e.kind),
        Some(EventKind::OptionsChanged)
    );
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(!seen.showing_reblogs && seen.notifying);
    assert_eq!(seen.languages, Some(english));
    let same = f
        .graph
        .follow_with(&f.admin, "alice", "bob", no_reblogs)
        .await
        .unwrap();
    assert_eq!((same.outcome, same.event), (Outcome::Unchanged, None));
    let plain = f.graph.follow(&f.admin, "alice", "bob").await.unwrap();
    assert_eq!(plain.outcome, Outcome::Unchanged);
    let item = f.list(ListKind::Followers, "bob").await;
    assert!(item[0].options.notify && !item[0].options.reblogs);
}

#[tokio::test]
async fn import_carries_follow_options() {
    let f = three().await;
    let edge = follow_core::ImportEdge::new(
        follow_core::AccountId::new("alice").unwrap(),
        follow_core::NodeId::new("bob").unwrap(),
    )
    .options(OptionsUpdate {
        reblogs: Some(false),
        ..OptionsUpdate::NONE
    });
    let results = f.graph.import(&f.admin, &[edge]).await.unwrap();
    assert!(results[0].as_ref().unwrap().is_changed());
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(seen.following && !seen.showing_reblogs);
}

// The relationship object and the read batch

#[tokio::test]
async fn relationships_answer_each_target_in_request_order() {
    let f = three().await;
    f.register(&[CHANNEL]).await;
    f.follow("alice", CHANNEL).await;
    f.follow("bob", "alice").await;
    let items = f
        .graph
        .relationships(&f.admin, "alice", &["bob", CHANNEL, "ghost", "alice"])
        .await
        .unwrap();
    let bob = items[0].result.as_ref().unwrap();
    assert!(bob.followed_by && !bob.following);
    let channel = items[1].result.as_ref().unwrap();
    assert!(channel.following && !channel.blocking);
    assert_eq!(
        items[2].result.as_ref().map_err(|e| e.kind()).err(),
        Some(ErrorKind::NotFound)
    );
    assert_eq!(
        items[3].result.as_ref().map_err(|e| e.kind()).err(),
        Some(ErrorKind::InvalidArgument)
    );
}

#[tokio::test]
async fn the_read_batch_limit_is_its_own_and_the_default_page_size_is_configurable() {
    let f = fixture();
    assert_eq!(f.graph.read_batch_limit(), 30);
    assert_eq!(f.graph.batch_limit(), 20);
    let names: Vec<String> = (0..31).map(|i| format!("t{i:02}")).collect();
    let targets: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut ids = targets.clone();
    ids.push("alice");
    f.register(&ids).await;
    let thirty = f
        .graph
        .relationships(&f.admin, "alice", &targets[..30])
        .await;
    assert_eq!(thirty.unwrap().len(), 30);
    let over = f.graph.relationships(&f.admin, "alice", &targets).await;
    assert_eq!(kind(over), Some(ErrorKind::InvalidArgument));
    let small = Fixture::with(Arc::new(MemoryStore::new()), |builder| {
        builder
            .read_batch_limit(NonZeroUsize::new(2).unwrap())
            .default_page_limit(NonZeroU32::new(3).unwrap())
    });
    assert_eq!(small.graph.read_batch_limit(), 2);
    small.register(&ids).await;
    for target in &targets[..5] {
        small.follow(target, "alice").await;
    }
    let page = small
        .graph
        .followers(&small.admin, "alice", &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
}

// Lists as a viewer sees them

/// alice has followers f0..f9 (f9 newest); the viewer v blocks f1 and f5,
/// and f7 blocks v.
async fn viewed_graph() -> Fixture {
    let f = fixture();
    let names: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    let mut ids: Vec<&str> = names.iter().map(String::as_str).collect();
    ids.extend(["alice", "v"]);
    f.register(&ids).await;
    for name in &names {
        f.follow(name, "alice").await;
        f.tick(1);
    }
    f.graph.block(&f.admin, "v", "f1").await.unwrap();
    f.graph.block(&f.admin, "v", "f5").await.unwrap();
    f.graph.block(&f.admin, "f7", "v").await.unwrap();
    f
}

#[tokio::test]
async fn a_list_seen_by_a_viewer_leaves_out_blocks_either_way_with_full_pages_and_exact_cursors() {
    let f = viewed_graph().await;
    for limit in [1, 2, 3, 7, 100] {
        let mut seen = Vec::new();
        let mut page = PageRequest::first().with_limit(limit);
        loop {
            let got = f
                .graph
                .list_as(&f.admin, "v", ListKind::Followers, "alice", &page, false)
                .await
                .unwrap();
            if got.next_cursor.is_some() {
                assert_eq!(
                    got.items.len(),
                    limit as usize,
                    "only the last page is short"
                );
            }
            seen.extend(got.items.iter().map(|i| i.entry.node.as_str().to_owned()));
            match got.next_cursor {
                Some(cursor) => page = PageRequest::after(cursor).with_limit(limit),
                None => break,
            }
        }
        assert_eq!(
            seen,
            ["f9", "f8", "f6", "f4", "f3", "f2", "f0"],
            "pages of {limit}"
        );
    }
}

#[tokio::test]
async fn a_list_is_empty_to_a_viewer_its_owner_blocks() {
    let f = viewed_graph().await;
    f.graph.block(&f.admin, "alice", "v").await.unwrap();
    let got = f
        .graph
        .list_as(
            &f.admin,
            "v",
            ListKind::Followers,
            "alice",
            &PageRequest::first(),
            false,
        )
        .await
        .unwrap();
    assert!(got.items.is_empty() && got.next_cursor.is_none());
    let unknown = f
        .graph
        .list_as(
            &f.admin,
            "ghost",
            ListKind::Followers,
            "alice",
            &PageRequest::first(),
            false,
        )
        .await;
    assert_eq!(kind(unknown), Some(ErrorKind::NotFound));
}

#[tokio::test]
async fn a_list_seen_by_a_viewer_carries_each_items_relationship_to_the_viewer() {
    let f = viewed_graph().await;
    f.follow("v", "f9").await;
    f.graph
        .mute_account(&f.admin, "v", "f8", None, None)
        .await
        .unwrap();
    let page = PageRequest::first().with_limit(2);
    let got = f
        .graph
        .list_as(&f.admin, "v", ListKind::Followers, "alice", &page, true)
        .await
        .unwrap();
    let viewer: Vec<(bool, bool)> = got
        .items
        .iter()
        .map(|item| {
            let seen = item.viewer.as_ref().unwrap();
            (seen.following, seen.muting)
        })
        .collect();
    assert_eq!(viewer, [(true, false), (false, true)]);
    // A plain followers cursor does not resume a viewer's list.
    let plain = f
        .graph
        .followers(&f.admin, "alice", &page)
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    let error = f
        .graph
        .list_as(
            &f.admin,
            "v",
            ListKind::Followers,
            "alice",
            &PageRequest::after(plain),
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
}

// Removal

#[tokio::test]
async fn removing_an_account_drops_its_links_with_their_events() {
    let f = three().await;
    lock(&f, "carol").await;
    f.graph.block(&f.admin, "alice", "bob").await.unwrap();
    f.graph
        .mute_account(&f.admin, "carol", "alice", None, None)
        .await
        .unwrap();
    f.graph.follow(&f.admin, "alice", "carol").await.unwrap();
    let before = f.events().await.len();
    let removed = f.graph.remove(&f.admin, "alice").await.unwrap();
    assert_eq!(removed.outcome, Outcome::Changed);
    let mut dropped = new_events(&f, before).await;
    dropped.sort_by_key(|(kind, from, to)| (kind.name(), from.clone(), to.clone()));
    let mut expected = vec![
        ev(EventKind::Unblocked, "alice", "bob"),
        ev(EventKind::AccountUnmuted, "carol", "alice"),
        ev(EventKind::FollowRequestWithdrawn, "alice", "carol"),
    ];
    expected.sort_by_key(|(kind, from, to)| (kind.name(), from.clone(), to.clone()));
    assert_eq!(dropped, expected);
    for node in ["bob", "carol"] {
        assert_eq!(f.graph.node(&f.admin, node).await.unwrap().links, 0);
    }
    // Registered again, alice starts with nothing.
    f.register(&["alice"]).await;
    let seen = f
        .graph
        .relationship(&f.admin, "alice", "bob")
        .await
        .unwrap();
    assert!(!seen.blocking && !seen.requested);
}
