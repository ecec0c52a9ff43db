//! Cases of the change feed's store methods: `consumer`, `consumers`,
//! `acknowledge`, `feed_state` and `prune_events`, and the facade's
//! consumer, retention and history rules built on them.

use std::num::NonZeroUsize;
use std::time::Duration;

use follow_core::feed::{ConsumerName, ConsumerStart, PruneStep, RetentionPolicy};
use follow_core::{Event, FollowGraph};

use super::prelude::*;

fn name(text: &str) -> ConsumerName {
    ConsumerName::new(text).unwrap()
}

/// Six events of [`crate::fixture::TENANT`], one second apart.
async fn six_events(f: &Fixture) -> Vec<Event> {
    f.register(&["alice", "bob", "carol"]).await;
    for target in ["bob", "carol"] {
        f.follow("alice", target).await;
        f.tick(1);
        f.graph.mute(&f.admin, "alice", target).await.unwrap();
        f.tick(1);
        f.graph.unfollow(&f.admin, "alice", target).await.unwrap();
        f.tick(1);
    }
    let events = f.events().await;
    assert_eq!(events.len(), 6);
    events
}

fn step(f: &Fixture, through: EventPosition, before: Timestamp, limit: usize) -> PruneStep {
    PruneStep {
        tenant: f.tenant(),
        through,
        before,
        limit,
    }
}

/// A consumer reads the events after its last acknowledgement, and a new
/// facade over the same store (a restarted process) resumes exactly there:
/// nothing acknowledged is handed out again, nothing unacknowledged is
/// skipped.
pub async fn a_consumer_resumes_exactly_after_its_last_acknowledgement(store: Store) {
    let f = Fixture::new(store.clone());
    let all = six_events(&f).await;
    let p = &f.admin;
    let registered = f
        .graph
        .register_consumer(p, "mailer", ConsumerStart::Oldest)
        .await
        .unwrap();
    assert_eq!(registered.position, EventPosition(0));
    let first = f.graph.consumer_events(p, "mailer", Some(4)).await.unwrap();
    assert_eq!(first, all[..4]);
    // Reading does not move the position.
    let again = f.graph.consumer_events(p, "mailer", Some(4)).await.unwrap();
    assert_eq!(again, first);
    f.graph
        .acknowledge(p, "mailer", all[2].position)
        .await
        .unwrap();

    let restarted = FollowGraph::new(store);
    let resumed = restarted
        .consumer_events(p, "mailer", Some(100))
        .await
        .unwrap();
    assert_eq!(resumed, all[3..]);
    let state = restarted.consumer(p, "mailer").await.unwrap();
    assert_eq!(state.position, all[2].position);
    assert_eq!(state.updated_at, at(6));

    let latest = restarted
        .register_consumer(p, "late", ConsumerStart::Latest)
        .await
        .unwrap();
    assert_eq!(latest.position, all[5].position);
    let nothing = restarted.consumer_events(p, "late", None).await.unwrap();
    assert!(nothing.is_empty());
}

/// Consumers are independent: each has its own position, acknowledging
/// for one moves no other, and registering an existing one changes
/// nothing. Another tenant's consumers are invisible.
pub async fn consumers_read_and_acknowledge_independently(store: Store) {
    let f = Fixture::new(store);
    let all = six_events(&f).await;
    let p = &f.admin;
    for consumer in ["a", "b"] {
        f.graph
            .register_consumer(p, consumer, ConsumerStart::Oldest)
            .await
            .unwrap();
    }
    f.graph.acknowledge(p, "a", all[4].position).await.unwrap();
    f.graph.acknowledge(p, "b", all[1].position).await.unwrap();
    let again = f
        .graph
        .register_consumer(p, "a", ConsumerStart::Oldest)
        .await
        .unwrap();
    assert_eq!(again.position, all[4].position);
    assert_eq!(
        f.graph.consumer_events(p, "a", None).await.unwrap(),
        all[5..]
    );
    assert_eq!(
        f.graph.consumer_events(p, "b", None).await.unwrap(),
        all[2..]
    );
    let listed = f.store.consumers(&f.tenant()).await.unwrap();
    let shown: Vec<(String, u64)> = listed
        .iter()
        .map(|c| (c.name.to_string(), c.position.0))
        .collect();
    assert_eq!(
        shown,
        [
            ("a".to_owned(), all[4].position.0),
            ("b".to_owned(), all[1].position.0)
        ]
    );
    let other = TenantId::new(crate::fixture::OTHER_TENANT).unwrap();
    assert!(f.store.consumers(&other).await.unwrap().is_empty());
    assert_eq!(f.store.consumer(&other, &name("a")).await.unwrap(), None);
    assert_eq!(
        kind(f.graph.consumer_events(&f.other, "a", None).await),
        Some(ErrorKind::NotFound)
    );
    assert_eq!(
        kind(f.graph.acknowledge(p, "nobody", all[0].position).await),
        Some(ErrorKind::NotFound)
    );
}

