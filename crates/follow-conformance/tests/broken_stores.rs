//! The suite is measured by the bugs it catches: each store here is the
//! in-memory store with one plausible bug injected, and the suite must fail
//! on every one of them, without hanging. Run with `--nocapture` to see
//! which cases catch which bug.

#![allow(clippy::unwrap_used)]

use std::panic::catch_unwind;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use follow_conformance::StoreFactory;
use follow_core::feed::{ConsumerName, ConsumerState, FeedState, PruneStep};
use follow_core::{
    AccountId, CommandResult, Error, Event, EventPosition, FollowOptions, FollowStore, Link,
    LinkEntry, LinkKey, LinkQuery, ListEntry, ListKind, ListQuery, NodeId, NodeRecord, PairFacts,
    StaleEntry, StaleQuery, TenantId, Timestamp, WriteBatch,
};
use follow_store_memory::MemoryStore;

/// The bugs, one per broken store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bug {
    /// `list`, `nodes`, `stale_following` and `events_after` ignore `limit`.
    IgnoresLimit,
    /// The mutuals list carries the other account's mute flag.
    MutualsShowTheOthersFlag,
    /// Event positions are counted per tenant instead of per store.
    PositionsPerTenant,
    /// Event positions start at 0.
    PositionsFromZero,
    /// `events_after` includes the event at `after`.
    InclusiveEventsAfter,
    /// `stale_following` includes the follow at `after`.
    InclusiveStaleCursor,
    /// `list` includes the item at `after`.
    InclusiveListCursor,
    /// `pairs` never reports the follow back.
    PairsMissTheWayBack,
    /// `pairs` answers a repeated other once.
    PairsDropDuplicates,
    /// `nodes` answers newest-registered first instead of by id.
    NodesOutOfOrder,
    /// `node` answers counts of zero.
    NodeForgetsCounts,
    /// `write` answers no event with a changed outcome.
    WriteDropsEvents,
    /// `prune_events` ignores `through`: it removes unacknowledged events.
    PruneIgnoresThrough,
    /// `prune_events` ignores its limit: one huge transaction.
    PruneUnbounded,
    /// `links` includes the link at `after`.
    InclusiveLinksCursor,
    /// `links_between` answers only the links the subject made.
    LinksBetweenOneWay,
    /// `node` answers a link count of zero.
    NodeForgetsLinks,
    /// `list` answers every item with the default follow options.
    ListsForgetOptions,
}

const BUGS: [Bug; 18] = [
    Bug::IgnoresLimit,
    Bug::MutualsShowTheOthersFlag,
    Bug::PositionsPerTenant,
    Bug::PositionsFromZero,
    Bug::InclusiveEventsAfter,
    Bug::InclusiveStaleCursor,
    Bug::InclusiveListCursor,
    Bug::PairsMissTheWayBack,
    Bug::PairsDropDuplicates,
    Bug::NodesOutOfOrder,
    Bug::NodeForgetsCounts,
    Bug::WriteDropsEvents,
    Bug::PruneIgnoresThrough,
    Bug::PruneUnbounded,
    Bug::InclusiveLinksCursor,
    Bug::LinksBetweenOneWay,
    Bug::NodeForgetsLinks,
    Bug::ListsForgetOptions,
];

/// A memory store with one bug.
#[derive(Debug)]
struct Broken {
    inner: MemoryStore,
    bug: Bug,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "memory with {:?}", self.bug)
    }
}

impl Broken {
    fn limit(&self, limit: usize) -> usize {
        if self.bug == Bug::IgnoresLimit {
            1_000_000
        } else {
            limit
        }
    }

    /// The tenant's events, all of them, as the inner store numbers them.
    async fn all_events(&self, tenant: &TenantId) -> Vec<Event> {
        self.inner
            .events_after(tenant, None, usize::MAX)
            .await
            .unwrap()
    }

    /// A position as the broken store shows it.
    async fn shown(&self, tenant: &TenantId, position: EventPosition) -> EventPosition {
        match self.bug {
            Bug::PositionsFromZero => EventPosition(position.0 - 1),
            Bug::PositionsPerTenant => {
                let all = self.all_events(tenant).await;
                let index = all.iter().position(|e| e.position == position).unwrap_or(0);
                EventPosition(index as u64 + 1)
            }
            _ => position,
        }
    }

    /// A shown position as the inner store numbers it.
    async fn stored(&self, tenant: &TenantId, position: EventPosition) -> EventPosition {
        match self.bug {
            Bug::PositionsFromZero => EventPosition(position.0 + 1),
            Bug::PositionsPerTenant => {
                let all = self.all_events(tenant).await;
                let index = usize::try_from(position.0).unwrap_or(usize::MAX);
                index
                    .checked_sub(1)
                    .and_then(|i| all.get(i))
                    .map_or(EventPosition(u64::MAX), |e| e.position)
            }
            Bug::InclusiveEventsAfter => EventPosition(position.0.saturating_sub(1)),
            _ => position,
        }
    }

