// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

//! The PostgreSQL adapter against a hand-rolled PostgreSQL service written
//! the way Mastodon does it (`follow_bench::pg_baseline`), side by side in
//! one run, on one server: a throwaway cluster with default durability
//! (`fsync` on), or the one `FOLLOW_TEST_POSTGRES_URL` names (its schemas
//! `bench` and `hand` are replaced).
//!
//! The single-write, read and page groups run on a celebrity with
//! `FOLLOW_BENCH_PG_FOLLOWERS` followers (default 500,000), loaded by SQL
//! into both schemas, and writer accounts. The bulk import and the mixed
//! workload run on the generated graph of `FOLLOW_BENCH_PG_EDGES` edges
//! (default 1,000,000), the one the SQLite benches use.
//! `FOLLOW_BENCH_PG_GROUPS` (comma-separated group names) runs only those
//! groups and builds only their fixtures.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use follow_bench::graph::{Graph, GraphSpec};
use follow_bench::load::{self, admin};
use follow_bench::pg_baseline::{self, BenchServer, HandPg};
use follow_bench::workload::{Plan, run_facade, run_hand_pg};
use follow_core::{
    Capabilities, DEFAULT_IMPORT_LIMIT, FollowGraph, PageRequest, Principal, TenantId,
};
use follow_store_postgres::{PostgresOptions, PostgresStore};
use tokio::runtime::Runtime;

const PAGE: u32 = 100;
const WRITERS: usize = 16;
const CELEBRITY: &str = "celebrity";
const TENANT: &str = "bench";

fn followers() -> usize {
    std::env::var("FOLLOW_BENCH_PG_FOLLOWERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000)
}

fn edges() -> usize {
    std::env::var("FOLLOW_BENCH_PG_EDGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(follow_bench::graph::DEFAULT_EDGES)
}

/// Whether `group` is to run: every group unless `FOLLOW_BENCH_PG_GROUPS`
/// names some.
fn wanted(group: &str) -> bool {
    match std::env::var("FOLLOW_BENCH_PG_GROUPS") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|g| g.trim() == group),
        _ => true,
    }
}

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

struct Setup {
    url: String,
    graph: FollowGraph,
    principal: Principal,
    /// How deep the deep page is: 80% into the celebrity's followers.
    depth: usize,
}

fn follower(i: usize) -> String {
    format!("f{i:07}")
}

/// The server: `FOLLOW_TEST_POSTGRES_URL`, or a throwaway durable cluster.
fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let server = BenchServer::start().unwrap_or_else(|e| panic!("{e}"));
        let url = server.url().to_owned();
        // A cluster is stopped by its watchdog when the bench process exits.
        std::mem::forget(server);
        url
    })
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let url = server_url().to_owned();
        let n = followers();
        eprintln!("loading {n} followers of one celebrity into PostgreSQL (adapter and hand-rolled)…");
        runtime().block_on(async {
            let raw = pg_baseline::connect(&url).await.expect("connect");
            raw.batch_execute("DROP SCHEMA IF EXISTS bench CASCADE; DROP SCHEMA IF EXISTS hand CASCADE")
                .await
                .expect("drop old schemas");
            let store = PostgresStore::connect_with(
                &url,
                PostgresOptions {
                    schema: Some("bench".to_owned()),
                    max_connections: 32,
                    ..PostgresOptions::default()
                },
            )
            .await
            .expect("the adapter");
            let t0: i64 = 1_800_000_000_000_000;
            raw.batch_execute(&format!(
                "INSERT INTO bench.follow_nodes (tenant, id, registered_at, following)
                 SELECT '{TENANT}', 'f' || lpad(i::text, 7, '0'), {t0}, 1 FROM generate_series(0, {n} - 1) i;
                 INSERT INTO bench.follow_nodes (tenant, id, registered_at, followers)
                 VALUES ('{TENANT}', '{CELEBRITY}', {t0}, {n});
                 INSERT INTO bench.follow_edges (tenant, follower, target, since, muted)
                 SELECT '{TENANT}', 'f' || lpad(i::text, 7, '0'), '{CELEBRITY}', {t0} + i, false
                 FROM generate_series(0, {n} - 1) i;
                 {hand}
                 INSERT INTO hand.follows (account_id, target_account_id, created_at)
                 SELECT 'f' || lpad(i::text, 7, '0'), '{CELEBRITY}', {t0} + i FROM generate_series(0, {n} - 1) i;
                 INSERT INTO hand.account_stats (account_id, following_count)
                 SELECT 'f' || lpad(i::text, 7, '0'), 1 FROM generate_series(0, {n} - 1) i;
                 INSERT INTO hand.account_stats (account_id, followers_count) VALUES ('{CELEBRITY}', {n});
                 ANALYZE bench.follow_nodes; ANALYZE bench.follow_edges;
                 ANALYZE hand.follows; ANALYZE hand.account_stats;",
                hand = pg_baseline::schema_sql("hand"),
            ))
            .await
            .expect("load");
            let graph = FollowGraph::new(Arc::new(store));
            let principal = Principal::new(TenantId::new(TENANT).expect("tenant"), Capabilities::ALL);
            for w in 0..WRITERS {
                graph.register(&principal, &format!("w{w:02}")).await.expect("register");
                graph.register(&principal, &format!("t{w:02}")).await.expect("register");
            }
            Setup {
                url,
                graph,
                principal,
                depth: n * 4 / 5,
            }
        })
    })
}

