//! The model test's generator reaches the states that find bugs: most
//! sequences hold edges, mutual pairs, muted edges, mutual pairs whose two
//! sides differ in their mute flag, edges in both tenants, and removals of
//! nodes that still have edges. Run with `--nocapture` to see the table.

#![allow(clippy::unwrap_used)]

use follow_conformance::model::{Model, Op, Reference};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use proptest_state_machine::ReferenceStateMachine;

/// What one sequence reached, at any of its steps.
#[derive(Debug, Default, Clone, Copy)]
struct Reached {
    edge: bool,
    mutual: bool,
    muted: bool,
    mutual_with_different_flags: bool,
    both_tenants: bool,
    removal_with_edges: bool,
}

fn observe(model: &Model, reached: &mut Reached) {
    let mut tenants_with_edges = 0;
    for t in &model.tenants {
        tenants_with_edges += usize::from(!t.edges.is_empty());
        for ((a, b), (muted, _)) in &t.edges {
            reached.edge = true;
            reached.muted |= *muted;
            if let Some((back_muted, _)) = t.edges.get(&(*b, *a)) {
                reached.mutual = true;
                reached.mutual_with_different_flags |= muted != back_muted;
            }
        }
    }
    reached.both_tenants |= tenants_with_edges == 2;
}

#[test]
fn sequences_reach_rich_graphs() {
    const SEQUENCES: usize = 1_000;
    let mut runner = TestRunner::deterministic();
    let strategy = Reference::sequential_strategy(1..30);
    let mut counts = [0usize; 6];
    let (mut commands, mut reaching) = (0usize, 0usize);
    for _ in 0..SEQUENCES {
        let (initial, ops, _) = strategy.new_tree(&mut runner).unwrap().current();
        let mut model = initial;
        let mut reached = Reached::default();
        observe(&model, &mut reached);
        for op in &ops {
            if let Op::Remove { tenant, node } = op {
                let t = &model.tenants[*tenant];
                reached.removal_with_edges |= t.edges.keys().any(|(a, b)| a == node || b == node);
            }
            let (_, expected, _) = model.step(op);
            if !matches!(op, Op::Tick) {
                commands += 1;
                // A command reaches the store's rows unless it is refused
                // as a whole or names an unknown node.
                let reached_rows = match &expected {
                    Ok(items) => items
                        .iter()
                        .any(|item| !matches!(item, Err(follow_core::ErrorKind::NotFound))),
                    Err(_) => false,
                };
                reaching += usize::from(reached_rows);
            }
            observe(&model, &mut reached);
        }
        let flags = [
            reached.edge,
            reached.mutual,
            reached.muted,
            reached.mutual_with_different_flags,
            reached.both_tenants,
            reached.removal_with_edges,
        ];
        for (count, flag) in counts.iter_mut().zip(flags) {
            *count += usize::from(flag);
        }
    }
    let names = [
        "an edge",
        "a mutual pair",
        "a muted edge",
        "a mutual pair with different mute flags",
        "edges in both tenants",
        "a removal of a node with edges",
    ];
    println!("of {SEQUENCES} sequences:");
    for (name, count) in names.iter().zip(counts) {
        println!("  {count:>5} ({:>3}%) hold {name}", count * 100 / SEQUENCES);
    }
    println!(
        "  {reaching} of {commands} commands ({}%) reach stored rows",
        reaching * 100 / commands.max(1)
    );
    for (name, count) in names.iter().zip(counts) {
        assert!(
            count * 2 > SEQUENCES,
            "only {count} of {SEQUENCES} sequences hold {name}"
        );
    }
}
