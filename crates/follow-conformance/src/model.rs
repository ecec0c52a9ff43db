//! Model-based property tests: random command sequences over a small
//! universe (4 accounts and 1 channel in each of 2 tenants), run against the
//! store through the facade and against a reference model of plain sets and
//! maps. After every step the outcomes, counts, relations, lists and events
//! must agree with the model.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use follow_core::{
    Capabilities, ErrorKind, EventKind, EventPosition, FollowGraph, FollowStore, ListKind,
    ManualClock, NodeId, Outcome, Principal, Relation, TenantId,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

use crate::StoreFactory;
use crate::fixture::{at, walk};

pub use crate::feed_model::{FeedOp, feed_matches_reference};

/// The universe: node index → id. 0..4 are accounts, 4 is a channel.
pub const NODES: [&str; 5] = ["a0", "a1", "a2", "a3", "120363000000000001@newsletter"];
/// The two tenants.
pub const TENANTS: [&str; 2] = ["t0", "t1"];

const CHANNEL_INDEX: usize = 4;

/// One step of a random sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    Register {
        tenant: usize,
        node: usize,
    },
    Remove {
        tenant: usize,
        node: usize,
    },
    Follow {
        tenant: usize,
        actor: usize,
        target: usize,
    },
    Unfollow {
        tenant: usize,
        actor: usize,
        target: usize,
    },
    SetMute {
        tenant: usize,
        actor: usize,
        target: usize,
        muted: bool,
    },
    RemoveFollower {
        tenant: usize,
        actor: usize,
        follower: usize,
    },
    FollowMany {
        tenant: usize,
        actor: usize,
        targets: Vec<usize>,
    },
    UnfollowMany {
        tenant: usize,
        actor: usize,
        targets: Vec<usize>,
    },
    Touch {
        tenant: usize,
        node: usize,
        at: i64,
    },
    Tick,
}

/// One tenant of the reference model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantModel {
    /// Registered nodes → last activity (seconds), if touched.
    pub nodes: BTreeMap<usize, Option<i64>>,
    /// Edges (follower, target) → (muted, since seconds).
    pub edges: BTreeMap<(usize, usize), (bool, i64)>,
}

/// The reference model: two tenants and the clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    /// The tenants.
    pub tenants: [TenantModel; 2],
    /// The clock, in seconds after the fixture's start.
    pub now: i64,
}

/// What a step must answer: a whole-request error, or per-command results
/// (`Ok(changed)` or the error kind).
pub type Expected = Result<Vec<Result<bool, ErrorKind>>, ErrorKind>;

/// An expected event: kind, follower index, target index.
pub type ExpectedEvent = (EventKind, usize, usize);

