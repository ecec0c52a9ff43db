//! The system under test: a facade over a fresh store, driven by the same
//! commands as the model.

use std::sync::Arc;
use std::time::Duration;

use follow_core::{
    AccountId, Applied, Capabilities, Command, Error, EventPosition, FollowGraph, FollowStore,
    ItemResult, LinkKey, ManualClock, OptionsUpdate, Outcome, Principal, TenantId, WriteBatch,
};

use super::ops::{Expected, ExpectedEvent, Op};
use super::reference::{Model, index_of};
use super::{NODES, TENANTS};
use crate::StoreFactory;
use crate::fixture::at;

/// A facade over a fresh store from `F`, with its own runtime and clock;
/// the store is disposed of when the system is dropped.
pub struct System<F: StoreFactory> {
    pub(super) runtime: tokio::runtime::Runtime,
    factory: F,
    graph: Option<FollowGraph>,
    clock: Arc<ManualClock>,
    pub(super) store: Arc<dyn FollowStore>,
    pub(super) principals: [Principal; 2],
    pub(super) model: Model,
    last_event: [Option<EventPosition>; 2],
}

fn id(node: usize) -> &'static str {
    NODES[node]
}

fn account(node: usize) -> AccountId {
    AccountId::new(NODES[node]).unwrap()
}

/// A single command's answer, as in [`Expected`].
fn one(op: &Op, result: Result<Applied, Error>) -> Expected {
    if let Ok(applied) = &result {
        assert!(
            applied.outcome != Outcome::Unchanged || applied.event.is_none(),
            "an unchanged {op:?} carries an event"
        );
    }
    Ok(vec![result.map(|a| a.outcome).map_err(|e| e.kind())])
}

/// A batch's answer, as in [`Expected`].
fn many(result: Result<Vec<ItemResult<Applied>>, Error>) -> Expected {
    match result {
        Ok(items) => Ok(items
            .into_iter()
            .map(|item| item.result.map(|a| a.outcome).map_err(|e| e.kind()))
            .collect()),
        Err(error) => Err(error.kind()),
    }
}