    /// Entries of `list` from `after` on, `after` included.
    async fn inclusive_list(&self, query: ListQuery) -> Option<Vec<ListEntry>> {
        let mut all = self
            .inner
            .list(ListQuery {
                after: None,
                limit: usize::MAX,
                ..query.clone()
            })
            .await
            .unwrap()?;
        if let Some(after) = &query.after {
            all.retain(|e| e.position() >= *after);
        }
        all.truncate(query.limit);
        Some(all)
    }
}

#[async_trait]
impl FollowStore for Broken {
    async fn write(&self, batch: WriteBatch) -> Result<Vec<CommandResult>, Error> {
        let tenant = batch.tenant.clone();
        let mut results = self.inner.write(batch).await?;
        for applied in results.iter_mut().flatten() {
            if self.bug == Bug::WriteDropsEvents {
                applied.event = None;
            }
            if let Some(event) = &mut applied.event {
                event.position = self.shown(&tenant, event.position).await;
            }
        }
        Ok(results)
    }

    async fn node(&self, tenant: &TenantId, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        let mut node = self.inner.node(tenant, id).await?;
        if self.bug == Bug::NodeForgetsCounts
            && let Some(node) = &mut node
        {
            node.counts = follow_core::Counts::default();
        }
        if self.bug == Bug::NodeForgetsLinks
            && let Some(node) = &mut node
        {
            node.links = 0;
        }
        Ok(node)
    }

    async fn pairs(
        &self,
        tenant: &TenantId,
        subject: &NodeId,
        others: &[NodeId],
    ) -> Result<Option<Vec<PairFacts>>, Error> {
        let mut asked = others.to_vec();
        if self.bug == Bug::PairsDropDuplicates {
            asked.dedup();
            let mut seen = std::collections::HashSet::new();
            asked.retain(|o| seen.insert(o.clone()));
        }
        let mut facts = self.inner.pairs(tenant, subject, &asked).await?;
        if self.bug == Bug::PairsMissTheWayBack
            && let Some(facts) = &mut facts
        {
            facts.iter_mut().for_each(|f| f.incoming = false);
        }
        Ok(facts)
    }

    async fn list(&self, query: ListQuery) -> Result<Option<Vec<ListEntry>>, Error> {
        let (tenant, list, subject) = (query.tenant.clone(), query.list, query.subject.clone());
        let mut entries = if self.bug == Bug::InclusiveListCursor {
            self.inclusive_list(query).await
        } else {
            let limit = self.limit(query.limit);
            self.inner.list(ListQuery { limit, ..query }).await?
        };
        if self.bug == Bug::MutualsShowTheOthersFlag
            && list == ListKind::Mutuals
            && let Some(entries) = &mut entries
        {
            for entry in entries.iter_mut() {
                let back = self
                    .inner
                    .pairs(&tenant, &entry.node, std::slice::from_ref(&subject))
                    .await?;
                if let Some(edge) = back.and_then(|f| f.first().and_then(|f| f.outgoing)) {
                    entry.muted = edge.muted;
                }
            }
        }
        if self.bug == Bug::ListsForgetOptions
            && let Some(entries) = &mut entries
        {
            for entry in entries.iter_mut() {
                entry.options = FollowOptions::default();
            }
        }
        Ok(entries)
    }

    async fn links_between(
        &self,
        tenant: &TenantId,
        subject: &AccountId,
        others: &[AccountId],
    ) -> Result<Vec<(LinkKey, Link)>, Error> {
        let mut links = self.inner.links_between(tenant, subject, others).await?;
        if self.bug == Bug::LinksBetweenOneWay {
            links.retain(|(key, _)| key.from == *subject);
        }
        Ok(links)
    }

    async fn links(&self, query: LinkQuery) -> Result<Option<Vec<LinkEntry>>, Error> {
        if self.bug == Bug::InclusiveLinksCursor {
            let all = LinkQuery {
                after: None,
                limit: usize::MAX,
                ..query.clone()
            };
            let Some(mut entries) = self.inner.links(all).await? else {
                return Ok(None);
            };
            if let Some(after) = &query.after {
                entries.retain(|e| e.position() >= *after);
            }
            entries.truncate(query.limit);
            return Ok(Some(entries));
        }
        let limit = self.limit(query.limit);
        self.inner.links(LinkQuery { limit, ..query }).await
    }

    async fn stale_following(&self, query: StaleQuery) -> Result<Option<Vec<StaleEntry>>, Error> {
        if self.bug == Bug::InclusiveStaleCursor {
            let all = StaleQuery {
                after: None,
                limit: usize::MAX,
                ..query.clone()
            };
            let Some(mut entries) = self.inner.stale_following(all).await? else {
                return Ok(None);
            };
            if let Some(after) = &query.after {
                entries.retain(|e| e.position() >= *after);
            }
            entries.truncate(query.limit);
            return Ok(Some(entries));
        }
        let limit = self.limit(query.limit);
        self.inner
            .stale_following(StaleQuery { limit, ..query })
            .await
    }