impl Model {
    /// Applies `op` to the model; answers the expected outcome and events
    /// (in order, except that a removal's cascade is compared as a set).
    pub fn step(&mut self, op: &Op) -> (usize, Expected, Vec<ExpectedEvent>) {
        let now = self.now;
        let mut events = Vec::new();
        match op {
            Op::Tick => {
                self.now += 1;
                (0, Ok(vec![]), events)
            }
            Op::Register { tenant, node } => {
                let t = &mut self.tenants[*tenant];
                let changed = !t.nodes.contains_key(node);
                t.nodes.entry(*node).or_insert(None);
                (*tenant, Ok(vec![Ok(changed)]), events)
            }
            Op::Remove { tenant, node } => {
                let t = &mut self.tenants[*tenant];
                if t.nodes.remove(node).is_none() {
                    return (*tenant, Ok(vec![Ok(false)]), events);
                }
                let touching: Vec<(usize, usize)> = t
                    .edges
                    .keys()
                    .filter(|(a, b)| a == node || b == node)
                    .copied()
                    .collect();
                for key in touching {
                    t.edges.remove(&key);
                    events.push((EventKind::Unfollowed, key.0, key.1));
                }
                (*tenant, Ok(vec![Ok(true)]), events)
            }
            Op::Touch { tenant, node, at } => {
                let t = &mut self.tenants[*tenant];
                let result = match t.nodes.get_mut(node) {
                    None => Err(ErrorKind::NotFound),
                    Some(last) if last.is_some_and(|l| l >= *at) => Ok(false),
                    Some(last) => {
                        *last = Some(*at);
                        Ok(true)
                    }
                };
                (*tenant, Ok(vec![result]), events)
            }
            Op::Follow {
                tenant,
                actor,
                target,
            }
            | Op::Unfollow {
                tenant,
                actor,
                target,
            }
            | Op::SetMute {
                tenant,
                actor,
                target,
                ..
            } => {
                if *actor == CHANNEL_INDEX {
                    return (*tenant, Err(ErrorKind::InvalidArgument), events);
                }
                let t = &mut self.tenants[*tenant];
                let result = t.edge(op, *actor, *target, now, &mut events);
                (*tenant, Ok(vec![result]), events)
            }
            Op::RemoveFollower {
                tenant,
                actor,
                follower,
            } => {
                if *follower == CHANNEL_INDEX {
                    return (*tenant, Err(ErrorKind::InvalidArgument), events);
                }
                let t = &mut self.tenants[*tenant];
                let result = t.edge(op, *follower, *actor, now, &mut events);
                (*tenant, Ok(vec![result]), events)
            }
            Op::FollowMany {
                tenant,
                actor,
                targets,
            }
            | Op::UnfollowMany {
                tenant,
                actor,
                targets,
            } => {
                if *actor == CHANNEL_INDEX || targets.is_empty() {
                    return (*tenant, Err(ErrorKind::InvalidArgument), events);
                }
                let t = &mut self.tenants[*tenant];
                if !t.nodes.contains_key(actor) {
                    return (*tenant, Err(ErrorKind::NotFound), events);
                }
                let results = targets
                    .iter()
                    .map(|target| t.edge(op, *actor, *target, now, &mut events))
                    .collect();
                (*tenant, Ok(results), events)
            }
        }
    }
}

impl TenantModel {
    /// One edge command on follower → target.
    fn edge(
        &mut self,
        op: &Op,
        follower: usize,
        target: usize,
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) -> Result<bool, ErrorKind> {
        if follower == target {
            return Err(ErrorKind::InvalidArgument);
        }
        if !self.nodes.contains_key(&follower) || !self.nodes.contains_key(&target) {
            return Err(ErrorKind::NotFound);
        }
        let key = (follower, target);
        let present = self.edges.get(&key).copied();
        let event = match (op, present) {
            (Op::Follow { .. } | Op::FollowMany { .. }, None) => {
                self.edges.insert(key, (false, now));
                Some(EventKind::Followed)
            }
            (Op::Unfollow { .. } | Op::UnfollowMany { .. }, Some(_)) => {
                self.edges.remove(&key);
                Some(EventKind::Unfollowed)
            }
            (Op::RemoveFollower { .. }, Some(_)) => {
                self.edges.remove(&key);
                Some(EventKind::FollowerRemoved)
            }
            (Op::SetMute { .. }, None) => return Err(ErrorKind::NotFollowing),
            (Op::SetMute { muted, .. }, Some((current, since))) if current != *muted => {
                self.edges.insert(key, (*muted, since));
                Some(if *muted {
                    EventKind::Muted
                } else {
                    EventKind::Unmuted
                })
            }
            _ => None,
        };
        if let Some(kind) = event {
            events.push((kind, follower, target));
        }
        Ok(event.is_some())
    }
}

fn index() -> std::ops::Range<usize> {
    0..NODES.len()
}

/// Nodes the strategies pick from: mostly the tenant's registered nodes (so
/// that most commands reach the store and build a graph), sometimes any.
fn pick(registered: &[usize], any: impl Strategy<Value = usize> + 'static) -> BoxedStrategy<usize> {
    if registered.is_empty() {
        return any.boxed();
    }
    prop_oneof![4 => proptest::sample::select(registered.to_vec()), 1 => any].boxed()
}

