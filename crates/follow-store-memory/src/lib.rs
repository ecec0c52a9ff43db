//! # follow-store-memory
//!
//! In-memory storage for the follow graph: safe under concurrent tasks, with
//! ordered indexes for keyset pages and counts kept with every change. It is
//! the reference for behaviour; every adapter passes the same conformance suite.
//!
//! ```
//! use std::sync::Arc;
//! use follow_core::{Capabilities, FollowGraph, PageRequest, Principal, TenantId};
//! use follow_store_memory::MemoryStore;
//!
//! # futures::executor::block_on(async {
//! let graph = FollowGraph::new(Arc::new(MemoryStore::new()));
//! let admin = Principal::new(TenantId::new("acme")?, Capabilities::ALL);
//! graph.register(&admin, "alice").await?;
//! graph.register(&admin, "120363012345678901@newsletter").await?;
//!
//! let first = graph.follow(&admin, "alice", "120363012345678901@newsletter").await?;
//! let again = graph.follow(&admin, "alice", "120363012345678901@newsletter").await?;
//! assert!(first.is_changed() && !again.is_changed());
//!
//! let page = graph.followers(&admin, "120363012345678901@newsletter", &PageRequest::first()).await?;
//! assert_eq!(page.items[0].node.as_str(), "alice");
//! # Ok::<(), follow_core::Error>(())
//! # }).unwrap();
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod broken;
mod events;
mod paged;
mod secret;
mod seq;
mod state;
mod tenant;
mod time;
mod txn;

use std::fmt;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use follow_core::feed::{self, ConsumerName, ConsumerState, FeedState, PruneStep};
use follow_core::write::WritePlan;
use follow_core::{
    AccountId, CommandResult, Error, Event, EventPosition, FollowStore, Link, LinkEntry, LinkKey,
    LinkQuery, ListEntry, ListKind, ListQuery, NodeId, NodeRecord, PairFacts, StaleEntry,
    StaleQuery, TenantId, Timestamp, WriteBatch,
};

use state::State;
use txn::MemoryTxn;

/// A follow graph held in memory, behind one reader-writer lock: a batch is
/// applied under the write lock (so it is atomic and serialisable), reads
/// share the read lock. Nothing survives the process.
///
/// About 85–90 bytes an edge at a million edges (peak), events included;
/// events are kept until retention prunes them ([`FollowStore::prune_events`]),
/// every id ever registered for the life of the store.
#[derive(Debug)]
pub struct MemoryStore {
    state: RwLock<State>,
    cursor_secret: secret::Secret,
    /// Rows a commit writes before failing; see [`Self::failing_commits_after`].
    fail_after: Option<usize>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// An empty store, with a random cursor secret of its own.
    pub fn new() -> Self {
        MemoryStore {
            state: RwLock::default(),
            cursor_secret: secret::Secret::random(),
            fail_after: None,
        }
    }

    /// An empty store whose every commit fails with `unavailable` after
    /// writing `rows` rows of its change set: a testing aid that proves a
    /// failed commit leaves nothing behind.
    pub fn failing_commits_after(rows: usize) -> Self {
        MemoryStore {
            fail_after: Some(rows),
            ..MemoryStore::default()
        }
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, State>, Error> {
        self.state
            .read()
            .map_err(|_| Error::internal("memory store lock poisoned"))
    }

    fn write_lock(&self) -> Result<RwLockWriteGuard<'_, State>, Error> {
        self.state
            .write()
            .map_err(|_| Error::internal("memory store lock poisoned"))
    }
}

impl fmt::Display for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("memory")
    }
}

#[async_trait]
impl FollowStore for MemoryStore {
    async fn write(&self, batch: WriteBatch) -> Result<Vec<CommandResult>, Error> {
        let mut state = self.write_lock()?;
        let State {
            tenants,
            next_position,
            ..
        } = &mut *state;
        let tenant = tenants.entry(batch.tenant.clone()).or_default();
        let mut txn = MemoryTxn::new(&batch.tenant, tenant, next_position);
        txn.fail_after(self.fail_after);
        let plan = WritePlan::new(&batch);
        let facts = txn.load(&plan)?;
        let decision = plan.decide(facts)?;
        match txn.commit(Some(&plan), &decision.changes) {
            Ok(positions) => decision.into_results(&positions),
            Err(error) => {
                // A change that cannot be undone is the worse news.
                txn.roll_back()?;
                Err(error)
            }
        }
    }

    async fn node(&self, tenant: &TenantId, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        let state = self.read()?;
        let Some(tenant) = state.tenant(tenant) else {
            return Ok(None);
        };
        match tenant.registered(id.as_str())? {
            Some(node) => tenant.record(node),
            None => Ok(None),
        }
    }