/// `acknowledge` is monotonic (an older position changes nothing, so a
/// retried acknowledgement is harmless) and refuses a position beyond the
/// last event the store handed out, changing nothing.
pub async fn acknowledge_is_monotonic_and_bounded_by_the_last_event(store: Store) {
    let f = Fixture::new(store);
    let all = six_events(&f).await;
    let (tenant, mailer) = (f.tenant(), name("mailer"));
    let last = all[5].position;
    let state = f
        .store
        .acknowledge(&tenant, &mailer, all[3].position, at(10))
        .await
        .unwrap();
    assert_eq!(
        (state.position, state.updated_at),
        (all[3].position, at(10))
    );
    let back = f
        .store
        .acknowledge(&tenant, &mailer, all[1].position, at(11))
        .await
        .unwrap();
    assert_eq!((back.position, back.updated_at), (all[3].position, at(10)));
    let beyond = f
        .store
        .acknowledge(&tenant, &mailer, EventPosition(last.0 + 1), at(12))
        .await;
    assert_eq!(kind(beyond), Some(ErrorKind::InvalidArgument));
    let new_beyond = f
        .store
        .acknowledge(&tenant, &name("new"), EventPosition(last.0 + 1), at(12))
        .await;
    assert_eq!(kind(new_beyond), Some(ErrorKind::InvalidArgument));
    assert_eq!(f.store.consumer(&tenant, &name("new")).await.unwrap(), None);
    let stored = f.store.consumer(&tenant, &mailer).await.unwrap().unwrap();
    assert_eq!(stored.position, all[3].position);
    let state = f.store.feed_state(&tenant).await.unwrap();
    assert_eq!(state.last_position, last);
    assert_eq!(state.pruned, None);
}

