//! An import in large calls leaves the SQLite database exactly as the same
//! edges imported one call per edge would: every node row (counters
//! included), every edge row (mute flag and mutual mark included), every
//! event, every list read through each edge index, and every per-edge
//! answer, whether the large calls build the edge indexes in bulk or entry
//! by entry. The stream is the benchmark graph with
//! what a real migration holds besides: repeated edges, mute flags set and
//! unset, follow-backs that make mutual pairs, and self-follows.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use follow_bench::graph::{Graph, GraphSpec};
use follow_bench::load;
use follow_core::{CommandResult, FollowGraph, ImportEdge, ManualClock, NodeId, Timestamp};
use follow_store_sqlite::{SqliteOptions, SqliteStore};
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

/// Options whose batches build the edge indexes in bulk from `edges` edge
/// writes on (`usize::MAX`: never).
fn rebuilding_from(edges: usize) -> SqliteOptions {
    SqliteOptions {
        rebuild_indexes_from: edges,
        ..SqliteOptions::default()
    }
}

async fn import(
    path: &Path,
    edges: &[ImportEdge],
    call: usize,
    options: SqliteOptions,
) -> Vec<String> {
    load::remove_db(path).unwrap();
    let store = SqliteStore::open_with(path, options).unwrap();
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

const TABLES: [&str; 6] = [
    "nodes",
    "edges",
    "events",
    "edges_followers",
    "edges_following",
    "edges_mutuals",
];

/// Every row of every table in key order, and every entry of each edge
/// index in its order, as text.
fn dump(path: &Path) -> Vec<Vec<String>> {
    let conn = Connection::open(path).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "{}", path.display());
    [
        "SELECT tenant, id, registered_at, last_active, following, followers, mutual, locked, links
         FROM nodes ORDER BY tenant, id",
        "SELECT tenant, follower, target, since, muted, mutual_since, options
         FROM edges ORDER BY tenant, follower, target",
        "SELECT position, tenant, kind, follower, target, at FROM events ORDER BY position",
        "SELECT tenant, target, since, follower FROM edges INDEXED BY edges_followers
         WHERE tenant > '' ORDER BY tenant, target, since DESC, follower",
        "SELECT tenant, follower, since, target FROM edges INDEXED BY edges_following
         WHERE tenant > '' ORDER BY tenant, follower, since DESC, target",
        "SELECT tenant, follower, mutual_since, target FROM edges INDEXED BY edges_mutuals
         WHERE mutual_since IS NOT NULL ORDER BY tenant, follower, mutual_since DESC, target",
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

/// `PRAGMA schema_version`: dropping and creating indexes moves it, so a
/// file whose batches built the edge indexes in bulk shows a larger one.
fn schema_version(path: &Path) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row("PRAGMA schema_version", [], |r| r.get(0))
        .unwrap()
}

fn assert_same_rows(a: &Path, b: &Path) {
    let (a_rows, b_rows) = (dump(a), dump(b));
    for (table, (x, y)) in TABLES.iter().zip(a_rows.iter().zip(&b_rows)) {
        assert_eq!(x.len(), y.len(), "{table}: row counts differ");
        for (x, y) in x.iter().zip(y) {
            assert_eq!(x, y, "{table}: first differing row");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_in_large_calls_equals_one_call_per_edge() {
    let graph = Graph::generate(GraphSpec::with_edges(2_000));
    let edges = stream(&graph);
    assert!(edges.len() > 2_800, "{} edges", edges.len());

    let (per_row, bulk, single) = (temp_db("large"), temp_db("bulk"), temp_db("single"));
    // Calls of 1,000 run every statement size of the write path, through
    // each index entry by entry, and again building the indexes in bulk
    // wherever a call writes as many edges as are stored (the first two).
    let per_row_answers = import(&per_row, &edges, 1_000, rebuilding_from(usize::MAX)).await;
    let bulk_answers = import(&bulk, &edges, 1_000, rebuilding_from(1)).await;
    let single_answers = import(&single, &edges, 1, rebuilding_from(usize::MAX)).await;
    assert_eq!(per_row_answers, single_answers);
    assert_eq!(bulk_answers, single_answers);
    for answer in ["changed", "unchanged", "InvalidArgument"] {
        assert!(
            per_row_answers.iter().any(|a| a == answer),
            "no {answer} answer: the stream does not exercise it"
        );
    }
    assert!(
        schema_version(&bulk) > schema_version(&per_row),
        "no bulk call"
    );
    assert_eq!(schema_version(&per_row), schema_version(&single));

    assert_same_rows(&per_row, &single);
    assert_same_rows(&bulk, &single);
    // Mutual pairs, mute flags and mute events are there to compare.
    let conn = Connection::open(&bulk).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert!(count("SELECT count(*) FROM edges WHERE mutual_since IS NOT NULL") > 100);
    assert!(count("SELECT count(*) FROM events WHERE kind = 'muted'") > 10);
    assert!(count("SELECT count(*) FROM events WHERE kind = 'unmuted'") > 10);
    drop(conn);

    for path in [&per_row, &bulk] {
        let store = SqliteStore::open(path).unwrap();
        assert!(store.verify().await.unwrap().is_ok());
    }
    for path in [per_row, bulk, single] {
        load::remove_db(&path).unwrap();
    }
}

/// At the default threshold: calls of 12,000 edges into a new file build
/// the indexes in bulk while they write as many edges as are stored, and
/// leave the rows the per-row path leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_over_the_default_rebuild_threshold_equals_the_per_row_path() {
    let graph = Graph::generate(GraphSpec::with_edges(24_000));
    let edges = stream(&graph);
    let (default, per_row) = (temp_db("default"), temp_db("default-per-row"));
    let default_answers = import(&default, &edges, 12_000, SqliteOptions::default()).await;
    let per_row_answers = import(&per_row, &edges, 12_000, rebuilding_from(usize::MAX)).await;
    assert_eq!(default_answers, per_row_answers);
    assert!(
        schema_version(&default) > schema_version(&per_row),
        "the default threshold took no bulk call"
    );
    assert_same_rows(&default, &per_row);
    for path in [default, per_row] {
        load::remove_db(&path).unwrap();
    }
}
