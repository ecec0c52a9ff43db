//! The generator: random starting graphs and commands that mostly name
//! what the state holds (registered nodes, mutual pairs, pending requests,
//! blocks, mutes), so most steps reach stored rows and the relationship
//! rules.

use follow_core::{FollowOptions, Languages, LinkKind, OptionsUpdate};
use proptest::prelude::*;
use proptest::strategy::Union;

use super::ops::{Op, OpKind};
use super::reference::{EdgeModel, Model, TenantModel};
use super::{CHANNEL_INDEX, NODES};

/// The share of a tenant's commands each kind gets (a tick is drawn
/// beside the tenants, in [`op_strategy`]).
fn weight(kind: OpKind) -> u32 {
    match kind {
        OpKind::Follow => 7,
        OpKind::Block | OpKind::AuthorizeRequest | OpKind::RejectRequest => 4,
        OpKind::Remove | OpKind::Unfollow | OpKind::SetMute | OpKind::MuteAccount => 3,
        OpKind::RemoveFollower
        | OpKind::UnfollowMany
        | OpKind::Touch
        | OpKind::UnmuteAccount
        | OpKind::DropLink => 1,
        OpKind::Tick => 0,
        _ => 2,
    }
}

fn index() -> std::ops::Range<usize> {
    0..NODES.len()
}

fn accounts() -> std::ops::Range<usize> {
    0..CHANNEL_INDEX
}

/// Mostly one of `present` (what the state holds), sometimes `any`.
fn mostly<T: Clone + std::fmt::Debug + 'static>(
    present: Vec<T>,
    any: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    if present.is_empty() {
        return any.boxed();
    }
    prop_oneof![5 => proptest::sample::select(present), 1 => any].boxed()
}

/// A node: a registered one four times in five.
fn pick(registered: &[usize], any: impl Strategy<Value = usize> + 'static) -> BoxedStrategy<usize> {
    if registered.is_empty() {
        return any.boxed();
    }
    prop_oneof![4 => proptest::sample::select(registered.to_vec()), 1 => any].boxed()
}

/// Languages a follow may name: all, one, two.
fn languages() -> impl Strategy<Value = Languages> {
    proptest::sample::select(vec![
        Languages::ALL,
        Languages::parse(["en"]).unwrap(),
        Languages::parse(["de", "en"]).unwrap(),
    ])
}

/// The options a follow names; most follows name none.
pub fn options_update() -> BoxedStrategy<OptionsUpdate> {
    prop_oneof![2 => Just(OptionsUpdate::NONE), 1 => named_options()].boxed()
}

/// Options a follow names, each one or not.
fn named_options() -> BoxedStrategy<OptionsUpdate> {
    (
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(languages()),
    )
        .prop_map(|(reblogs, notify, languages)| OptionsUpdate {
            reblogs,
            notify,
            languages,
        })
        .boxed()
}

/// What the state of one tenant offers the pickers.
struct Offer {
    registered: Vec<usize>,
    accounts: Vec<usize>,
    askable: Vec<(usize, usize)>,
    edges: Vec<(usize, usize)>,
    mutual: Vec<(usize, usize)>,
    asking: Vec<(usize, usize)>,
    blocks: Vec<(usize, usize)>,
    mutes: Vec<(usize, usize)>,
    links: Vec<(LinkKind, usize, usize)>,
    unlockable: Vec<usize>,
}

impl Offer {
    fn of(t: &TenantModel) -> Offer {
        let registered: Vec<usize> = t.nodes.keys().copied().collect();
        let accounts = registered
            .iter()
            .copied()
            .filter(|n| *n != CHANNEL_INDEX)
            .collect();
        let locked: Vec<usize> = t
            .nodes
            .iter()
            .filter(|(_, n)| n.locked)
            .map(|(i, _)| *i)
            .collect();
        let edges = t.edges.keys().copied().collect();
        // Pairs where a follow makes a request.
        let askable = locked
            .iter()
            .flat_map(|to| (0..CHANNEL_INDEX).map(move |from| (from, *to)))
            .filter(|(from, to)| {
                from != to
                    && t.nodes.contains_key(from)
                    && !t.edges.contains_key(&(*from, *to))
                    && !t.requests.contains_key(&(*from, *to))
                    && !t.blocked_either_way(*from, *to)
            })
            .collect();
        let mutual = t
            .edges
            .keys()
            .filter(|(a, b)| t.edges.contains_key(&(*b, *a)))
            .copied()
            .collect();
        let asking: Vec<(usize, usize)> = t.requests.keys().copied().collect();
        let blocks: Vec<(usize, usize)> = t.blocks.keys().copied().collect();
        let mutes: Vec<(usize, usize)> = t.mutes.keys().copied().collect();
        let links = blocks
            .iter()
            .map(|(a, b)| (LinkKind::Block, *a, *b))
            .chain(mutes.iter().map(|(a, b)| (LinkKind::Mute, *a, *b)))
            .chain(asking.iter().map(|(a, b)| (LinkKind::Request, *a, *b)))
            .collect();
        let unlockable = locked
            .iter()
            .copied()
            .filter(|n| asking.iter().any(|(_, to)| to == n))
            .collect();
        Offer {
            registered,
            accounts,
            askable,
            edges,
            mutual,
            asking,
            blocks,
            mutes,
            links,
            unlockable,
        }
    }

