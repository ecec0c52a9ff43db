//! The benchmark machinery at tiny sizes: loaders, baselines, writers and the
//! mixed workload run end to end and leave consistent data. No timing is
//! asserted.

use std::sync::Arc;

use follow_bench::baseline::{HandRolled, raw_load};
use follow_bench::graph::{CELEBRITY, Graph, GraphSpec};
use follow_bench::workload::{OpGen, Plan, run_facade, run_hand};
use follow_bench::writers::{facade_writers, hand_writers, register_writers};
use follow_bench::{SetupError, load};
use follow_core::{FollowGraph, PageRequest};
use follow_store_sqlite::SqliteStore;

fn temp_db(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("follow-bench-{}-{name}.db", std::process::id()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_and_runs_the_workload_on_every_target() -> Result<(), SetupError> {
    let graph = Graph::generate(GraphSpec::with_edges(400));
    let celebrity = graph.name(CELEBRITY);
    let admin = load::admin();
    let plan = Arc::new(Plan::new(&graph));

    let memory = Arc::new(load::memory_graph(&graph, |_| {}).await?);
    let sqlite = Arc::new(FollowGraph::new(Arc::new(SqliteStore::open_in_memory()?)));
    load::load(&sqlite, &graph, sqlite.import_limit(), |_| {}).await?;
    for facade in [&memory, &sqlite] {
        assert_eq!(facade.counts(&admin, &celebrity).await?.followers, 200);
        let page = facade
            .followers(&admin, &celebrity, &PageRequest::first().with_limit(100))
            .await?;
        assert_eq!(page.items.len(), 100);
        register_writers(facade, &admin).await?;
        let (_, ops) = facade_writers(facade, &admin, 3, 10).await?;
        assert_eq!(ops, 3 * 32);
        let report = run_facade(
            Arc::clone(facade),
            admin.clone(),
            Arc::clone(&plan),
            4,
            300,
            1,
            None,
        )
        .await?;
        assert_eq!(report.ops(), 300);
        // Unfollows may remove generated edges; the count stays consistent.
        let page = facade
            .followers(&admin, &celebrity, &PageRequest::first().with_limit(100))
            .await?;
        let followers = facade.counts(&admin, &celebrity).await?.followers;
        assert!(followers > 150 && page.items.len() == 100, "{followers}");
    }

    let path = temp_db("hand");
    let hand = HandRolled::create(&path)?;
    hand.load(&graph)?;
    let conn = hand.connect()?;
    assert_eq!(conn.follower_count(&celebrity)?, 200);
    assert_eq!(conn.followers_page(&celebrity, 150, 100)?.len(), 50);
    hand_writers(&hand, 3, 10)?;
    let report = run_hand(hand.clone(), plan, 4, 300, 1, None).await?;
    assert_eq!(report.ops(), 300);
    drop(conn);
    load::remove_db(&path)?;

    let path = temp_db("raw");
    let raw = HandRolled::create(&path)?;
    assert_eq!(raw_load(raw.connect()?.raw(), &graph)?, 400);
    load::remove_db(&path)?;
    Ok(())
}

#[test]
fn the_mix_is_deterministic_and_covers_every_kind() {
    let graph = Graph::generate(GraphSpec::with_edges(400));
    let plan = Arc::new(Plan::new(&graph));
    let draw = |seed| {
        let mut ops = OpGen::new(Arc::clone(&plan), seed, 0);
        (0..3000).map(|_| ops.next_op()).collect::<Vec<_>>()
    };
    let ops = draw(5);
    assert_eq!(ops, draw(5));
    let kinds: std::collections::HashSet<_> = ops.iter().map(|op| op.kind()).collect();
    assert_eq!(kinds.len(), 10);
    let pages = ops
        .iter()
        .filter(|op| op.kind() == follow_bench::workload::OpKind::ListPage);
    let share = pages.count() as f64 / ops.len() as f64;
    assert!((0.45..0.57).contains(&share), "{share}");
}
