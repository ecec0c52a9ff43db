//! A model-based test of the change feed: random writes, acknowledgements,
//! prunes, clock steps and reads of two consumers, run through the facade
//! and against a plain reference (a list of events, a pruned prefix, two
//! positions). After every step the retained feed, each consumer's
//! position and what each consumer reads (or `fell_behind`) must agree.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::time::Duration;

use follow_core::Clock;
use follow_core::feed::{ConsumerStart, RetentionPolicy};
use follow_core::{
    Capabilities, ErrorKind, EventPosition, FollowGraph, ManualClock, Principal, TenantId,
    Timestamp,
};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use crate::StoreFactory;
use crate::fixture::at;

const NODES: [&str; 3] = ["a0", "a1", "a2"];
const CONSUMERS: [&str; 2] = ["c0", "c1"];

/// One step of a random feed sequence.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum FeedOp {
    /// Follow when not following, else unfollow: one event either way.
    Toggle { actor: usize, target: usize },
    /// Acknowledge the position of a written event (possibly pruned).
    Ack { consumer: usize, event: usize },
    /// Acknowledge one past the last position: refused.
    AckBeyond { consumer: usize },
    /// Prune with these retentions (seconds) in steps of `step`.
    Prune {
        keep: u64,
        unacknowledged: Option<u64>,
        step: usize,
    },
    /// Move the clock on.
    Tick(u64),
    /// Read a consumer's events.
    Read { consumer: usize },
}

fn op() -> impl Strategy<Value = FeedOp> {
    prop_oneof![
        4 => (0..3usize, 1..3usize).prop_map(|(actor, step)| FeedOp::Toggle {
            actor,
            target: (actor + step) % 3,
        }),
        3 => (0..2usize, 0..64usize).prop_map(|(consumer, event)| FeedOp::Ack { consumer, event }),
        1 => (0..2usize).prop_map(|consumer| FeedOp::AckBeyond { consumer }),
        2 => (0..5u64, proptest::option::weighted(0.3, 0..8u64), 1..4usize).prop_map(
            |(keep, unacknowledged, step)| FeedOp::Prune { keep, unacknowledged, step }
        ),
        2 => (1..3u64).prop_map(FeedOp::Tick),
        2 => (0..2usize).prop_map(|consumer| FeedOp::Read { consumer }),
    ]
}

#[derive(Debug, Default)]
struct Reference {
    edges: BTreeSet<(usize, usize)>,
    /// Every event written: position and time.
    events: Vec<(EventPosition, Timestamp)>,
    /// How many of `events` retention removed (a prefix).
    pruned: usize,
    consumers: [EventPosition; 2],
}

impl Reference {
    fn retained(&self) -> Vec<EventPosition> {
        self.events[self.pruned..].iter().map(|e| e.0).collect()
    }

    fn pruned_through(&self) -> EventPosition {
        self.pruned
            .checked_sub(1)
            .map_or(EventPosition(0), |i| self.events[i].0)
    }

    fn prune(&mut self, now: Timestamp, keep: u64, unacknowledged: Option<u64>) {
        if let Some(limit) = unacknowledged {
            let before = now.saturating_sub(Duration::from_secs(limit));
            while self.events.get(self.pruned).is_some_and(|e| e.1 < before) {
                self.pruned += 1;
            }
        }
        let before = now.saturating_sub(Duration::from_secs(keep));
        let bound = self.consumers.iter().min().copied().unwrap_or_default();
        while self
            .events
            .get(self.pruned)
            .is_some_and(|e| e.0 <= bound && e.1 < before)
        {
            self.pruned += 1;
        }
    }
}

