//! A relation check through the PostgreSQL adapter against the raw point
//! lookup of the hand-rolled baseline, interleaved in blocks of 50 on one
//! server, with the median and mean wall time of each and the CPU time per
//! call of the client process and of the server's backends: the ratio
//! without criterion, whose long back-to-back runs of one side meet
//! different load on a shared machine. The server must run on this machine
//! (its backends' CPU is read from `/proc`).
//!
//! Usage: `pg_relation_latency [rounds] [followers] [present|absent]`:
//! `followers` accounts follow one celebrity; `present` checks a follower
//! against the celebrity (the edge exists), `absent` the celebrity
//! against a follower (only the edge the other way exists). The server is
//! `FOLLOW_TEST_POSTGRES_URL`, or a throwaway durable cluster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use follow_bench::pg_baseline::{self, BenchServer, HandPg};
use follow_core::{Capabilities, FollowGraph, Principal, TenantId};
use follow_store_postgres::{PostgresOptions, PostgresStore};

type Failure = Box<dyn std::error::Error>;

const BLOCK: usize = 50;

/// User plus system CPU time of process `pid` (`self` for this one), in
/// clock ticks.
fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    field(11).unwrap_or(0) + field(12).unwrap_or(0)
}

/// Wall times and CPU ticks (client, server) of one side.
#[derive(Default)]
struct Side {
    times: Vec<Duration>,
    client: u64,
    server: u64,
}

impl Side {
    fn report(mut self, name: &str) {
        if self.times.is_empty() {
            return;
        }
        self.times.sort_unstable();
        let calls = self.times.len() as u64;
        let mean = self.times.iter().sum::<Duration>() / self.times.len() as u32;
        // A clock tick is 10 ms on Linux.
        let per_call = |ticks: u64| ticks * 10_000 / calls;
        println!(
            "{name:18} median {:?}, mean {mean:?}; CPU per call: client {} µs, server {} µs",
            self.times[self.times.len() / 2],
            per_call(self.client),
            per_call(self.server),
        );
    }
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let followers: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let present = args.get(3).map(String::as_str) != Some("absent");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let server = BenchServer::start()?;
    let url = server.url().to_owned();
    let (graph, hand, raw) = rt.block_on(async {
        let raw = pg_baseline::connect(&url).await?;
        raw.batch_execute(
            "DROP SCHEMA IF EXISTS rel CASCADE; DROP SCHEMA IF EXISTS rel_hand CASCADE",
        )
        .await?;
        let store = PostgresStore::connect_with(
            &url,
            PostgresOptions {
                schema: Some("rel".to_owned()),
                ..PostgresOptions::default()
            },
        )
        .await?;
        let t0: i64 = 1_800_000_000_000_000;
        raw.batch_execute(&format!(
            "INSERT INTO rel.follow_nodes (tenant, id, registered_at, following)
             SELECT 'bench', 'f' || lpad(i::text, 7, '0'), {t0}, 1
             FROM generate_series(0, {followers} - 1) i;
             INSERT INTO rel.follow_nodes (tenant, id, registered_at, followers)
             VALUES ('bench', 'celebrity', {t0}, {followers});
             INSERT INTO rel.follow_edges (tenant, follower, target, since, muted)
             SELECT 'bench', 'f' || lpad(i::text, 7, '0'), 'celebrity', {t0} + i, false
             FROM generate_series(0, {followers} - 1) i;
             {hand}
             INSERT INTO rel_hand.follows (account_id, target_account_id, created_at)
             SELECT 'f' || lpad(i::text, 7, '0'), 'celebrity', {t0} + i
             FROM generate_series(0, {followers} - 1) i;
             ANALYZE rel.follow_nodes; ANALYZE rel.follow_edges; ANALYZE rel_hand.follows;",
            hand = pg_baseline::schema_sql("rel_hand"),
        ))
        .await?;
        let hand = HandPg::connect_to(&url, "rel_hand").await?;
        Ok::<_, Failure>((FollowGraph::new(Arc::new(store)), hand, raw))
    })?;
    let principal = Principal::new(TenantId::new("bench")?, Capabilities::ALL);
    let pair = |i: usize| {
        let follower = format!("f{i:07}");
        if present {
            (follower, "celebrity".to_owned())
        } else {
            ("celebrity".to_owned(), follower)
        }
    };
    // One check opens the adapter's pooled connection; then every client
    // backend but this tool's own admin connection is measured.
    rt.block_on(graph.relation(&principal, &pair(0).0, &pair(0).1))?;
    let backends: Vec<String> = rt.block_on(async {
        let rows = raw
            .query(
                "SELECT pid::text FROM pg_stat_activity
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                &[],
            )
            .await?;
        Ok::<_, Failure>(rows.iter().map(|row| row.get(0)).collect())
    })?;
    let server = || backends.iter().map(|pid| cpu_ticks(pid)).sum::<u64>();
    let (mut adapter, mut lookup) = (Side::default(), Side::default());
    let mut i = 0;
    let mut next = || {
        i = (i + 7919) % followers;
        pair(i)
    };
    for _ in 0..rounds.div_ceil(BLOCK) {
        let (client0, server0) = (cpu_ticks("self"), server());
        for _ in 0..BLOCK {
            let (a, b) = next();
            let start = Instant::now();
            rt.block_on(graph.relation(&principal, &a, &b))?;
            adapter.times.push(start.elapsed());
        }
        adapter.client += cpu_ticks("self") - client0;
        adapter.server += server() - server0;
        let (client0, server0) = (cpu_ticks("self"), server());
        for _ in 0..BLOCK {
            let (a, b) = next();
            let start = Instant::now();
            rt.block_on(hand.is_following(&a, &b))?;
            lookup.times.push(start.elapsed());
        }
        lookup.client += cpu_ticks("self") - client0;
        lookup.server += server() - server0;
    }
    adapter.report("adapter relation");
    lookup.report("raw point lookup");
    Ok(())
}