    fn node(&self) -> BoxedStrategy<usize> {
        pick(&self.registered, index())
    }

    fn account(&self) -> BoxedStrategy<usize> {
        pick(&self.accounts, accounts())
    }

    fn account_pair(&self) -> BoxedStrategy<(usize, usize)> {
        (self.account(), self.account()).boxed()
    }

    /// A follow: any, of an edge that exists with options named, of a
    /// locked target, or across a block (either way).
    fn follow(&self) -> BoxedStrategy<((usize, usize), OptionsUpdate)> {
        let mut choices: Vec<(u32, BoxedStrategy<_>)> =
            vec![(3, ((self.account(), self.node()), options_update()).boxed())];
        if !self.edges.is_empty() {
            let edge = proptest::sample::select(self.edges.clone());
            choices.push((2, (edge, named_options()).boxed()));
        }
        if !self.askable.is_empty() {
            let ask = proptest::sample::select(self.askable.clone());
            choices.push((2, (ask, options_update()).boxed()));
        }
        if !self.blocks.is_empty() {
            let across = proptest::sample::select(self.blocks.clone())
                .prop_flat_map(|(a, b)| prop_oneof![Just((a, b)), Just((b, a))]);
            choices.push((2, (across, options_update()).boxed()));
        }
        Union::new_weighted(choices).boxed()
    }
}

