//! What the PostgreSQL adapter promises beyond the shared suite: round
//! trips per batch, many pools on one graph, event order under concurrent
//! commits, verify and repair, migrations.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use follow_core::{
    AccountId, Command, ErrorKind, EventPosition, FollowStore, NodeId, Timestamp, WriteBatch,
};
use follow_store_postgres::testing::{begin_older_transaction, create_at_version};
use follow_store_postgres::{Layout, OpenError, PostgresOptions, PostgresStore, SCHEMA_VERSION};

use common::{
    Proxy, follow_batch, graph, now, raw_client, raw_client_on, same_schema, schema, server, store,
    tenant,
};

async fn register(store: &dyn FollowStore, ids: &[String]) {
    let mut batch = WriteBatch::new(tenant(), now());
    for id in ids {
        batch = batch.command(Command::Register {
            node: NodeId::new(id).unwrap(),
        });
    }
    store.write(batch).await.unwrap();
}

#[tokio::test]
async fn a_batch_of_20_follows_takes_two_round_trips() {
    let proxy = Proxy::start().await;
    // Counts the write path's own exchanges: a write that waits for an
    // older transaction (another test's) takes one more.
    let store = proxy.store(Duration::ZERO).await;
    let targets: Vec<String> = (0..20).map(|i| format!("t{i:02}")).collect();
    let mut everyone = targets.clone();
    everyone.extend(["a1".to_owned(), "a2".to_owned()]);
    register(&store, &everyone).await;
    // The same shape once, so the connection has prepared its statements.
    store.write(follow_batch("a1", &targets)).await.unwrap();

    proxy.take_round_trips();
    let results = store.write(follow_batch("a2", &targets)).await.unwrap();
    let round_trips = proxy.take_round_trips();

    assert_eq!(results.len(), 20);
    assert!(results.iter().all(|r| r.as_ref().unwrap().is_changed()));
    eprintln!("round trips for a batch of 20 follows: {round_trips}");
    assert!(
        round_trips <= 2,
        "a batch of 20 follows took {round_trips} round trips; the write path is two \
         pipelined exchanges (load, commit)"
    );
    let node = store
        .node(&tenant(), &NodeId::new("t07").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(node.counts.followers, 2);
}

/// Random follows, unfollows and mutes among a few accounts and a channel,
/// from `tasks` tasks per store, every store its own pool. Returns how many
/// commands changed something.
async fn churn(stores: &[Arc<PostgresStore>], tasks: usize, rounds: usize) -> usize {
    let names: Vec<String> = (0..8).map(|i| format!("u{i}")).collect();
    let channel = "120363012345678901@newsletter".to_owned();
    let mut handles = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for t in 0..tasks {
            let (graph, admin) = graph(store.clone());
            let names = names.clone();
            let channel = channel.clone();
            handles.push(tokio::spawn(async move {
                let mut changes = 0;
                let mut seed = (s * 7919 + t * 104_729 + 1) as u64;
                for _ in 0..rounds {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let pick = |shift: u32| (seed >> shift) as usize;
                    let actor = &names[pick(33) % names.len()];
                    let target = if pick(40) % 4 == 0 {
                        channel.clone()
                    } else {
                        names[pick(45) % names.len()].clone()
                    };
                    if *actor == target {
                        continue;
                    }
                    let applied = match pick(50) % 5 {
                        0 | 1 => graph.follow(&admin, actor, &target).await,
                        2 => graph.unfollow(&admin, actor, &target).await,
                        3 => graph.remove_follower(&admin, &target, actor).await,
                        _ => graph.mute(&admin, actor, &target).await,
                    };
                    match applied {
                        Ok(applied) => changes += usize::from(applied.is_changed()),
                        Err(e) if e.kind() == ErrorKind::NotFollowing => {}
                        Err(e) if e.kind() == ErrorKind::InvalidArgument => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                changes
            }));
        }
    }
    let mut changes = 0;
    for handle in handles {
        changes += handle.await.unwrap();
    }
    changes
}

async fn setup_churn(store: &PostgresStore) {
    let mut ids: Vec<String> = (0..8).map(|i| format!("u{i}")).collect();
    ids.push("120363012345678901@newsletter".to_owned());
    register(store, &ids).await;
}

async fn all_events(store: &PostgresStore) -> Vec<follow_core::Event> {
    let mut out = Vec::new();
    loop {
        let page = store
            .events_after(
                &tenant(),
                out.last().map(|e: &follow_core::Event| e.position),
                1000,
            )
            .await
            .unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_pools_on_one_tenant_keep_counts_marks_and_events_right() {
    let first = Arc::new(store(PostgresOptions::default()).await);
    let second = Arc::new(same_schema(&first, PostgresOptions::default()).await);
    setup_churn(&first).await;
    let changes = churn(&[first.clone(), second.clone()], 6, 60).await;

    let report = second.verify().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    let events = all_events(&first).await;
    assert_eq!(events.len(), changes, "one event per change");
    assert!(events.windows(2).all(|w| w[0].position < w[1].position));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tailing_reader_never_misses_an_event() {
    let first = Arc::new(store(PostgresOptions::default()).await);
    let second = Arc::new(same_schema(&first, PostgresOptions::default()).await);
    setup_churn(&first).await;
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let store = first.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen: Vec<EventPosition> = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let page = store
                    .events_after(&tenant(), seen.last().copied(), 50)
                    .await
                    .unwrap();
                seen.extend(page.iter().map(|e| e.position));
                if finished && page.is_empty() {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let changes = churn(&[first.clone(), second.clone()], 6, 60).await;
    done.store(true, Ordering::SeqCst);
    let tailed = reader.await.unwrap();

    let stored: Vec<EventPosition> = all_events(&first)
        .await
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(stored.len(), changes);
    assert!(tailed.windows(2).all(|w| w[0] < w[1]), "positions increase");
    let missed: BTreeSet<_> = stored.iter().filter(|p| !tailed.contains(p)).collect();
    assert!(
        missed.is_empty(),
        "the tailing reader missed {} of {} events: {missed:?}",
        missed.len(),
        stored.len()
    );
}

/// A write that commits while an older writer of the store still runs
/// waits for it, on its lock, in an exchange of its own; once it answers,
/// its events are readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_for_an_older_writer_then_its_events_are_readable() {
    let proxy = Proxy::start().await;
    let store = Arc::new(proxy.store(Duration::from_secs(20)).await);
    let targets: Vec<String> = (0..20).map(|i| format!("t{i:02}")).collect();
    let mut everyone = targets.clone();
    everyone.extend(["a1".to_owned(), "a2".to_owned()]);
    register(&*store, &everyone).await;
    let older = raw_client(&store).await;
    // a1 prepares the statements of the wait; a2's exchanges are counted.
    for actor in ["a1", "a2"] {
        begin_older_transaction(&older, true).await.unwrap();
        proxy.take_round_trips();
        let write = tokio::spawn({
            let (store, targets) = (store.clone(), targets.clone());
            async move { store.write(follow_batch(actor, &targets)).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !write.is_finished(),
            "{actor}: the write answered while an older writer ran"
        );
        older.batch_execute("COMMIT").await.unwrap();
        let results = write.await.unwrap().unwrap();
        let round_trips = proxy.take_round_trips();
        let answered: Vec<EventPosition> = results
            .iter()
            .map(|r| r.as_ref().unwrap().event.as_ref().unwrap().position)
            .collect();
        let readable: Vec<EventPosition> = all_events(&store)
            .await
            .iter()
            .filter(|e| e.follower.as_str() == actor)
            .map(|e| e.position)
            .collect();
        assert_eq!(readable, answered, "{actor}: its events, readable at once");
        eprintln!("{actor}: round trips of a write that waited: {round_trips}");
        assert!(
            round_trips >= 3,
            "{actor}: {round_trips} round trips; the wait takes one of its own"
        );
    }
}

/// An older writer that runs past the wait does not hold the write: it
/// answers, committed, once its wait is over (the lock wait is cancelled),
/// and its events appear when the older one ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_answers_when_its_wait_runs_out_behind_an_older_writer() {
    let store = Arc::new(
        store(PostgresOptions {
            event_visibility_wait: Duration::from_millis(300),
            ..PostgresOptions::default()
        })
        .await,
    );
    register(&*store, &["a".to_owned(), "b".to_owned()]).await;
    let older = raw_client(&store).await;
    begin_older_transaction(&older, true).await.unwrap();
    let write = store.write(follow_batch("a", &["b".to_owned()]));
    let results = tokio::time::timeout(Duration::from_secs(10), write)
        .await
        .expect("the write waited past its visibility wait")
        .unwrap();
    assert!(results[0].as_ref().unwrap().is_changed());
    assert!(all_events(&store).await.is_empty(), "held back");
    older.batch_execute("COMMIT").await.unwrap();
    let node = store
        .node(&tenant(), &NodeId::new("b").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(node.counts.followers, 1, "the write committed");
}

/// An older transaction that is not one of the store's writers (another
/// program's) holds the new events back from readers; the write waits for
/// it no longer than `event_visibility_wait`, and the events appear, in
/// place, once it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_transaction_of_another_program_holds_events_back_not_the_write() {
    let store = store(PostgresOptions {
        event_visibility_wait: Duration::from_millis(200),
        ..PostgresOptions::default()
    })
    .await;
    register(&store, &["a".to_owned(), "b".to_owned()]).await;
    let before = all_events(&store).await;
    let other = raw_client(&store).await;
    begin_older_transaction(&other, false).await.unwrap();
    let results = store
        .write(follow_batch("a", &["b".to_owned()]))
        .await
        .unwrap();
    let event = results[0].as_ref().unwrap().event.clone().unwrap();
    assert_eq!(all_events(&store).await, before, "held back");
    let feed = store.feed_state(&tenant()).await.unwrap();
    assert!(feed.last_position < event.position);
    other.batch_execute("COMMIT").await.unwrap();
    // Other tests' transactions on the server may hold it a moment more.
    let mut after = all_events(&store).await;
    for _ in 0..200 {
        if after.len() > before.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = all_events(&store).await;
    }
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(after[before.len()..], [event]);
}

/// Data copied to another server (a dump and restore) meets transaction
/// ids that started again from small numbers: opening the store raises the
/// event base, so new events still land above every stored position.
#[tokio::test]
async fn positions_continue_above_stored_ones_on_another_server() {
    let store = store(PostgresOptions::default()).await;
    register(&store, &["a".to_owned(), "b".to_owned()]).await;
    let raw = raw_client(&store).await;
    // An event as a server far ahead in transaction ids would have written.
    let ahead: i64 = 1 << 62;
    raw.execute(
        "INSERT INTO follow_events (tenant, position, kind, follower, target, at)
         VALUES ('acme', $1, 'followed', 'x', 'y', 0)",
        &[&ahead],
    )
    .await
    .unwrap();
    let reopened = same_schema(&store, PostgresOptions::default()).await;
    let results = reopened
        .write(follow_batch("a", &["b".to_owned()]))
        .await
        .unwrap();
    let event = results[0].as_ref().unwrap().event.clone().unwrap();
    assert!(event.position.0 > ahead as u64, "{event:?}");
    let positions: Vec<u64> = all_events(&reopened)
        .await
        .iter()
        .map(|e| e.position.0)
        .collect();
    assert_eq!(positions, [ahead as u64, event.position.0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_on_one_celebrity_all_succeed() {
    let store = Arc::new(store(PostgresOptions::default()).await);
    let fans: Vec<String> = (0..16).map(|i| format!("fan{i:02}")).collect();
    let mut ids = fans.clone();
    ids.push("celebrity".to_owned());
    register(&*store, &ids).await;
    let mut handles = Vec::new();
    for fan in fans {
        let (graph, admin) = graph(store.clone());
        handles.push(tokio::spawn(async move {
            for round in 0..15 {
                if round % 2 == 0 {
                    graph.follow(&admin, &fan, "celebrity").await.unwrap();
                } else {
                    graph.unfollow(&admin, &fan, "celebrity").await.unwrap();
                }
                // The celebrity follows back now and then: the mutual marks race.
                if round % 3 == 0 {
                    graph.follow(&admin, "celebrity", &fan).await.unwrap();
                } else if round % 5 == 0 {
                    graph.unfollow(&admin, "celebrity", &fan).await.unwrap();
                }
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    let celebrity = store
        .node(&tenant(), &NodeId::new("celebrity").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(celebrity.counts.followers, 16, "every fan ends following");
    let pending = pending_deltas(&raw_client(&store).await, "celebrity").await;
    // A write that finds 128 or more always tries to fold them.
    assert!(pending < 128 + 16, "{pending} deltas left unfolded");
}

#[tokio::test]
async fn a_fold_that_finds_the_row_taken_is_tried_again_at_the_next_multiple() {
    // Another transaction, older than the follows, takes the row.
    let store = store_answering_beside_older_transactions().await;
    let fans: Vec<String> = (0..66).map(|i| format!("fan{i:02}")).collect();
    let mut ids = fans.clone();
    ids.push("star".to_owned());
    register(&*store, &ids).await;
    let (graph, admin) = graph(store.clone());
    let raw = raw_client(&store).await;
    let holder = raw_client(&store).await;
    holder
        .batch_execute(
            "BEGIN; SELECT 1 FROM follow_nodes WHERE tenant = 'acme' AND id = 'star'
             FOR NO KEY UPDATE",
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    for fan in &fans[..40] {
        graph.follow(&admin, fan, "star").await.unwrap();
        seen.push(pending_deltas(&raw, "star").await);
    }
    // The fold due at 32 skipped the taken row, and the writes went on.
    assert_eq!(seen, (1..=40).collect::<Vec<i64>>());
    holder.batch_execute("ROLLBACK").await.unwrap();
    seen.clear();
    for fan in &fans[40..] {
        graph.follow(&admin, fan, "star").await.unwrap();
        seen.push(pending_deltas(&raw, "star").await);
    }
    // Not tried again until 64.
    let expected: Vec<i64> = (41..=64).chain(1..=2).collect();
    assert_eq!(seen, expected);
    assert_eq!(graph.counts(&admin, "star").await.unwrap().followers, 66);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_locks_its_follower_exclusively_and_its_target_only_against_removal() {
    let store = store_answering_beside_older_transactions().await;
    register(
        &*store,
        &["fan".to_owned(), "star".to_owned(), "idol".to_owned()],
    )
    .await;
    let (graph, admin) = graph(store.clone());
    let raw = raw_client(&store).await;

    // Another transaction holds the target's row against updates of its
    // key: a follow's `KEY SHARE` does not conflict with it.
    raw.batch_execute(
        "BEGIN; SELECT 1 FROM follow_nodes WHERE tenant = 'acme' AND id = 'star'
         FOR NO KEY UPDATE",
    )
    .await
    .unwrap();
    let follow = graph.follow(&admin, "fan", "star");
    tokio::time::timeout(Duration::from_secs(10), follow)
        .await
        .expect("the follow waited on its target's row")
        .unwrap();
    raw.batch_execute("ROLLBACK").await.unwrap();

    // Another transaction holds the follower's row against removal: the
    // follow's exclusive lock waits for it.
    raw.batch_execute(
        "BEGIN; SELECT 1 FROM follow_nodes WHERE tenant = 'acme' AND id = 'fan' FOR KEY SHARE",
    )
    .await
    .unwrap();
    let waiting = {
        let (graph, admin) = common::graph(store.clone());
        tokio::spawn(async move { graph.follow(&admin, "fan", "idol").await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "the follow did not wait on its follower's row"
    );
    raw.batch_execute("ROLLBACK").await.unwrap();
    waiting.await.unwrap().unwrap();
    assert_eq!(graph.counts(&admin, "fan").await.unwrap().following, 2);
}

/// A store whose writes answer while a transaction older than them runs:
/// with the tests' visibility wait, each would wait for it to end.
async fn store_answering_beside_older_transactions() -> Arc<PostgresStore> {
    let options = PostgresOptions {
        event_visibility_wait: Duration::from_millis(1),
        ..PostgresOptions::default()
    };
    Arc::new(store(options).await)
}

/// The counter deltas of `id` not yet folded into its row.
async fn pending_deltas(raw: &tokio_postgres::Client, id: &str) -> i64 {
    raw.query_one(
        "SELECT count(*) FROM follow_node_deltas WHERE tenant = 'acme' AND id = $1",
        &[&id],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn a_targets_counter_changes_are_appended_then_folded() {
    let store = Arc::new(store(PostgresOptions::default()).await);
    let fans: Vec<String> = (0..40).map(|i| format!("fan{i:02}")).collect();
    let mut ids = fans.clone();
    ids.push("star".to_owned());
    register(&*store, &ids).await;
    let (graph, admin) = graph(store.clone());
    let raw = raw_client(&store).await;
    let mut seen = Vec::new();
    for fan in &fans {
        graph.follow(&admin, fan, "star").await.unwrap();
        seen.push(pending_deltas(&raw, "star").await);
    }
    // One row a follow, folded by the follow that finds 32 (the fold
    // leaves its own row).
    let expected: Vec<i64> = (1..=32).chain(1..=8).collect();
    assert_eq!(seen, expected);
    let followers = || async { graph.counts(&admin, "star").await.unwrap().followers };
    assert_eq!(followers().await, 40);

    // The star's own write holds its row and changes its counters in
    // place, from the whole count: the deltas are folded first.
    graph.block(&admin, "star", "fan00").await.unwrap();
    assert_eq!(pending_deltas(&raw, "star").await, 0);
    assert_eq!(followers().await, 39);
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    // Only the follower's own count changed in place.
    assert_eq!(pending_deltas(&raw, "fan01").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accounts_following_each_other_at_once_end_mutual() {
    let store = Arc::new(store(PostgresOptions::default()).await);
    let pairs: Vec<(String, String)> = (0..6)
        .map(|i| (format!("left{i}"), format!("right{i}")))
        .collect();
    let ids: Vec<String> = pairs
        .iter()
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect();
    register(&*store, &ids).await;
    for round in 0..8 {
        let mut handles = Vec::new();
        for (a, b) in &pairs {
            for (actor, target) in [(a.clone(), b.clone()), (b.clone(), a.clone())] {
                let (graph, admin) = graph(store.clone());
                handles.push(tokio::spawn(async move {
                    if round % 2 == 0 {
                        graph.follow(&admin, &actor, &target).await.unwrap();
                    } else {
                        graph.unfollow(&admin, &actor, &target).await.unwrap();
                    }
                }));
            }
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let report = store.verify().await.unwrap();
        assert!(report.is_ok(), "round {round}: {report:?}");
        let (graph, admin) = graph(store.clone());
        for (a, _) in &pairs {
            let counts = graph.counts(&admin, a).await.unwrap();
            assert_eq!(counts.mutual, u64::from(round % 2 == 0), "round {round}");
        }
    }
}

#[tokio::test]
async fn verify_finds_drift_and_repair_fixes_it() {
    let store = Arc::new(store(PostgresOptions::default()).await);
    let (graph, admin) = graph(store.clone());
    for id in ["alice", "bob", "carol"] {
        graph.register(&admin, id).await.unwrap();
    }
    graph.follow(&admin, "alice", "bob").await.unwrap();
    graph.follow(&admin, "bob", "alice").await.unwrap();
    graph.follow(&admin, "carol", "bob").await.unwrap();
    assert!(store.verify().await.unwrap().is_ok());

    let raw = raw_client(&store).await;
    raw.batch_execute(
        "DELETE FROM follow_node_deltas WHERE id = 'bob';
         UPDATE follow_nodes SET followers = 7 WHERE id = 'bob';
         UPDATE follow_edges SET mutual_since = NULL WHERE follower = 'alice' AND target = 'bob';
         UPDATE follow_edges SET mutual_since = since WHERE follower = 'carol';",
    )
    .await
    .unwrap();
    let report = store.verify().await.unwrap();
    assert_eq!(report.count_mismatches.len(), 1);
    assert_eq!(report.count_mismatches[0].node, "bob");
    assert_eq!(report.count_mismatches[0].stored.followers, 7);
    assert_eq!(report.count_mismatches[0].actual.followers, 2);
    let marks: Vec<&str> = report
        .wrong_mutual_marks
        .iter()
        .map(|(_, follower, _)| follower.as_str())
        .collect();
    assert_eq!(marks, ["alice", "carol"]);

    let repaired = store.repair().await.unwrap();
    assert_eq!(repaired.counts_fixed.len(), 1);
    assert_eq!(repaired.mutual_marks_fixed.len(), 2);
    let after = store.verify().await.unwrap();
    assert!(after.is_ok(), "{after:?}");
    assert_eq!(graph.counts(&admin, "bob").await.unwrap().followers, 2);
    let relation = graph.relation(&admin, "alice", "bob").await.unwrap();
    assert_eq!(relation, follow_core::Relation::Mutual);
}

#[tokio::test]
async fn a_newer_schema_is_refused_untouched() {
    let store = store(PostgresOptions::default()).await;
    let raw = raw_client(&store).await;
    raw.batch_execute("INSERT INTO follow_schema (version) VALUES (99)")
        .await
        .unwrap();
    let reopened = same_schema(&store, PostgresOptions::default());
    let error = match PostgresStore::connect_with(
        server().url(),
        PostgresOptions {
            schema: store.options().schema.clone(),
            ..PostgresOptions::default()
        },
    )
    .await
    {
        Ok(_) => panic!("a newer schema opened"),
        Err(error) => error,
    };
    drop(reopened);
    match error {
        OpenError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!(found, 99);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("{other}"),
    }
    let versions: i64 = raw
        .query_one("SELECT count(*) FROM follow_schema", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        versions,
        i64::from(SCHEMA_VERSION) + 1,
        "nothing was migrated"
    );
}

#[tokio::test]
async fn opening_twice_migrates_once() {
    let first = store(PostgresOptions::default()).await;
    let second = same_schema(&first, PostgresOptions::default()).await;
    let raw = raw_client(&second).await;
    let versions: Vec<i32> = raw
        .query("SELECT version FROM follow_schema ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
}

#[tokio::test]
async fn display_names_the_server_without_credentials() {
    let port = server().port().expect("a throwaway cluster");
    let schema = schema();
    let store = PostgresStore::connect_with(
        &format!("postgres://postgres:s3cret@127.0.0.1:{port}/postgres"),
        PostgresOptions {
            schema: Some(schema.clone()),
            ..PostgresOptions::default()
        },
    )
    .await
    .unwrap();
    let shown = store.to_string();
    assert_eq!(
        shown,
        format!("postgres://127.0.0.1:{port}/postgres?schema={schema}")
    );
    assert!(!format!("{store:?}").contains("s3cret"));
}

#[tokio::test]
async fn bad_schema_names_are_refused_before_connecting() {
    let error = PostgresStore::connect_with(
        "postgres://nobody@127.0.0.1:1/none",
        PostgresOptions {
            schema: Some("x; DROP TABLE y".to_owned()),
            ..PostgresOptions::default()
        },
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(error, OpenError::BadSchema(_)), "{error}");
}

/// A batch that waits for the lock of its actor reads the counters of its
/// other nodes (locked before it, in key order) only once it holds every
/// lock: here the edge and the counter it removes were committed while it
/// waited.
#[tokio::test]
async fn counters_are_read_after_every_lock_is_held() {
    let store = Arc::new(store(PostgresOptions::default()).await);
    register(&*store, &["celebrity".to_owned(), "xavier".to_owned()]).await;
    let raw = raw_client(&store).await;
    // Another writer holds the actor and follows, uncommitted.
    raw.batch_execute(
        "BEGIN;
         SELECT 1 FROM follow_nodes WHERE tenant = 'acme' AND id = 'xavier' FOR UPDATE;
         INSERT INTO follow_edges VALUES ('acme', 'xavier', 'celebrity', 1, false, NULL);
         UPDATE follow_nodes SET following = following + 1 WHERE tenant = 'acme' AND id = 'xavier';
         UPDATE follow_nodes SET followers = followers + 1
             WHERE tenant = 'acme' AND id = 'celebrity';",
    )
    .await
    .unwrap();
    let unfollow = WriteBatch::new(tenant(), now())
        .requiring(NodeId::new("xavier").unwrap())
        .command(Command::Unfollow {
            follower: AccountId::new("xavier").unwrap(),
            target: NodeId::new("celebrity").unwrap(),
        });
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { store.write(unfollow).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    raw.batch_execute("COMMIT").await.unwrap();
    let results = writer.await.unwrap().unwrap();
    assert!(results[0].as_ref().unwrap().is_changed());
    let report = store.verify().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn opening_without_create_refuses_an_empty_database_and_writes_nothing() {
    let schema = schema();
    let options = PostgresOptions {
        create_schema: false,
        ..PostgresOptions::default()
    };
    let url = format!("{}?schema={schema}", server().url());
    let error = PostgresStore::connect_with(&url, options.clone())
        .await
        .err()
        .unwrap();
    assert!(matches!(error, OpenError::NoSchema { .. }), "{error}");
    let (admin, connection) = tokio_postgres::connect(server().url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let namespaces: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(namespaces, 0, "the refused open created nothing");

    let created = PostgresStore::connect_with(&url, PostgresOptions::default())
        .await
        .unwrap();
    assert_eq!(created.options().schema.as_deref(), Some(schema.as_str()));
    let raw = raw_client(&created).await;
    let versions: i64 = raw
        .query_one("SELECT count(*) FROM follow_schema", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        versions,
        i64::from(SCHEMA_VERSION),
        "created once, by the second open"
    );
    PostgresStore::connect_with(&url, options).await.unwrap();
}

/// Rows as a store of schema version 3 wrote them: two tenants, a mutual
/// pair, a channel follow, a muted edge, events (two of them pruned), a
/// consumer.
const VERSION_3_ROWS: &str = "
INSERT INTO follow_nodes (tenant, id, registered_at, last_active, following, followers, mutual)
VALUES ('acme', 'alice', 1800000000000000, 1800000500000000, 3, 1, 1),
       ('acme', 'bob', 1800000001000000, NULL, 1, 1, 1),
       ('acme', 'carol', 1800000002000000, NULL, 0, 1, 0),
       ('acme', '120363012345678901@newsletter', 1800000003000000, NULL, 0, 1, 0),
       ('globex', 'alice', 1800000004000000, NULL, 0, 0, 0);
INSERT INTO follow_edges (tenant, follower, target, since, muted, mutual_since)
VALUES ('acme', 'alice', 'bob', 1800000010000000, false, 1800000011000000),
       ('acme', 'bob', 'alice', 1800000011000000, false, 1800000011000000),
       ('acme', 'alice', 'carol', 1800000012000000, true, NULL),
       ('acme', 'alice', '120363012345678901@newsletter', 1800000013000000, false, NULL);
INSERT INTO follow_events (tenant, position, kind, follower, target, at)
VALUES ('acme', 3, 'followed', 'alice', 'carol', 1800000012000000),
       ('acme', 4, 'muted', 'alice', 'carol', 1800000012500000),
       ('acme', 5, 'followed', 'alice', '120363012345678901@newsletter', 1800000013000000);
UPDATE follow_event_clock SET last = 5;
INSERT INTO follow_consumers (tenant, name, position, updated_at)
VALUES ('acme', 'indexer', 4, 1800000020000000);
INSERT INTO follow_pruned (tenant, through, last_at, events)
VALUES ('acme', 2, 1800000011000000, 2);
";

/// Every row of the version-3 tables but the event clock (version 5
/// replaces it), as text, in a fixed order.
async fn dump(raw: &tokio_postgres::Client) -> Vec<String> {
    let mut rows = Vec::new();
    for (table, columns) in [
        (
            "follow_nodes",
            "tenant, id, registered_at, last_active, following, followers, mutual",
        ),
        (
            "follow_edges",
            "tenant, follower, target, since, muted, mutual_since",
        ),
        (
            "follow_events",
            "tenant, position, kind, follower, target, at",
        ),
        ("follow_cursor_secret", "id, secret"),
        ("follow_consumers", "tenant, name, position, updated_at"),
        ("follow_pruned", "tenant, through, last_at, events"),
    ] {
        let sql = format!("SELECT ({columns})::text FROM {table} ORDER BY {columns}");
        for row in raw.query(&sql, &[]).await.unwrap() {
            rows.push(format!("{table} {}", row.get::<_, String>(0)));
        }
    }
    rows
}

#[tokio::test]
async fn a_version_3_database_migrates_in_place_keeping_every_row() {
    for (layout, partitions) in [(Layout::Plain, 0), (Layout::HashPartitioned(3), 3)] {
        let schema = schema();
        create_at_version(server(), &schema, layout, 3)
            .await
            .unwrap();
        let raw = raw_client_on(&schema).await;
        raw.batch_execute(VERSION_3_ROWS).await.unwrap();
        let before = dump(&raw).await;
        assert_eq!(before.len(), 15, "{before:#?}");

        // Opened with the default layout: the new table takes the layout
        // the database already has. Its writes wait for their events, which
        // the test reads back while other tests run.
        let store = Arc::new(
            PostgresStore::connect_with(
                server().url(),
                PostgresOptions {
                    schema: Some(schema.clone()),
                    event_visibility_wait: follow_store_postgres::testing::TEST_VISIBILITY_WAIT,
                    ..PostgresOptions::default()
                },
            )
            .await
            .unwrap(),
        );
        assert_eq!(
            dump(&raw).await,
            before,
            "{layout:?}: every row kept as it was"
        );
        let versions: Vec<i32> = raw
            .query("SELECT version FROM follow_schema ORDER BY version", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
        let base: i64 = raw
            .query_one("SELECT base FROM follow_event_base", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(
            base, 6,
            "{layout:?}: new positions start above the clock's 5"
        );
        let links_partitions: i64 = raw
            .query_one(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'follow_links'::regclass",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(links_partitions, partitions, "{layout:?}");

        let report = store.verify().await.unwrap();
        assert!(report.is_ok(), "{layout:?}: {report:?}");
        let nodes = store.nodes(&tenant(), None, 10).await.unwrap();
        assert_eq!(nodes.len(), 4);
        assert!(nodes.iter().all(|n| !n.locked && n.links == 0));
        let alice = nodes.iter().find(|n| n.id.as_str() == "alice").unwrap();
        assert_eq!(
            (
                alice.counts.following,
                alice.counts.followers,
                alice.counts.mutual
            ),
            (3, 1, 1)
        );
        assert_eq!(
            alice.last_active,
            Some(Timestamp::from_unix_seconds(1_800_000_500).unwrap())
        );
        let (graph, admin) = graph(store.clone());
        let following = graph
            .following(&admin, "alice", &follow_core::PageRequest::first())
            .await
            .unwrap();
        let shown: Vec<(&str, bool)> = following
            .items
            .iter()
            .map(|item| (item.node.as_str(), item.muted))
            .collect();
        assert_eq!(
            shown,
            [
                ("120363012345678901@newsletter", false),
                ("carol", true),
                ("bob", false)
            ]
        );
        assert!(
            following
                .items
                .iter()
                .all(|item| item.options == follow_core::FollowOptions::default())
        );
        assert_eq!(
            graph.relation(&admin, "alice", "bob").await.unwrap(),
            follow_core::Relation::Mutual
        );
        let events = store.events_after(&tenant(), None, 10).await.unwrap();
        let positions: Vec<u64> = events.iter().map(|e| e.position.0).collect();
        assert_eq!(positions, [3, 4, 5]);
        let feed = store.feed_state(&tenant()).await.unwrap();
        assert_eq!(feed.last_position, EventPosition(5));
        assert_eq!(feed.pruned.map(|p| p.events), Some(2));
        let consumers = store.consumers(&tenant()).await.unwrap();
        assert_eq!(consumers.len(), 1);
        assert_eq!(consumers[0].position, EventPosition(4));

        // The new rules run on the migrated rows: a block cuts the mutual
        // pair and counts a link on both ends; options are stored.
        assert!(
            graph
                .block(&admin, "bob", "alice")
                .await
                .unwrap()
                .is_changed()
        );
        let options = follow_core::OptionsUpdate {
            reblogs: Some(false),
            ..follow_core::OptionsUpdate::NONE
        };
        assert!(
            graph
                .follow_with(&admin, "carol", "alice", options)
                .await
                .unwrap()
                .is_changed()
        );
        let alice = store
            .node(&tenant(), &NodeId::new("alice").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (alice.counts.following, alice.counts.followers, alice.links),
            (2, 1, 1)
        );
        let followers = graph
            .followers(&admin, "alice", &follow_core::PageRequest::first())
            .await
            .unwrap();
        assert_eq!(followers.items.len(), 1);
        assert!(!followers.items[0].options.reblogs);
        let report = store.verify().await.unwrap();
        assert!(report.is_ok(), "{layout:?}: {report:?}");
        let all: Vec<u64> = store
            .events_after(&tenant(), None, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.position.0)
            .collect();
        assert_eq!(all[..3], [3, 4, 5], "{layout:?}: {all:?}");
        assert!(
            all.len() > 3 && all[3..].iter().all(|&p| p > 5),
            "{layout:?}: new events above the old ones: {all:?}"
        );
    }
}
