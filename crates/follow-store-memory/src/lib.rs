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

mod state;
mod txn;

use std::fmt;
use std::ops::Bound;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use follow_core::apply::apply_batch;
use follow_core::{
    CommandResult, Error, Event, EventPosition, FollowStore, ListEntry, ListKind, ListQuery,
    NodeId, NodeRecord, PairFacts, StaleEntry, StaleQuery, TenantId, WriteBatch,
};

use state::{State, Tenant, index_key};
use txn::MemoryTxn;

/// A follow graph held in memory, behind one reader-writer lock: a batch is
/// applied under the write lock (so it is atomic and serialisable), reads
/// share the read lock. Nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
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
        } = &mut *state;
        let tenant = tenants.entry(batch.tenant.clone()).or_default();
        let mut txn = MemoryTxn::new(&batch.tenant, tenant, next_position);
        match apply_batch(&mut txn, &batch) {
            Ok(results) => Ok(results),
            Err(error) => {
                txn.roll_back();
                Err(error)
            }
        }
    }

    async fn node(&self, tenant: &TenantId, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        let state = self.read()?;
        Ok(state.tenant(tenant).and_then(|t| t.nodes.get(id).cloned()))
    }

    async fn pairs(
        &self,
        tenant: &TenantId,
        subject: &NodeId,
        others: &[NodeId],
    ) -> Result<Option<Vec<PairFacts>>, Error> {
        let state = self.read()?;
        let Some(tenant) = state
            .tenant(tenant)
            .filter(|t| t.nodes.contains_key(subject))
        else {
            return Ok(None);
        };
        Ok(Some(
            others
                .iter()
                .map(|other| PairFacts {
                    exists: tenant.nodes.contains_key(other),
                    outgoing: tenant.edge(subject, other),
                    incoming: tenant.edge(other, subject),
                })
                .collect(),
        ))
    }

    async fn list(&self, query: ListQuery) -> Result<Option<Vec<ListEntry>>, Error> {
        let state = self.read()?;
        let Some(tenant) = state
            .tenant(&query.tenant)
            .filter(|t| t.nodes.contains_key(&query.subject))
        else {
            return Ok(None);
        };
        let subject = &query.subject;
        let entries = walk(tenant, query.list, subject, query.after.as_ref())
            .filter_map(|(since, node)| {
                let edge = match query.list {
                    ListKind::Followers => tenant.edge(node, subject),
                    ListKind::Following | ListKind::Mutuals => tenant.edge(subject, node),
                }?;
                Some(ListEntry {
                    node: node.clone(),
                    since,
                    muted: edge.muted,
                })
            })
            .take(query.limit)
            .collect();
        Ok(Some(entries))
    }

    async fn stale_following(&self, query: StaleQuery) -> Result<Option<Vec<StaleEntry>>, Error> {
        let state = self.read()?;
        let subject = NodeId::from(query.actor.clone());
        let Some(tenant) = state
            .tenant(&query.tenant)
            .filter(|t| t.nodes.contains_key(&subject))
        else {
            return Ok(None);
        };
        let entries = walk(tenant, ListKind::Following, &subject, query.after.as_ref())
            .filter_map(|(since, node)| {
                let active_at = tenant.nodes.get(node)?.active_at();
                let edge = tenant.edge(&subject, node)?;
                (active_at < query.inactive_since).then(|| StaleEntry {
                    node: node.clone(),
                    since,
                    muted: edge.muted,
                    active_at,
                })
            })
            .take(query.limit)
            .collect();
        Ok(Some(entries))
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
        let start = after.map_or(Bound::Unbounded, |after| Bound::Excluded(after.clone()));
        Ok(tenant
            .node_order
            .range((start, Bound::Unbounded))
            .filter_map(|id| tenant.nodes.get(id).cloned())
            .take(limit)
            .collect())
    }

    async fn events_after(
        &self,
        tenant: &TenantId,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        let state = self.read()?;
        let Some(tenant) = state.tenant(tenant) else {
            return Ok(Vec::new());
        };
        let start = after.map_or(0, |after| {
            tenant
                .events
                .partition_point(|event| event.position <= after)
        });
        Ok(tenant
            .events
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect())
    }
}

/// The subject's list in display order, strictly after `after`.
fn walk<'a>(
    tenant: &'a Tenant,
    list: ListKind,
    subject: &NodeId,
    after: Option<&follow_core::ListPosition>,
) -> impl Iterator<Item = (follow_core::Timestamp, &'a NodeId)> + 'a {
    let start = match after {
        Some(position) => Bound::Excluded(index_key(position.since, position.node.clone())),
        None => Bound::Unbounded,
    };
    tenant
        .index(list)
        .get(subject)
        .into_iter()
        .flat_map(move |set| set.range((start.clone(), Bound::Unbounded)))
        .map(|(since, node)| (since.0, node))
}
