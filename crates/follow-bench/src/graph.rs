//! The benchmark graph: seeded, deterministic, one celebrity, power-law
//! fan-in for everyone else, edges in random order.

use std::collections::HashSet;

use crate::rng::{Rng, Zipf};

/// The default benchmark size: one million edges.
pub const DEFAULT_EDGES: usize = 1_000_000;
/// The default seed.
pub const DEFAULT_SEED: u64 = 0x5EED_F011_0000_0001;
/// The Zipf exponent of the fan-in of non-celebrity targets.
pub const FAN_IN_EXPONENT: f64 = 1.0;
/// The first `since` of the graph (2024-01-01T00:00:00Z, in microseconds).
pub const SINCE_BASE: i64 = 1_704_067_200_000_000;
/// `since` spreads over one year.
pub const SINCE_SPAN: i64 = 365 * 24 * 3600 * 1_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphSpec {
    /// Edges in all.
    pub edges: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl GraphSpec {
    /// `edges` edges with the default seed.
    pub fn with_edges(edges: usize) -> Self {
        GraphSpec {
            edges,
            seed: DEFAULT_SEED,
        }
    }

    /// Followers of the celebrity: half of the edges.
    pub fn celebrity_followers(&self) -> usize {
        self.edges / 2
    }

    /// Accounts other than the celebrity: exactly enough to follow it, and
    /// at least two so that the other edges have somewhere to go.
    pub fn accounts(&self) -> usize {
        self.celebrity_followers().max(2)
    }

    /// Channels (targets only): one per hundred accounts, at least one.
    pub fn channels(&self) -> usize {
        (self.accounts() / 100).max(1)
    }
}

impl Default for GraphSpec {
    fn default() -> Self {
        GraphSpec::with_edges(DEFAULT_EDGES)
    }
}

/// One generated edge, by node index (see [`Graph::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GenEdge {
    /// The follower, an account index.
    pub follower: u32,
    /// The target, an account or channel index.
    pub target: u32,
    /// When the follow began, Unix microseconds.
    pub since: i64,
}

/// A generated graph. Node 0 is the celebrity, `1..=accounts` the other
/// accounts, then the channels.
#[derive(Debug, Clone)]
pub struct Graph {
    /// What it was generated from.
    pub spec: GraphSpec,
    /// The edges, in random order.
    pub edges: Vec<GenEdge>,
}

/// The celebrity's node index.
pub const CELEBRITY: u32 = 0;

impl Graph {
    /// Generates the graph of `spec`; the same spec gives the same graph.
    ///
    /// The celebrity is followed by every account. The other
    /// `edges - edges / 2` edges go from a uniformly chosen account to a
    /// target drawn by Zipf (exponent [`FAN_IN_EXPONENT`]) over a seeded
    /// permutation of the accounts and channels, so fan-in follows a power
    /// law; self-edges and duplicates are redrawn.
    pub fn generate(spec: GraphSpec) -> Self {
        let mut rng = Rng::new(spec.seed);
        let accounts = spec.accounts() as u32;
        let channels = spec.channels() as u32;
        let mut edges = Vec::with_capacity(spec.edges);
        let since = |rng: &mut Rng| SINCE_BASE + rng.below(SINCE_SPAN as u64) as i64;
        for follower in 1..=spec.celebrity_followers().min(spec.edges) as u32 {
            edges.push(GenEdge {
                follower,
                target: CELEBRITY,
                since: since(&mut rng),
            });
        }
        // Targets by popularity: rank r is the r-th entry of a permutation of
        // the accounts (1..=accounts) and channels.
        let mut pool: Vec<u32> = (1..=accounts + channels).collect();
        rng.shuffle(&mut pool);
        let zipf = Zipf::new(pool.len(), FAN_IN_EXPONENT);
        let mut seen: HashSet<u64> = HashSet::with_capacity(spec.edges - edges.len());
        while edges.len() < spec.edges {
            let follower = 1 + rng.below(u64::from(accounts)) as u32;
            let target = pool[zipf.sample(&mut rng)];
            if follower == target || !seen.insert(u64::from(follower) << 32 | u64::from(target)) {
                continue;
            }
            edges.push(GenEdge {
                follower,
                target,
                since: since(&mut rng),
            });
        }
        rng.shuffle(&mut edges);
        Graph { spec, edges }
    }

