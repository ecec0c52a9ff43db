//! Links on PostgreSQL beyond the shared suite: what they cost a batch in
//! round trips, how they race with follows, verify and repair of link
//! counts.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use follow_core::{ErrorKind, FollowStore, NodeId, Outcome};
use follow_store_postgres::PostgresOptions;

use common::{Proxy, follow_batch, graph, raw_client, store, tenant};

/// A batch whose follows meet links (mutes of half the targets, locked
/// targets that turn follows into requests) loads them in the same
/// exchange as the nodes and edges.
#[tokio::test]
async fn a_batch_of_20_follows_among_linked_accounts_takes_two_round_trips() {
    let proxy = Proxy::start().await;
    // Counts the write path's own exchanges: a write that waits for an
    // older transaction (another test's) takes one more.
    let store = proxy.store(Duration::ZERO).await;
    let store = Arc::new(store);
    let (graph, admin) = graph(store.clone());
    let targets: Vec<String> = (0..20).map(|i| format!("t{i:02}")).collect();
    for id in targets.iter().chain(&["a1".to_owned(), "a2".to_owned()]) {
        graph.register(&admin, id).await.unwrap();
    }
    for target in targets.iter().step_by(2) {
        graph
            .mute_account(&admin, "a2", target, None, None)
            .await
            .unwrap();
    }
    for target in &targets[..4] {
        graph.set_locked(&admin, target, true).await.unwrap();
    }
    // The same shape once, so the connection has prepared its statements.
    store.write(follow_batch("a1", &targets)).await.unwrap();

    proxy.take_round_trips();
    let results = store.write(follow_batch("a2", &targets)).await.unwrap();
    let round_trips = proxy.take_round_trips();

    let outcomes: Vec<Outcome> = results.into_iter().map(|r| r.unwrap().outcome).collect();
    assert_eq!(outcomes[..4], [Outcome::Requested; 4]);
    assert!(outcomes[4..].iter().all(|o| *o == Outcome::Changed));
    eprintln!("round trips for a batch of 20 follows among linked accounts: {round_trips}");
    assert!(
        round_trips <= 2,
        "a batch of 20 follows meeting links took {round_trips} round trips"
    );
    let a2 = store
        .node(&tenant(), &NodeId::new("a2").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a2.counts.following, a2.links), (16, 10 + 4));
    assert!(store.verify().await.unwrap().is_ok());
}

/// Pairs of accounts follow each other, ask (one side is locked now and
/// then), authorise and block each other at once. Afterwards no block
/// stands beside a follow or a request either way, and every count,
/// link count and mark equals the rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blocks_racing_follows_and_requests_leave_no_follow_across_a_block() {
    let store = Arc::new(store(PostgresOptions::default()).await);
    let pairs: Vec<(String, String)> = (0..5)
        .map(|i| (format!("left{i}"), format!("right{i}")))
        .collect();
    {
        let (graph, admin) = graph(store.clone());
        for (a, b) in &pairs {
            graph.register(&admin, a).await.unwrap();
            graph.register(&admin, b).await.unwrap();
        }
    }
    let mut blocks = 0;
    for round in 0..8 {
        let mut handles = Vec::new();
        for (i, (left, right)) in pairs.iter().enumerate() {
            let steps: Vec<(u8, String, String)> = vec![
                (0, left.clone(), right.clone()),
                (0, right.clone(), left.clone()),
                (1, right.clone(), left.clone()),
                (2, right.clone(), left.clone()),
                (3, left.clone(), right.clone()),
            ];
            for (step, actor, other) in steps {
                let (graph, admin) = graph(store.clone());
                let locked = (round + i) % 3 == 0;
                let blocking = (round + i) % 2 == 0;
                handles.push(tokio::spawn(async move {
                    let done = match step {
                        0 => graph.follow(&admin, &actor, &other).await,
                        1 => graph.set_locked(&admin, &actor, locked).await,
                        2 => graph.authorize_request(&admin, &actor, &other).await,
                        _ if blocking => graph.block(&admin, &actor, &other).await,
                        _ => graph.unblock(&admin, &actor, &other).await,
                    };
                    match done {
                        Ok(_) => {}
                        Err(e) if e.kind() == ErrorKind::Forbidden => {}
                        Err(e) => panic!("{e}"),
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
        for (left, right) in &pairs {
            let seen = graph.relationship(&admin, left, right).await.unwrap();
            if seen.blocking || seen.blocked_by {
                blocks += 1;
                assert!(
                    !(seen.following || seen.followed_by || seen.requested || seen.requested_by),
                    "round {round}: {seen:?}"
                );
            }
            let node = store
                .node(&tenant(), &NodeId::new(left).unwrap())
                .await
                .unwrap()
                .unwrap();
            let links = u64::from(seen.blocking)
                + u64::from(seen.blocked_by)
                + u64::from(seen.requested)
                + u64::from(seen.requested_by);
            assert_eq!(node.links, links, "round {round}: {seen:?}");
        }
    }
    assert!(blocks > 0, "no round ended with a block");
}

#[tokio::test]
async fn verify_finds_wrong_link_counts_and_broken_links_and_repair_fixes_counts() {
    let store = Arc::new(store(PostgresOptions::default()).await);
    let (graph, admin) = graph(store.clone());
    for id in ["alice", "bob", "carol"] {
        graph.register(&admin, id).await.unwrap();
    }
    graph.block(&admin, "alice", "bob").await.unwrap();
    graph
        .mute_account(&admin, "carol", "alice", Some(false), None)
        .await
        .unwrap();
    assert!(store.verify().await.unwrap().is_ok());

    let raw = raw_client(&store).await;
    raw.batch_execute(
        "DELETE FROM follow_node_deltas WHERE id = 'alice';
         UPDATE follow_nodes SET links = 5 WHERE id = 'alice';
         INSERT INTO follow_links VALUES ('acme', 'mute', 'bob', 'zed', 1, true, NULL, NULL);
         INSERT INTO follow_links VALUES ('acme', 'pin', 'bob', 'carol', 1, true, NULL, NULL);",
    )
    .await
    .unwrap();
    let report = store.verify().await.unwrap();
    let counts: Vec<(&str, u64, u64)> = report
        .link_count_mismatches
        .iter()
        .map(|m| (m.node.as_str(), m.stored, m.actual))
        .collect();
    assert_eq!(counts, [("alice", 5, 2), ("bob", 1, 3), ("carol", 1, 2)]);
    let broken: Vec<(&str, &str, &str)> = report
        .broken_links
        .iter()
        .map(|(_, kind, from, to)| (kind.as_str(), from.as_str(), to.as_str()))
        .collect();
    assert_eq!(broken, [("mute", "bob", "zed"), ("pin", "bob", "carol")]);
    assert!(report.count_mismatches.is_empty());

    raw.batch_execute("DELETE FROM follow_links WHERE from_id = 'bob'")
        .await
        .unwrap();
    let repaired = store.repair().await.unwrap();
    let fixed: Vec<&str> = repaired
        .link_counts_fixed
        .iter()
        .map(|m| m.node.as_str())
        .collect();
    assert_eq!(fixed, ["alice"]);
    assert!(repaired.counts_fixed.is_empty());
    let after = store.verify().await.unwrap();
    assert!(after.is_ok(), "{after:?}");
    let alice = store
        .node(&tenant(), &NodeId::new("alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.links, 2);
}