/// A command of `kind` on `tenant`, picking from what its state offers.
fn kind_op(kind: OpKind, tenant: usize, o: &Offer) -> BoxedStrategy<Op> {
    match kind {
        OpKind::Register => index()
            .prop_map(move |node| Op::Register { tenant, node })
            .boxed(),
        OpKind::Remove => o
            .node()
            .prop_map(move |node| Op::Remove { tenant, node })
            .boxed(),
        OpKind::Follow => o
            .follow()
            .prop_map(move |((actor, target), options)| Op::Follow {
                tenant,
                actor,
                target,
                options,
            })
            .boxed(),
        OpKind::Unfollow => {
            let pair = if o.asking.is_empty() {
                (o.node(), o.node()).boxed()
            } else {
                let withdraw = proptest::sample::select(o.asking.clone());
                prop_oneof![2 => (o.node(), o.node()), 1 => withdraw].boxed()
            };
            pair.prop_map(move |(actor, target)| Op::Unfollow {
                tenant,
                actor,
                target,
            })
            .boxed()
        }
        OpKind::SetMute => (o.account(), o.node(), any::<bool>())
            .prop_map(move |(actor, target, muted)| Op::SetMute {
                tenant,
                actor,
                target,
                muted,
            })
            .boxed(),
        OpKind::RemoveFollower => (o.node(), o.node())
            .prop_map(move |(actor, follower)| Op::RemoveFollower {
                tenant,
                actor,
                follower,
            })
            .boxed(),
        OpKind::FollowMany => (o.node(), proptest::collection::vec(o.node(), 0..5))
            .prop_map(move |(actor, targets)| Op::FollowMany {
                tenant,
                actor,
                targets,
            })
            .boxed(),
        OpKind::UnfollowMany => (o.account(), proptest::collection::vec(o.node(), 0..5))
            .prop_map(move |(actor, targets)| Op::UnfollowMany {
                tenant,
                actor,
                targets,
            })
            .boxed(),
        OpKind::Touch => (o.node(), 0i64..8)
            .prop_map(move |(node, at)| Op::Touch { tenant, node, at })
            .boxed(),
        OpKind::Block => {
            let mut choices = vec![(2, o.account_pair())];
            if !o.mutual.is_empty() {
                choices.push((5, proptest::sample::select(o.mutual.clone()).boxed()));
            }
            if !o.asking.is_empty() {
                choices.push((1, proptest::sample::select(o.asking.clone()).boxed()));
            }
            Union::new_weighted(choices)
                .prop_map(move |(actor, target)| Op::Block {
                    tenant,
                    actor,
                    target,
                })
                .boxed()
        }
        OpKind::Unblock => mostly(o.blocks.clone(), o.account_pair())
            .prop_map(move |(actor, target)| Op::Unblock {
                tenant,
                actor,
                target,
            })
            .boxed(),
        OpKind::MuteAccount => {
            let notifications = proptest::option::of(any::<bool>());
            let duration = proptest::option::weighted(0.6, 1u64..=3);
            let pair =
                prop_oneof![2 => o.account_pair(), 1 => mostly(o.mutes.clone(), o.account_pair())];
            (pair, notifications, duration)
                .prop_map(
                    move |((actor, target), notifications, duration)| Op::MuteAccount {
                        tenant,
                        actor,
                        target,
                        notifications,
                        duration,
                    },
                )
                .boxed()
        }
        OpKind::UnmuteAccount => mostly(o.mutes.clone(), o.account_pair())
            .prop_map(move |(actor, target)| Op::UnmuteAccount {
                tenant,
                actor,
                target,
            })
            .boxed(),
        OpKind::SetLocked => {
            let any_lock = (o.node(), any::<bool>()).boxed();
            let unlock = mostly(o.unlockable.clone(), o.account()).prop_map(|n| (n, false));
            prop_oneof![2 => any_lock, 1 => unlock]
                .prop_map(move |(node, locked)| Op::SetLocked {
                    tenant,
                    node,
                    locked,
                })
                .boxed()
        }
        OpKind::AuthorizeRequest | OpKind::RejectRequest => {
            let authorize = kind == OpKind::AuthorizeRequest;
            mostly(o.asking.clone(), o.account_pair())
                .prop_map(move |(follower, actor)| {
                    if authorize {
                        Op::AuthorizeRequest {
                            tenant,
                            actor,
                            follower,
                        }
                    } else {
                        Op::RejectRequest {
                            tenant,
                            actor,
                            follower,
                        }
                    }
                })
                .boxed()
        }
        OpKind::DropLink => {
            // Only what a removal sends: a key between two accounts.
            let any_link = (
                proptest::sample::select(LinkKind::ALL.to_vec()),
                o.account(),
                1..CHANNEL_INDEX,
            )
                .prop_map(|(kind, from, offset)| (kind, from, (from + offset) % CHANNEL_INDEX));
            mostly(o.links.clone(), any_link)
                .prop_map(move |(kind, from, to)| Op::DropLink {
                    tenant,
                    kind,
                    from,
                    to,
                })
                .boxed()
        }
        OpKind::Tick => tick().boxed(),
    }
}

fn tick() -> impl Strategy<Value = Op> {
    (1u64..=2).prop_map(|seconds| Op::Tick { seconds })
}

/// The commands of one tenant, each kind by its weight.
fn tenant_ops(tenant: usize, t: &TenantModel) -> BoxedStrategy<Op> {
    let offer = Offer::of(t);
    let choices = OpKind::ALL
        .into_iter()
        .filter(|kind| weight(*kind) > 0)
        .map(|kind| (weight(kind), kind_op(kind, tenant, &offer)))
        .collect();
    Union::new_weighted(choices).boxed()
}

/// Any command on `model`: tenant 0 four times as often as tenant 1, and
/// the clock advancing about once in eight steps (mutes last 1 to 3
/// seconds, so many expire within a sequence).
pub fn op_strategy(model: &Model) -> BoxedStrategy<Op> {
    prop_oneof![
        16 => tenant_ops(0, &model.tenants[0]),
        4 => tenant_ops(1, &model.tenants[1]),
        3 => tick(),
    ]
    .boxed()
}

/// One command of every kind, in a random order, each on a tenant drawn as
/// in [`op_strategy`].
pub fn every_kind(model: &Model) -> BoxedStrategy<Vec<Op>> {
    let offers = [Offer::of(&model.tenants[0]), Offer::of(&model.tenants[1])];
    let ops: Vec<BoxedStrategy<Op>> = OpKind::ALL
        .into_iter()
        .map(|kind| {
            prop_oneof![
                4 => kind_op(kind, 0, &offers[0]),
                1 => kind_op(kind, 1, &offers[1]),
            ]
            .boxed()
        })
        .collect();
    ops.prop_shuffle().boxed()
}