    /// Accounts, the celebrity included.
    pub fn account_count(&self) -> u32 {
        self.spec.accounts() as u32 + 1
    }

    /// Nodes in all (accounts and channels).
    pub fn node_count(&self) -> u32 {
        self.account_count() + self.spec.channels() as u32
    }

    /// Whether node `index` is an account.
    pub fn is_account(&self, index: u32) -> bool {
        index < self.account_count()
    }

    /// The id of node `index`: `u{index}` for accounts, a channel JID
    /// (`{10^11 + index}@newsletter`) for channels.
    pub fn name(&self, index: u32) -> String {
        if self.is_account(index) {
            format!("u{index}")
        } else {
            format!("{}@newsletter", 100_000_000_000u64 + u64::from(index))
        }
    }

    /// Followers of every node, by index.
    pub fn fan_in(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.node_count() as usize];
        for edge in &self.edges {
            counts[edge.target as usize] += 1;
        }
        counts
    }

    /// Every node, most followers first (ties by index): the order in which
    /// the workload's Zipf-skewed choice prefers them.
    pub fn by_popularity(&self) -> Vec<u32> {
        let fan_in = self.fan_in();
        let mut nodes: Vec<u32> = (0..self.node_count()).collect();
        nodes.sort_by_key(|&n| (std::cmp::Reverse(fan_in[n as usize]), n));
        nodes
    }

    /// An account with exactly `followers` followers, or failing that the
    /// account whose count is nearest (the smallest index among equals).
    pub fn account_with_followers(&self, followers: u32) -> u32 {
        let fan_in = self.fan_in();
        (1..self.account_count())
            .min_by_key(|&n| (fan_in[n as usize].abs_diff(followers), n))
            .unwrap_or(CELEBRITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_graph_other_seed_other_graph() {
        let spec = GraphSpec::with_edges(2_000);
        assert_eq!(Graph::generate(spec).edges, Graph::generate(spec).edges);
        let other = GraphSpec { seed: 9, ..spec };
        assert_ne!(Graph::generate(spec).edges, Graph::generate(other).edges);
    }

    #[test]
    fn edge_count_and_celebrity_fan_in() {
        for edges in [10, 101, 2_000, 20_000] {
            let graph = Graph::generate(GraphSpec::with_edges(edges));
            assert_eq!(graph.edges.len(), edges);
            assert_eq!(graph.fan_in()[CELEBRITY as usize] as usize, edges / 2);
            assert_eq!(graph.by_popularity()[0], CELEBRITY);
        }
    }

    #[test]
    fn no_self_edges_no_duplicates_followers_are_accounts() {
        let graph = Graph::generate(GraphSpec::with_edges(20_000));
        let mut seen = HashSet::new();
        for edge in &graph.edges {
            assert_ne!(edge.follower, edge.target);
            assert!(graph.is_account(edge.follower));
            assert!(edge.target < graph.node_count());
            assert!(seen.insert((edge.follower, edge.target)));
            assert!((SINCE_BASE..SINCE_BASE + SINCE_SPAN).contains(&edge.since));
        }
    }

    #[test]
    fn edges_come_in_random_order() {
        let graph = Graph::generate(GraphSpec::with_edges(2_000));
        // Sorted input would put all the celebrity's edges first.
        let head = graph.edges[..100].iter().filter(|e| e.target == CELEBRITY);
        let n = head.count();
        assert!(
            (20..80).contains(&n),
            "{n} of the first 100 go to the celebrity"
        );
    }

    #[test]
    fn fan_in_is_skewed_and_small_accounts_exist() {
        let graph = Graph::generate(GraphSpec::with_edges(20_000));
        let fan_in = graph.fan_in();
        let order = graph.by_popularity();
        // The most popular non-celebrity has far more than the median.
        assert!(
            fan_in[order[1] as usize] >= 50,
            "{}",
            fan_in[order[1] as usize]
        );
        assert_eq!(fan_in[order[order.len() / 2] as usize], 0);
        let ten = graph.account_with_followers(10);
        assert_eq!(fan_in[ten as usize], 10);
        assert!(graph.name(graph.node_count() - 1).ends_with("@newsletter"));
        assert_eq!(graph.name(3), "u3");
    }
}
