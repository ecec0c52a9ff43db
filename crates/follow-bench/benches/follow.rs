// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

//! The library against its baselines on the one-million-edge graph, side by
//! side in one run. See docs/benchmarks.md for how to read the figures.
//!
//! `FOLLOW_BENCH_EDGES` shrinks the graph for a quick run (default
//! 1,000,000); the built databases are cached under `target/follow-bench/`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use criterion::async_executor::FuturesExecutor;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main, measurement::WallTime,
};
use follow_bench::baseline::{HandConn, HandRolled, raw_load};
use follow_bench::graph::{CELEBRITY, Graph, GraphSpec};
use follow_bench::load::{self, admin, bench_dir, cached, working_copy};
use follow_bench::workload::{Plan, run_facade, run_hand};
use follow_bench::writers::{
    WRITER_TARGETS, facade_writers, hand_writers, register_writers, writer_actor, writer_target,
};
use follow_core::{FollowGraph, PageRequest, Principal};
use follow_store_sqlite::SqliteStore;
use tokio::runtime::Runtime;

/// Items per list page in the page benches.
const PAGE: u32 = 100;

fn edges() -> usize {
    std::env::var("FOLLOW_BENCH_EDGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(follow_bench::graph::DEFAULT_EDGES)
}

/// The generated graph and the names the benches use.
struct Base {
    graph: Graph,
    celebrity: String,
    /// An account with 10 followers.
    small: String,
    /// Existing edges for relation checks.
    pairs: Vec<(String, String)>,
    /// How deep the deep page is: 80% into the celebrity's followers.
    depth: usize,
    plan: Arc<Plan>,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let graph = Graph::generate(GraphSpec::with_edges(edges()));
        let step = (graph.edges.len() / 1024).max(1);
        let pairs = graph
            .edges
            .iter()
            .step_by(step)
            .map(|e| (graph.name(e.follower), graph.name(e.target)))
            .collect();
        Base {
            celebrity: graph.name(CELEBRITY),
            small: graph.name(graph.account_with_followers(10)),
            depth: graph.spec.celebrity_followers() * 4 / 5,
            plan: Arc::new(Plan::new(&graph)),
            pairs,
            graph,
        }
    })
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

fn dir() -> PathBuf {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).expect("the bench directory");
    dir
}

/// The SQLite adapter (default options: WAL, `synchronous = FULL`, 4
/// readers) on a working copy of the cached database.
fn sqlite() -> &'static Arc<FollowGraph> {
    static SQLITE: OnceLock<Arc<FollowGraph>> = OnceLock::new();
    SQLITE.get_or_init(|| {
        let base = base();
        let spec = base.graph.spec;
        let original = cached(
            &dir().join(format!("sqlite-{}-{:x}.db", spec.edges, spec.seed)),
            |path| {
                eprintln!("building the SQLite adapter's database (once)…");
                runtime().block_on(load::sqlite_file(path, &base.graph, |_| {}))
            },
        )
        .expect("the cached SQLite database");
        let work = dir().join("work-sqlite.db");
        working_copy(&original, &work).expect("a working copy");
        let graph = Arc::new(FollowGraph::new(Arc::new(
            SqliteStore::open(&work).expect("open the working copy"),
        )));
        runtime()
            .block_on(register_writers(&graph, &admin()))
            .expect("register the writers");
        graph
    })
}

/// The memory adapter, loaded through the facade.
fn memory() -> &'static Arc<FollowGraph> {
    static MEMORY: OnceLock<Arc<FollowGraph>> = OnceLock::new();
    MEMORY.get_or_init(|| {
        let graph = runtime()
            .block_on(load::memory_graph(&base().graph, |_| {}))
            .expect("load the memory adapter");
        runtime()
            .block_on(register_writers(&graph, &admin()))
            .expect("register the writers");
        Arc::new(graph)
    })
}

/// The hand-rolled database, on a working copy of the cached one.
fn hand() -> &'static HandRolled {
    static HAND: OnceLock<HandRolled> = OnceLock::new();
    HAND.get_or_init(|| {
        let spec = base().graph.spec;
        let original = cached(
            &dir().join(format!("hand-{}-{:x}.db", spec.edges, spec.seed)),
            |path| {
                HandRolled::create(path)?.load(&base().graph)?;
                Ok(())
            },
        )
        .expect("the cached hand-rolled database");
        let work = dir().join("work-hand.db");
        working_copy(&original, &work).expect("a working copy");
        HandRolled::open(&work)
    })
}

fn hand_conn() -> HandConn {
    hand().connect().expect("a hand-rolled connection")
}

