//! What the in-memory store costs at scale: resident bytes per edge, relation
//! checks per second, and a deep followers page against the first one.
//!
//! ```sh
//! cargo run --release -p follow-store-memory --example footprint -- [EDGES]
//! ```
//!
//! The graph has the benchmark's shape: one celebrity (`u0`)
//! followed by half of the edges, one account per celebrity follower, one
//! channel per hundred accounts, the other half of the edges from a uniform
//! account to a target drawn with Zipf (exponent 1) fan-in, `since` spread over
//! 2024, loaded in random order through `FollowGraph::import`. Memory comes
//! from /proc/self/status (Linux); the edge list is built before the first
//! reading and kept alive, so the delta is the store's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use follow_core::{
    AccountId, Capabilities, Error, FollowGraph, FollowStore, ImportEdge, ListKind, ListQuery,
    NodeId, PageRequest, Principal, TenantId, Timestamp,
};
use follow_store_memory::MemoryStore;

/// SplitMix64: enough randomness for a reproducible graph, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

const SINCE_BASE: i64 = 1_704_067_200_000_000;
const SINCE_SPAN: u64 = 366 * 24 * 3600 * 1_000_000;

struct Shape {
    accounts: u32,
}

impl Shape {
    fn name(&self, node: u32) -> String {
        if node <= self.accounts {
            format!("u{node}")
        } else {
            format!("{}@newsletter", 100_000_000_000u64 + u64::from(node))
        }
    }
}

/// Edges as `follower << 32 | target`, deduplicated, in random order.
fn generate(edges: usize, rng: &mut Rng) -> (Shape, Vec<u64>) {
    let celebrity_followers = edges / 2;
    let accounts = celebrity_followers.max(2) as u32;
    let channels = (accounts / 100).max(1);
    let mut pool: Vec<u32> = (1..=accounts + channels).collect();
    rng.shuffle(&mut pool);
    let others = edges - celebrity_followers;
    let mut list: Vec<u64> = Vec::with_capacity(others + others / 8 + 16);
    // Zipf(1) by inversion: rank = floor((n + 1)^u) - 1 is close to 1/(r+1).
    let ln = (pool.len() as f64 + 1.0).ln();
    while list.len() < others {
        while list.len() < list.capacity() {
            let follower = 1 + rng.below(u64::from(accounts)) as u32;
            let rank = ((rng.unit() * ln).exp() as usize).saturating_sub(1);
            let target = pool[rank.min(pool.len() - 1)];
            if follower != target {
                list.push(u64::from(follower) << 32 | u64::from(target));
            }
        }
        // Sorting in place (not a HashSet) keeps the generator from freeing
        // memory the store would then reuse unseen by the RSS delta.
        list.sort_unstable();
        list.dedup();
    }
    rng.shuffle(&mut list);
    list.truncate(others);
    list.extend((1..=celebrity_followers as u64).map(|f| f << 32));
    rng.shuffle(&mut list);
    (Shape { accounts }, list)
}

/// (VmRSS, VmHWM) in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

