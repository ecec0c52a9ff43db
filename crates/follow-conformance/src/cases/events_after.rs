//! Cases of `FollowStore::events_after`: the outbox, read in order.

use super::prelude::*;

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
/// Event positions are at least 1 and increase in commit order across the
/// store: events of two tenants interleave in one order, and each tenant
/// reads only its own.
pub async fn positions_are_positive_and_global_to_the_store(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.register_other(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    f.graph.follow(&f.other, "alice", "bob").await.unwrap();
    f.follow("bob", "alice").await;
    let ours = f.store.events_after(&f.tenant(), None, 10).await.unwrap();
    let other = TenantId::new(crate::fixture::OTHER_TENANT).unwrap();
    let theirs = f.store.events_after(&other, None, 10).await.unwrap();
    let positions = |events: &[follow_core::Event]| -> Vec<u64> {
        events.iter().map(|e| e.position.0).collect()
    };
    assert!(ours.iter().all(|e| e.tenant == f.tenant()));
    assert!(theirs.iter().all(|e| e.tenant == other));
    let (ours, theirs) = (positions(&ours), positions(&theirs));
    assert_eq!((ours.len(), theirs.len()), (2, 1));
    assert!(
        0 < ours[0] && ours[0] < theirs[0] && theirs[0] < ours[1],
        "ours {ours:?}, theirs {theirs:?}"
    );
}

/// `events_after` answers at most `limit` events.
pub async fn events_after_answers_at_most_limit(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol"]).await;
    f.follow("alice", "bob").await;
    f.follow("alice", "carol").await;
    f.follow("bob", "carol").await;
    let tenant = f.tenant();
    for limit in [1, 2, 3] {
        let events = f.store.events_after(&tenant, None, limit).await.unwrap();
        assert_eq!(events.len(), limit, "limit {limit}");
    }
    let all = f.store.events_after(&tenant, None, 3).await.unwrap();
    let rest = f
        .store
        .events_after(&tenant, Some(all[0].position), 1)
        .await
        .unwrap();
    assert_eq!(rest, all[1..2]);
}

/// A reader tailing `events_after` while writers commit concurrently never
/// sees a position twice or out of order, and never skips one: once the
/// writers are done, the reader has seen exactly every event.
pub async fn a_tailing_reader_never_skips_or_repeats_a_position(store: Store) {
    let f = Arc::new(Fixture::new(store));
    let writers = 4;
    let names: Vec<String> = (0..writers * 2).map(|i| format!("w{i}")).collect();
    for name in &names {
        f.register(&[name]).await;
    }
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (f, done) = (f.clone(), done.clone());
        let (a, b) = (names[2 * w].clone(), names[2 * w + 1].clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..30 {
                let (actor, target) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
                if round % 4 < 2 {
                    f.graph.follow(&f.admin, actor, target).await.unwrap();
                } else {
                    f.graph.unfollow(&f.admin, actor, target).await.unwrap();
                }
                tokio::task::yield_now().await;
            }
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    let reader = {
        let (f, done) = (f.clone(), done.clone());
        tokio::spawn(async move {
            let tenant = f.tenant();
            let mut seen: Vec<EventPosition> = Vec::new();
            for _ in 0..100_000 {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst) == writers;
                let page = f
                    .store
                    .events_after(&tenant, seen.last().copied(), 7)
                    .await
                    .unwrap();
                for event in &page {
                    let last = seen.last().copied();
                    assert!(
                        last.is_none_or(|p| event.position > p),
                        "position {} after {last:?}",
                        event.position
                    );
                    seen.push(event.position);
                }
                if page.is_empty() && finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
            panic!("events_after: the tail did not settle");
        })
    };
    for task in tasks {
        task.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let all: Vec<EventPosition> = f.events().await.iter().map(|e| e.position).collect();
    assert_eq!(seen, all, "the tailing reader saw every event once");
}