fn hand() -> HandPg {
    runtime()
        .block_on(HandPg::connect(&setup().url))
        .expect("a hand-rolled connection")
}

/// A follow and its unfollow, one writer.
fn follow_unfollow(c: &mut Criterion) {
    if !wanted("pg_follow_unfollow") {
        return;
    }
    let s = setup();
    let mut g = c.benchmark_group("pg_follow_unfollow");
    g.throughput(Throughput::Elements(2));
    g.bench_function("adapter", |b| {
        b.iter(|| {
            runtime().block_on(async {
                s.graph
                    .follow(&s.principal, "w00", "t00")
                    .await
                    .expect("follow");
                s.graph
                    .unfollow(&s.principal, "w00", "t00")
                    .await
                    .expect("unfollow");
            })
        });
    });
    let mut conn = hand();
    g.bench_function("hand_rolled", |b| {
        b.iter(|| {
            runtime().block_on(async {
                conn.follow("w00", "t00", 1).await.expect("follow");
                conn.unfollow("w00", "t00").await.expect("unfollow");
            })
        });
    });
    g.finish();
}

/// 16 writers following and unfollowing the celebrity at once.
fn celebrity_writers(c: &mut Criterion) {
    if !wanted("pg_celebrity_16_writers") {
        return;
    }
    let s = setup();
    let mut g = c.benchmark_group("pg_celebrity_16_writers");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.bench_function("adapter", |b| {
        b.iter_custom(|ops| {
            runtime().block_on(async {
                let per = ops.div_ceil(WRITERS as u64);
                let start = Instant::now();
                let tasks: Vec<_> = (0..WRITERS)
                    .map(|w| {
                        let (graph, p) = (&s.graph, &s.principal);
                        tokio::spawn(async move {
                            let me = format!("w{w:02}");
                            for k in 0..per {
                                if k % 2 == 0 {
                                    graph.follow(p, &me, CELEBRITY).await.expect("follow");
                                } else {
                                    graph.unfollow(p, &me, CELEBRITY).await.expect("unfollow");
                                }
                            }
                            if per % 2 == 1 {
                                graph.unfollow(p, &me, CELEBRITY).await.expect("unfollow");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("a writer");
                }
                start
                    .elapsed()
                    .mul_f64(ops as f64 / (per * WRITERS as u64) as f64)
            })
        });
    });
    g.bench_function("hand_rolled", |b| {
        let conns: Vec<Arc<tokio::sync::Mutex<HandPg>>> = (0..WRITERS)
            .map(|_| Arc::new(tokio::sync::Mutex::new(hand())))
            .collect();
        b.iter_custom(|ops| {
            runtime().block_on(async {
                let per = ops.div_ceil(WRITERS as u64);
                let start = Instant::now();
                let tasks: Vec<_> = conns
                    .iter()
                    .enumerate()
                    .map(|(w, conn)| {
                        let conn = conn.clone();
                        tokio::spawn(async move {
                            let mut conn = conn.lock().await;
                            let me = format!("w{w:02}");
                            for k in 0..per {
                                if k % 2 == 0 {
                                    conn.follow(&me, CELEBRITY, 1).await.expect("follow");
                                } else {
                                    conn.unfollow(&me, CELEBRITY).await.expect("unfollow");
                                }
                            }
                            if per % 2 == 1 {
                                conn.unfollow(&me, CELEBRITY).await.expect("unfollow");
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("a writer");
                }
                start
                    .elapsed()
                    .mul_f64(ops as f64 / (per * WRITERS as u64) as f64)
            })
        });
    });
    g.finish();
}

/// Does this account follow the celebrity: the facade's relation check
/// against a raw point lookup.
fn relation(c: &mut Criterion) {
    if !wanted("pg_relation") {
        return;
    }
    let s = setup();
    let n = followers();
    let mut g = c.benchmark_group("pg_relation");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("adapter", |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            let who = follower(i);
            runtime().block_on(async {
                black_box(
                    s.graph
                        .relation(&s.principal, &who, CELEBRITY)
                        .await
                        .expect("relation"),
                )
            })
        });
    });
    let conn = hand();
    g.bench_function("raw_point_lookup", |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            let who = follower(i);
            runtime().block_on(async {
                black_box(conn.is_following(&who, CELEBRITY).await.expect("lookup"))
            })
        });
    });
    g.finish();
}

/// A cursor `depth` items into the celebrity's followers.
fn deep_cursor(s: &Setup) -> String {
    runtime().block_on(async {
        let mut request = PageRequest::first().with_limit(PAGE);
        let mut seen = 0;
        while seen < s.depth {
            let page = s
                .graph
                .followers(&s.principal, CELEBRITY, &request)
                .await
                .expect("a page");
            seen += page.items.len();
            request = PageRequest::after(page.next_cursor.expect("more pages")).with_limit(PAGE);
        }
        request.cursor.expect("a cursor")
    })
}

/// The celebrity's followers, a page of 100: first and 80% deep, keyset
/// against `OFFSET`.
fn followers_page(c: &mut Criterion) {
    if !wanted("pg_followers_page_100") {
        return;
    }
    let s = setup();
    let mut g = c.benchmark_group("pg_followers_page_100");
    g.throughput(Throughput::Elements(u64::from(PAGE)));
    g.sample_size(10);
    let deep = deep_cursor(s);
    for (id, request) in [
        ("first".to_owned(), PageRequest::first()),
        (format!("deep_{}", s.depth), PageRequest::after(deep)),
    ] {
        let request = request.with_limit(PAGE);
        g.bench_function(BenchmarkId::new("adapter", id), |b| {
            b.iter(|| {
                runtime().block_on(async {
                    let page = s
                        .graph
                        .followers(&s.principal, CELEBRITY, &request)
                        .await
                        .expect("page");
                    assert_eq!(page.items.len(), PAGE as usize);
                    black_box(page)
                })
            });
        });
    }
    let conn = hand();
    for offset in [0, s.depth] {
        g.bench_function(
            BenchmarkId::new("hand_rolled", format!("offset_{offset}")),
            |b| {
                b.iter(|| {
                    runtime().block_on(async {
                        let page = conn
                            .followers_page(CELEBRITY, offset as i64, i64::from(PAGE))
                            .await
                            .expect("page");
                        assert_eq!(page.len(), PAGE as usize);
                        black_box(page)
                    })
                });
            },
        );
    }
    g.finish();
}

/// The celebrity's follower count: kept counter against `COUNT(*)`.
fn counts(c: &mut Criterion) {
    if !wanted("pg_counts") {
        return;
    }
    let s = setup();
    let mut g = c.benchmark_group("pg_counts");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.bench_function("adapter", |b| {
        b.iter(|| {
            runtime().block_on(async {
                black_box(
                    s.graph
                        .counts(&s.principal, CELEBRITY)
                        .await
                        .expect("counts"),
                )
            })
        });
    });
    let conn = hand();
    g.bench_function("hand_rolled_count", |b| {
        b.iter(|| {
            runtime()
                .block_on(async { black_box(conn.follower_count(CELEBRITY).await.expect("count")) })
        });
    });
    g.finish();
}

/// The generated graph of the bulk import and the mixed workload.
struct Generated {
    graph: Graph,
    plan: Arc<Plan>,
}

fn generated() -> &'static Generated {
    static GENERATED: OnceLock<Generated> = OnceLock::new();
    GENERATED.get_or_init(|| {
        let graph = Graph::generate(GraphSpec::with_edges(edges()));
        Generated {
            plan: Arc::new(Plan::new(&graph)),
            graph,
        }
    })
}

/// A new adapter store in `schema`, replacing whatever was there.
async fn fresh_store(schema: &str, max_connections: usize) -> PostgresStore {
    let raw = pg_baseline::connect(server_url()).await.expect("connect");
    raw.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("drop the old schema");
    PostgresStore::connect_with(
        server_url(),
        PostgresOptions {
            schema: Some(schema.to_owned()),
            max_connections,
            ..PostgresOptions::default()
        },
    )
    .await
    .expect("the adapter")
}

/// The whole generated graph into an empty database: the facade's
/// `import` (calls of the default import limit) against a raw
/// prepared-insert loop into a plain edges table, one transaction, one
/// awaited execution per row.
fn bulk_import(c: &mut Criterion) {
    if !wanted("pg_bulk_import") {
        return;
    }
    let graph = &generated().graph;
    let mut g = c.benchmark_group("pg_bulk_import");
    g.throughput(Throughput::Elements(graph.edges.len() as u64));
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.bench_function("adapter_import", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                runtime().block_on(async {
                    let target = FollowGraph::new(Arc::new(fresh_store("bulk", 4).await));
                    let start = Instant::now();
                    load::load(&target, graph, DEFAULT_IMPORT_LIMIT, |_| {})
                        .await
                        .expect("import");
                    timed += start.elapsed();
                })
            }
            timed
        });
    });
    g.bench_function("raw_insert_loop", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                runtime().block_on(async {
                    let mut raw = pg_baseline::connect(server_url()).await.expect("connect");
                    raw.batch_execute(&pg_baseline::raw_edges_sql("raw"))
                        .await
                        .expect("the edges table");
                    let start = Instant::now();
                    let n = pg_baseline::raw_insert_loop(&mut raw, "raw", graph)
                        .await
                        .expect("insert");
                    timed += start.elapsed();
                    assert_eq!(n as usize, graph.edges.len());
                })
            }
            timed
        });
    });
    g.finish();
}

