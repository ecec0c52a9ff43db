//! The generated graph imported into PostgreSQL through the adapter and by a
//! raw prepared-insert loop into a plain edges table, alternately on one
//! server, with each side's edges per second and their ratio: the bulk
//! import at sizes where criterion's ten samples per side would take an
//! hour. Usage: `pg_import [edges] [rounds]` (default 1,000,000 edges, one
//! round). The server is `FOLLOW_TEST_POSTGRES_URL`, or a throwaway durable
//! cluster (`fsync` and `synchronous_commit` on).

use std::sync::Arc;
use std::time::Instant;

use follow_bench::graph::{Graph, GraphSpec};
use follow_bench::pg_baseline::BenchServer;
use follow_bench::{load, pg_baseline};
use follow_core::{DEFAULT_IMPORT_LIMIT, FollowGraph};
use follow_store_postgres::{PostgresOptions, PostgresStore};

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let edges: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let server = BenchServer::start()?;
    let url = server.url().to_owned();
    let started = Instant::now();
    let graph = Graph::generate(GraphSpec::with_edges(edges));
    println!(
        "graph: {} edges, generated in {:.1} s",
        graph.edges.len(),
        started.elapsed().as_secs_f64()
    );
    let per_second = |seconds: f64| graph.edges.len() as f64 / seconds;
    for round in 1..=rounds {
        let adapter = adapter_import(&url, &graph).await?;
        let raw = raw_loop(&url, &graph).await?;
        println!(
            "round {round}: adapter import {adapter:.1} s ({:.0} edges/s), raw insert loop \
             {raw:.1} s ({:.0} edges/s): {:.2}x the raw loop's throughput",
            per_second(adapter),
            per_second(raw),
            raw / adapter
        );
    }
    Ok(())
}

/// Seconds to import `graph` into a new adapter schema, in calls of the
/// default import limit.
async fn adapter_import(url: &str, graph: &Graph) -> Result<f64, Failure> {
    let raw = pg_baseline::connect(url).await?;
    raw.batch_execute("DROP SCHEMA IF EXISTS import_adapter CASCADE")
        .await?;
    let store = PostgresStore::connect_with(
        url,
        PostgresOptions {
            schema: Some("import_adapter".to_owned()),
            ..PostgresOptions::default()
        },
    )
    .await?;
    let target = FollowGraph::new(Arc::new(store));
    let start = Instant::now();
    load::load(&target, graph, DEFAULT_IMPORT_LIMIT, |_| {}).await?;
    Ok(start.elapsed().as_secs_f64())
}

/// Seconds to insert `graph` row by row into a new plain edges table, in one
/// transaction.
async fn raw_loop(url: &str, graph: &Graph) -> Result<f64, Failure> {
    let mut raw = pg_baseline::connect(url).await?;
    raw.batch_execute(&pg_baseline::raw_edges_sql("import_raw"))
        .await?;
    let start = Instant::now();
    let rows = pg_baseline::raw_insert_loop(&mut raw, "import_raw", graph).await?;
    let seconds = start.elapsed().as_secs_f64();
    if rows as usize != graph.edges.len() {
        return Err(format!("the raw loop wrote {rows} of {} edges", graph.edges.len()).into());
    }
    Ok(seconds)
}
