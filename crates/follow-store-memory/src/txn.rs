//! Loading a batch's rows from the locked state and committing its change
//! set, with an undo log so a commit that fails part-way leaves nothing
//! behind.

use follow_core::write::{ChangeSet, EdgeKey, Facts, WritePlan};
use follow_core::{
    Edge, Error, Event, EventPosition, Link, LinkKey, NewEvent, NodeRecord, TenantId,
};

use crate::broken::broken;
use crate::events::LogMark;
use crate::tenant::{NodeExtras, NodeInfo, Tenant};

/// One change to undo, 16 bytes: the record or edge it replaced is in the
/// transaction's side vectors (most changes replaced nothing, or only
/// counts), so the log of a 10,000-edge import stays small.
#[derive(Debug, Clone, Copy)]
enum Undo {
    /// A node's record before: `records[index]`, or [`NOTHING`] for none.
    Node { node: u32, index: u32 },
    /// An edge before: `edges[index]`, or [`NOTHING`] for none.
    Edge {
        follower: u32,
        target: u32,
        index: u32,
    },
    /// A link before: `links[index]` holds its key and old value.
    Link { index: u32 },
    /// A node's link count and locked flag before: `extras[index]`.
    Extras { node: u32, index: u32 },
}

/// The index of a record or an edge that was not there.
const NOTHING: u32 = u32::MAX;

pub(crate) struct MemoryTxn<'a> {
    tenant_id: &'a TenantId,
    tenant: &'a mut Tenant,
    next_position: &'a mut u64,
    undo: Vec<Undo>,
    /// Rows the commit may write before it fails (rollback tests).
    fail_after: Option<usize>,
    records: Vec<NodeInfo>,
    edges: Vec<Edge>,
    links: Vec<(LinkKey, Option<Link>)>,
    extras: Vec<NodeExtras>,
    /// Where the outbox stood before this transaction's first event, and
    /// the events since: events do not interact with nodes and edges, so
    /// they roll back apart, all at once.
    events_from: Option<LogMark>,
    events: u64,
    /// The number of each of the plan's nodes as load found it (or the
    /// commit interned it), by its place in the plan's keys; [`NOTHING`]
    /// for a node not registered at load. A commit names each node several
    /// times (its edge, its counters, its event), and a lookup in the id
    /// table of millions of ids misses the cache where this one does not.
    numbers: Vec<u32>,
}

fn not_registered(id: &str) -> Error {
    broken(format_args!("node {id} is not registered"))
}

/// The index the next item pushed onto `items` gets; asked before a change,
/// so that a change is never made that could not be undone.
fn next_index<T>(items: &[T]) -> Result<u32, Error> {
    u32::try_from(items.len())
        .ok()
        .filter(|&index| index != NOTHING)
        .ok_or_else(too_big)
}

/// Pushes `item` (if any) at `index`, the index [`next_index`] gave;
/// answers where it is, or [`NOTHING`].
fn keep<T>(items: &mut Vec<T>, index: u32, item: Option<T>) -> u32 {
    match item {
        Some(item) => {
            items.push(item);
            index
        }
        None => NOTHING,
    }
}