/// A cursor 80% into the celebrity's followers, found by walking the SQLite
/// adapter's pages once. Cursors carry a position, not a store, so the
/// memory adapter (same data, same key, same tenant) accepts it too.
fn deep_cursor() -> &'static String {
    static DEEP: OnceLock<String> = OnceLock::new();
    DEEP.get_or_init(|| {
        let (graph, principal, base) = (sqlite(), admin(), base());
        runtime().block_on(async {
            let mut request = PageRequest::first().with_limit(PAGE);
            let mut seen = 0;
            while seen < base.depth {
                let page = graph
                    .followers(&principal, &base.celebrity, &request)
                    .await
                    .expect("a followers page");
                seen += page.items.len();
                let cursor = page.next_cursor.expect("more pages before the depth");
                request = PageRequest::after(cursor).with_limit(PAGE);
            }
            request.cursor.expect("a cursor")
        })
    })
}

/// A lazily built adapter fixture.
type Fixture = fn() -> &'static Arc<FollowGraph>;

fn facades() -> [(&'static str, Fixture); 2] {
    [("sqlite", sqlite), ("memory", memory)]
}

fn group<'a>(c: &'a mut Criterion, name: &str, elements: u64) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(elements));
    group
}

/// 1: follow one edge and unfollow it again.
fn follow_unfollow(c: &mut Criterion) {
    let mut g = group(c, "follow_unfollow", 2);
    let (actor, target) = (writer_actor(0), writer_target(0));
    for (name, facade) in facades() {
        let p = admin();
        g.bench_function(name, |b| {
            let graph = facade();
            b.to_async(FuturesExecutor).iter(|| async {
                graph.follow(&p, &actor, &target).await.expect("follow");
                graph.unfollow(&p, &actor, &target).await.expect("unfollow");
            });
        });
    }
    g.bench_function("hand_rolled", |b| {
        let mut conn = hand_conn();
        b.iter(|| {
            conn.follow(&actor, &target, 1).expect("insert");
            conn.unfollow(&actor, &target).expect("delete");
        });
    });
    g.finish();
}

/// 2: `unfollow_many` of 20 (the follows are made untimed before each).
fn unfollow_many(c: &mut Criterion) {
    const { assert!(WRITER_TARGETS >= 20) };
    let mut g = group(c, "unfollow_many_20", 20);
    let actor = writer_actor(1);
    let names: Vec<String> = (0..20).map(writer_target).collect();
    let targets: Vec<&str> = names.iter().map(String::as_str).collect();
    for (name, facade) in facades() {
        let p = admin();
        g.bench_function(name, |b| {
            let graph = facade();
            b.iter_custom(|iters| {
                futures::executor::block_on(async {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        graph
                            .follow_many(&p, &actor, &targets)
                            .await
                            .expect("follow_many");
                        let start = Instant::now();
                        let results = graph
                            .unfollow_many(&p, &actor, &targets)
                            .await
                            .expect("unfollow_many");
                        timed += start.elapsed();
                        black_box(results);
                    }
                    timed
                })
            });
        });
    }
    g.bench_function("hand_rolled", |b| {
        let mut conn = hand_conn();
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                conn.follow_many(&actor, &targets, 1).expect("insert");
                let start = Instant::now();
                black_box(conn.unfollow_many(&actor, &targets).expect("delete"));
                timed += start.elapsed();
            }
            timed
        });
    });
    g.finish();
}

/// 3: relation check, vs a raw point lookup.
fn relation(c: &mut Criterion) {
    let mut g = group(c, "relation", 1);
    let pairs = &base().pairs;
    for (name, facade) in facades() {
        let p = admin();
        g.bench_function(name, |b| {
            let graph = facade();
            let mut i = 0;
            b.to_async(FuturesExecutor).iter(|| {
                i = (i + 1) % pairs.len();
                let (a, t) = &pairs[i];
                let (graph, p) = (graph, &p);
                async move { black_box(graph.relation(p, a, t).await.expect("relation")) }
            });
        });
    }
    g.bench_function("raw_point_lookup", |b| {
        let conn = hand_conn();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % pairs.len();
            let (a, t) = &pairs[i];
            black_box(conn.is_following(a, t).expect("lookup"))
        });
    });
    g.finish();
}

/// 4: the celebrity's followers, a page of 100: first and 80% deep.
fn followers_page(c: &mut Criterion) {
    let mut g = group(c, "followers_page_100", u64::from(PAGE));
    let base = base();
    for (name, facade) in facades() {
        let p = admin();
        for deep in [false, true] {
            let id = match deep {
                false => "first".to_owned(),
                true => format!("deep_{}", base.depth),
            };
            g.bench_function(BenchmarkId::new(name, id), |b| {
                let graph = facade();
                // The deep cursor is walked only when this bench runs.
                let request = match deep {
                    false => PageRequest::first(),
                    true => PageRequest::after(deep_cursor().clone()),
                }
                .with_limit(PAGE);
                b.to_async(FuturesExecutor).iter(|| async {
                    let page = graph
                        .followers(&p, &base.celebrity, &request)
                        .await
                        .expect("page");
                    assert_eq!(page.items.len(), PAGE as usize);
                    black_box(page)
                });
            });
        }
    }
    for offset in [0, base.depth] {
        g.bench_function(
            BenchmarkId::new("hand_rolled", format!("offset_{offset}")),
            |b| {
                let conn = hand_conn();
                b.iter(|| {
                    let page = conn
                        .followers_page(&base.celebrity, offset as i64, PAGE)
                        .expect("page");
                    assert_eq!(page.len(), PAGE as usize);
                    black_box(page)
                });
            },
        );
    }
    g.finish();
}

