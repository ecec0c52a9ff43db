//! What every case starts from: a facade over a fresh store, a manual clock,
//! principals of two tenants, and small helpers for reading state back.

use std::sync::Arc;
use std::time::Duration;

use follow_core::{
    AccountId, Capabilities, Error, ErrorKind, Event, FollowGraph, FollowStore, ListEntry,
    ListKind, ManualClock, NodeId, NodeRecord, PageRequest, Principal, TenantId, Timestamp,
};

/// The most pages any walk of the suite reads before it fails: a store that
/// never advances must fail a case, not hang it.
pub const MAX_PAGES: usize = 10_000;

/// The tenant most cases use.
pub const TENANT: &str = "acme";
/// A second tenant, for isolation cases.
pub const OTHER_TENANT: &str = "globex";
/// A channel JID.
pub const CHANNEL: &str = "120363012345678901@newsletter";
/// The manual clock's start: 2027-01-15.
pub const START_SECONDS: i64 = 1_800_000_000;

/// The time `seconds` after [`START_SECONDS`].
pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(START_SECONDS + seconds).unwrap()
}

/// A node id, for ids the suite writes itself.
pub fn node(id: &str) -> NodeId {
    NodeId::new(id).unwrap()
}

/// The error kind of a result, if it failed.
pub fn kind<T>(result: Result<T, Error>) -> Option<ErrorKind> {
    result.err().map(|error| error.kind())
}

/// A facade over one store, with a manual clock and principals.
#[derive(Debug)]
pub struct Fixture {
    /// The store under test.
    pub store: Arc<dyn FollowStore>,
    /// The clock the facade reads; starts at [`at`]`(0)`.
    pub clock: Arc<ManualClock>,
    /// The facade.
    pub graph: FollowGraph,
    /// A principal of [`TENANT`] holding every capability, unbound.
    pub admin: Principal,
    /// A principal of [`OTHER_TENANT`] holding every capability, unbound.
    pub other: Principal,
}

impl Fixture {
    /// A fixture over `store` with default settings.
    pub fn new(store: Arc<dyn FollowStore>) -> Self {
        Fixture::with(store, |builder| builder)
    }

    /// A fixture whose facade is configured further by `configure`.
    pub fn with(
        store: Arc<dyn FollowStore>,
        configure: impl FnOnce(follow_core::FollowGraphBuilder) -> follow_core::FollowGraphBuilder,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(at(0)));
        let graph = configure(FollowGraph::builder(store.clone()).clock(clock.clone())).build();
        Fixture {
            store,
            clock,
            graph,
            admin: principal(TENANT, Capabilities::ALL),
            other: principal(OTHER_TENANT, Capabilities::ALL),
        }
    }

    /// The tenant of [`Fixture::admin`].
    pub fn tenant(&self) -> TenantId {
        TenantId::new(TENANT).unwrap()
    }

    /// Advances the clock by whole seconds.
    pub fn tick(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }

    /// Registers nodes in [`TENANT`].
    pub async fn register(&self, ids: &[&str]) {
        for id in ids {
            self.graph.register(&self.admin, id).await.unwrap();
        }
    }

    /// Registers nodes in [`OTHER_TENANT`].
    pub async fn register_other(&self, ids: &[&str]) {
        for id in ids {
            self.graph.register(&self.other, id).await.unwrap();
        }
    }

    /// `actor` follows `target` in [`TENANT`], asserting success.
    pub async fn follow(&self, actor: &str, target: &str) {
        self.graph.follow(&self.admin, actor, target).await.unwrap();
    }

    /// Every event of [`TENANT`], oldest first.
    pub async fn events(&self) -> Vec<Event> {
        events_of(&self.graph, &self.admin).await
    }

    /// A full walk of a list in [`TENANT`] with pages of `limit`.
    pub async fn walk(&self, list: ListKind, subject: &str, limit: u32) -> Vec<ListEntry> {
        walk(&self.graph, &self.admin, list, subject, limit).await
    }

    /// The first page (up to 100 items) of a list in [`TENANT`].
    pub async fn list(&self, list: ListKind, subject: &str) -> Vec<ListEntry> {
        self.walk(list, subject, 100).await
    }

    /// The node ids of a list in [`TENANT`].
    pub async fn ids(&self, list: ListKind, subject: &str) -> Vec<String> {
        self.list(list, subject)
            .await
            .into_iter()
            .map(|entry| entry.node.as_str().to_owned())
            .collect()
    }

    /// Asserts that each node's counts equal what its lists say.
    pub async fn assert_counts_match_lists(&self, nodes: &[&str]) {
        for node in nodes {
            let counts = self.graph.counts(&self.admin, node).await.unwrap();
            let following = self.list(ListKind::Following, node).await.len() as u64;
            let followers = self.list(ListKind::Followers, node).await.len() as u64;
            let mutuals = self.list(ListKind::Mutuals, node).await.len() as u64;
            assert_eq!(
                (counts.following, counts.followers, counts.mutual),
                (following, followers, mutuals),
                "counts of {node} disagree with its lists"
            );
        }
    }
}

