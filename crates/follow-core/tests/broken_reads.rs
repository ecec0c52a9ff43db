//! The facade's own loops (refilling a filtered page, authorising requests
//! after an unlock) end with an `internal` error, never hang, when a store
//! answers reads that its cursor or its writes contradict.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use follow_conformance::fixture::Fixture;
use follow_core::feed::{ConsumerName, ConsumerState, FeedState, PruneStep};
use follow_core::{
    AccountId, CommandResult, Error, ErrorKind, Event, EventPosition, FollowStore, Link,
    LinkDirection, LinkEntry, LinkKey, LinkKind, LinkQuery, ListEntry, ListKind, ListQuery, NodeId,
    NodeRecord, PageRequest, PairFacts, StaleEntry, StaleQuery, TenantId, Timestamp, WriteBatch,
};
use follow_store_memory::MemoryStore;

/// How the store lies.
#[derive(Debug, Clone, Copy)]
enum Lie {
    /// Every list and links read ignores its cursor.
    IgnoresCursors,
    /// Every incoming request list holds one request it never stored.
    PhantomRequest,
}

/// The memory store, but for the lie.
#[derive(Debug)]
struct Liar {
    inner: MemoryStore,
    lie: Lie,
}

impl fmt::Display for Liar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "liar ({:?})", self.lie)
    }
}

#[async_trait]
impl FollowStore for Liar {
    async fn write(&self, batch: WriteBatch) -> Result<Vec<CommandResult>, Error> {
        self.inner.write(batch).await
    }
    async fn node(&self, tenant: &TenantId, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        self.inner.node(tenant, id).await
    }
    async fn pairs(
        &self,
        tenant: &TenantId,
        subject: &NodeId,
        others: &[NodeId],
    ) -> Result<Option<Vec<PairFacts>>, Error> {
        self.inner.pairs(tenant, subject, others).await
    }
    async fn list(&self, mut query: ListQuery) -> Result<Option<Vec<ListEntry>>, Error> {
        if let Lie::IgnoresCursors = self.lie {
            query.after = None;
        }
        self.inner.list(query).await
    }
    async fn links_between(
        &self,
        tenant: &TenantId,
        subject: &AccountId,
        others: &[AccountId],
    ) -> Result<Vec<(LinkKey, Link)>, Error> {
        self.inner.links_between(tenant, subject, others).await
    }
    async fn links(&self, mut query: LinkQuery) -> Result<Option<Vec<LinkEntry>>, Error> {
        match self.lie {
            Lie::IgnoresCursors => query.after = None,
            Lie::PhantomRequest
                if query.kind == LinkKind::Request
                    && query.direction == LinkDirection::Incoming =>
            {
                let phantom = LinkEntry {
                    account: AccountId::new("phantom").unwrap(),
                    link: Link::request(Timestamp::EPOCH, Default::default()),
                };
                let mut items = self.inner.links(query).await?.unwrap_or_default();
                items.push(phantom);
                return Ok(Some(items));
            }
            Lie::PhantomRequest => {}
        }
        self.inner.links(query).await
    }
    async fn stale_following(&self, query: StaleQuery) -> Result<Option<Vec<StaleEntry>>, Error> {
        self.inner.stale_following(query).await
    }
    async fn nodes(
        &self,
        tenant: &TenantId,
        after: Option<&NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeRecord>, Error> {
        self.inner.nodes(tenant, after, limit).await
    }
    async fn events_after(
        &self,
        tenant: &TenantId,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        self.inner.events_after(tenant, after, limit).await
    }
    fn cursor_secret(&self) -> [u8; 16] {
        self.inner.cursor_secret()
    }
    async fn consumer(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
    ) -> Result<Option<ConsumerState>, Error> {
        self.inner.consumer(tenant, name).await
    }
    async fn consumers(&self, tenant: &TenantId) -> Result<Vec<ConsumerState>, Error> {
        self.inner.consumers(tenant).await
    }
    async fn acknowledge(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
        position: EventPosition,
        at: Timestamp,
    ) -> Result<ConsumerState, Error> {
        self.inner.acknowledge(tenant, name, position, at).await
    }
    async fn feed_state(&self, tenant: &TenantId) -> Result<FeedState, Error> {
        self.inner.feed_state(tenant).await
    }
    async fn prune_events(&self, step: PruneStep) -> Result<u64, Error> {
        self.inner.prune_events(step).await
    }
}

fn liar(lie: Lie) -> Fixture {
    Fixture::new(Arc::new(Liar {
        inner: MemoryStore::new(),
        lie,
    }))
}

/// Bounds a call that must end: a hang fails the test instead of the run.
async fn ends<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .unwrap_or_else(|_| panic!("the call did not end"))
}

#[tokio::test]
async fn a_viewer_page_over_a_store_that_ignores_its_cursor_fails_instead_of_looping() {
    let f = liar(Lie::IgnoresCursors);
    f.register(&["alice", "v", "a1", "a2", "a3"]).await;
    for follower in ["a1", "a2", "a3"] {
        f.follow(follower, "alice").await;
    }
    // Every item but the viewer's own block is filtered, so the page needs
    // a second round, which the store answers with the first page again.
    f.graph.block(&f.admin, "v", "a3").await.unwrap();
    f.graph.block(&f.admin, "v", "a2").await.unwrap();
    let page = PageRequest::first().with_limit(1);
    let result = ends(
        f.graph
            .list_as(&f.admin, "v", ListKind::Followers, "alice", &page, false),
    )
    .await;
    assert_eq!(result.err().map(|e| e.kind()), Some(ErrorKind::Internal));
}

#[tokio::test]
async fn a_mutes_page_over_a_store_that_ignores_its_cursor_fails_instead_of_looping() {
    let f = liar(Lie::IgnoresCursors);
    f.register(&["alice", "m1", "m2", "m3"]).await;
    for (index, target) in ["m1", "m2", "m3"].into_iter().enumerate() {
        let duration = (index < 2).then_some(Duration::from_secs(1));
        f.graph
            .mute_account(&f.admin, "alice", target, None, duration)
            .await
            .unwrap();
        f.tick(1);
    }
    f.tick(10);
    let page = PageRequest::first().with_limit(1);
    let result = ends(f.graph.mutes(&f.admin, "alice", &page)).await;
    assert_eq!(result.err().map(|e| e.kind()), Some(ErrorKind::Internal));
}

#[tokio::test]
async fn an_unlock_over_a_store_that_lists_a_request_it_does_not_hold_fails_instead_of_looping() {
    let f = liar(Lie::PhantomRequest);
    f.register(&["star", "fan", "phantom"]).await;
    f.graph.set_locked(&f.admin, "star", true).await.unwrap();
    f.graph.follow(&f.admin, "fan", "star").await.unwrap();
    let result = ends(f.graph.set_locked(&f.admin, "star", false)).await;
    assert_eq!(result.err().map(|e| e.kind()), Some(ErrorKind::Internal));
    // The real request was authorised on the way.
    assert_eq!(f.graph.counts(&f.admin, "star").await.unwrap().followers, 1);
}