/// The operations of one tenant, picking nodes from `registered`.
fn tenant_ops(tenant: usize, registered: &[usize]) -> BoxedStrategy<Op> {
    let accounts: Vec<usize> = registered
        .iter()
        .copied()
        .filter(|n| *n != CHANNEL_INDEX)
        .collect();
    let node = || pick(registered, index());
    let account = || pick(&accounts, 0..CHANNEL_INDEX);
    let targets = proptest::collection::vec(node(), 0..5);
    prop_oneof![
        2 => index().prop_map(move |node| Op::Register { tenant, node }),
        3 => node().prop_map(move |node| Op::Remove { tenant, node }),
        6 => (account(), node())
            .prop_map(move |(actor, target)| Op::Follow { tenant, actor, target }),
        3 => (node(), node())
            .prop_map(move |(actor, target)| Op::Unfollow { tenant, actor, target }),
        4 => (account(), node(), any::<bool>())
            .prop_map(move |(actor, target, muted)| Op::SetMute { tenant, actor, target, muted }),
        2 => (node(), node())
            .prop_map(move |(actor, follower)| Op::RemoveFollower { tenant, actor, follower }),
        2 => (node(), targets.clone())
            .prop_map(move |(actor, targets)| Op::FollowMany { tenant, actor, targets }),
        1 => (account(), targets)
            .prop_map(move |(actor, targets)| Op::UnfollowMany { tenant, actor, targets }),
        1 => (node(), 0i64..8).prop_map(move |(node, at)| Op::Touch { tenant, node, at }),
    ]
    .boxed()
}

/// Any operation on `model`: tenant 0 four times as often as tenant 1.
fn op_strategy(model: &Model) -> BoxedStrategy<Op> {
    let registered = |t: usize| -> Vec<usize> { model.tenants[t].nodes.keys().copied().collect() };
    prop_oneof![
        16 => tenant_ops(0, &registered(0)),
        4 => tenant_ops(1, &registered(1)),
        1 => Just(Op::Tick),
    ]
    .boxed()
}

/// A random starting graph: most nodes registered in both tenants, about
/// half of the possible edges present, half of those muted, all begun at
/// the fixture's start. Mutual pairs, and mutual pairs whose sides differ in
/// their mute flag, are then common from the first step.
pub fn initial_model() -> BoxedStrategy<Model> {
    let tenant = || {
        (
            proptest::collection::vec(proptest::bool::weighted(0.85), NODES.len()),
            proptest::collection::vec(
                (proptest::bool::weighted(0.5), proptest::bool::weighted(0.5)),
                CHANNEL_INDEX * NODES.len(),
            ),
        )
            .prop_map(|(registered, edges)| {
                let mut t = TenantModel::default();
                for (node, _) in registered.iter().enumerate().filter(|(_, r)| **r) {
                    t.nodes.insert(node, None);
                }
                for (i, (present, muted)) in edges.into_iter().enumerate() {
                    let (follower, target) = (i / NODES.len(), i % NODES.len());
                    let ends = t.nodes.contains_key(&follower) && t.nodes.contains_key(&target);
                    if present && ends && follower != target {
                        t.edges.insert((follower, target), (muted, 0));
                    }
                }
                t
            })
    };
    (tenant(), tenant())
        .prop_map(|(t0, t1)| Model {
            tenants: [t0, t1],
            now: 0,
        })
        .boxed()
}

/// The reference state machine.
#[derive(Debug)]
pub struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Op;

    fn init_state() -> BoxedStrategy<Model> {
        initial_model()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Op> {
        op_strategy(state)
    }

    fn apply(mut state: Model, op: &Op) -> Model {
        let _ = state.step(op);
        state
    }
}

/// The system under test: a facade over a fresh store from `F`, with its
/// own runtime; the store is disposed of when the system is dropped.
pub struct System<F: StoreFactory> {
    runtime: tokio::runtime::Runtime,
    factory: F,
    graph: Option<FollowGraph>,
    clock: Arc<ManualClock>,
    store: Arc<dyn FollowStore>,
    principals: [Principal; 2],
    model: Model,
    last_event: [Option<EventPosition>; 2],
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
        let clock = Arc::new(ManualClock::new(at(0)));
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

    fn graph(&self) -> &FollowGraph {
        self.graph.as_ref().unwrap()
    }