/// The adapter and the hand-rolled service, each loaded with the
/// generated graph (the adapter through `import`, the hand-rolled by SQL).
struct Mix {
    graph: Arc<FollowGraph>,
    hand: Vec<Arc<tokio::sync::Mutex<HandPg>>>,
}

const MIX_TASKS: usize = 8;

fn mix() -> &'static Mix {
    static MIX: OnceLock<Mix> = OnceLock::new();
    MIX.get_or_init(|| {
        let generated = generated();
        eprintln!(
            "loading {} edges into PostgreSQL for the mix (adapter and hand-rolled)…",
            generated.graph.edges.len()
        );
        runtime().block_on(async {
            let target = FollowGraph::new(Arc::new(fresh_store("mix", 16).await));
            load::load(&target, &generated.graph, DEFAULT_IMPORT_LIMIT, |_| {})
                .await
                .expect("import");
            let raw = pg_baseline::connect(server_url()).await.expect("connect");
            raw.batch_execute("DROP SCHEMA IF EXISTS hand_mix CASCADE; ANALYZE mix.follow_nodes; ANALYZE mix.follow_edges")
                .await
                .expect("drop the old schema");
            pg_baseline::load(&raw, "hand_mix", &generated.graph)
                .await
                .expect("load the hand-rolled schema");
            let mut hand = Vec::new();
            for _ in 0..MIX_TASKS {
                let conn = HandPg::connect_to(server_url(), "hand_mix")
                    .await
                    .expect("a hand-rolled connection");
                hand.push(Arc::new(tokio::sync::Mutex::new(conn)));
            }
            Mix {
                graph: Arc::new(target),
                hand,
            }
        })
    })
}