/// A principal of `tenant` with `capabilities`.
pub fn principal(tenant: &str, capabilities: impl Into<Capabilities>) -> Principal {
    Principal::new(TenantId::new(tenant).unwrap(), capabilities)
}

/// A principal of [`TENANT`] holding every capability, bound to `account`.
pub fn bound(account: &str) -> Principal {
    principal(TENANT, Capabilities::ALL).bound_to(AccountId::new(account).unwrap())
}

/// Every event visible to `principal`, oldest first.
pub async fn events_of(graph: &FollowGraph, principal: &Principal) -> Vec<Event> {
    events_of_after(graph, principal, None).await
}

/// A full walk of a list with pages of `limit`.
pub async fn walk(
    graph: &FollowGraph,
    principal: &Principal,
    list: ListKind,
    subject: &str,
    limit: u32,
) -> Vec<ListEntry> {
    let mut items = Vec::new();
    let mut request = PageRequest::first().with_limit(limit);
    loop {
        let page = match list {
            ListKind::Following => graph.following(principal, subject, &request).await,
            ListKind::Followers => graph.followers(principal, subject, &request).await,
            ListKind::Mutuals => graph.mutuals(principal, subject, &request).await,
        }
        .unwrap();
        assert!(
            page.items.len() <= limit as usize,
            "a page exceeds its limit"
        );
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(limit),
            None => return items,
        }
        assert!(
            items.len() <= MAX_PAGES,
            "list: a walk of {list:?} of {subject} does not end"
        );
    }
}

/// Every event visible to `principal` strictly after `after`, oldest first.
pub async fn events_of_after(
    graph: &FollowGraph,
    principal: &Principal,
    mut after: Option<follow_core::EventPosition>,
) -> Vec<Event> {
    let mut all: Vec<Event> = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = graph.events(principal, after, Some(1000)).await.unwrap();
        let Some(last) = page.last() else {
            return all;
        };
        for event in &page {
            let previous = all.last().map(|e| e.position).or(after);
            assert!(
                previous.is_none_or(|p| event.position > p),
                "events_after: position {} does not follow {previous:?}",
                event.position
            );
            all.push(event.clone());
        }
        after = Some(last.position);
    }
    panic!("events_after: a walk of the events does not end");
}

/// Everything a read can see of some nodes of [`TENANT`]: the nodes walk,
/// each node's record and lists, and the tenant's events. Two snapshots are
/// equal exactly when no read could tell the states apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    nodes: Vec<NodeRecord>,
    records: Vec<Option<NodeRecord>>,
    lists: Vec<Vec<ListEntry>>,
    events: Vec<Event>,
}

impl Fixture {
    /// A [`Snapshot`] of `ids` (and every registered node of the tenant).
    pub async fn snapshot(&self, ids: &[&str]) -> Snapshot {
        let tenant = self.tenant();
        let nodes = self.store.nodes(&tenant, None, 10_000).await.unwrap();
        let mut records = Vec::new();
        let mut lists = Vec::new();
        for id in ids {
            let record = self.store.node(&tenant, &node(id)).await.unwrap();
            if record.is_some() {
                for list in [ListKind::Following, ListKind::Followers, ListKind::Mutuals] {
                    lists.push(self.list(list, id).await);
                }
            }
            records.push(record);
        }
        Snapshot {
            nodes,
            records,
            lists,
            events: self.events().await,
        }
    }
}

/// Builds a hub with 7 followers, 7 followees and 7 mutuals whose `since`
/// values tie in groups; answers the expected order (since desc, id asc).
pub async fn paging_graph(f: &Fixture) -> Vec<(String, Timestamp)> {
    f.register(&["hub"]).await;
    // Registered out of id order; times tie in groups of 3, 2 and 2.
    let plan = [
        ("p2", 0),
        ("p0", 0),
        ("p1", 0),
        ("p4", 1),
        ("p3", 1),
        ("p6", 2),
        ("p5", 2),
    ];
    for (id, _) in plan {
        f.register(&[id]).await;
    }
    for (id, seconds) in plan {
        f.clock.set(at(seconds));
        f.follow(id, "hub").await;
        f.follow("hub", id).await;
    }
    let mut expected: Vec<(String, Timestamp)> = plan
        .iter()
        .map(|(id, s)| ((*id).to_owned(), at(*s)))
        .collect();
    expected.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    expected
}