    /// Registers the nodes and follows (and mutes) the edges of `initial`.
    fn build(&mut self, initial: &Model) {
        let g = self.graph.as_ref().unwrap();
        self.runtime.block_on(async {
            for (ti, t) in initial.tenants.iter().enumerate() {
                let p = &self.principals[ti];
                for node in t.nodes.keys() {
                    g.register(p, NODES[*node]).await.unwrap();
                }
                for ((follower, target), (muted, _)) in &t.edges {
                    let (follower, target) = (NODES[*follower], NODES[*target]);
                    g.follow(p, follower, target).await.unwrap();
                    if *muted {
                        g.mute(p, follower, target).await.unwrap();
                    }
                }
            }
        });
        let _ = self.new_events(0);
        let _ = self.new_events(1);
    }

    /// Runs `op` through the facade: the whole-request result and per-item
    /// results, as in [`Expected`].
    pub fn run(&self, op: &Op) -> (usize, Expected) {
        let g = self.graph();
        let id = |i: usize| NODES[i];
        let one = |r: Result<follow_core::Applied, follow_core::Error>| match r {
            Ok(applied) => {
                if applied.outcome == Outcome::Unchanged {
                    assert!(
                        applied.event.is_none(),
                        "an unchanged {op:?} carries an event"
                    );
                }
                Ok(vec![Ok(applied.is_changed())])
            }
            Err(error) => match error.kind() {
                ErrorKind::NotFound | ErrorKind::NotFollowing
                    if !matches!(op, Op::FollowMany { .. } | Op::UnfollowMany { .. }) =>
                {
                    Ok(vec![Err(error.kind())])
                }
                ErrorKind::InvalidArgument
                    if matches!(op, Op::Follow { actor, target, .. } | Op::Unfollow { actor, target, .. } | Op::SetMute { actor, target, .. } if actor == target && *actor != CHANNEL_INDEX)
                        || matches!(op, Op::RemoveFollower { actor, follower, .. } if actor == follower && *follower != CHANNEL_INDEX) =>
                {
                    Ok(vec![Err(error.kind())])
                }
                kind => Err(kind),
            },
        };
        let many = |r: Result<
            Vec<follow_core::ItemResult<follow_core::Applied>>,
            follow_core::Error,
        >| match r {
            Ok(items) => Ok(items
                .into_iter()
                .map(|item| item.result.map(|a| a.is_changed()).map_err(|e| e.kind()))
                .collect()),
            Err(error) => Err(error.kind()),
        };
        self.runtime.block_on(async {
            match op {
                Op::Tick => {
                    self.clock.advance(Duration::from_secs(1));
                    (0, Ok(vec![]))
                }
                Op::Register { tenant, node } => (
                    *tenant,
                    one(g.register(&self.principals[*tenant], id(*node)).await),
                ),
                Op::Remove { tenant, node } => (
                    *tenant,
                    one(g.remove(&self.principals[*tenant], id(*node)).await),
                ),
                Op::Touch {
                    tenant,
                    node,
                    at: when,
                } => (
                    *tenant,
                    one(g
                        .touch(&self.principals[*tenant], id(*node), Some(at(*when)))
                        .await),
                ),
                Op::Follow {
                    tenant,
                    actor,
                    target,
                } => (
                    *tenant,
                    one(g
                        .follow(&self.principals[*tenant], id(*actor), id(*target))
                        .await),
                ),
                Op::Unfollow {
                    tenant,
                    actor,
                    target,
                } => (
                    *tenant,
                    one(g
                        .unfollow(&self.principals[*tenant], id(*actor), id(*target))
                        .await),
                ),
                Op::SetMute {
                    tenant,
                    actor,
                    target,
                    muted,
                } => (
                    *tenant,
                    one(g
                        .set_mute(&self.principals[*tenant], id(*actor), id(*target), *muted)
                        .await),
                ),
                Op::RemoveFollower {
                    tenant,
                    actor,
                    follower,
                } => (
                    *tenant,
                    one(g
                        .remove_follower(&self.principals[*tenant], id(*actor), id(*follower))
                        .await),
                ),
                Op::FollowMany {
                    tenant,
                    actor,
                    targets,
                } => {
                    let targets: Vec<&str> = targets.iter().map(|t| id(*t)).collect();
                    (
                        *tenant,
                        many(
                            g.follow_many(&self.principals[*tenant], id(*actor), &targets)
                                .await,
                        ),
                    )
                }
                Op::UnfollowMany {
                    tenant,
                    actor,
                    targets,
                } => {
                    let targets: Vec<&str> = targets.iter().map(|t| id(*t)).collect();
                    (
                        *tenant,
                        many(
                            g.unfollow_many(&self.principals[*tenant], id(*actor), &targets)
                                .await,
                        ),
                    )
                }
            }
        })
    }

