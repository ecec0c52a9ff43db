//! Batch requests: per-target results in request order.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::error::ErrorBody;
use crate::id::check_not_self;
use crate::{AccountId, CommandResult, Error, NodeId, OptionsUpdate, Timestamp};

/// One target's result in a batch: its outcome, or its own error.
#[derive(Debug, Clone)]
pub struct ItemResult<T> {
    /// The target as the request named it.
    pub target: String,
    /// The outcome, or this target's error; other targets are unaffected.
    pub result: Result<T, Error>,
}

/// `{"target":…,"result":…}` or `{"target":…,"error":{"code",…}}`.
impl<T: Serialize> Serialize for ItemResult<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("target", &self.target)?;
        match &self.result {
            Ok(value) => map.serialize_entry("result", value)?,
            Err(error) => map.serialize_entry("error", &ErrorBody(error))?,
        }
        map.end()
    }
}

/// One edge of a bulk import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportEdge {
    /// The follower, registered if new.
    pub follower: AccountId,
    /// The target, registered if new.
    pub target: NodeId,
    /// When the follow began; `None` is the time of the import.
    pub since: Option<Timestamp>,
    /// The mute flag to set; `None` leaves a present edge's flag as it is
    /// (a new edge starts unmuted).
    pub muted: Option<bool>,
    /// The follow's options (Mastodon's "Show boosts", "Notify on new
    /// posts", "Languages" columns); those left out keep their values.
    pub options: OptionsUpdate,
}

impl ImportEdge {
    /// An edge starting at the time of the import, its mute flag untouched.
    pub fn new(follower: AccountId, target: NodeId) -> Self {
        ImportEdge {
            follower,
            target,
            since: None,
            muted: None,
            options: OptionsUpdate::NONE,
        }
    }

    /// The same edge, begun at `since`.
    pub fn since(mut self, since: Timestamp) -> Self {
        self.since = Some(since);
        self
    }

    /// The same edge, with its mute flag set to `muted`.
    pub fn muted(mut self, muted: bool) -> Self {
        self.muted = Some(muted);
        self
    }

    /// The same edge, with these options.
    pub fn options(mut self, options: OptionsUpdate) -> Self {
        self.options = options;
        self
    }

    /// The check `import` applies to this edge before any store read: a
    /// self-follow is `invalid_argument` (field `target`). Lets a caller
    /// vet a file without writing (a dry run) by the library's own rule.
    pub fn check(&self) -> Result<(), Error> {
        check_not_self("target", &self.follower, &self.target)
    }
}

/// The targets of a batch after validation: each one either becomes the
/// command at an index of the store batch, or fails on its own.
pub(super) struct BatchPlan {
    slots: Vec<(String, Result<usize, Error>)>,
}

impl BatchPlan {
    /// Validates every target; `actor` may not name itself.
    pub(super) fn new(actor: &AccountId, targets: &[&str]) -> (Self, Vec<NodeId>) {
        let mut valid = Vec::with_capacity(targets.len());
        let slots = targets
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                let slot = NodeId::parse_field("target", raw)
                    .and_then(|target| {
                        check_not_self("target", actor, &target)?;
                        valid.push(target);
                        Ok(valid.len() - 1)
                    })
                    .map_err(|error| error.with_detail("index", index));
                ((*raw).to_owned(), slot)
            })
            .collect();
        (BatchPlan { slots }, valid)
    }

    /// Places the store's results (one per valid target) back in request order.
    pub(super) fn merge<T>(self, mut results: Vec<Option<Result<T, Error>>>) -> Vec<ItemResult<T>> {
        self.slots
            .into_iter()
            .map(|(target, slot)| {
                let result = slot.and_then(|index| {
                    results
                        .get_mut(index)
                        .and_then(Option::take)
                        .unwrap_or_else(|| Err(Error::internal("batch result missing")))
                });
                ItemResult { target, result }
            })
            .collect()
    }
}

/// Wraps store results for [`BatchPlan::merge`].
pub(super) fn slots(results: Vec<CommandResult>) -> Vec<Option<CommandResult>> {
    results.into_iter().map(Some).collect()
}