/// Concurrent acknowledgements of one consumer are atomic: the stored
/// position ends at the highest one, whatever the interleaving.
pub async fn concurrent_acknowledgements_keep_the_highest(store: Store) {
    let f = Fixture::new(store.clone());
    let all = six_events(&f).await;
    let tenant = f.tenant();
    let mut tasks = Vec::new();
    for round in 0..8 {
        for event in all.iter().rev() {
            let (store, tenant, position) = (store.clone(), tenant.clone(), event.position);
            tasks.push(tokio::spawn(async move {
                store
                    .acknowledge(&tenant, &name("shared"), position, at(round))
                    .await
                    .unwrap()
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stored = f
        .store
        .consumer(&tenant, &name("shared"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.position, all[5].position);
}

/// A prune never removes an event some consumer has not acknowledged, nor
/// one younger than the retention; with no consumer, every event older
/// than the retention may go.
pub async fn prune_never_removes_unacknowledged_or_recent_events(store: Store) {
    let f = Fixture::new(store);
    let all = six_events(&f).await;
    let p = &f.admin;
    for consumer in ["fast", "slow"] {
        f.graph
            .register_consumer(p, consumer, ConsumerStart::Oldest)
            .await
            .unwrap();
    }
    f.graph
        .acknowledge(p, "fast", all[5].position)
        .await
        .unwrap();
    f.graph
        .acknowledge(p, "slow", all[3].position)
        .await
        .unwrap();
    f.clock.set(at(100));
    let step = NonZeroUsize::new(2).unwrap();
    // Events are from 0..=5 s; a retention of 97.5 s keeps those of 3 s on.
    let keep_recent = RetentionPolicy::acknowledged_for(Duration::from_millis(97_500));
    let report = f.graph.prune_events(p, &keep_recent, step).await.unwrap();
    assert_eq!(report.removed, 3);
    assert_eq!(f.events().await, all[3..]);
    // The slow consumer has not acknowledged past all[3].
    let everything_old = RetentionPolicy::acknowledged_for(Duration::ZERO);
    let report = f
        .graph
        .prune_events(p, &everything_old, step)
        .await
        .unwrap();
    assert_eq!(report.removed, 1);
    assert_eq!(f.events().await, all[4..]);
    assert_eq!(
        f.graph.consumer_events(p, "slow", None).await.unwrap(),
        all[4..]
    );
    assert_eq!(f.graph.consumer_events(p, "fast", None).await.unwrap(), []);

    // Another tenant without consumers: everything old may go.
    f.register_other(&["alice", "bob"]).await;
    f.graph.follow(&f.other, "alice", "bob").await.unwrap();
    f.graph.unfollow(&f.other, "alice", "bob").await.unwrap();
    f.clock.set(at(200));
    let report = f
        .graph
        .prune_events(&f.other, &everything_old, step)
        .await
        .unwrap();
    assert_eq!(report.removed, 2);
    assert!(
        f.graph
            .events(&f.other, None, Some(10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(f.events().await, all[4..]);
}

/// One `prune_events` call removes at most its limit, always the oldest
/// retained events (a prefix), stops at the first event above `through` or
/// not before `before`, and records the pruned range with the removal.
pub async fn prune_is_bounded_and_removes_a_prefix(store: Store) {
    let f = Fixture::new(store);
    let all = six_events(&f).await;
    let tenant = f.tenant();
    let removed = f
        .store
        .prune_events(step(&f, all[5].position, at(100), 2))
        .await
        .unwrap();
    assert_eq!(removed, 2);
    assert_eq!(f.events().await, all[2..]);
    let pruned = f.store.feed_state(&tenant).await.unwrap().pruned.unwrap();
    assert_eq!(
        (pruned.through, pruned.last_at, pruned.events),
        (all[1].position, all[1].at, 2)
    );
    // Stops below `through`.
    let removed = f
        .store
        .prune_events(step(&f, all[2].position, at(100), 10))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    // Stops at the first event not before `before` (all[4] is at 4 s).
    let removed = f
        .store
        .prune_events(step(&f, all[5].position, all[4].at, 10))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(f.events().await, all[4..]);
    let pruned = f.store.feed_state(&tenant).await.unwrap().pruned.unwrap();
    assert_eq!((pruned.through, pruned.events), (all[3].position, 4));
    let none = f
        .store
        .prune_events(step(&f, EventPosition(0), at(100), 10))
        .await
        .unwrap();
    assert_eq!(none, 0);
}

/// A prune changes no position: later events keep theirs, new events
/// continue the order, another tenant's events stay, and the edges and
/// counts are untouched.
pub async fn prune_leaves_positions_and_other_data_unchanged(store: Store) {
    let f = Fixture::new(store);
    f.register_other(&["alice", "bob"]).await;
    let all = six_events(&f).await;
    f.graph.follow(&f.other, "alice", "bob").await.unwrap();
    f.follow("bob", "alice").await;
    let ours = f.events().await;
    let other = TenantId::new(crate::fixture::OTHER_TENANT).unwrap();
    let theirs = f.store.events_after(&other, None, 10).await.unwrap();
    let removed = f
        .store
        .prune_events(step(&f, all[5].position, at(100), 100))
        .await
        .unwrap();
    assert_eq!(removed, 6);
    assert_eq!(f.events().await, ours[6..]);
    assert_eq!(
        f.store.events_after(&other, None, 10).await.unwrap(),
        theirs
    );
    f.follow("carol", "alice").await;
    let after = f.events().await;
    assert_eq!(after.len(), 2);
    assert!(after[1].position > theirs[0].position);
    assert_eq!(f.ids(ListKind::Followers, "alice").await, ["bob", "carol"]);
    f.assert_counts_match_lists(&["alice", "bob", "carol"])
        .await;
    let state = f.store.feed_state(&f.tenant()).await.unwrap();
    assert_eq!(state.last_position, after[1].position);
}

/// A consumer whose unacknowledged events a time limit removed, and a
/// reader resuming below the pruned range, get `fell_behind` naming what
/// was lost, never a silent gap; acknowledging past the gap recovers.
pub async fn a_consumer_behind_a_time_limit_is_told_what_it_lost(store: Store) {
    let f = Fixture::new(store);
    let all = six_events(&f).await;
    let p = &f.admin;
    f.graph
        .register_consumer(p, "slow", ConsumerStart::Oldest)
        .await
        .unwrap();
    f.graph
        .acknowledge(p, "slow", all[0].position)
        .await
        .unwrap();
    f.clock.set(at(100));
    let policy = RetentionPolicy {
        acknowledged: Duration::ZERO,
        unacknowledged: Some(Duration::from_millis(97_500)),
    };
    let report = f
        .graph
        .prune_events(p, &policy, NonZeroUsize::new(1).unwrap())
        .await
        .unwrap();
    assert_eq!(report.removed, 3);
    assert!(report.steps >= 3);
    let error = f.graph.consumer_events(p, "slow", None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::FellBehind);
    assert_eq!(error.details()["lost_from"], all[0].position.0 + 1);
    assert_eq!(error.details()["lost_through"], all[2].position.0);
    let reader = f.graph.events(p, Some(all[1].position), None).await;
    assert_eq!(kind(reader), Some(ErrorKind::FellBehind));
    assert_eq!(f.graph.events(p, None, None).await.unwrap(), all[3..]);
    f.graph
        .acknowledge(p, "slow", all[2].position)
        .await
        .unwrap();
    assert_eq!(
        f.graph.consumer_events(p, "slow", None).await.unwrap(),
        all[3..]
    );
    let fresh = f
        .graph
        .register_consumer(p, "fresh", ConsumerStart::Oldest)
        .await
        .unwrap();
    assert_eq!(fresh.position, all[2].position);
}

/// History pages: who stopped following a node since a time, and what an
/// account followed or unfollowed since a time, oldest first, each page
/// resuming exactly after the last, with cursors bound to their question.
pub async fn history_answers_since_a_time_in_pages(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", "dave"]).await;
    let p = &f.admin;
    f.follow("bob", "alice").await;
    f.follow("carol", "alice").await;
    f.follow("dave", "alice").await;
    f.follow("alice", "bob").await;
    f.tick(10);
    f.graph.unfollow(p, "bob", "alice").await.unwrap();
    f.graph.remove_follower(p, "alice", "carol").await.unwrap();
    f.graph.unfollow(p, "alice", "bob").await.unwrap();
    f.graph.unfollow(p, "dave", "alice").await.unwrap();
    f.follow("alice", "carol").await;

    let mut lost = Vec::new();
    let mut page = PageRequest::first().with_limit(1);
    for _ in 0..10 {
        let got = f
            .graph
            .lost_followers(p, "alice", at(5), &page)
            .await
            .unwrap();
        lost.extend(got.items.iter().map(|e| (e.kind, e.follower.to_string())));
        match got.next_cursor {
            Some(cursor) => page = PageRequest::after(cursor).with_limit(1),
            None => break,
        }
    }
    assert_eq!(
        lost,
        [
            (EventKind::Unfollowed, "bob".to_owned()),
            (EventKind::FollowerRemoved, "carol".to_owned()),
            (EventKind::Unfollowed, "dave".to_owned()),
        ]
    );
    let changes = f
        .graph
        .follow_changes(p, "alice", at(0), &PageRequest::first())
        .await
        .unwrap();
    let shown: Vec<(EventKind, String)> = changes
        .items
        .iter()
        .map(|e| (e.kind, e.target.to_string()))
        .collect();
    assert_eq!(
        shown,
        [
            (EventKind::Followed, "bob".to_owned()),
            (EventKind::Unfollowed, "bob".to_owned()),
            (EventKind::Followed, "carol".to_owned()),
        ]
    );
    assert_eq!(changes.next_cursor, None);
    let first = f
        .graph
        .lost_followers(p, "alice", at(5), &PageRequest::first().with_limit(1))
        .await
        .unwrap();
    let cursor = first.next_cursor.unwrap();
    let elsewhere = f
        .graph
        .lost_followers(p, "bob", at(5), &PageRequest::after(cursor.clone()))
        .await;
    assert_eq!(kind(elsewhere), Some(ErrorKind::InvalidArgument));
    let other_question = f
        .graph
        .follow_changes(p, "alice", at(5), &PageRequest::after(cursor))
        .await;
    assert_eq!(kind(other_question), Some(ErrorKind::InvalidArgument));
}