fn too_big() -> Error {
    Error::unavailable("the memory store's undo log is full for this batch")
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
            fail_after: None,
            records: Vec::new(),
            edges: Vec::new(),
            links: Vec::new(),
            extras: Vec::new(),
            events_from: None,
            events: 0,
            numbers: Vec::new(),
        }
    }

    /// Restores everything this transaction changed, newest change first.
    /// Ids it interned stay interned (numbers are never reused), unregistered.
    ///
    /// # Errors
    /// `internal` if a change could not be undone (the store was broken
    /// before); every other change is still undone.
    pub(crate) fn roll_back(mut self) -> Result<(), Error> {
        let mut failed = None;
        while let Some(step) = self.undo.pop() {
            let undone = match step {
                Undo::Node { node, index } => {
                    let info = self.records.get(index as usize).copied();
                    self.tenant.set_info(node, info).map(drop)
                }
                Undo::Edge {
                    follower,
                    target,
                    index,
                } => {
                    let old = self.edges.get(index as usize).copied();
                    self.tenant.set_edge(follower, target, old).map(drop)
                }
                Undo::Link { index } => match self.links.get(index as usize) {
                    Some((key, old)) => {
                        self.tenant.relations.set_link(key, *old);
                        Ok(())
                    }
                    None => Err(broken("the undo log names a link it did not keep")),
                },
                Undo::Extras { node, index } => match self.extras.get(index as usize) {
                    Some(old) => {
                        self.tenant.relations.set_extras(node, *old);
                        Ok(())
                    }
                    None => Err(broken("the undo log names extras it did not keep")),
                },
            };
            if let Err(error) = undone {
                failed.get_or_insert(error);
            }
        }
        if let Some(mark) = self.events_from {
            self.tenant.events.truncate(mark);
            *self.next_position -= self.events;
        }
        failed.map_or(Ok(()), Err)
    }

    /// Sets `node`'s record (or unregisters it), remembering the old one.
    fn set_info(&mut self, node: u32, info: Option<NodeInfo>) -> Result<(), Error> {
        let index = next_index(&self.records)?;
        let before = self.tenant.set_info(node, info)?;
        let index = keep(&mut self.records, index, before);
        self.undo.push(Undo::Node { node, index });
        Ok(())
    }

    /// Changes registered `node`'s record, remembering the old one.
    fn update(
        &mut self,
        node: u32,
        change: impl FnOnce(&mut NodeInfo) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut info = self.tenant.registered_info(node)?;
        change(&mut info)?;
        self.set_info(node, Some(info))
    }

    fn set_edge(
        &mut self,
        plan: Option<&WritePlan<'_>>,
        key: &EdgeKey,
        edge: Option<Edge>,
    ) -> Result<(), Error> {
        let follower = self.registered(plan, key.follower.as_str())?;
        let target = self.registered(plan, key.target.as_str())?;
        let index = next_index(&self.edges)?;
        let old = self.tenant.set_edge(follower, target, edge)?;
        let index = keep(&mut self.edges, index, old);
        self.undo.push(Undo::Edge {
            follower,
            target,
            index,
        });
        Ok(())
    }
}

impl MemoryTxn<'_> {
    /// Sets a link (or removes it), remembering the old one.
    fn set_link(&mut self, key: &LinkKey, link: Option<Link>) -> Result<(), Error> {
        let index = next_index(&self.links)?;
        let old = self.tenant.relations.set_link(key, link);
        self.links.push((key.clone(), old));
        self.undo.push(Undo::Link { index });
        Ok(())
    }

    /// Changes a node's link count and locked flag, remembering the old ones.
    fn set_extras(&mut self, node: u32, extras: NodeExtras) -> Result<(), Error> {
        let index = next_index(&self.extras)?;
        let old = self.tenant.relations.set_extras(node, extras);
        self.extras.push(old);
        self.undo.push(Undo::Extras { node, index });
        Ok(())
    }

    /// The number of registered node `id`.
    fn registered(&self, plan: Option<&WritePlan<'_>>, id: &str) -> Result<u32, Error> {
        let node = match self.known(plan, id) {
            Some(node) => self.tenant.if_registered(node)?,
            None => self.tenant.registered(id)?,
        };
        node.ok_or_else(|| not_registered(id))
    }

    /// The number of `id`, interned if it is new.
    fn interned(&mut self, plan: Option<&WritePlan<'_>>, id: &str) -> Result<u32, Error> {
        if let Some(node) = self.known(plan, id) {
            return Ok(node);
        }
        let node = self.tenant.intern(id)?;
        if let Some(number) = plan
            .and_then(|plan| plan.node_index(id))
            .and_then(|at| self.numbers.get_mut(at))
        {
            *number = node;
        }
        Ok(node)
    }

    /// The number this transaction found or gave `id`, if any.
    fn known(&self, plan: Option<&WritePlan<'_>>, id: &str) -> Option<u32> {
        let at = plan?.node_index(id)?;
        self.numbers
            .get(at)
            .copied()
            .filter(|&node| node != NOTHING)
    }
}