fn run_sequence<F: StoreFactory>(ops: &[FeedOp]) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let factory = F::default();
    let store = runtime.block_on(factory.create());
    let clock = std::sync::Arc::new(ManualClock::new(at(0)));
    let graph = FollowGraph::builder(store.clone())
        .clock(clock.clone())
        .build();
    let p = Principal::new(TenantId::new("feed").unwrap(), Capabilities::ALL);
    let outcome = runtime.block_on(async {
        for node in NODES {
            graph.register(&p, node).await.unwrap();
        }
        for consumer in CONSUMERS {
            graph
                .register_consumer(&p, consumer, ConsumerStart::Oldest)
                .await
                .unwrap();
        }
        let mut model = Reference::default();
        for op in ops {
            match op {
                FeedOp::Toggle { actor, target } => {
                    let (a, b) = (NODES[*actor], NODES[*target]);
                    let applied = if model.edges.remove(&(*actor, *target)) {
                        graph.unfollow(&p, a, b).await.unwrap()
                    } else {
                        model.edges.insert((*actor, *target));
                        graph.follow(&p, a, b).await.unwrap()
                    };
                    let event = applied.event.unwrap();
                    model.events.push((event.position, event.at));
                }
                FeedOp::Ack { consumer, event } => {
                    if model.events.is_empty() {
                        continue;
                    }
                    let position = model.events[event % model.events.len()].0;
                    let state = graph
                        .acknowledge(&p, CONSUMERS[*consumer], position)
                        .await
                        .unwrap();
                    let stored = &mut model.consumers[*consumer];
                    *stored = (*stored).max(position);
                    prop_assert_eq!(state.position, *stored);
                }
                FeedOp::AckBeyond { consumer } => {
                    let last = model.events.last().map_or(0, |e| e.0.0);
                    let refused = graph
                        .acknowledge(&p, CONSUMERS[*consumer], EventPosition(last + 1))
                        .await;
                    prop_assert_eq!(
                        refused.err().map(|e| e.kind()),
                        Some(ErrorKind::InvalidArgument)
                    );
                }
                FeedOp::Prune {
                    keep,
                    unacknowledged,
                    step,
                } => {
                    let policy = RetentionPolicy {
                        acknowledged: Duration::from_secs(*keep),
                        unacknowledged: unacknowledged.map(Duration::from_secs),
                    };
                    let before = model.pruned;
                    model.prune(clock.now(), *keep, *unacknowledged);
                    let report = graph
                        .prune_events(&p, &policy, NonZeroUsize::new(*step).unwrap())
                        .await
                        .unwrap();
                    prop_assert_eq!(report.removed, (model.pruned - before) as u64, "{:?}", op);
                }
                FeedOp::Tick(seconds) => clock.advance(Duration::from_secs(*seconds)),
                FeedOp::Read { consumer } => {
                    let read = graph
                        .consumer_events(&p, CONSUMERS[*consumer], Some(1000))
                        .await;
                    let position = model.consumers[*consumer];
                    if model.pruned_through() > position {
                        prop_assert_eq!(read.err().map(|e| e.kind()), Some(ErrorKind::FellBehind));
                    } else {
                        let got: Vec<EventPosition> =
                            read.unwrap().iter().map(|e| e.position).collect();
                        let expected: Vec<EventPosition> = model
                            .retained()
                            .into_iter()
                            .filter(|q| *q > position)
                            .collect();
                        prop_assert_eq!(got, expected);
                    }
                }
            }
            let retained: Vec<EventPosition> = graph
                .events(&p, None, Some(1000))
                .await
                .unwrap()
                .iter()
                .map(|e| e.position)
                .collect();
            prop_assert_eq!(retained, model.retained(), "retained after {:?}", op);
        }
        Ok(())
    });
    drop(graph);
    runtime.block_on(factory.dispose(store));
    outcome
}

/// Random sequences of writes, acknowledgements, prunes, clock steps and
/// reads (32 cases, at most `max_cases`, unless `PROPTEST_CASES` says
/// otherwise) agree with the reference feed after every step.
pub fn feed_matches_reference<F: StoreFactory>(regressions: &'static str, max_cases: Option<u32>) {
    let config = crate::model::config(regressions, 32, max_cases);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        run_sequence::<F>(&ops)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
