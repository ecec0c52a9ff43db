//! One writer's follow + unfollow through the PostgreSQL adapter and the
//! hand-rolled baseline, interleaved in blocks on one server, with the
//! median and mean of each: the single-write latency without criterion, so
//! that it can run under `strace` or beside a statement log. Usage:
//! `pg_write_latency [rounds] [adapter|hand|both] [sync|async]`; `async`
//! connects with `synchronous_commit = off`. With `writers` in place of
//! the side, 16 tasks each run `rounds` follow + unfollow pairs at once on
//! each side in turn, on one shared target (`one`, the default) or each
//! on its own (`own`), and the throughput is printed:
//! `pg_write_latency [rounds] writers [sync|async] [one|own]`. The server
//! is `FOLLOW_TEST_POSTGRES_URL`, or a throwaway durable cluster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use follow_bench::pg_baseline::{self, BenchServer, HandPg};
use follow_core::{Capabilities, FollowGraph, Principal, TenantId};
use follow_store_postgres::{PostgresOptions, PostgresStore};

type Failure = Box<dyn std::error::Error>;

const BLOCK: usize = 50;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let which = args.get(2).map(String::as_str).unwrap_or("both");
    let commit = args.get(3).map(String::as_str).unwrap_or("sync");
    let server = BenchServer::start()?;
    let base = server.url().to_owned();
    let url = if commit == "async" {
        format!("{base}?options=-c%20synchronous_commit%3Doff")
    } else {
        base
    };
    let raw = pg_baseline::connect(&url).await?;
    raw.batch_execute("DROP SCHEMA IF EXISTS lat CASCADE; DROP SCHEMA IF EXISTS lat_hand CASCADE")
        .await?;
    raw.batch_execute(&pg_baseline::schema_sql("lat_hand"))
        .await?;
    let store = PostgresStore::connect_with(
        &url,
        PostgresOptions {
            schema: Some("lat".to_owned()),
            ..PostgresOptions::default()
        },
    )
    .await?;
    let graph = FollowGraph::new(Arc::new(store));
    let principal = Principal::new(TenantId::new("bench")?, Capabilities::ALL);
    for id in ["a", "b"] {
        graph.register(&principal, id).await?;
    }
    if which == "writers" {
        let shared = args.get(4).map(String::as_str) != Some("own");
        return writers(&url, graph, principal, rounds, shared).await;
    }
    let mut hand = HandPg::connect_to(&url, "lat_hand").await?;
    let (mut adapter_times, mut hand_times) = (Vec::new(), Vec::new());
    let mut done = 0;
    while done < rounds {
        if which != "hand" {
            for _ in 0..BLOCK {
                let start = Instant::now();
                graph.follow(&principal, "a", "b").await?;
                graph.unfollow(&principal, "a", "b").await?;
                adapter_times.push(start.elapsed());
            }
        }
        if which != "adapter" {
            for _ in 0..BLOCK {
                let start = Instant::now();
                hand.follow("a", "b", 1).await?;
                hand.unfollow("a", "b").await?;
                hand_times.push(start.elapsed());
            }
        }
        done += BLOCK;
    }
    for (name, times) in [("adapter", adapter_times), ("hand_rolled", hand_times)] {
        if let Some((median, mean)) = summary(times) {
            println!(
                "{name:12} follow+unfollow: median {median:?}, mean {mean:?} ({commit} commit)"
            );
        }
    }
    Ok(())
}

const WRITERS: usize = 16;

/// 16 tasks, each `rounds` follow + unfollow pairs, adapter then
/// hand-rolled; prints the writes per second of each.
async fn writers(
    url: &str,
    graph: FollowGraph,
    principal: Principal,
    rounds: usize,
    shared: bool,
) -> Result<(), Failure> {
    let target = |w: usize| {
        if shared {
            "b".to_owned()
        } else {
            format!("t{w}")
        }
    };
    for w in 0..WRITERS {
        graph.register(&principal, &format!("w{w}")).await?;
        graph.register(&principal, &target(w)).await?;
    }
    // Statistics, as autovacuum gathers them within a minute on a live
    // server: without any, the planner reads `tenant = $1 AND id =
    // ANY($ids)` as a scan of the tenant's whole key range, dead rows and
    // all, rather than a probe per id.
    pg_baseline::connect(url)
        .await?
        .batch_execute(
            "ANALYZE lat.follow_nodes, lat.follow_edges, lat.follow_node_deltas;
             ANALYZE lat_hand.accounts, lat_hand.follows, lat_hand.account_stats",
        )
        .await?;
    let graph = Arc::new(graph);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (graph, principal, target) = (graph.clone(), principal.clone(), target(w));
        tasks.push(tokio::spawn(async move {
            let me = format!("w{w}");
            for _ in 0..rounds {
                graph.follow(&principal, &me, &target).await?;
                graph.unfollow(&principal, &me, &target).await?;
            }
            Ok::<_, follow_core::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let adapter = start.elapsed();
    let mut conns = Vec::new();
    for _ in 0..WRITERS {
        conns.push(HandPg::connect_to(url, "lat_hand").await?);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (w, mut conn) in conns.into_iter().enumerate() {
        let target = target(w);
        tasks.push(tokio::spawn(async move {
            let me = format!("w{w}");
            for _ in 0..rounds {
                conn.follow(&me, &target, 1).await?;
                conn.unfollow(&me, &target).await?;
            }
            Ok::<_, tokio_postgres::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let hand = start.elapsed();
    let writes = (2 * rounds * WRITERS) as f64;
    let on = if shared { "one target" } else { "own targets" };
    for (name, took) in [("adapter", adapter), ("hand_rolled", hand)] {
        println!(
            "{name:12} 16 writers, {on}: {:.0} writes/s",
            writes / took.as_secs_f64()
        );
    }
    Ok(())
}

fn summary(mut times: Vec<Duration>) -> Option<(Duration, Duration)> {
    if times.is_empty() {
        return None;
    }
    times.sort_unstable();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    Some((times[times.len() / 2], mean))
}
