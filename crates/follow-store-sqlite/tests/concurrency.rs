//! Concurrent writers and group commit.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use follow_core::{ErrorKind, EventKind, FollowStore, WriteBatch};
use follow_store_sqlite::SqliteStore;

const ACCOUNTS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writers_keep_counts_equal_to_edges() {
    let dir = TempDir::new("race");
    let store = Arc::new(SqliteStore::open(dir.file("graph.db")).unwrap());
    let names: Vec<String> = (0..ACCOUNTS).map(|i| format!("user{i}")).collect();
    store
        .write(batch(0, names.iter().map(|n| register(n)).collect()))
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for task in 0..32usize {
        let store = Arc::clone(&store);
        let names = names.clone();
        tasks.push(tokio::spawn(async move {
            let mut changes = 0usize;
            for step in 0..40usize {
                let seed = task * 7919 + step * 104_729;
                let a = &names[seed % ACCOUNTS];
                let b = &names[(seed / ACCOUNTS + 1 + seed % (ACCOUNTS - 1)) % ACCOUNTS];
                if a == b {
                    continue;
                }
                let command = match seed % 4 {
                    0 | 1 => follow(a, b),
                    2 => unfollow(a, b),
                    _ => mute(a, b, step % 2 == 0),
                };
                let results = store
                    .write(batch(1 + step as i64, vec![command]))
                    .await
                    .expect("no write may fail as a whole");
                for result in results {
                    match result {
                        Ok(applied) => changes += usize::from(applied.event.is_some()),
                        Err(e) => assert_eq!(e.code(), "not_following", "{e}"),
                    }
                }
                // Reads race the writes too.
                let read = store.node(&tenant(), &node(a)).await;
                assert!(read.is_ok(), "read failed: {read:?}");
            }
            changes
        }));
    }
    let mut changes = 0;
    for task in tasks {
        changes += task.await.unwrap();
    }

    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    let events = store.events_after(&tenant(), None, 100_000).await.unwrap();
    assert_eq!(events.len(), changes);
    assert!(events.windows(2).all(|w| w[0].position < w[1].position));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_batch_leaves_the_rest_of_its_group_applied() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let names: Vec<String> = (0..61).map(|i| format!("user{i}")).collect();
    store
        .write(batch(0, names.iter().map(|n| register(n)).collect()))
        .await
        .unwrap();

    // Queue many batches at once so the writer commits them in groups; every
    // third one fails as a whole (its required actor is missing) after
    // anything is written), and every other one holds a rejected mute of an
    // absent edge.
    let mut calls = Vec::new();
    for i in 0..60usize {
        let store = Arc::clone(&store);
        let (a, b) = (names[i].clone(), names[i + 1].clone());
        calls.push(tokio::spawn(async move {
            let mut write = WriteBatch::new(tenant(), at(1));
            if i % 3 == 0 {
                write = write.requiring(node("ghost"));
            }
            let write = write.command(follow(&a, &b)).command(mute(&b, &a, true));
            (i, store.write(write).await)
        }));
    }
    let mut applied = 0;
    for call in calls {
        let (i, result) = call.await.unwrap();
        if i % 3 == 0 {
            assert_eq!(result.unwrap_err().kind(), ErrorKind::NotFound);
        } else {
            let results = result.unwrap();
            assert!(results[0].is_ok());
            let rejected = results[1].as_ref().unwrap_err();
            assert_eq!(rejected.code(), "not_following");
            applied += usize::from(results[0].as_ref().unwrap().is_changed());
        }
    }
    let events = store.events_after(&tenant(), None, 1000).await.unwrap();
    assert_eq!(events.len(), applied);
    assert!(events.iter().all(|e| e.kind == EventKind::Followed));
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    // A failed batch wrote nothing: user0 -> user1 came only from batch 0.
    let edge = store
        .pairs(&tenant(), &node("user0"), &[node("user1")])
        .await
        .unwrap()
        .unwrap();
    assert!(edge[0].outgoing.is_none());
}

