//! The LinkBench-shaped mixed workload, mapped onto this library, and the
//! same mix on the hand-rolled baseline.
//!
//! LinkBench's operation mix (Armstrong et al., SIGMOD 2013, table 2) becomes:
//! `get_link_list` → a list page, `get_node` → a node lookup, `add_link` →
//! follow, `update_link` → a mute change, `update_node` → touch,
//! `count_link` → counts, `delete_link` → unfollow, `add_node` →
//! registration, `delete_node` → removal, `multiget_link` → a batch check.
//! Node choice is Zipf-skewed towards the most-followed nodes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use follow_core::{ErrorKind, FollowGraph, PageRequest, Principal};

use crate::baseline::{HandConn, HandRolled};
use crate::graph::{GenEdge, Graph, SINCE_BASE, SINCE_SPAN};
use crate::pg_baseline::HandPg;
use crate::rng::{Rng, Zipf};

/// The kinds of operation in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    /// A first page of a followers or following list.
    ListPage,
    /// A node with its counts.
    NodeLookup,
    /// A single follow.
    Follow,
    /// A mute flag set on an existing edge.
    Mute,
    /// A node's activity recorded.
    Touch,
    /// A node's counts.
    Count,
    /// A single unfollow.
    Unfollow,
    /// A node registered.
    Register,
    /// A node removed with its edges.
    Remove,
    /// A batch relation check of 20 targets.
    CheckMany,
}

/// The mix, in half-percent units (sums to 201: LinkBench's 100.5%).
pub const MIX: [(OpKind, u32); 10] = [
    (OpKind::ListPage, 102),
    (OpKind::NodeLookup, 26),
    (OpKind::Follow, 18),
    (OpKind::Mute, 16),
    (OpKind::Touch, 14),
    (OpKind::Count, 10),
    (OpKind::Unfollow, 6),
    (OpKind::Register, 6),
    (OpKind::Remove, 2),
    (OpKind::CheckMany, 1),
];

/// Items per list page in the mix (the facade's default page).
pub const MIX_PAGE: u32 = follow_core::DEFAULT_PAGE_LIMIT;
/// Targets per batch check.
pub const CHECK_BATCH: usize = 20;
/// The Zipf exponent of node choice.
pub const ACCESS_EXPONENT: f64 = 1.0;

impl OpKind {
    /// Every kind, in [`MIX`] order.
    pub fn all() -> [OpKind; 10] {
        MIX.map(|(kind, _)| kind)
    }

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::ListPage => "list_page",
            OpKind::NodeLookup => "node",
            OpKind::Follow => "follow",
            OpKind::Mute => "mute",
            OpKind::Touch => "touch",
            OpKind::Count => "counts",
            OpKind::Unfollow => "unfollow",
            OpKind::Register => "register",
            OpKind::Remove => "remove",
            OpKind::CheckMany => "check_many",
        }
    }

    fn index(self) -> usize {
        MIX.iter().position(|(k, _)| *k == self).unwrap_or(0)
    }
}

/// One operation, with its arguments as ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A first page: of `subject`'s followers, or of what it follows.
    ListPage {
        /// Whose list.
        subject: String,
        /// Followers (else following).
        followers: bool,
    },
    /// [`FollowGraph::node`].
    NodeLookup(String),
    /// `actor` follows `target`.
    Follow(String, String),
    /// `actor` sets the mute flag of its edge to `target`.
    Mute(String, String, bool),
    /// Activity of a node.
    Touch(String),
    /// Counts of a node.
    Count(String),
    /// `actor` unfollows `target`.
    Unfollow(String, String),
    /// A new node.
    Register(String),
    /// A node removed.
    Remove(String),
    /// `actor` against each target.
    CheckMany(String, Vec<String>),
}

impl Op {
    /// Its kind.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::ListPage { .. } => OpKind::ListPage,
            Op::NodeLookup(_) => OpKind::NodeLookup,
            Op::Follow(..) => OpKind::Follow,
            Op::Mute(..) => OpKind::Mute,
            Op::Touch(_) => OpKind::Touch,
            Op::Count(_) => OpKind::Count,
            Op::Unfollow(..) => OpKind::Unfollow,
            Op::Register(_) => OpKind::Register,
            Op::Remove(_) => OpKind::Remove,
            Op::CheckMany(..) => OpKind::CheckMany,
        }
    }
}