/// 5: counts of the celebrity and of an account with 10 followers.
fn counts(c: &mut Criterion) {
    let mut g = group(c, "counts", 1);
    let base = base();
    let subjects = [("celebrity", &base.celebrity), ("small", &base.small)];
    for (name, facade) in facades() {
        let p = admin();
        for (who, id) in subjects {
            g.bench_function(BenchmarkId::new(name, who), |b| {
                let graph = facade();
                b.to_async(FuturesExecutor)
                    .iter(|| async { black_box(graph.counts(&p, id).await.expect("counts")) });
            });
        }
    }
    for (who, id) in subjects {
        g.bench_function(BenchmarkId::new("hand_rolled_count_star", who), |b| {
            let conn = hand_conn();
            b.iter(|| black_box(conn.follower_count(id).expect("count")));
        });
    }
    g.finish();
}

/// 6: bulk load of the whole graph into an empty database.
fn bulk_load(c: &mut Criterion) {
    let graph = &base().graph;
    let mut g = group(c, "bulk_load", graph.edges.len() as u64);
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    let path = dir().join("bulk.db");
    g.bench_function("sqlite_import", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                load::remove_db(&path).expect("remove");
                let start = Instant::now();
                runtime()
                    .block_on(load::sqlite_file(&path, graph, |_| {}))
                    .expect("import");
                timed += start.elapsed();
            }
            timed
        });
    });
    g.bench_function("memory_import", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let loaded = runtime()
                    .block_on(load::memory_graph(graph, |_| {}))
                    .expect("import");
                timed += start.elapsed();
                drop(loaded);
            }
            timed
        });
    });
    g.bench_function("raw_insert_loop", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                let db = HandRolled::create(&path).expect("create");
                let mut conn = db.connect().expect("connect");
                let start = Instant::now();
                raw_load(conn.raw(), graph).expect("insert");
                drop(conn);
                timed += start.elapsed();
            }
            timed
        });
    });
    g.finish();
    load::remove_db(&path).expect("remove");
}

/// 7: concurrent writers, each issuing single follows and unfollows.
fn concurrent_writers(c: &mut Criterion) {
    let mut g = group(c, "concurrent_writers", 1);
    g.sample_size(10);
    for tasks in [1usize, 4, 16] {
        for (name, facade) in facades() {
            let p: Principal = admin();
            g.bench_function(BenchmarkId::new(name, tasks), |b| {
                let graph = facade();
                b.iter_custom(|iters| {
                    let (took, ran) = runtime()
                        .block_on(facade_writers(graph, &p, tasks, iters))
                        .expect("writers");
                    took.mul_f64(iters as f64 / ran as f64)
                });
            });
        }
        g.bench_function(BenchmarkId::new("hand_rolled", tasks), |b| {
            let db = hand();
            b.iter_custom(|iters| {
                let (took, ran) = hand_writers(db, tasks, iters).expect("writers");
                took.mul_f64(iters as f64 / ran as f64)
            });
        });
    }
    g.finish();
}

/// 8 and 9: the mixed workload with 8 tasks.
fn mixed(c: &mut Criterion) {
    const TASKS: usize = 8;
    let mut g = group(c, "mixed_8_tasks", 1);
    g.sample_size(10);
    let plan = &base().plan;
    // A new seed per call, so that registrations are new nodes every time.
    let seed = AtomicU64::new(1);
    for (name, facade) in facades() {
        g.bench_function(name, |b| {
            let graph = facade();
            b.iter_custom(|iters| {
                let s = seed.fetch_add(1, Ordering::Relaxed);
                let report = runtime()
                    .block_on(run_facade(
                        Arc::clone(graph),
                        admin(),
                        Arc::clone(plan),
                        TASKS,
                        iters,
                        s,
                        None,
                    ))
                    .expect("workload");
                report.elapsed
            });
        });
    }
    g.bench_function("hand_rolled", |b| {
        let db = hand();
        b.iter_custom(|iters| {
            let s = seed.fetch_add(1, Ordering::Relaxed);
            runtime()
                .block_on(run_hand(
                    db.clone(),
                    Arc::clone(plan),
                    TASKS,
                    iters,
                    s,
                    None,
                ))
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
    targets = follow_unfollow, unfollow_many, relation, followers_page, counts,
        concurrent_writers, mixed, bulk_load
}
criterion_main!(benches);
