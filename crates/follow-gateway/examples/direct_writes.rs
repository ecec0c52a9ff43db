//! The library side of the gateway's write benchmark: 16 tasks calling
//! `FollowGraph::follow` / `unfollow` directly on a SQLite file, each on its
//! own session, for a number of seconds. Prints `ops_per_sec p50_ms p99_ms`.
//!
//! `cargo run --release -p follow-gateway --example direct_writes -- DB SECONDS [TASKS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use follow_core::{Capabilities, FollowGraph, Principal, TenantId};
use follow_store_sqlite::SqliteStore;

const CHANNEL: &str = "120363012345678901@newsletter";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let db = args
        .next()
        .ok_or("usage: direct_writes DB SECONDS [TASKS]")?;
    let seconds: u64 = args.next().ok_or("SECONDS")?.parse()?;
    let tasks: usize = args.next().map_or(Ok(16), |t| t.parse())?;
    let graph = Arc::new(FollowGraph::new(Arc::new(SqliteStore::open(&db)?)));
    let operator = Principal::new(TenantId::new("acme")?, Capabilities::ALL);
    graph.register(&operator, CHANNEL).await?;
    for task in 0..tasks {
        graph.register(&operator, &format!("s{task}")).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for task in 0..tasks {
        let graph = graph.clone();
        let principal = operator.clone();
        handles.push(tokio::spawn(async move {
            let session = format!("s{task}");
            let mut latencies = Vec::new();
            let mut follow = true;
            while Instant::now() < deadline {
                let started = Instant::now();
                let result = if follow {
                    graph.follow(&principal, &session, CHANNEL).await
                } else {
                    graph.unfollow(&principal, &session, CHANNEL).await
                };
                if result.is_ok() {
                    latencies.push(started.elapsed());
                }
                follow = !follow;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for handle in handles {
        latencies.extend(handle.await?);
    }
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies
            .get(index)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{:.0} {:.3} {:.3}",
        latencies.len() as f64 / seconds as f64,
        at(0.5),
        at(0.99)
    );
    Ok(())
}