    /// New events of a tenant since the last read.
    fn new_events(&mut self, tenant: usize) -> Vec<ExpectedEvent> {
        let index = |id: &str| NODES.iter().position(|n| *n == id).unwrap();
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
            .map(|e| (e.kind, index(e.follower.as_str()), index(e.target.as_str())))
            .collect()
    }

    /// Asserts that the store's whole state equals the model's.
    pub fn check_state(&self, model: &Model) {
        self.runtime.block_on(async {
            for (ti, t) in model.tenants.iter().enumerate() {
                let p = &self.principals[ti];
                let tenant = p.tenant();
                let mut registered: Vec<&str> = t.nodes.keys().map(|ni| NODES[*ni]).collect();
                registered.sort_unstable();
                let walked = self.store.nodes(tenant, None, NODES.len() + 1).await.unwrap();
                let walked: Vec<&str> = walked.iter().map(|n| n.id.as_str()).collect();
                assert_eq!(walked, registered, "nodes walk of {tenant}");
                for (ni, name) in NODES.iter().enumerate() {
                    let record = self.store.node(tenant, &NodeId::new(name).unwrap()).await.unwrap();
                    let Some(last_active) = t.nodes.get(&ni) else {
                        assert!(record.is_none(), "{name} in {tenant} should be absent");
                        continue;
                    };
                    let record = record.unwrap_or_else(|| panic!("{name} in {tenant} should exist"));
                    assert_eq!(record.last_active, last_active.map(at), "last_active of {name}");
                    let out: BTreeMap<usize, (bool, i64)> =
                        t.edges.iter().filter(|((a, _), _)| *a == ni).map(|((_, b), e)| (*b, *e)).collect();
                    let inc: BTreeMap<usize, (bool, i64)> =
                        t.edges.iter().filter(|((_, b), _)| *b == ni).map(|((a, _), e)| (*a, *e)).collect();
                    let mutual: BTreeSet<usize> = out.keys().filter(|b| inc.contains_key(b)).copied().collect();
                    assert_eq!(
                        (record.counts.following, record.counts.followers, record.counts.mutual),
                        (out.len() as u64, inc.len() as u64, mutual.len() as u64),
                        "counts of {name} in {tenant}"
                    );
                    let expect_list = |entries: Vec<(usize, bool, i64)>| {
                        let mut v: Vec<(String, bool, follow_core::Timestamp)> =
                            entries.into_iter().map(|(n, m, s)| (NODES[n].to_owned(), m, at(s))).collect();
                        v.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(&y.0)));
                        v
                    };
                    let got = |list: Vec<follow_core::ListEntry>| -> Vec<(String, bool, follow_core::Timestamp)> {
                        list.into_iter().map(|e| (e.node.to_string(), e.muted, e.since)).collect()
                    };
                    let following = expect_list(out.iter().map(|(b, (m, s))| (*b, *m, *s)).collect());
                    let followers = expect_list(inc.iter().map(|(a, (m, s))| (*a, *m, *s)).collect());
                    let mutuals = expect_list(
                        mutual.iter().map(|b| (*b, out[b].0, out[b].1.max(inc[b].1))).collect(),
                    );
                    assert_eq!(got(walk(self.graph(), p, ListKind::Following, name, 2).await), following, "following of {name}");
                    assert_eq!(got(walk(self.graph(), p, ListKind::Followers, name, 2).await), followers, "followers of {name}");
                    assert_eq!(got(walk(self.graph(), p, ListKind::Mutuals, name, 2).await), mutuals, "mutuals of {name}");
                    for (oi, other) in NODES.iter().enumerate() {
                        if oi == ni || !t.nodes.contains_key(&oi) {
                            continue;
                        }
                        let relation = self.graph().relation(p, name, other).await.unwrap();
                        let expected = Relation::from_edges(out.contains_key(&oi), inc.contains_key(&oi));
                        assert_eq!(relation, expected, "relation {name} to {other} in {tenant}");
                    }
                }
            }
        });
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

