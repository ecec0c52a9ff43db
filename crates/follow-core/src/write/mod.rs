//! Writes as load → decide → commit, with every rule decided here.
//!
//! A store's [`crate::FollowStore::write`] does three things around two pure
//! calls of this module:
//!
//! 1. [`WritePlan::new`] names every row the batch reads ([`Keys`], sorted);
//!    the store opens a transaction and loads those rows in one go (a
//!    networked store in one or two queries, locking them in key order if
//!    it locks) into [`Facts`].
//! 2. [`WritePlan::decide`] applies the batch to a working copy of the facts
//!    and answers a [`Decision`]: the [`ChangeSet`] (rows to delete, insert
//!    and put, counter deltas, events in order) and each command's result.
//! 3. The store commits the change set atomically, placing the events in
//!    its order, and hands their positions to [`Decision::into_results`].
//!
//! Core never drives a store row by row; a store never decides. A store
//! whose rows another writer could change between load and commit either
//! prevents it (locks taken by the load) or detects it and runs the three
//! steps again.
//!
//! ```
//! use follow_core::write::{Facts, WritePlan};
//! use follow_core::{Command, NodeId, TenantId, Timestamp, WriteBatch};
//!
//! let now = Timestamp::from_unix_seconds(1_800_000_000)?;
//! let batch = WriteBatch::new(TenantId::new("acme")?, now)
//!     .command(Command::Register { node: NodeId::new("alice")? });
//! let plan = WritePlan::new(&batch);
//! assert_eq!(plan.keys().nodes, vec![NodeId::new("alice")?]);
//! // The store found nothing: alice is new.
//! let decision = plan.decide(Facts::new())?;
//! assert_eq!(decision.changes.node_inserts.len(), 1);
//! let results = decision.into_results(&[])?;
//! assert!(results[0].as_ref().is_ok_and(|applied| applied.is_changed()));
//! # Ok::<(), follow_core::Error>(())
//! ```

mod changes;
mod facts;
mod keys;
mod rules;
mod working;

pub use changes::{ChangeSet, NodeUpdate};
pub use facts::Facts;
pub use keys::{EdgeKey, Keys};
pub(crate) use rules::EDGES_REMAIN;

use rules::Pending;
use working::Working;

use crate::{CommandResult, Error, EventPosition, WriteBatch};

/// One batch on its way through load → decide → commit.
#[derive(Debug)]
pub struct WritePlan<'b> {
    batch: &'b WriteBatch,
    keys: Keys,
}

impl<'b> WritePlan<'b> {
    /// The plan of `batch`: its keys are worked out here, once.
    pub fn new(batch: &'b WriteBatch) -> Self {
        WritePlan {
            keys: Keys::of(batch),
            batch,
        }
    }

    /// The rows to load, each list sorted.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Decides the batch on the rows the store loaded for [`Self::keys`].
    ///
    /// # Errors
    /// The batch fails as a whole, and the store commits nothing: its
    /// required actor is not registered (`not_found`), or the facts break an
    /// invariant (`internal`: counters that disagree with the edges).
    /// Per-command rejections (`not_found`, `not_following`,
    /// `invalid_argument`) are the commands' own results.
    pub fn decide(self, facts: Facts) -> Result<Decision, Error> {
        let batch = self.batch;
        let mut rows = Working::new(&self.keys, facts);
        if let Some(actor) = &batch.requires
            && rows.node(actor)?.is_none()
        {
            return Err(Error::node_not_found("actor", actor.as_str()));
        }
        let results = batch
            .commands
            .iter()
            .map(|command| rules::apply(&mut rows, batch.at, command))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Decision {
            changes: rows.into_changes(batch.tenant.clone()),
            results,
        })
    }
}

/// A decided batch: what to commit, and what each command answers.
#[derive(Debug)]
pub struct Decision {
    /// The rows and events to commit, atomically.
    pub changes: ChangeSet,
    results: Vec<Result<Pending, Error>>,
}

impl Decision {
    /// Each command's result, in request order, once the store committed
    /// [`Self::changes`] and placed its events at `positions` (one per
    /// event, in order).
    ///
    /// # Errors
    /// `internal` when `positions` does not hold one position per event.
    pub fn into_results(self, positions: &[EventPosition]) -> Result<Vec<CommandResult>, Error> {
        let events = self.changes.events;
        if positions.len() != events.len() {
            return Err(Error::internal(format!(
                "the store placed {} of {} events",
                positions.len(),
                events.len()
            )));
        }
        let tenant = self.changes.tenant;
        let event = |index: usize| {
            let (Some(event), Some(position)) = (events.get(index), positions.get(index)) else {
                return Err(Error::internal("a result names an event the batch has not"));
            };
            Ok(event.clone().at_position(tenant.clone(), *position))
        };
        self.results
            .into_iter()
            .map(|result| match result {
                Ok(pending) => pending.resolve(event).map(Ok),
                Err(rejected) => Ok(Err(rejected)),
            })
            .collect()
    }
}
