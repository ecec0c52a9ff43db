//! The change feed in a file: consumers and the pruned range survive a
//! restart, a database of the previous schema gains the feed's tables with
//! its data kept, and a long prune runs in bounded steps while writes go on.
#![allow(clippy::unwrap_used)]

mod common;

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use follow_core::feed::{ConsumerName, ConsumerStart, RetentionPolicy};
use follow_core::{
    Capabilities, EventPosition, FollowGraph, FollowStore, ImportEdge, ManualClock, Principal,
};
use follow_store_sqlite::{SCHEMA_VERSION, SqliteStore};
use futures::executor::block_on;

fn admin() -> Principal {
    Principal::new(tenant(), Capabilities::ALL)
}

#[test]
fn consumers_and_the_pruned_range_survive_a_restart() {
    let dir = TempDir::new("feed-restart");
    let path = dir.file("graph.db");
    let p = admin();
    let clock = Arc::new(ManualClock::new(at(0)));
    let graph = |store: SqliteStore| {
        FollowGraph::builder(Arc::new(store))
            .clock(clock.clone())
            .build()
    };
    let events = {
        let g = graph(SqliteStore::open(&path).unwrap());
        block_on(async {
            for id in ["alice", "bob", "carol"] {
                g.register(&p, id).await.unwrap();
            }
            g.follow(&p, "alice", "bob").await.unwrap();
            g.follow(&p, "alice", "carol").await.unwrap();
            g.follow(&p, "bob", "carol").await.unwrap();
            g.register_consumer(&p, "mailer", ConsumerStart::Oldest)
                .await
                .unwrap();
            let events = g.events(&p, None, Some(10)).await.unwrap();
            g.acknowledge(&p, "mailer", events[1].position)
                .await
                .unwrap();
            clock.set(at(10));
            let report = g
                .prune_events(
                    &p,
                    &RetentionPolicy::acknowledged_for(Duration::ZERO),
                    NonZeroUsize::new(1).unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(report.removed, 2);
            events
        })
    };
    let g = graph(SqliteStore::open(&path).unwrap());
    block_on(async {
        let unread = g.consumer_events(&p, "mailer", None).await.unwrap();
        assert_eq!(unread, events[2..]);
        let feed = g.store().feed_state(&tenant()).await.unwrap();
        let pruned = feed.pruned.unwrap();
        assert_eq!((pruned.through, pruned.events), (events[1].position, 2));
        assert_eq!(feed.last_position, events[2].position);
    });
}

#[test]
fn a_database_of_the_previous_schema_gains_the_feed_tables_and_keeps_its_data() {
    let dir = TempDir::new("feed-migrate");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        block_on(store.write(batch(
            0,
            vec![register("alice"), register("bob"), follow("alice", "bob")],
        )))
        .unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(BACK_TO_SCHEMA_3).unwrap();
        conn.execute_batch("DROP TABLE consumers; DROP TABLE pruned; PRAGMA user_version = 2;")
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let events = block_on(store.events_after(&tenant(), None, 10)).unwrap();
    assert_eq!(events.len(), 1);
    let name = ConsumerName::new("mailer").unwrap();
    let state = block_on(store.acknowledge(&tenant(), &name, events[0].position, at(1))).unwrap();
    assert_eq!(state.position, events[0].position);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_long_prune_runs_in_bounded_steps_while_writes_go_on() {
    let dir = TempDir::new("feed-prune");
    let path = dir.file("graph.db");
    let p = admin();
    let clock = Arc::new(ManualClock::new(at(0)));
    let g = Arc::new(
        FollowGraph::builder(Arc::new(SqliteStore::open(&path).unwrap()))
            .clock(clock.clone())
            .build(),
    );
    let ids: Vec<String> = (0..100).map(|n| format!("user{n:03}")).collect();
    let edges: Vec<ImportEdge> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, a)| {
            ids.iter()
                .enumerate()
                .filter(move |(j, _)| *j != i && (i + j) % 4 == 0)
                .map(move |(_, b)| ImportEdge {
                    follower: account(a),
                    target: node(b),
                    since: None,
                    muted: None,
                    options: follow_core::OptionsUpdate::NONE,
                })
        })
        .collect();
    let total = edges.len() as u64;
    block_on(async {
        for id in &ids {
            g.register(&p, id).await.unwrap();
        }
        g.import(&p, &edges).await.unwrap();
    });
    clock.set(at(60));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let writer = {
            let g = g.clone();
            let p = p.clone();
            tokio::spawn(async move {
                for n in 0..50 {
                    g.follow(&p, "user000", &format!("user{:03}", 1 + n % 99))
                        .await
                        .unwrap();
                }
            })
        };
        let report = g
            .prune_events(
                &p,
                &RetentionPolicy::acknowledged_for(Duration::from_secs(30)),
                NonZeroUsize::new(100).unwrap(),
            )
            .await
            .unwrap();
        writer.await.unwrap();
        assert_eq!(report.removed, total);
        assert!(report.steps > total / 100, "{report:?}");
    });
    let left = block_on(g.events(&p, None, Some(1000))).unwrap();
    assert!(left.iter().all(|e| e.at == at(60)));
    assert!(
        left.first()
            .is_none_or(|e| e.position > EventPosition(total))
    );
}