/// What the workload draws from: the graph's nodes by popularity and a
/// sample of its edges. Shared by every task.
#[derive(Debug)]
pub struct Plan {
    names: Vec<String>,
    popular: Vec<u32>,
    zipf: Zipf,
    accounts: u32,
    edges: Vec<GenEdge>,
}

impl Plan {
    /// The plan of a generated graph.
    pub fn new(graph: &Graph) -> Self {
        let popular = graph.by_popularity();
        let step = (graph.edges.len() / 100_000).max(1);
        Plan {
            names: (0..graph.node_count()).map(|n| graph.name(n)).collect(),
            zipf: Zipf::new(popular.len(), ACCESS_EXPONENT),
            popular,
            accounts: graph.account_count(),
            edges: graph.edges.iter().step_by(step).copied().collect(),
        }
    }

    fn hot(&self, rng: &mut Rng) -> u32 {
        self.popular[self.zipf.sample(rng)]
    }

    fn account(&self, rng: &mut Rng) -> u32 {
        1 + rng.below(u64::from(self.accounts - 1).max(1)) as u32
    }

    fn name(&self, node: u32) -> String {
        self.names[node as usize].clone()
    }
}

/// Draws one task's operations; deterministic for a seed.
#[derive(Debug)]
pub struct OpGen {
    plan: Arc<Plan>,
    rng: Rng,
    prefix: String,
    followed: Vec<(u32, u32)>,
    registered: Vec<String>,
    serial: u64,
}

