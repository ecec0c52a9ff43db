//! Model-based property tests: random command sequences over a small
//! universe (4 accounts and 1 channel in each of 2 tenants, and a clock),
//! run against the store through the facade and against a reference model
//! of plain sets and maps. After every step the outcomes, events, counts,
//! locked flags, lists (edges with their mute flag and options), links
//! (blocks, account mutes with expiry, follow requests), relationships and
//! delivery lists must agree with the model.
//!
//! - [`ops`]: the commands and what a step answers;
//! - [`mod@reference`]: the model and its rules;
//! - [`generate`]: starting graphs and commands;
//! - `system` and `check`: the store side and the comparison.

mod check;
pub mod generate;
pub mod ops;
pub mod reference;
mod system;

use std::marker::PhantomData;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};

use crate::StoreFactory;

pub use crate::feed_model::{FeedOp, feed_matches_reference};
pub use generate::{every_kind, initial_model, op_strategy};
pub use ops::{Expected, ExpectedEvent, ItemOutcome, Op, OpKind};
pub use reference::{EdgeModel, Model, MuteModel, NodeModel, RequestModel, TenantModel};
pub use system::System;

/// The universe: node index → id. 0..4 are accounts, 4 is a channel.
pub const NODES: [&str; 5] = ["a0", "a1", "a2", "a3", "120363000000000001@newsletter"];
/// The two tenants.
pub const TENANTS: [&str; 2] = ["t0", "t1"];

const CHANNEL_INDEX: usize = 4;

/// The lengths of the random sequences: long enough that most reach a
/// rule that needs a state built first (a request, then its answer).
pub const SEQUENCE_LENGTH: std::ops::Range<usize> = 1..40;

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

/// Runs `op` on both sides and asserts the answers and events agree;
/// answers the store's answer.
fn step_both<F: StoreFactory>(system: &mut System<F>, model: &mut Model, op: &Op) -> Expected {
    let (tenant, expected, mut expected_events) = model.step(op);
    let got = system.run(op);
    assert_eq!(got, expected, "outcome of {op:?}");
    let mut events = system.new_events(tenant);
    if op.cascades() {
        events.sort_by_key(|e| format!("{e:?}"));
        expected_events.sort_by_key(|e| format!("{e:?}"));
    }
    assert_eq!(events, expected_events, "events of {op:?}");
    assert!(
        system.new_events(1 - tenant).is_empty(),
        "events of {op:?} leaked to the other tenant"
    );
    got
}

/// The [`StateMachineTest`] of a store made by `F`.
pub struct ModelTest<F>(PhantomData<F>);

impl<F: StoreFactory> StateMachineTest for ModelTest<F> {
    type SystemUnderTest = System<F>;
    type Reference = Reference;

    fn init_test(initial: &Model) -> System<F> {
        let system = System::start(initial);
        system.check_state(initial);
        system
    }

    fn apply(mut system: System<F>, _after: &Model, op: Op) -> System<F> {
        let mut model = system.model.clone();
        let _ = step_both(&mut system, &mut model, &op);
        system.model = model;
        system
    }

    fn check_invariants(system: &System<F>, model: &Model) {
        assert_eq!(&system.model, model, "the harness lost track of the model");
        system.check_state(model);
    }
}

/// A property test's configuration: `PROPTEST_CASES` cases when set, else
/// `default_cases`, capped at `max_cases` (the suite's `model_cases`).
pub(crate) fn config(
    regressions: &'static str,
    default_cases: u32,
    max_cases: Option<u32>,
) -> Config {
    let asked = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    let cases = case_count(asked, default_cases, max_cases);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}

/// The number of cases a property test runs: the number asked for
/// (`PROPTEST_CASES`), else the test's default capped at `max_cases`; a
/// cap never turns a test off.
fn case_count(asked: Option<u32>, default_cases: u32, max_cases: Option<u32>) -> u32 {
    asked.unwrap_or_else(|| max_cases.map_or(default_cases, |max| default_cases.min(max.max(1))))
}

/// Random sequences of up to 40 steps (32 cases, at most `max_cases`,
/// unless `PROPTEST_CASES` says otherwise) agree with the reference model
/// after every step.
pub fn model_matches_reference<F: StoreFactory>(regressions: &'static str, max_cases: Option<u32>) {
    let config = config(regressions, 32, max_cases);
    let mut runner = TestRunner::new(config.clone());
    let result = runner.run(
        &Reference::sequential_strategy(SEQUENCE_LENGTH),
        |(state, ops, seen)| {
            ModelTest::<F>::test_sequential(config.clone(), state, ops, seen);
            Ok(())
        },
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Every command applied twice in a row leaves the state of applying it
/// once: the second outcome is `unchanged` (or the same error) and it
/// emits no event. Each case runs a random setup, then one command of
/// every kind in a random order, each applied twice and the state checked
/// after (16 cases, at most `max_cases`, unless `PROPTEST_CASES` says
/// otherwise).
pub fn commands_applied_twice_are_idempotent<F: StoreFactory>(
    regressions: &'static str,
    max_cases: Option<u32>,
) {
    let config = config(regressions, 16, max_cases);
    let mut runner = TestRunner::new(config);
    let strategy = initial_model().prop_flat_map(|initial| {
        (
            Just(initial.clone()),
            proptest::collection::vec(op_strategy(&initial), 0..10),
            every_kind(&initial),
        )
    });
    let result = runner.run(&strategy, |(initial, setup, ops)| {
        let mut system = System::<F>::start(&initial);
        let mut model = initial;
        for op in &setup {
            let _ = model.step(op);
            let _ = system.run(op);
        }
        let _ = system.new_events(0);
        let _ = system.new_events(1);
        for op in &ops {
            let first = step_both(&mut system, &mut model, op);
            if matches!(op, Op::Tick { .. }) {
                continue;
            }
            let unchanged: Expected = match &first {
                Ok(items) => Ok(items
                    .iter()
                    .map(|item| item.map(|_| follow_core::Outcome::Unchanged))
                    .collect()),
                Err(kind) => Err(*kind),
            };
            let (_, twice, _) = model.clone().step(op);
            prop_assert_eq!(&twice, &unchanged, "the model: second {:?}", op);
            let second = step_both(&mut system, &mut model, op);
            prop_assert_eq!(&second, &unchanged, "second application of {:?}", op);
            system.check_state(&model);
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[cfg(test)]
mod tests {
    use super::case_count;

    #[test]
    fn an_asked_count_wins_and_a_cap_only_lowers_the_default() {
        assert_eq!(case_count(None, 32, None), 32);
        assert_eq!(case_count(None, 32, Some(8)), 8);
        assert_eq!(case_count(None, 16, Some(20)), 16);
        assert_eq!(case_count(None, 16, Some(0)), 1);
        assert_eq!(case_count(Some(500), 32, Some(8)), 500);
        assert_eq!(case_count(Some(2), 32, None), 2);
    }
}
