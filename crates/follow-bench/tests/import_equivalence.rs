//! An import in large calls leaves the SQLite database exactly as the same
//! edges imported one call per edge would: every node row (counters
//! included), every edge row (mute flag and mutual mark included), every
//! event, and every per-edge answer. The stream is the benchmark graph with
//! what a real migration holds besides: repeated edges, mute flags set and
//! unset, follow-backs that make mutual pairs, and self-follows.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use follow_bench::graph::{Graph, GraphSpec};
use follow_bench::load;
use follow_core::{CommandResult, FollowGraph, ImportEdge, ManualClock, NodeId, Timestamp};
use follow_store_sqlite::SqliteStore;
use rusqlite::Connection;

fn temp_db(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "follow-bench-equivalence-{}-{name}.db",
        std::process::id()
    ))
}

/// The graph's edges, then the extras, in a seeded order.
fn stream(graph: &Graph) -> Vec<ImportEdge> {
    let mut edges = load::import_edges(graph, 0, graph.edges.len()).unwrap();
    let mut extras = Vec::new();
    for (i, edge) in edges.iter().enumerate() {
        match i % 11 {
            // The same edge again, muted, then unmuted.
            0 => {
                extras.push(edge.clone().muted(true));
                extras.push(edge.clone().muted(false));
            }
            // Unmuted while not muted: nothing changes.
            1 => extras.push(edge.clone().muted(false)),
            // A follow-back, when the target is an account.
            2..=4 => {
                if let Some(back) = edge.target.as_account() {
                    let since = edge.since.unwrap();
                    extras.push(
                        ImportEdge::new(back, NodeId::from(edge.follower.clone())).since(since),
                    );
                }
            }
            // A repeat with another start, which changes nothing.
            5 => extras.push(edge.clone().since(Timestamp::from_unix_seconds(1).unwrap())),
            6 if i % 77 == 6 => {
                let me = edge.follower.clone();
                extras.push(ImportEdge::new(me.clone(), NodeId::from(me)));
            }
            _ => {}
        }
    }
    // Interleave the extras: some land in the same call as their edge,
    // some in later calls.
    let mut out = Vec::with_capacity(edges.len() + extras.len());
    let mut extras = extras.into_iter();
    for (i, edge) in edges.drain(..).enumerate() {
        out.push(edge);
        if i % 2 == 1
            && let Some(extra) = extras.next()
        {
            out.push(extra);
        }
    }
    out.extend(extras);
    out
}

/// Each edge's answer, reduced to what a caller sees: changed, unchanged, or
/// the error's code.
fn answers(results: Vec<CommandResult>) -> Vec<String> {
    results
        .into_iter()
        .map(|result| match result {
            Ok(applied) if applied.is_changed() => "changed".to_owned(),
            Ok(_) => "unchanged".to_owned(),
            Err(error) => format!("{:?}", error.kind()),
        })
        .collect()
}

async fn import(path: &Path, edges: &[ImportEdge], call: usize) -> Vec<String> {
    load::remove_db(path).unwrap();
    let store = SqliteStore::open(path).unwrap();
    let clock = ManualClock::new(Timestamp::from_unix_seconds(1_800_000_000).unwrap());
    let graph = FollowGraph::builder(Arc::new(store))
        .clock(Arc::new(clock))
        .build();
    let admin = load::admin();
    let mut out = Vec::new();
    for part in edges.chunks(call) {
        out.extend(answers(graph.import(&admin, part).await.unwrap()));
    }
    out
}

/// Every row of every table, in key order, as text.
fn dump(path: &Path) -> Vec<Vec<String>> {
    let conn = Connection::open(path).unwrap();
    [
        "SELECT tenant, id, registered_at, last_active, following, followers, mutual
         FROM nodes ORDER BY tenant, id",
        "SELECT tenant, follower, target, since, muted, mutual_since
         FROM edges ORDER BY tenant, follower, target",
        "SELECT position, tenant, kind, follower, target, at FROM events ORDER BY position",
    ]
    .iter()
    .map(|sql| {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        stmt.query_map([], |row| {
            (0..columns)
                .map(|i| Ok(format!("{:?}", row.get::<_, rusqlite::types::Value>(i)?)))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map(|cells| cells.join("|"))
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap()
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_in_large_calls_equals_one_call_per_edge() {
    let graph = Graph::generate(GraphSpec::with_edges(2_000));
    let edges = stream(&graph);
    assert!(edges.len() > 2_800, "{} edges", edges.len());

    let (large, single) = (temp_db("large"), temp_db("single"));
    // Calls of 1,000 run every statement size of the write path.
    let large_answers = import(&large, &edges, 1_000).await;
    let single_answers = import(&single, &edges, 1).await;
    assert_eq!(large_answers, single_answers);
    for answer in ["changed", "unchanged", "InvalidArgument"] {
        assert!(
            large_answers.iter().any(|a| a == answer),
            "no {answer} answer: the stream does not exercise it"
        );
    }

    let (large_rows, single_rows) = (dump(&large), dump(&single));
    for (table, (a, b)) in ["nodes", "edges", "events"]
        .iter()
        .zip(large_rows.iter().zip(&single_rows))
    {
        assert_eq!(a.len(), b.len(), "{table}: row counts differ");
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x, y, "{table}: first differing row");
        }
    }
    // Mutual pairs, mute flags and mute events are there to compare.
    let conn = Connection::open(&large).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert!(count("SELECT count(*) FROM edges WHERE mutual_since IS NOT NULL") > 100);
    assert!(count("SELECT count(*) FROM events WHERE kind = 'muted'") > 10);
    assert!(count("SELECT count(*) FROM events WHERE kind = 'unmuted'") > 10);
    drop(conn);

    let store = SqliteStore::open(&large).unwrap();
    assert!(store.verify().await.unwrap().is_ok());
    drop(store);
    for path in [large, single] {
        load::remove_db(&path).unwrap();
    }
}
