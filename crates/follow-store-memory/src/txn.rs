//! `WriteTxn` over the locked state, with an undo log so a batch that fails
//! as a whole leaves nothing behind.

use follow_core::apply::WriteTxn;
use follow_core::{
    AccountId, CountDelta, Edge, Error, Event, EventPosition, NewEvent, NodeId, NodeRecord,
    TenantId, Timestamp,
};

use crate::state::Tenant;

enum Undo {
    Node(NodeId, Option<NodeRecord>),
    Edge(NodeId, NodeId, Option<Edge>),
    Event,
}

pub(crate) struct MemoryTxn<'a> {
    tenant_id: &'a TenantId,
    tenant: &'a mut Tenant,
    next_position: &'a mut u64,
    undo: Vec<Undo>,
}

impl<'a> MemoryTxn<'a> {
    pub(crate) fn new(
        tenant_id: &'a TenantId,
        tenant: &'a mut Tenant,
        next_position: &'a mut u64,
    ) -> Self {
        MemoryTxn {
            tenant_id,
            tenant,
            next_position,
            undo: Vec::new(),
        }
    }

    /// Restores everything this transaction changed, newest change first.
    pub(crate) fn roll_back(mut self) {
        while let Some(step) = self.undo.pop() {
            match step {
                Undo::Node(id, record) => {
                    self.tenant.set_node(&id, record);
                }
                Undo::Edge(follower, target, old) => {
                    self.tenant.set_edge(&follower, &target, old);
                }
                Undo::Event => {
                    self.tenant.events.pop();
                    *self.next_position -= 1;
                }
            }
        }
    }

    fn record_mut(&mut self, id: &NodeId) -> Result<&mut NodeRecord, Error> {
        let before = self.tenant.nodes.get(id).cloned();
        self.undo.push(Undo::Node(id.clone(), before));
        self.tenant
            .nodes
            .get_mut(id)
            .ok_or_else(|| Error::internal(format!("node {id} is not registered")))
    }

    fn set_edge(&mut self, follower: NodeId, target: &NodeId, edge: Option<Edge>) {
        let old = self.tenant.set_edge(&follower, target, edge);
        self.undo.push(Undo::Edge(follower, target.clone(), old));
    }
}

impl WriteTxn for MemoryTxn<'_> {
    fn node(&mut self, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        Ok(self.tenant.nodes.get(id).cloned())
    }

    fn insert_node(&mut self, id: &NodeId, registered_at: Timestamp) -> Result<(), Error> {
        let before = self
            .tenant
            .set_node(id, Some(NodeRecord::new(id.clone(), registered_at)));
        self.undo.push(Undo::Node(id.clone(), before));
        Ok(())
    }

    fn delete_node(&mut self, id: &NodeId) -> Result<(), Error> {
        let before = self.tenant.set_node(id, None);
        self.undo.push(Undo::Node(id.clone(), before));
        Ok(())
    }

    fn set_last_active(&mut self, id: &NodeId, at: Timestamp) -> Result<(), Error> {
        self.record_mut(id)?.last_active = Some(at);
        Ok(())
    }

    fn edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<Option<Edge>, Error> {
        Ok(self.tenant.edge(&NodeId::from(follower.clone()), target))
    }

    fn put_edge(&mut self, follower: &AccountId, target: &NodeId, edge: Edge) -> Result<(), Error> {
        self.set_edge(NodeId::from(follower.clone()), target, Some(edge));
        Ok(())
    }

    fn delete_edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<(), Error> {
        self.set_edge(NodeId::from(follower.clone()), target, None);
        Ok(())
    }

    fn add_counts(&mut self, id: &NodeId, delta: CountDelta) -> Result<(), Error> {
        let record = self.record_mut(id)?;
        record.counts = record.counts.apply(delta)?;
        Ok(())
    }

    fn edges_touching(&mut self, id: &NodeId) -> Result<Vec<(AccountId, NodeId)>, Error> {
        self.tenant
            .edges_touching(id)
            .into_iter()
            .map(|(follower, target)| Ok((follower.require_account("follower")?, target)))
            .collect()
    }

    fn append_event(&mut self, event: NewEvent) -> Result<Event, Error> {
        *self.next_position += 1;
        let event = event.at_position(self.tenant_id.clone(), EventPosition(*self.next_position));
        self.tenant.events.push(event.clone());
        self.undo.push(Undo::Event);
        Ok(event)
    }
}