impl MemoryTxn<'_> {
    /// Makes [`Self::commit`] fail with `unavailable` after writing `rows`
    /// rows, to prove that a failed commit leaves nothing behind.
    pub(crate) fn fail_after(&mut self, rows: Option<usize>) {
        self.fail_after = rows;
    }

    /// The stored rows of the plan's keys.
    pub(crate) fn load(&mut self, plan: &WritePlan<'_>) -> Result<Facts, Error> {
        let keys = plan.keys();
        let tenant = &*self.tenant;
        let mut facts = Facts::with_capacity(keys.nodes.len(), keys.edges.len());
        let mut nodes = Vec::with_capacity(keys.nodes.len());
        let mut numbers = Vec::with_capacity(keys.nodes.len());
        for id in &keys.nodes {
            let node = tenant.registered(id.as_str())?;
            numbers.push(node.unwrap_or(NOTHING));
            if let Some(node) = node {
                nodes.push(tenant.record_as(id.clone(), node, tenant.registered_info(node)?));
            }
        }
        for key in keys.links_to_load(&nodes) {
            if let Some(link) = tenant.relations.link(key) {
                facts.add_link(key.clone(), link);
            }
        }
        for node in nodes {
            facts.add_node(node);
        }
        // Every edge's ends are among the nodes just resolved.
        let number = |id: &str| match plan.node_index(id) {
            Some(at) => Ok(numbers.get(at).copied().filter(|&node| node != NOTHING)),
            None => tenant.registered(id),
        };
        for key in &keys.edges {
            let ends = (number(key.follower.as_str())?, number(key.target.as_str())?);
            if let (Some(follower), Some(target)) = ends
                && let Some(edge) = tenant.edge(follower, target)?
            {
                facts.add_edge(key.clone(), edge);
            }
        }
        self.numbers = numbers;
        Ok(facts)
    }

    /// Writes a change set in its documented order and answers the
    /// positions of its events. On an error the caller rolls back. `plan`
    /// is the one [`Self::load`] loaded, whose numbers the commit reuses.
    pub(crate) fn commit(
        &mut self,
        plan: Option<&WritePlan<'_>>,
        changes: &ChangeSet,
    ) -> Result<Vec<EventPosition>, Error> {
        for key in &changes.edge_deletes {
            self.row_written()?;
            self.set_edge(plan, key, None)?;
        }
        for key in &changes.link_deletes {
            self.row_written()?;
            self.set_link(key, None)?;
        }
        for id in &changes.node_deletes {
            self.row_written()?;
            let node = self.registered(plan, id.as_str())?;
            self.set_info(node, None)?;
            self.set_extras(node, NodeExtras::default())?;
        }
        for record in &changes.node_inserts {
            self.row_written()?;
            let node = self.interned(plan, record.id.as_str())?;
            self.insert_node(node, record)?;
        }
        // A put replaces whatever the key holds, so inserts and updates
        // are written alike.
        for (key, edge) in changes.edge_inserts.iter().chain(&changes.edge_updates) {
            self.row_written()?;
            self.set_edge(plan, key, Some(*edge))?;
        }
        for (key, link) in changes.link_inserts.iter().chain(&changes.link_updates) {
            self.row_written()?;
            for end in [&key.from, &key.to] {
                self.registered(plan, end.as_str())?;
            }
            self.set_link(key, Some(*link))?;
        }
        for update in &changes.node_updates {
            self.row_written()?;
            let node = self.registered(plan, update.id.as_str())?;
            self.update(node, |info| {
                info.set_counts(info.counts().apply(update.counts)?)?;
                if let Some(at) = update.last_active {
                    info.set_last_active(at);
                }
                Ok(())
            })?;
            if update.links != 0 || update.locked.is_some() {
                let mut extras = self.tenant.relations.extras(node);
                extras.links = extras
                    .links
                    .checked_add_signed(update.links)
                    .ok_or_else(|| {
                        broken(format_args!(
                            "the link count of {} would go below zero",
                            update.id
                        ))
                    })?;
                if let Some(locked) = update.locked {
                    extras.locked = locked;
                }
                self.set_extras(node, extras)?;
            }
        }
        changes
            .events
            .iter()
            .map(|event| {
                self.row_written()?;
                let follower = self.interned(plan, event.follower.as_str())?;
                let target = self.interned(plan, event.target.as_str())?;
                Ok(self.append_event(event.clone(), follower, target)?.position)
            })
            .collect()
    }

    /// Counts one row against [`Self::fail_after`].
    fn row_written(&mut self) -> Result<(), Error> {
        match &mut self.fail_after {
            Some(0) => Err(Error::unavailable(
                "memory store: injected failure part-way through a commit",
            )),
            Some(left) => {
                *left -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn insert_node(&mut self, node: u32, record: &NodeRecord) -> Result<(), Error> {
        let mut info = NodeInfo::new(record.registered_at);
        if let Some(at) = record.last_active {
            info.set_last_active(at);
        }
        info.set_counts(record.counts)?;
        self.set_info(node, Some(info))?;
        let extras = NodeExtras {
            links: record.links,
            locked: record.locked,
        };
        self.set_extras(node, extras)
    }

    fn append_event(
        &mut self,
        event: NewEvent,
        follower: u32,
        target: u32,
    ) -> Result<Event, Error> {
        *self.next_position += 1;
        let event = event.at_position(self.tenant_id.clone(), EventPosition(*self.next_position));
        if self.events_from.is_none() {
            self.events_from = Some(self.tenant.events.mark());
        }
        self.tenant.events.push(&event, follower, target);
        self.events += 1;
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use follow_core::write::NodeUpdate;
    use follow_core::{
        AccountId, CountDelta, EventKind, FollowOptions, LinkDirection, LinkKind, ListKind, NodeId,
        Timestamp,
    };

    type Snapshot = (Vec<String>, Vec<String>, Vec<String>);

    /// Everything a read can see of the tenant, as text.
    fn snapshot(tenant: &Tenant, tenant_id: &TenantId) -> Result<Snapshot, Error> {
        let names = ["alice", "bob", "carol", "dave"];
        let mut records = Vec::new();
        let mut lists = Vec::new();
        for name in names {
            let Some(node) = tenant.registered(name)? else {
                records.push(format!("{name}: absent"));
                continue;
            };
            records.push(format!("{:?}", tenant.record(node)?));
            for other in names {
                if let Some(other) = tenant.registered(other)? {
                    lists.push(format!("{name}->{other}: {:?}", tenant.edge(node, other)?));
                }
            }
            for list in [ListKind::Following, ListKind::Followers, ListKind::Mutuals] {
                let items = tenant
                    .walk(list, node, None)?
                    .collect::<Result<Vec<_>, _>>()?;
                lists.push(format!("{name} {list:?}: {items:?}"));
            }
            let account = AccountId::new(name)?;
            for kind in LinkKind::ALL {
                for direction in [LinkDirection::Outgoing, LinkDirection::Incoming] {
                    let page = tenant.relations.page(kind, direction, &account, None, 10)?;
                    lists.push(format!("{name} {kind} {direction:?}: {page:?}"));
                }
            }
        }
        let order: Vec<String> = tenant
            .nodes_after(None)?
            .map(|n| tenant.name(n).map(str::to_owned))
            .collect::<Result<_, _>>()?;
        records.push(format!("order {order:?}"));
        let events = tenant
            .events
            .after(tenant_id, |node| tenant.name(node), None, usize::MAX)?
            .iter()
            .map(|e| format!("{e:?}"))
            .collect();
        Ok((records, lists, events))
    }

    fn at(micros: i64) -> Result<Timestamp, Error> {
        Timestamp::from_unix_micros(micros)
    }

    fn event(kind: EventKind, follower: &str, target: &str, when: i64) -> Result<NewEvent, Error> {
        Ok(NewEvent {
            kind,
            follower: AccountId::new(follower)?,
            target: NodeId::new(target)?,
            at: at(when)?,
        })
    }

    #[test]
    fn an_undo_step_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Undo>(), 16);
    }

    fn key(follower: &str, target: &str) -> Result<EdgeKey, Error> {
        Ok(EdgeKey::new(
            AccountId::new(follower)?,
            NodeId::new(target)?,
        ))
    }

    #[test]
    fn a_rolled_back_batch_leaves_every_list_record_and_event_as_it_was() -> Result<(), Error> {
        let tenant_id = TenantId::new("acme")?;
        let mut tenant = Tenant::default();
        let mut position = 0;
        let [alice, bob, carol, dave] = ["alice", "bob", "carol", "dave"].map(NodeId::new);
        let (alice, bob, carol, dave) = (alice?, bob?, carol?, dave?);
        let mut first = ChangeSet::empty(tenant_id.clone());
        first.node_inserts = [&alice, &bob, &carol]
            .map(|node| Ok::<_, Error>(NodeRecord::new(node.clone(), at(1)?)))
            .into_iter()
            .collect::<Result<_, _>>()?;
        first.edge_inserts = vec![
            (key("alice", "bob")?, Edge::new(at(5)?)),
            (key("bob", "carol")?, Edge::new(at(5)?)),
        ];
        first.node_updates = vec![NodeUpdate {
            id: alice.clone(),
            counts: CountDelta {
                following: 1,
                ..CountDelta::default()
            },
            links: 0,
            locked: None,
            last_active: None,
        }];
        first.events = vec![event(EventKind::Followed, "alice", "bob", 5)?];
        // A block carol -> alice, counted on both, to be dropped below.
        let block = LinkKey::new(
            LinkKind::Block,
            AccountId::new("carol")?,
            AccountId::new("alice")?,
        );
        first.link_inserts = vec![(block.clone(), Link::block(at(4)?))];
        for node in [&alice, &carol] {
            first.node_updates.push(NodeUpdate {
                id: node.clone(),
                counts: CountDelta::default(),
                links: 1,
                locked: None,
                last_active: None,
            });
        }
        first.node_updates.sort_by(|a, b| a.id.cmp(&b.id));
        first.node_updates.dedup_by(|later, earlier| {
            if later.id == earlier.id {
                earlier.links += later.links;
                true
            } else {
                false
            }
        });
        MemoryTxn::new(&tenant_id, &mut tenant, &mut position).commit(None, &first)?;
        let before = snapshot(&tenant, &tenant_id)?;
        let position_before = position;

        let mutual = Edge {
            since: at(9)?,
            muted: true,
            mutual_since: Some(at(9)?),
            options: FollowOptions {
                notify: true,
                ..FollowOptions::default()
            },
        };
        let mut second = ChangeSet::empty(tenant_id.clone());
        second.edge_deletes = vec![key("bob", "carol")?];
        second.link_deletes = vec![block];
        let mute = LinkKey::new(
            LinkKind::Mute,
            AccountId::new("dave")?,
            AccountId::new("bob")?,
        );
        second.link_inserts = vec![(mute, Link::mute(at(9)?, false, Some(at(99)?)))];
        second.node_deletes = vec![carol.clone()];
        second.node_inserts = vec![NodeRecord::new(dave.clone(), at(9)?)];
        second.edge_updates = vec![(
            key("alice", "bob")?,
            Edge {
                mutual_since: Some(at(9)?),
                ..Edge::new(at(5)?)
            },
        )];
        second.edge_inserts = vec![
            (key("bob", "alice")?, mutual),
            (key("dave", "alice")?, Edge::new(at(9)?)),
        ];
        second.node_updates = vec![
            NodeUpdate {
                id: alice.clone(),
                counts: CountDelta {
                    followers: 2,
                    mutual: 1,
                    ..CountDelta::default()
                },
                links: -1,
                locked: None,
                last_active: None,
            },
            NodeUpdate {
                id: bob.clone(),
                counts: CountDelta::default(),
                links: 1,
                locked: Some(true),
                last_active: Some(at(9)?),
            },
        ];
        for kind in [EventKind::Followed, EventKind::Muted, EventKind::Unfollowed] {
            second.events.push(event(kind, "bob", "alice", 9)?);
        }
        // Every prefix of the commit, and the whole of it, rolls back.
        for rows in (0..second.len()).map(Some).chain([None]) {
            let mut txn = MemoryTxn::new(&tenant_id, &mut tenant, &mut position);
            txn.fail_after(rows);
            let committed = txn.commit(None, &second);
            assert_eq!(
                committed.is_ok(),
                rows.is_none(),
                "failing after {rows:?} rows"
            );
            txn.roll_back()?;
            assert_eq!(
                snapshot(&tenant, &tenant_id)?,
                before,
                "after {rows:?} rows"
            );
            assert_eq!(position, position_before);
        }
        Ok(())
    }
}