impl OpGen {
    /// The generator of task `task` of a run seeded `seed`.
    pub fn new(plan: Arc<Plan>, seed: u64, task: usize) -> Self {
        OpGen {
            plan,
            rng: Rng::new(seed ^ (task as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            prefix: format!("w{seed:x}t{task}n"),
            followed: Vec::new(),
            registered: Vec::new(),
            serial: 0,
        }
    }

    fn kind(&mut self) -> OpKind {
        let total: u32 = MIX.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.below(u64::from(total)) as u32;
        for (kind, weight) in MIX {
            if pick < weight {
                return kind;
            }
            pick -= weight;
        }
        OpKind::ListPage
    }

    fn pair(&mut self) -> (u32, u32) {
        loop {
            let actor = self.plan.account(&mut self.rng);
            let target = self.plan.hot(&mut self.rng);
            if actor != target {
                return (actor, target);
            }
        }
    }

    /// The next operation.
    pub fn next_op(&mut self) -> Op {
        let plan = Arc::clone(&self.plan);
        match self.kind() {
            OpKind::ListPage => {
                let followers = self.rng.chance(0.5);
                let subject = if followers {
                    plan.hot(&mut self.rng)
                } else {
                    plan.account(&mut self.rng)
                };
                Op::ListPage {
                    subject: plan.name(subject),
                    followers,
                }
            }
            OpKind::NodeLookup => Op::NodeLookup(plan.name(plan.hot(&mut self.rng))),
            OpKind::Follow => {
                let (actor, target) = self.pair();
                if self.followed.len() < 1024 {
                    self.followed.push((actor, target));
                }
                Op::Follow(plan.name(actor), plan.name(target))
            }
            OpKind::Mute => {
                let edge = plan.edges[self.rng.index(plan.edges.len())];
                let muted = self.rng.chance(0.5);
                Op::Mute(plan.name(edge.follower), plan.name(edge.target), muted)
            }
            OpKind::Touch => Op::Touch(plan.name(plan.hot(&mut self.rng))),
            OpKind::Count => Op::Count(plan.name(plan.hot(&mut self.rng))),
            OpKind::Unfollow => {
                // Mostly undoes this task's own follows, so that the graph
                // keeps its shape over a long run.
                let (actor, target) = match self.followed.pop() {
                    Some(pair) => pair,
                    None => self.pair(),
                };
                Op::Unfollow(plan.name(actor), plan.name(target))
            }
            OpKind::Register => {
                self.serial += 1;
                let id = format!("{}{}", self.prefix, self.serial);
                self.registered.push(id.clone());
                Op::Register(id)
            }
            OpKind::Remove => {
                // Removes a node this task registered: removing a popular
                // node would delete up to half the graph in one call.
                let id = self.registered.pop().unwrap_or_else(|| {
                    self.serial += 1;
                    format!("{}{}", self.prefix, self.serial)
                });
                Op::Remove(id)
            }
            OpKind::CheckMany => {
                let actor = plan.account(&mut self.rng);
                let targets = (0..CHECK_BATCH)
                    .map(|_| {
                        loop {
                            let t = plan.hot(&mut self.rng);
                            if t != actor {
                                break plan.name(t);
                            }
                        }
                    })
                    .collect();
                Op::CheckMany(plan.name(actor), targets)
            }
        }
    }

    /// A time for touches and hand-rolled follows.
    fn now(&mut self) -> i64 {
        SINCE_BASE + SINCE_SPAN + self.rng.below(1_000_000) as i64
    }
}

/// Latencies and outcomes of one run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Latencies in nanoseconds, per kind (in [`MIX`] order).
    pub latencies: Vec<Vec<u64>>,
    /// Answers that were errors the workload expects (a mute of an edge
    /// another operation removed, a node another task removed), per kind.
    pub expected_errors: Vec<u64>,
}

impl Report {
    /// Records one finished operation (`succeeded` false: it met an error
    /// the mix expects, such as an unknown node) and ticks the progress count.
    fn record(&mut self, op: &Op, began: Instant, succeeded: bool, progress: Option<&Progress>) {
        let kind = op.kind().index();
        self.latencies[kind].push(began.elapsed().as_nanos() as u64);
        if !succeeded {
            self.expected_errors[kind] += 1;
        }
        if let Some(p) = progress {
            p.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn empty() -> Self {
        Report {
            elapsed: Duration::ZERO,
            latencies: vec![Vec::new(); MIX.len()],
            expected_errors: vec![0; MIX.len()],
        }
    }

    fn merge(&mut self, other: Report) {
        for (mine, theirs) in self.latencies.iter_mut().zip(other.latencies) {
            mine.extend(theirs);
        }
        for (mine, theirs) in self.expected_errors.iter_mut().zip(other.expected_errors) {
            *mine += theirs;
        }
    }

    /// Operations run.
    pub fn ops(&self) -> u64 {
        self.latencies.iter().map(|l| l.len() as u64).sum()
    }

    /// Operations per second.
    pub fn throughput(&self) -> f64 {
        self.ops() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency percentiles of one kind: `(count, p50, p90, p99, max)`.
    pub fn percentiles(&mut self, kind: OpKind) -> (usize, Duration, Duration, Duration, Duration) {
        let samples = &mut self.latencies[kind.index()];
        samples.sort_unstable();
        let at = |q: f64| {
            if samples.is_empty() {
                return Duration::ZERO;
            }
            let i = ((samples.len() - 1) as f64 * q).round() as usize;
            Duration::from_nanos(samples[i])
        };
        (samples.len(), at(0.5), at(0.9), at(0.99), at(1.0))
    }
}

/// Failure of an operation the workload does not expect.
#[derive(Debug)]
pub struct WorkloadError(pub String);

impl std::fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WorkloadError {}

/// Runs one operation through the facade; `Ok(false)` for an expected error.
///
/// # Errors
/// Any other error.
pub async fn run_facade_op(
    graph: &FollowGraph,
    principal: &Principal,
    op: &Op,
) -> Result<bool, follow_core::Error> {
    let page = PageRequest::first().with_limit(MIX_PAGE);
    let result = match op {
        Op::ListPage { subject, followers } => {
            if *followers {
                graph.followers(principal, subject, &page).await.map(drop)
            } else {
                graph.following(principal, subject, &page).await.map(drop)
            }
        }
        Op::NodeLookup(id) => graph.node(principal, id).await.map(drop),
        Op::Follow(a, t) => graph.follow(principal, a, t).await.map(drop),
        Op::Mute(a, t, m) => graph.set_mute(principal, a, t, *m).await.map(drop),
        Op::Touch(id) => graph.touch(principal, id, None).await.map(drop),
        Op::Count(id) => graph.counts(principal, id).await.map(drop),
        Op::Unfollow(a, t) => graph.unfollow(principal, a, t).await.map(drop),
        Op::Register(id) => graph.register(principal, id).await.map(drop),
        Op::Remove(id) => graph.remove(principal, id).await.map(drop),
        Op::CheckMany(a, targets) => {
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            graph.check_many(principal, a, &targets).await.map(drop)
        }
    };
    match result {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.kind(), ErrorKind::NotFollowing | ErrorKind::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Runs one operation on a hand-rolled connection.
///
/// # Errors
/// Any SQLite failure.
pub fn run_hand_op(conn: &mut HandConn, op: &Op, now: i64) -> rusqlite::Result<()> {
    match op {
        Op::ListPage { subject, followers } => {
            if *followers {
                conn.followers_page(subject, 0, MIX_PAGE).map(drop)
            } else {
                conn.following_page(subject, 0, MIX_PAGE).map(drop)
            }
        }
        Op::NodeLookup(id) => conn.node(id).map(drop),
        Op::Follow(a, t) => conn.follow(a, t, now).map(drop),
        Op::Mute(a, t, m) => conn.set_mute(a, t, *m).map(drop),
        Op::Touch(id) => conn.touch(id, now).map(drop),
        Op::Count(id) => {
            conn.follower_count(id)?;
            conn.following_count(id).map(drop)
        }
        Op::Unfollow(a, t) => conn.unfollow(a, t).map(drop),
        Op::Register(id) => conn.register(id, now).map(drop),
        Op::Remove(id) => conn.remove(id).map(drop),
        Op::CheckMany(a, targets) => {
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            conn.check_many(a, &targets).map(drop)
        }
    }
}

/// Runs one operation on a hand-rolled PostgreSQL connection: each a
/// statement or a short transaction, as [`HandPg`] writes them; counts
/// come from the kept stats row.
///
/// # Errors
/// Any PostgreSQL failure.
pub async fn run_hand_pg_op(
    conn: &mut HandPg,
    op: &Op,
    now: i64,
) -> Result<(), tokio_postgres::Error> {
    let page = i64::from(MIX_PAGE);
    match op {
        Op::ListPage { subject, followers } => {
            if *followers {
                conn.followers_page(subject, 0, page).await.map(drop)
            } else {
                conn.following_page(subject, 0, page).await.map(drop)
            }
        }
        Op::NodeLookup(id) => conn.node(id).await.map(drop),
        Op::Follow(a, t) => conn.follow(a, t, now).await.map(drop),
        Op::Mute(a, t, m) => conn.set_mute(a, t, *m).await.map(drop),
        Op::Touch(id) => conn.touch(id, now).await,
        Op::Count(id) => conn.stats(id).await.map(drop),
        Op::Unfollow(a, t) => conn.unfollow(a, t).await.map(drop),
        Op::Register(id) => conn.register(id, now).await.map(drop),
        Op::Remove(id) => conn.remove(id).await.map(drop),
        Op::CheckMany(a, targets) => {
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            conn.check_many(a, &targets).await.map(drop)
        }
    }
}

/// Runs `ops` operations of the mix on the hand-rolled PostgreSQL service,
/// split over `tasks` tokio tasks, each holding one of `conns` (at least
/// `tasks` of them).
///
/// # Errors
/// The first PostgreSQL failure of any task.
pub async fn run_hand_pg(
    conns: &[Arc<tokio::sync::Mutex<HandPg>>],
    plan: Arc<Plan>,
    tasks: usize,
    ops: u64,
    seed: u64,
) -> Result<Report, WorkloadError> {
    let start = Instant::now();
    let mut handles = Vec::new();
    for (task, conn) in conns.iter().take(tasks.max(1)).enumerate() {
        let (conn, plan) = (Arc::clone(conn), Arc::clone(&plan));
        handles.push(tokio::spawn(async move {
            let mut conn = conn.lock().await;
            let mut ops_gen = OpGen::new(plan, seed, task);
            let mut report = Report::empty();
            for _ in 0..ops_of(task, tasks, ops) {
                let op = ops_gen.next_op();
                let now = ops_gen.now();
                let began = Instant::now();
                run_hand_pg_op(&mut conn, &op, now)
                    .await
                    .map_err(|e| WorkloadError(format!("{op:?}: {e}")))?;
                report.record(&op, began, true, None);
            }
            Ok::<_, WorkloadError>(report)
        }));
    }
    gather(handles, start).await
}

/// Counts finished operations, for a progress bar.
pub type Progress = Arc<AtomicU64>;

fn ops_of(task: usize, tasks: usize, ops: u64) -> u64 {
    let tasks = tasks.max(1) as u64;
    ops / tasks + u64::from((task as u64) < ops % tasks)
}

/// Runs `ops` operations of the mix through the facade, split over `tasks`
/// tokio tasks. Must be called inside a tokio runtime.
///
/// # Errors
/// The first unexpected error of any task.
pub async fn run_facade(
    graph: Arc<FollowGraph>,
    principal: Principal,
    plan: Arc<Plan>,
    tasks: usize,
    ops: u64,
    seed: u64,
    progress: Option<Progress>,
) -> Result<Report, WorkloadError> {
    let start = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks.max(1) {
        let (graph, principal, plan, progress) = (
            Arc::clone(&graph),
            principal.clone(),
            Arc::clone(&plan),
            progress.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut ops_gen = OpGen::new(plan, seed, task);
            let mut report = Report::empty();
            for _ in 0..ops_of(task, tasks, ops) {
                let op = ops_gen.next_op();
                let began = Instant::now();
                let ok = run_facade_op(&graph, &principal, &op)
                    .await
                    .map_err(|e| WorkloadError(format!("{op:?}: {e}")))?;
                report.record(&op, began, ok, progress.as_ref());
            }
            Ok::<_, WorkloadError>(report)
        }));
    }
    gather(handles, start).await
}

/// Runs `ops` operations of the mix on the hand-rolled baseline, split over
/// `tasks` tasks, each on a blocking thread with its own connection (as a
/// service would use `spawn_blocking` for a synchronous driver).
///
/// # Errors
/// The first SQLite failure of any task.
pub async fn run_hand(
    db: HandRolled,
    plan: Arc<Plan>,
    tasks: usize,
    ops: u64,
    seed: u64,
    progress: Option<Progress>,
) -> Result<Report, WorkloadError> {
    let start = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks.max(1) {
        let (db, plan, progress) = (db.clone(), Arc::clone(&plan), progress.clone());
        handles.push(tokio::task::spawn_blocking(move || {
            let fail = |e: rusqlite::Error| WorkloadError(e.to_string());
            let mut conn = db.connect().map_err(fail)?;
            let mut ops_gen = OpGen::new(plan, seed, task);
            let mut report = Report::empty();
            for _ in 0..ops_of(task, tasks, ops) {
                let op = ops_gen.next_op();
                let now = ops_gen.now();
                let began = Instant::now();
                run_hand_op(&mut conn, &op, now)
                    .map_err(|e| WorkloadError(format!("{op:?}: {e}")))?;
                report.record(&op, began, true, progress.as_ref());
            }
            Ok::<_, WorkloadError>(report)
        }));
    }
    gather(handles, start).await
}

/// Waits for every task and merges their reports, timed from `start`.
async fn gather(
    handles: Vec<tokio::task::JoinHandle<Result<Report, WorkloadError>>>,
    start: Instant,
) -> Result<Report, WorkloadError> {
    let mut report = Report::empty();
    for handle in handles {
        let part = handle
            .await
            .map_err(|e| WorkloadError(format!("task failed: {e}")))??;
        report.merge(part);
    }
    report.elapsed = start.elapsed();
    Ok(report)
}