/// The LinkBench-shaped mix with 8 tasks: the adapter's pool against 8
/// hand-rolled connections.
fn mixed(c: &mut Criterion) {
    if !wanted("pg_mixed_8_tasks") {
        return;
    }
    let mut g = c.benchmark_group("pg_mixed_8_tasks");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    // A new seed per call, so that registrations are new nodes every time.
    let seed = AtomicU64::new(1);
    g.bench_function("adapter", |b| {
        let m = mix();
        let plan = &generated().plan;
        b.iter_custom(|iters| {
            let s = seed.fetch_add(1, Ordering::Relaxed);
            runtime()
                .block_on(run_facade(
                    Arc::clone(&m.graph),
                    admin(),
                    Arc::clone(plan),
                    MIX_TASKS,
                    iters,
                    s,
                    None,
                ))
                .expect("workload")
                .elapsed
        });
    });
    g.bench_function("hand_rolled", |b| {
        let m = mix();
        let plan = &generated().plan;
        b.iter_custom(|iters| {
            let s = seed.fetch_add(1, Ordering::Relaxed);
            runtime()
                .block_on(run_hand_pg(&m.hand, Arc::clone(plan), MIX_TASKS, iters, s))
                .expect("workload")
                .elapsed
        });
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = follow_unfollow, celebrity_writers, relation, followers_page, counts,
        mixed, bulk_import
}
criterion_main!(benches);