async fn run(edges: usize) -> Result<(), Error> {
    let mut rng = Rng(0x5EED_F011_0000_0001);
    let (shape, list) = generate(edges, &mut rng);
    let names = |edge: u64| (shape.name((edge >> 32) as u32), shape.name(edge as u32));

    let store = Arc::new(MemoryStore::new());
    let graph = FollowGraph::new(store.clone());
    let tenant = TenantId::new("bench")?;
    let admin = Principal::new(tenant.clone(), Capabilities::ALL);

    let (rss_before, _) = memory();
    let started = Instant::now();
    // Calls of 10,000: a memory store gains nothing from bigger ones, and
    // each call's request and answers count towards the peak.
    let calls = graph.import_limit().min(10_000);
    let mut chunk = Vec::with_capacity(calls);
    for part in list.chunks(calls) {
        chunk.clear();
        for &edge in part {
            let (follower, target) = names(edge);
            let since = SINCE_BASE + rng.below(SINCE_SPAN) as i64;
            chunk.push(
                ImportEdge::new(AccountId::new(&follower)?, NodeId::new(&target)?)
                    .since(Timestamp::from_unix_micros(since)?),
            );
        }
        for result in graph.import(&admin, &chunk).await? {
            result?;
        }
    }
    let load = started.elapsed();
    drop(chunk);
    let (rss_after, hwm_after) = memory();
    let per_edge = |bytes: u64| bytes.saturating_sub(rss_before) as f64 / list.len() as f64;
    println!(
        "loaded {} edges ({} accounts) in {:.1?} ({:.0} edges/s)",
        list.len(),
        shape.accounts + 1,
        load,
        per_second(list.len(), load)
    );
    println!(
        "memory: {:.1} bytes/edge resident after loading (VmRSS {} MiB -> {} MiB), {:.1} at peak (VmHWM {} MiB)",
        per_edge(rss_after),
        rss_before >> 20,
        rss_after >> 20,
        per_edge(hwm_after),
        hwm_after >> 20
    );

    // Relation checks: half of them on edges, half on random pairs.
    let checks = 400_000;
    let mut pairs = Vec::with_capacity(checks);
    let nodes = u64::from(shape.accounts) + 1;
    for i in 0..checks {
        let pair = if i % 2 == 0 {
            names(list[rng.below(list.len() as u64) as usize])
        } else {
            let a = 1 + rng.below(nodes - 1) as u32;
            let b = (a + 1 + rng.below(nodes - 2) as u32) % nodes as u32;
            (shape.name(a), shape.name(b.max(1)))
        };
        if pair.0 != pair.1 {
            pairs.push(pair);
        }
    }
    let ids: Vec<(NodeId, NodeId)> = pairs
        .iter()
        .map(|(a, b)| Ok((NodeId::new(a)?, NodeId::new(b)?)))
        .collect::<Result<_, Error>>()?;
    // Best of three rounds each: the machine may be shared.
    let (mut facade, mut direct) = (Duration::MAX, Duration::MAX);
    let (mut related, mut outgoing) = (0usize, 0usize);
    for _ in 0..3 {
        let started = Instant::now();
        related = 0;
        for (a, b) in &pairs {
            let relation = graph.relation(&admin, a, b).await?;
            related += usize::from(relation != follow_core::Relation::None);
        }
        facade = facade.min(started.elapsed());
        let started = Instant::now();
        outgoing = 0;
        for (a, b) in &ids {
            let facts = store.pairs(&tenant, a, std::slice::from_ref(b)).await?;
            outgoing += facts.map_or(0, |f| f.iter().filter(|p| p.outgoing.is_some()).count());
        }
        direct = direct.min(started.elapsed());
    }
    println!(
        "relation checks (best of 3): {:.0}/s through FollowGraph::relation, {:.0}/s through FollowStore::pairs ({} checks, {related} related, {outgoing} following)",
        per_second(pairs.len(), facade),
        per_second(ids.len(), direct),
        pairs.len()
    );

    // The celebrity's followers: the first page, and a page 400,000 deep
    // (or as deep as the list goes), reached by cursor.
    let celebrity = shape.name(0);
    let limit = 100;
    let depth = 400_000.min(edges / 2).saturating_sub(limit as usize);
    let mut request = PageRequest::first().with_limit(limit);
    let mut walked = 0;
    while walked < depth {
        let page = graph.followers(&admin, &celebrity, &request).await?;
        walked += page.items.len();
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(limit),
            None => break,
        }
    }
    let deep = request;
    let first = PageRequest::first().with_limit(limit);
    let rounds = 20_000;
    let first_page = time_page(&graph, &admin, &celebrity, &first, rounds).await?;
    let deep_page = time_page(&graph, &admin, &celebrity, &deep, rounds).await?;
    // The same through the store, without the facade and its cursors.
    let deep_after = graph
        .followers(&admin, &celebrity, &deep)
        .await?
        .items
        .first()
        .map(|item| item.position());
    let query = |after| -> Result<ListQuery, Error> {
        Ok(ListQuery {
            tenant: tenant.clone(),
            list: ListKind::Followers,
            subject: NodeId::new(&celebrity)?,
            after,
            limit: limit as usize,
        })
    };
    // The deep query resumes after the deep page's first item: one short
    // of the facade's depth, the same cost.
    let first_store = time_list(&store, query(None)?, rounds).await?;
    let deep_store = time_list(&store, query(deep_after)?, rounds).await?;
    println!(
        "followers of {celebrity} ({limit} a page): first page {first_page:.1?}, page at depth {walked} {deep_page:.1?} ({:.2}x); store only: {first_store:.1?} vs {deep_store:.1?} ({:.2}x)",
        deep_page.as_secs_f64() / first_page.as_secs_f64(),
        deep_store.as_secs_f64() / first_store.as_secs_f64(),
    );
    Ok(())
}

async fn time_page(
    graph: &FollowGraph,
    admin: &Principal,
    subject: &str,
    request: &PageRequest,
    rounds: u32,
) -> Result<Duration, Error> {
    let started = Instant::now();
    for _ in 0..rounds {
        graph.followers(admin, subject, request).await?;
    }
    Ok(started.elapsed() / rounds)
}

async fn time_list(store: &MemoryStore, query: ListQuery, rounds: u32) -> Result<Duration, Error> {
    let started = Instant::now();
    for _ in 0..rounds {
        store.list(query.clone()).await?;
    }
    Ok(started.elapsed() / rounds)
}

fn main() -> Result<(), Error> {
    let edges = std::env::args()
        .nth(1)
        .map(|arg| arg.replace('_', "").parse::<usize>())
        .transpose()
        .map_err(|e| Error::invalid_argument("EDGES", e.to_string()))?
        .unwrap_or(1_000_000)
        .max(4);
    futures::executor::block_on(run(edges))
}