    async fn pairs(
        &self,
        tenant: &TenantId,
        subject: &NodeId,
        others: &[NodeId],
    ) -> Result<Option<Vec<PairFacts>>, Error> {
        let state = self.read()?;
        let Some(tenant) = state.tenant(tenant) else {
            return Ok(None);
        };
        let facts = |subject: u32, other: Option<u32>| -> Result<PairFacts, Error> {
            let Some(other) = other else {
                return Ok(PairFacts::default());
            };
            Ok(match tenant.edge(subject, other)? {
                Some(edge) => PairFacts::from_outgoing(edge),
                None => PairFacts {
                    exists: true,
                    outgoing: None,
                    incoming: tenant.follows(other, subject)?.is_some(),
                },
            })
        };
        // The common call (a relation check) has one other: both ids are
        // looked up side by side.
        if let [other] = others {
            let (subject, other) = tenant.registered_two(subject.as_str(), other.as_str())?;
            return subject
                .map(|subject| Ok(vec![facts(subject, other)?]))
                .transpose();
        }
        let Some(subject) = tenant.registered(subject.as_str())? else {
            return Ok(None);
        };
        others
            .iter()
            .map(|other| facts(subject, tenant.registered(other.as_str())?))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    async fn list(&self, query: ListQuery) -> Result<Option<Vec<ListEntry>>, Error> {
        let state = self.read()?;
        let Some(tenant) = state.tenant(&query.tenant) else {
            return Ok(None);
        };
        let Some(subject) = tenant.registered(query.subject.as_str())? else {
            return Ok(None);
        };
        let after = query.after.as_ref().map(|p| (p.since, p.node.as_str()));
        tenant
            .walk(query.list, subject, after)?
            .take(query.limit)
            .map(|item| {
                let (since, node, muted) = item?;
                let options = match query.list {
                    ListKind::Followers => tenant.relations.options(node, subject),
                    ListKind::Following | ListKind::Mutuals => {
                        tenant.relations.options(subject, node)
                    }
                };
                Ok(ListEntry {
                    node: tenant.node_id(node)?,
                    since,
                    muted,
                    options,
                })
            })
            .collect::<Result<_, Error>>()
            .map(Some)
    }

    async fn links_between(
        &self,
        tenant: &TenantId,
        subject: &AccountId,
        others: &[AccountId],
    ) -> Result<Vec<(LinkKey, Link)>, Error> {
        let state = self.read()?;
        Ok(state
            .tenant(tenant)
            .map(|tenant| tenant.relations.between(subject, others))
            .unwrap_or_default())
    }

    async fn links(&self, query: LinkQuery) -> Result<Option<Vec<LinkEntry>>, Error> {
        let state = self.read()?;
        let Some(tenant) = state.tenant(&query.tenant) else {
            return Ok(None);
        };
        if tenant.registered(query.subject.as_str())?.is_none() {
            return Ok(None);
        }
        tenant
            .relations
            .page(
                query.kind,
                query.direction,
                &query.subject,
                query.after.as_ref(),
                query.limit,
            )
            .map(Some)
    }

    async fn stale_following(&self, query: StaleQuery) -> Result<Option<Vec<StaleEntry>>, Error> {
        let state = self.read()?;
        let Some(tenant) = state.tenant(&query.tenant) else {
            return Ok(None);
        };
        let Some(subject) = tenant.registered(query.actor.as_str())? else {
            return Ok(None);
        };
        let after = query.after.as_ref().map(|p| (p.since, p.node.as_str()));
        tenant
            .walk(follow_core::ListKind::Following, subject, after)?
            .map(|item| {
                let (since, node, muted) = item?;
                let active_at = tenant.registered_info(node)?.active_at();
                Ok((since, node, muted, active_at))
            })
            .filter(|item| {
                item.as_ref()
                    .map_or(true, |(.., active_at)| *active_at < query.inactive_since)
            })
            .take(query.limit)
            .map(|item| {
                let (since, node, muted, active_at) = item?;
                Ok(StaleEntry {
                    node: tenant.node_id(node)?,
                    since,
                    muted,
                    active_at,
                })
            })
            .collect::<Result<_, Error>>()
            .map(Some)
    }

    async fn nodes(
        &self,
        tenant: &TenantId,
        after: Option<&NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeRecord>, Error> {
        let state = self.read()?;
        let Some(tenant) = state.tenant(tenant) else {
            return Ok(Vec::new());
        };
        tenant
            .nodes_after(after.map(NodeId::as_str))?
            .take(limit)
            .map(|node| tenant.record_of(node, tenant.registered_info(node)?))
            .collect()
    }

    async fn events_after(
        &self,
        tenant: &TenantId,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        let state = self.read()?;
        let Some(tenant_state) = state.tenant(tenant) else {
            return Ok(Vec::new());
        };
        tenant_state
            .events
            .after(tenant, |node| tenant_state.name(node), after, limit)
    }

    fn cursor_secret(&self) -> [u8; 16] {
        self.cursor_secret.bytes()
    }

    async fn consumer(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
    ) -> Result<Option<ConsumerState>, Error> {
        let state = self.read()?;
        Ok(state
            .consumers
            .get(tenant)
            .and_then(|consumers| consumers.get(name))
            .cloned())
    }

    async fn consumers(&self, tenant: &TenantId) -> Result<Vec<ConsumerState>, Error> {
        let state = self.read()?;
        Ok(state
            .consumers
            .get(tenant)
            .map(|consumers| consumers.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn acknowledge(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
        position: EventPosition,
        at: Timestamp,
    ) -> Result<ConsumerState, Error> {
        let mut state = self.write_lock()?;
        feed::check_acknowledgeable(position, EventPosition(state.next_position))?;
        let consumer = state
            .consumers
            .entry(tenant.clone())
            .or_default()
            .entry(name.clone())
            .or_insert_with(|| ConsumerState {
                name: name.clone(),
                position,
                updated_at: at,
            });
        if position > consumer.position {
            consumer.position = position;
            consumer.updated_at = at;
        }
        Ok(consumer.clone())
    }

    async fn feed_state(&self, tenant: &TenantId) -> Result<FeedState, Error> {
        let state = self.read()?;
        Ok(FeedState {
            last_position: EventPosition(state.next_position),
            pruned: state.tenant(tenant).and_then(|t| t.events.pruned()),
        })
    }

    async fn prune_events(&self, step: PruneStep) -> Result<u64, Error> {
        let mut state = self.write_lock()?;
        let Some(tenant) = state.tenants.get_mut(&step.tenant) else {
            return Ok(0);
        };
        tenant
            .events
            .prune(step.through, step.before.as_unix_micros(), step.limit)
    }
}