    async fn nodes(
        &self,
        tenant: &TenantId,
        after: Option<&NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeRecord>, Error> {
        let mut nodes = self.inner.nodes(tenant, after, self.limit(limit)).await?;
        if self.bug == Bug::NodesOutOfOrder {
            nodes.sort_by(|a, b| b.registered_at.cmp(&a.registered_at).then(b.id.cmp(&a.id)));
        }
        Ok(nodes)
    }

    fn cursor_secret(&self) -> [u8; 16] {
        self.inner.cursor_secret()
    }

    async fn events_after(
        &self,
        tenant: &TenantId,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        let after = match after {
            Some(position) => Some(self.stored(tenant, position).await),
            None => None,
        };
        let mut events = self
            .inner
            .events_after(tenant, after, self.limit(limit))
            .await?;
        for event in &mut events {
            event.position = self.shown(tenant, event.position).await;
        }
        Ok(events)
    }

    async fn consumer(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
    ) -> Result<Option<ConsumerState>, Error> {
        let mut consumer = self.inner.consumer(tenant, name).await?;
        if let Some(consumer) = &mut consumer {
            consumer.position = self.shown(tenant, consumer.position).await;
        }
        Ok(consumer)
    }

    async fn consumers(&self, tenant: &TenantId) -> Result<Vec<ConsumerState>, Error> {
        let mut consumers = self.inner.consumers(tenant).await?;
        for consumer in &mut consumers {
            consumer.position = self.shown(tenant, consumer.position).await;
        }
        Ok(consumers)
    }

    async fn acknowledge(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
        position: EventPosition,
        at: Timestamp,
    ) -> Result<ConsumerState, Error> {
        let stored = self.stored(tenant, position).await;
        let mut consumer = self.inner.acknowledge(tenant, name, stored, at).await?;
        consumer.position = self.shown(tenant, consumer.position).await;
        Ok(consumer)
    }

    async fn feed_state(&self, tenant: &TenantId) -> Result<FeedState, Error> {
        self.inner.feed_state(tenant).await
    }

    async fn prune_events(&self, mut step: PruneStep) -> Result<u64, Error> {
        match self.bug {
            Bug::PruneIgnoresThrough => step.through = EventPosition(u64::MAX),
            Bug::PruneUnbounded => step.limit = usize::MAX,
            _ => step.through = self.stored(&step.tenant, step.through).await,
        }
        self.inner.prune_events(step).await
    }
}

/// The bug the next [`BrokenFactory`] injects. The suite makes its factory
/// with `Default`, so the bug reaches it through this static; the one test
/// below sets it before each run. One factory type, not one per bug, keeps
/// the suite monomorphised once.
static INJECTED: Mutex<Bug> = Mutex::new(Bug::IgnoresLimit);

/// Makes memory stores with the bug [`INJECTED`] held when it was made.
struct BrokenFactory {
    bug: Bug,
}

impl Default for BrokenFactory {
    fn default() -> Self {
        let bug = *INJECTED.lock().unwrap_or_else(PoisonError::into_inner);
        Self { bug }
    }
}

#[async_trait]
impl StoreFactory for BrokenFactory {
    async fn create(&self) -> Arc<dyn FollowStore> {
        Arc::new(Broken {
            inner: MemoryStore::new(),
            bug: self.bug,
        })
    }
    async fn create_failing_after(&self, rows: usize) -> Option<Arc<dyn FollowStore>> {
        let inner = MemoryStore::failing_commits_after(rows);
        Some(Arc::new(Broken {
            inner,
            bug: self.bug,
        }))
    }
    async fn dispose(&self, _: Arc<dyn FollowStore>) {}
}

/// The cases that fail on a store made by `F`.
fn failing<F: StoreFactory>() -> Vec<String> {
    follow_conformance::cases::<F>()
        .into_iter()
        .filter(|(name, run)| {
            let started = std::time::Instant::now();
            if std::env::var_os("SHOW_CASES").is_some() {
                eprintln!("starting {}", name.rule);
            }
            let failed = catch_unwind(run).is_err();
            if std::env::var_os("SHOW_CASES").is_some() {
                eprintln!("{} {} {:?}", name.rule, failed, started.elapsed());
            }
            failed
        })
        .map(|(name, _)| format!("{}::{}", name.method, name.rule))
        .collect()
}

#[test]
fn the_suite_fails_on_every_broken_store() {
    // Each failing case panics by design; keep the output to the summary.
    std::panic::set_hook(Box::new(|_| {}));
    let mut survivors = Vec::new();
    for bug in BUGS {
        *INJECTED.lock().unwrap_or_else(PoisonError::into_inner) = bug;
        let caught = failing::<BrokenFactory>();
        println!("{bug:?}: caught by {} cases: {caught:?}", caught.len());
        if caught.is_empty() {
            survivors.push(bug);
        }
    }
    let _ = std::panic::take_hook();
    assert!(survivors.is_empty(), "bugs the suite misses: {survivors:?}");
}