impl<F: StoreFactory> System<F> {
    /// A system over a fresh store holding the graph of `initial` (built
    /// through the facade; its events are read past).
    pub fn start(initial: &Model) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let factory = F::default();
        let store = runtime.block_on(factory.create());
        let clock = Arc::new(ManualClock::new(at(initial.now)));
        let graph = FollowGraph::builder(store.clone())
            .clock(clock.clone())
            .build();
        let principals =
            TENANTS.map(|t| Principal::new(TenantId::new(t).unwrap(), Capabilities::ALL));
        let mut system = System {
            runtime,
            factory,
            graph: Some(graph),
            clock,
            store,
            principals,
            model: initial.clone(),
            last_event: [None; 2],
        };
        system.build(initial);
        system
    }

    pub(super) fn graph(&self) -> &FollowGraph {
        self.graph.as_ref().unwrap()
    }

    /// Builds the graph of `initial` at its time: nodes, edges (options,
    /// mute), locks, requests, mutes, and last the blocks, which cut
    /// nothing since the model's own rules made the state.
    fn build(&mut self, initial: &Model) {
        let g = self.graph();
        let now = initial.now;
        self.runtime.block_on(async {
            for (ti, t) in initial.tenants.iter().enumerate() {
                let p = &self.principals[ti];
                for node in t.nodes.keys() {
                    g.register(p, id(*node)).await.unwrap();
                }
                for ((follower, target), edge) in &t.edges {
                    let options = OptionsUpdate::from(edge.options);
                    let (follower, target) = (id(*follower), id(*target));
                    g.follow_with(p, follower, target, options).await.unwrap();
                    if edge.muted {
                        g.mute(p, follower, target).await.unwrap();
                    }
                }
                for (node, _) in t.nodes.iter().filter(|(_, n)| n.locked) {
                    g.set_locked(p, id(*node), true).await.unwrap();
                }
                for ((follower, target), request) in &t.requests {
                    let options = OptionsUpdate::from(request.options);
                    let applied = g
                        .follow_with(p, id(*follower), id(*target), options)
                        .await
                        .unwrap();
                    assert_eq!(applied.outcome, Outcome::Requested, "seeding a request");
                }
                for ((actor, target), mute) in &t.mutes {
                    let duration = mute
                        .expires_at
                        .map(|end| Duration::from_secs(u64::try_from(end - now).unwrap()));
                    g.mute_account(
                        p,
                        id(*actor),
                        id(*target),
                        Some(mute.notifications),
                        duration,
                    )
                    .await
                    .unwrap();
                }
                for (actor, target) in t.blocks.keys() {
                    g.block(p, id(*actor), id(*target)).await.unwrap();
                }
            }
        });
        let _ = self.new_events(0);
        let _ = self.new_events(1);
    }

    /// Runs `op` through the facade (a link drop straight through the
    /// store, as a removal sends it): the answer, as in [`Expected`].
    pub fn run(&self, op: &Op) -> Expected {
        let g = self.graph();
        let p = &self.principals[op.tenant()];
        let ids = |targets: &[usize]| -> Vec<&str> { targets.iter().map(|t| id(*t)).collect() };
        self.runtime.block_on(async {
            match op {
                Op::Tick { seconds } => {
                    self.clock.advance(Duration::from_secs(*seconds));
                    Ok(vec![])
                }
                Op::Register { node, .. } => one(op, g.register(p, id(*node)).await),
                Op::Remove { node, .. } => one(op, g.remove(p, id(*node)).await),
                Op::Touch { node, at: when, .. } => {
                    one(op, g.touch(p, id(*node), Some(at(*when))).await)
                }
                Op::Follow {
                    actor,
                    target,
                    options,
                    ..
                } => one(
                    op,
                    g.follow_with(p, id(*actor), id(*target), *options).await,
                ),
                Op::Unfollow { actor, target, .. } => {
                    one(op, g.unfollow(p, id(*actor), id(*target)).await)
                }
                Op::SetMute {
                    actor,
                    target,
                    muted,
                    ..
                } => one(op, g.set_mute(p, id(*actor), id(*target), *muted).await),
                Op::RemoveFollower {
                    actor, follower, ..
                } => one(op, g.remove_follower(p, id(*actor), id(*follower)).await),
                Op::FollowMany { actor, targets, .. } => {
                    many(g.follow_many(p, id(*actor), &ids(targets)).await)
                }
                Op::UnfollowMany { actor, targets, .. } => {
                    many(g.unfollow_many(p, id(*actor), &ids(targets)).await)
                }
                Op::Block { actor, target, .. } => {
                    one(op, g.block(p, id(*actor), id(*target)).await)
                }
                Op::Unblock { actor, target, .. } => {
                    one(op, g.unblock(p, id(*actor), id(*target)).await)
                }
                Op::MuteAccount {
                    actor,
                    target,
                    notifications,
                    duration,
                    ..
                } => {
                    let duration = duration.map(Duration::from_secs);
                    let muted = g
                        .mute_account(p, id(*actor), id(*target), *notifications, duration)
                        .await;
                    one(op, muted)
                }
                Op::UnmuteAccount { actor, target, .. } => {
                    one(op, g.unmute_account(p, id(*actor), id(*target)).await)
                }
                Op::SetLocked { node, locked, .. } => {
                    one(op, g.set_locked(p, id(*node), *locked).await)
                }
                Op::AuthorizeRequest {
                    actor, follower, ..
                } => one(op, g.authorize_request(p, id(*actor), id(*follower)).await),
                Op::RejectRequest {
                    actor, follower, ..
                } => one(op, g.reject_request(p, id(*actor), id(*follower)).await),
                Op::DropLink { kind, from, to, .. } => {
                    let key = LinkKey::new(*kind, account(*from), account(*to));
                    let batch = WriteBatch::new(p.tenant().clone(), g.now())
                        .command(Command::DropLink { key });
                    match self.store.write(batch).await {
                        Ok(results) => Ok(results
                            .into_iter()
                            .map(|r| r.map(|a| a.outcome).map_err(|e| e.kind()))
                            .collect()),
                        Err(error) => Err(error.kind()),
                    }
                }
            }
        })
    }

    /// New events of a tenant since the last read.
    pub(super) fn new_events(&mut self, tenant: usize) -> Vec<ExpectedEvent> {
        let events = self.runtime.block_on(crate::fixture::events_of_after(
            self.graph(),
            &self.principals[tenant],
            self.last_event[tenant],
        ));
        if let Some(last) = events.last() {
            self.last_event[tenant] = Some(last.position);
        }
        events
            .iter()
            .map(|e| {
                (
                    e.kind,
                    index_of(e.follower.as_str()),
                    index_of(e.target.as_str()),
                )
            })
            .collect()
    }
}

impl<F: StoreFactory> Drop for System<F> {
    fn drop(&mut self) {
        // The store is disposed of with no other handle to it alive.
        self.graph = None;
        let store = self.store.clone();
        self.runtime.block_on(self.factory.dispose(store));
    }
}

impl<F: StoreFactory> std::fmt::Debug for System<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System")
            .field("store", &self.store.to_string())
            .finish_non_exhaustive()
    }
}