/// Batches whose commit fails part-way, queued at once among batches that
/// commit, so that the writer groups them: each failed batch's savepoint
/// leaves nothing behind, and the rest of its group commits. (A batch
/// committed alone is the conformance suite's failed-commit cases.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commits_failing_part_way_in_a_group_leave_nothing() {
    use follow_store_sqlite::SqliteOptions;

    let dir = TempDir::new("failing-groups");
    // A registration writes one node row; a follow writes an edge, two
    // counter updates and an event, so it fails after its second row.
    let options = SqliteOptions {
        fail_commits_after: Some(2),
        ..SqliteOptions::default()
    };
    let names: Vec<String> = (0..41).map(|i| format!("user{i}")).collect();
    SqliteStore::open(dir.file("graph.db"))
        .unwrap()
        .write(batch(0, names.iter().map(|n| register(n)).collect()))
        .await
        .unwrap();
    let store = Arc::new(SqliteStore::open_with(dir.file("graph.db"), options).unwrap());
    let before = store
        .events_after(&tenant(), None, 1000)
        .await
        .unwrap()
        .len();

    let mut calls = Vec::new();
    for i in 0..40usize {
        let store = Arc::clone(&store);
        let (a, b) = (names[i].clone(), names[i + 1].clone());
        calls.push(tokio::spawn(async move {
            let follows = store.write(batch(1, vec![follow(&a, &b)])).await;
            let registers = store
                .write(batch(1, vec![register(&format!("new{i}"))]))
                .await;
            (follows, registers)
        }));
    }
    for call in calls {
        let (follows, registers) = call.await.unwrap();
        assert_eq!(follows.unwrap_err().kind(), ErrorKind::Unavailable);
        assert!(registers.unwrap()[0].as_ref().unwrap().is_changed());
    }
    for i in 0..40 {
        let id = node(&format!("new{i}"));
        assert!(store.node(&tenant(), &id).await.unwrap().is_some(), "{id}");
    }
    // Registrations write no event; the failed follows wrote none either.
    let events = store.events_after(&tenant(), None, 1000).await.unwrap();
    assert_eq!(events.len(), before);
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    for pair in names.windows(2) {
        let edges = store
            .pairs(&tenant(), &node(&pair[0]), &[node(&pair[1])])
            .await
            .unwrap()
            .unwrap();
        assert!(edges[0].outgoing.is_none(), "{pair:?}");
    }
}

/// Readers keep answering while batches build the edge indexes in bulk, and
/// see each call whole: a hub's follower count is always one of the totals
/// after a committed call, and its follower list reads through the index
/// the batch drops and builds again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_answer_during_bulk_index_rebuilds() {
    use follow_core::{ListKind, ListQuery};
    use follow_store_sqlite::SqliteOptions;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = TempDir::new("bulk-readers");
    let options = SqliteOptions {
        rebuild_indexes_from: 1,
        ..SqliteOptions::default()
    };
    let store = Arc::new(SqliteStore::open_with(dir.file("graph.db"), options).unwrap());
    let call = |k: i64, size: usize| {
        let mut commands = vec![register("hub")];
        for i in 0..size {
            let user = format!("c{k}u{i}");
            commands.push(register(&user));
            commands.push(follow(&user, "hub"));
        }
        batch(k, commands)
    };
    store.write(call(0, 300)).await.unwrap();
    let totals = [300u64, 600, 1_200, 2_400, 4_800];

    let writing = Arc::new(AtomicBool::new(true));
    let reader = {
        let (store, writing) = (Arc::clone(&store), Arc::clone(&writing));
        tokio::spawn(async move {
            let mut reads = 0usize;
            while writing.load(Ordering::Acquire) {
                let hub = store.node(&tenant(), &node("hub")).await.unwrap().unwrap();
                assert!(totals.contains(&hub.counts.followers), "{:?}", hub.counts);
                let page = store
                    .list(ListQuery {
                        tenant: tenant(),
                        list: ListKind::Followers,
                        subject: node("hub"),
                        after: None,
                        limit: 10,
                    })
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(page.len(), 10);
                reads += 1;
            }
            reads
        })
    };
    for (k, pair) in totals.windows(2).enumerate() {
        let results = store
            .write(call(k as i64 + 1, (pair[1] - pair[0]) as usize))
            .await
            .unwrap();
        assert!(results.iter().skip(1).all(Result::is_ok));
    }
    writing.store(false, Ordering::Release);
    let reads = reader.await.unwrap();
    assert!(reads > 0, "no read ran during the import");
    let hub = store.node(&tenant(), &node("hub")).await.unwrap().unwrap();
    assert_eq!(hub.counts.followers, 4_800);
    assert!(store.verify().await.unwrap().is_ok());
}
