//! The model test's generator reaches the states that find bugs: most
//! sequences hold edges, mutual pairs, muted edges, mutual pairs whose two
//! sides differ in their mute flag, edges in both tenants, removals of
//! nodes that still have edges, and the relationship rules at work: a
//! block severing a mutual follow, a request authorised, a request
//! rejected, a follow refused across a block, a mute that expires, a
//! follow's options changed. Run with `--nocapture` to see the tables.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use follow_conformance::model::{Model, Op, OpKind, Reference, SEQUENCE_LENGTH};
use follow_core::{ErrorKind, EventKind};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use proptest_state_machine::ReferenceStateMachine;

/// The states and rules a sequence reaches, at any of its steps.
const REACH: [&str; 13] = [
    "an edge",
    "a mutual pair",
    "a muted edge",
    "a mutual pair with different mute flags",
    "edges in both tenants",
    "a removal of a node with edges",
    "a block severing a mutual follow",
    "a request authorised",
    "a request rejected",
    "a follow across a block refused",
    "a mute that expires",
    "an options change",
    "a follow that makes a request",
];

/// The least share of sequences (in percent) each of [`REACH`] must reach.
/// The graph states as before; each rule of the relationships at least
/// 30 % (a rule needs a state built first: a request, then its answer).
const AT_LEAST: [usize; 13] = [50, 50, 50, 50, 50, 50, 30, 30, 30, 30, 50, 30, 20];

fn observe_graph(model: &Model, reached: &mut [bool; 13]) {
    let mut tenants_with_edges = 0;
    for t in &model.tenants {
        tenants_with_edges += usize::from(!t.edges.is_empty());
        for ((a, b), edge) in &t.edges {
            reached[0] = true;
            reached[2] |= edge.muted;
            if let Some(back) = t.edges.get(&(*b, *a)) {
                reached[1] = true;
                reached[3] |= edge.muted != back.muted;
            }
        }
    }
    reached[4] |= tenants_with_edges == 2;
}

/// What one step reached, from the states before and after it and what
/// the model answered.
fn observe_step(
    before: &Model,
    after: &Model,
    op: &Op,
    events: &[(EventKind, usize, usize)],
    reached: &mut [bool; 13],
) {
    let has = |kind: EventKind| events.iter().any(|e| e.0 == kind);
    match op {
        Op::Remove { tenant, node } => {
            let t = &before.tenants[*tenant];
            reached[5] |= t.edges.keys().any(|(a, b)| a == node || b == node);
        }
        Op::Block {
            tenant,
            actor,
            target,
        } => {
            let t = &before.tenants[*tenant];
            reached[6] |= has(EventKind::Blocked)
                && t.edges.contains_key(&(*actor, *target))
                && t.edges.contains_key(&(*target, *actor));
        }
        Op::RejectRequest { .. } => reached[8] |= has(EventKind::FollowRequestRejected),
        Op::Tick { .. } => {
            for (t0, t1) in before.tenants.iter().zip(&after.tenants) {
                reached[10] |= t0.mutes.iter().any(|(key, mute)| {
                    mute.holds_at(before.now) && !t1.mute_holds(key.0, key.1, after.now)
                });
            }
        }
        _ => {}
    }
    reached[7] |= has(EventKind::FollowRequestAuthorized);
    reached[11] |= has(EventKind::OptionsChanged);
    reached[12] |= has(EventKind::FollowRequested);
}

#[test]
fn sequences_reach_rich_graphs_and_the_relationship_rules() {
    const SEQUENCES: usize = 500;
    let mut runner = TestRunner::deterministic();
    let strategy = Reference::sequential_strategy(SEQUENCE_LENGTH);
    let mut counts = [0usize; 13];
    let mut kinds: BTreeMap<OpKind, usize> = BTreeMap::new();
    let (mut commands, mut reaching, mut steps) = (0usize, 0usize, 0usize);
    for _ in 0..SEQUENCES {
        let (initial, ops, _) = strategy.new_tree(&mut runner).unwrap().current();
        let mut model = initial;
        let mut reached = [false; 13];
        observe_graph(&model, &mut reached);
        for op in &ops {
            steps += 1;
            *kinds.entry(op.kind()).or_default() += 1;
            let before = model.clone();
            let (_, expected, events) = model.step(op);
            observe_step(&before, &model, op, &events, &mut reached);
            if let Ok(items) = &expected {
                reached[9] |= matches!(op, Op::Follow { .. } | Op::FollowMany { .. })
                    && items.contains(&Err(ErrorKind::Forbidden));
            }
            if !matches!(op, Op::Tick { .. }) {
                commands += 1;
                // A command reaches the store's rows unless it is refused
                // as a whole or names an unknown node.
                let reached_rows = match &expected {
                    Ok(items) => items
                        .iter()
                        .any(|item| !matches!(item, Err(ErrorKind::NotFound))),
                    Err(_) => false,
                };
                reaching += usize::from(reached_rows);
            }
            observe_graph(&model, &mut reached);
        }
        for (count, flag) in counts.iter_mut().zip(reached) {
            *count += usize::from(flag);
        }
    }
    println!("| command | share of {steps} steps |\n|---|---|");
    for (kind, count) in &kinds {
        println!(
            "| {} | {:.1} % |",
            kind.name(),
            *count as f64 * 100.0 / steps as f64
        );
    }
    println!("\n| sequences holding, at some step | share of {SEQUENCES} |\n|---|---|");
    for (name, count) in REACH.iter().zip(counts) {
        println!("| {name} | {} % |", count * 100 / SEQUENCES);
    }
    println!(
        "\n{reaching} of {commands} commands ({} %) reach stored rows",
        reaching * 100 / commands.max(1)
    );
    assert_eq!(
        kinds.len(),
        OpKind::ALL.len(),
        "some command kind is never generated"
    );
    for ((name, count), least) in REACH.iter().zip(counts).zip(AT_LEAST) {
        assert!(
            count * 100 >= least * SEQUENCES,
            "only {count} of {SEQUENCES} sequences reach {name} (at least {least} % wanted)"
        );
    }
}
