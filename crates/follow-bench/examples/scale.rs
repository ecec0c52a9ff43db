//! The scale tool: builds the benchmark graph in one adapter, runs the mixed
//! workload on it, and prints throughput, latency percentiles and memory.
//!
//! ```sh
//! cargo run --release -p follow-bench --example scale -- \
//!     [--adapter sqlite|memory|hand] [--edges N] [--ops N] [--tasks N] [--db PATH]
//!     [--rebuild-indexes-from N]
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use follow_bench::baseline::HandRolled;
use follow_bench::graph::{Graph, GraphSpec};
use follow_bench::workload::{OpKind, Plan, Report, run_facade, run_hand};
use follow_bench::{SetupError, load, peak_rss_bytes, rss_bytes};
use follow_core::FollowGraph;
use follow_store_sqlite::{SqliteOptions, SqliteStore};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Adapter {
    /// The SQLite adapter, default options (WAL, synchronous = FULL).
    Sqlite,
    /// The in-memory adapter.
    Memory,
    /// The hand-rolled baseline (not the library).
    Hand,
}

/// Builds the benchmark graph, runs the mixed workload, prints the figures.
#[derive(Debug, Parser)]
#[command(name = "scale")]
struct Args {
    /// Which storage.
    #[arg(long, value_enum, default_value = "sqlite")]
    adapter: Adapter,
    /// Edges of the generated graph (half of them to one celebrity).
    #[arg(long, default_value_t = 1_000_000)]
    edges: usize,
    /// Operations of the mixed workload.
    #[arg(long, default_value_t = 200_000)]
    ops: u64,
    /// Concurrent tasks running the workload.
    #[arg(long, default_value_t = 8)]
    tasks: usize,
    /// The database file (SQLite and hand-rolled); replaced.
    #[arg(long)]
    db: Option<PathBuf>,
    /// The generator's and the workload's seed.
    #[arg(long, default_value_t = follow_bench::graph::DEFAULT_SEED)]
    seed: u64,
    /// SQLite: the edge writes from which an import call may build the
    /// edge indexes in bulk (`SqliteOptions::rebuild_indexes_from`; the
    /// adapter's default when absent, a huge number to never).
    #[arg(long)]
    rebuild_indexes_from: Option<usize>,
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn micros(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn print_report(report: &mut Report, tasks: usize) {
    println!(
        "workload: {} ops by {tasks} tasks in {:.2} s = {:.0} ops/s",
        report.ops(),
        report.elapsed.as_secs_f64(),
        report.throughput()
    );
    println!(
        "{:<11} {:>8} {:>10} {:>10} {:>10} {:>10} {:>9}",
        "op", "count", "p50 µs", "p90 µs", "p99 µs", "max µs", "expected"
    );
    for kind in OpKind::all() {
        let (n, p50, p90, p99, max) = report.percentiles(kind);
        let expected =
            report.expected_errors[OpKind::all().iter().position(|k| *k == kind).unwrap_or(0)];
        println!(
            "{:<11} {n:>8} {:>10} {:>10} {:>10} {:>10} {expected:>9}",
            kind.name(),
            micros(p50),
            micros(p90),
            micros(p99),
            micros(max)
        );
    }
}

fn main() -> Result<(), SetupError> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let spec = GraphSpec {
        edges: args.edges,
        seed: args.seed,
    };
    let began = Instant::now();
    let graph = Graph::generate(spec);
    println!(
        "graph: {} edges, {} nodes, celebrity with {} followers, generated in {:.2} s",
        graph.edges.len(),
        graph.node_count(),
        spec.celebrity_followers(),
        began.elapsed().as_secs_f64()
    );
    let plan = Arc::new(Plan::new(&graph));
    let db = args.db.clone().unwrap_or_else(|| {
        load::bench_dir().join(format!("scale-{:?}.db", args.adapter).to_lowercase())
    });
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let peak_before = peak_rss_bytes();
    let rss_before = rss_bytes();

    let progress = bar(graph.edges.len() as u64, "load");
    let began = Instant::now();
    let facade: Option<Arc<FollowGraph>> = match args.adapter {
        Adapter::Memory => {
            let g = runtime.block_on(load::memory_graph(&graph, |n| {
                progress.set_position(n as u64)
            }))?;
            Some(Arc::new(g))
        }
        Adapter::Sqlite => {
            let mut options = SqliteOptions::default();
            if let Some(from) = args.rebuild_indexes_from {
                options.rebuild_indexes_from = from;
            }
            runtime.block_on(load::sqlite_file_with(&db, &graph, options, |n| {
                progress.set_position(n as u64);
            }))?;
            None
        }
        Adapter::Hand => {
            let hand = HandRolled::create(&db)?;
            hand.load(&graph)?;
            progress.set_position(graph.edges.len() as u64);
            None
        }
    };
    progress.finish_and_clear();
    let load_time = began.elapsed();
    println!(
        "load: {:.2} s = {:.0} edges/s ({:?})",
        load_time.as_secs_f64(),
        graph.edges.len() as f64 / load_time.as_secs_f64(),
        args.adapter
    );
    let edges = graph.edges.len() as u64;
    if args.adapter == Adapter::Sqlite {
        // Each bulk call drops and creates three indexes: six schema
        // changes beyond those of a new file.
        let version = |path: &std::path::Path| -> Result<i64, SetupError> {
            let conn = rusqlite::Connection::open(path)?;
            Ok(conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?)
        };
        let fresh = db.with_extension("fresh.db");
        drop(SqliteStore::open(&fresh)?);
        let base = version(&fresh)?;
        load::remove_db(&fresh)?;
        println!(
            "import calls that built the edge indexes in bulk: {}",
            (version(&db)? - base) / 6
        );
    }
    match args.adapter {
        Adapter::Memory => {
            let peak = peak_rss_bytes();
            let rss = rss_bytes();
            if let (Some(before), Some(after)) = (peak_before, peak) {
                println!(
                    "memory adapter: peak RSS {} -> {}: {:.1} bytes/edge (peak delta over edges)",
                    mib(before),
                    mib(after),
                    after.saturating_sub(before) as f64 / edges as f64
                );
            }
            if let (Some(before), Some(after)) = (rss_before, rss) {
                println!(
                    "memory adapter: resident {} -> {}: {:.1} bytes/edge (steady delta over edges)",
                    mib(before),
                    mib(after),
                    after.saturating_sub(before) as f64 / edges as f64
                );
            }
        }
        Adapter::Sqlite | Adapter::Hand => {
            let bytes = load::db_bytes(&db);
            println!(
                "database {}: {} = {:.1} bytes/edge",
                db.display(),
                mib(bytes),
                bytes as f64 / edges as f64
            );
        }
    }

    let done = Arc::new(AtomicU64::new(0));
    let progress = bar(args.ops, "workload");
    let watcher = {
        let (done, progress) = (Arc::clone(&done), progress.clone());
        std::thread::spawn(move || {
            while !progress.is_finished() {
                progress.set_position(done.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let principal = load::admin();
    let result = runtime.block_on(async {
        let facade = match args.adapter {
            Adapter::Memory => facade.clone().ok_or("no memory graph")?,
            Adapter::Sqlite => Arc::new(FollowGraph::new(Arc::new(SqliteStore::open(&db)?))),
            Adapter::Hand => {
                let hand = HandRolled::open(&db);
                let report = run_hand(hand, plan, args.tasks, args.ops, args.seed, Some(done));
                return Ok::<_, SetupError>(report.await?);
            }
        };
        let (tasks, ops, seed) = (args.tasks, args.ops, args.seed);
        Ok(run_facade(facade, principal, plan, tasks, ops, seed, Some(done)).await?)
    });
    progress.finish_and_clear();
    let _ = watcher.join();
    let mut report = result?;
    print_report(&mut report, args.tasks);
    match peak_rss_bytes() {
        Some(peak) => println!("peak resident memory (VmHWM): {}", mib(peak)),
        None => println!("peak resident memory: unavailable"),
    }
    if args.adapter != Adapter::Memory {
        let bytes = load::db_bytes(&db);
        println!(
            "database after the workload: {} = {:.1} bytes/edge",
            mib(bytes),
            bytes as f64 / edges as f64
        );
    }
    Ok(())
}