/// The [`StateMachineTest`] of a store made by `F`.
pub struct ModelTest<F>(PhantomData<F>);

impl<F: StoreFactory> StateMachineTest for ModelTest<F> {
    type SystemUnderTest = System<F>;
    type Reference = Reference;

    fn init_test(initial: &Model) -> System<F> {
        System::start(initial)
    }

    fn apply(mut system: System<F>, _after: &Model, op: Op) -> System<F> {
        let mut model = system.model.clone();
        let (tenant, expected, mut expected_events) = model.step(&op);
        let (_, got) = system.run(&op);
        assert_eq!(got, expected, "outcome of {op:?}");
        let mut events = system.new_events(tenant);
        if matches!(op, Op::Remove { .. }) {
            events.sort_by_key(|e| format!("{e:?}"));
            expected_events.sort_by_key(|e| format!("{e:?}"));
        }
        assert_eq!(events, expected_events, "events of {op:?}");
        assert!(
            system.new_events(1 - tenant).is_empty(),
            "events leaked to the other tenant"
        );
        system.model = model;
        system
    }

    fn check_invariants(system: &System<F>, model: &Model) {
        assert_eq!(&system.model, model, "the harness lost track of the model");
        system.check_state(model);
    }
}

fn config(regressions: &'static str, default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}

/// Random sequences of up to 30 steps (32 cases unless `PROPTEST_CASES`
/// says otherwise) agree with the reference model after every step.
pub fn model_matches_reference<F: StoreFactory>(regressions: &'static str) {
    let config = config(regressions, 32);
    let mut runner = TestRunner::new(config.clone());
    let result = runner.run(
        &Reference::sequential_strategy(1..30),
        |(state, ops, seen)| {
            ModelTest::<F>::test_sequential(config.clone(), state, ops, seen);
            Ok(())
        },
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Every command and batch applied twice in a row leaves the state of
/// applying it once: the second outcome is `unchanged` (or the same error)
/// and it emits no event.
pub fn commands_applied_twice_are_idempotent<F: StoreFactory>(regressions: &'static str) {
    let config = config(regressions, 64);
    let mut runner = TestRunner::new(config);
    let strategy = initial_model().prop_flat_map(|initial| {
        let ops = op_strategy(&initial);
        (
            Just(initial),
            proptest::collection::vec(ops.clone(), 0..10),
            ops,
        )
    });
    let result = runner.run(&strategy, |(initial, setup, op)| {
        let mut system = System::<F>::start(&initial);
        let mut model = initial;
        for step in &setup {
            let _ = model.step(step);
            let _ = system.run(step);
        }
        let _ = system.new_events(0);
        let _ = system.new_events(1);
        let (tenant, first) = system.run(&op);
        let (_, expected, _) = model.step(&op);
        prop_assert_eq!(&first, &expected);
        let _ = system.new_events(tenant);
        system.check_state(&model);
        let (_, second) = system.run(&op);
        let twice = model.clone().step(&op).1;
        let unchanged = match &first {
            Ok(items) => Ok(items.iter().map(|item| item.map(|_| false)).collect()),
            Err(kind) => Err(*kind),
        };
        if !matches!(op, Op::Tick) {
            prop_assert_eq!(&second, &unchanged, "second application of {:?}", op);
        }
        prop_assert_eq!(&twice, &unchanged);
        prop_assert!(
            system.new_events(tenant).is_empty(),
            "second {:?} emitted events",
            op
        );
        if matches!(op, Op::Tick) {
            let _ = model.step(&op);
        }
        system.check_state(&model);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