/// The links a starting graph seeds on one ordered pair of accounts: a
/// request (if the target is locked), a mute (notifications, seconds), a
/// block.
type Seed = (
    bool,
    OptionsUpdate,
    Option<(Option<bool>, Option<u64>)>,
    bool,
);

fn seed() -> impl Strategy<Value = Seed> {
    (
        proptest::bool::weighted(0.9),
        options_update(),
        proptest::option::weighted(
            0.2,
            (
                proptest::option::of(any::<bool>()),
                proptest::option::weighted(0.6, 1u64..=3),
            ),
        ),
        proptest::bool::weighted(0.1),
    )
}

fn edge_options() -> impl Strategy<Value = FollowOptions> {
    prop_oneof![
        3 => Just(FollowOptions::default()),
        1 => options_update().prop_map(|update| update.apply(FollowOptions::default())),
    ]
}

/// A random starting graph: most nodes registered in both tenants, about
/// half of the accounts locked, about half of the possible edges
/// present (half of them muted, a quarter with options), then by the
/// model's own rules at time 0: requests to locked accounts, mutes (most
/// with a short expiry) and a few blocks (which cut what they stand
/// between). Mutual pairs, pending requests and mutes are common from the
/// first step.
pub fn initial_model() -> BoxedStrategy<Model> {
    let tenant = || {
        (
            proptest::collection::vec(proptest::bool::weighted(0.85), NODES.len()),
            proptest::collection::vec(proptest::bool::weighted(0.5), CHANNEL_INDEX),
            proptest::collection::vec(
                (
                    proptest::bool::weighted(0.5),
                    proptest::bool::weighted(0.5),
                    edge_options(),
                ),
                CHANNEL_INDEX * NODES.len(),
            ),
            proptest::collection::vec(seed(), CHANNEL_INDEX * CHANNEL_INDEX),
        )
    };
    (tenant(), tenant())
        .prop_map(|(t0, t1)| {
            let mut model = Model::default();
            for (ti, (registered, locked, edges, seeds)) in [t0, t1].into_iter().enumerate() {
                seed_tenant(&mut model, ti, &registered, &locked, edges, &seeds);
            }
            model
        })
        .boxed()
}

fn seed_tenant(
    model: &mut Model,
    tenant: usize,
    registered: &[bool],
    locked: &[bool],
    edges: Vec<(bool, bool, FollowOptions)>,
    seeds: &[Seed],
) {
    let t = &mut model.tenants[tenant];
    for (node, _) in registered.iter().enumerate().filter(|(_, r)| **r) {
        t.nodes.entry(node).or_default().locked = locked.get(node).copied().unwrap_or(false);
    }
    for (i, (present, muted, options)) in edges.into_iter().enumerate() {
        let (follower, target) = (i / NODES.len(), i % NODES.len());
        let ends = t.nodes.contains_key(&follower) && t.nodes.contains_key(&target);
        if present && ends && follower != target {
            let edge = EdgeModel {
                muted,
                since: 0,
                options,
            };
            t.edges.insert((follower, target), edge);
        }
    }
    let pairs = || {
        (0..CHANNEL_INDEX)
            .flat_map(|a| (0..CHANNEL_INDEX).map(move |b| (a, b)))
            .zip(seeds)
            .filter(|((a, b), _)| a != b)
    };
    let mut blocks = Vec::new();
    for ((actor, target), (request, options, mute, block)) in pairs() {
        let t = &model.tenants[tenant];
        let registered = t.nodes.contains_key(&actor) && t.nodes.contains_key(&target);
        if !registered {
            continue;
        }
        let asks = t.nodes[&target].locked && !t.edges.contains_key(&(actor, target));
        if *request && asks {
            let options = *options;
            let _ = model.step(&Op::Follow {
                tenant,
                actor,
                target,
                options,
            });
        }
        if let Some((notifications, duration)) = *mute {
            let _ = model.step(&Op::MuteAccount {
                tenant,
                actor,
                target,
                notifications,
                duration,
            });
        }
        if *block {
            blocks.push(Op::Block {
                tenant,
                actor,
                target,
            });
        }
    }
    for block in blocks {
        let _ = model.step(&block);
    }
}
