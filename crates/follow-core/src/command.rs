//! Commands a store applies, in batches, and what each one answers.

use serde::{Deserialize, Serialize};

use crate::{AccountId, Error, Event, NodeId, TenantId, Timestamp};

/// One write, already validated by the facade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Registers a node (idempotent upsert).
    Register {
        /// The node; its kind follows from the id.
        node: NodeId,
    },
    /// Removes a node and every edge touching it (idempotent).
    Remove {
        /// The node.
        node: NodeId,
    },
    /// Follows; a new edge begins at `since`, or at the batch's time.
    Follow {
        /// The account that follows.
        follower: AccountId,
        /// The node followed.
        target: NodeId,
        /// An imported start time; `None` means the batch's time.
        since: Option<Timestamp>,
    },
    /// Unfollows.
    Unfollow {
        /// The account that unfollows.
        follower: AccountId,
        /// The node unfollowed.
        target: NodeId,
    },
    /// Sets the mute flag of an existing edge.
    SetMute {
        /// The account that mutes.
        follower: AccountId,
        /// The node muted.
        target: NodeId,
        /// The wanted state.
        muted: bool,
    },
    /// The target drops a follower.
    RemoveFollower {
        /// The node that drops the follower (the actor).
        target: NodeId,
        /// The follower dropped.
        follower: AccountId,
    },
    /// Records a node's activity at `at` (kept if later than what is stored).
    Touch {
        /// The active node.
        node: NodeId,
        /// When it was active.
        at: Timestamp,
    },
}

/// Commands of one tenant, applied atomically by the store: every change
/// lands, or none does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteBatch {
    /// The tenant every command belongs to.
    pub tenant: TenantId,
    /// The facade's clock when the request came in.
    pub at: Timestamp,
    /// A node that must exist for the batch to run at all (the batch's
    /// actor); if absent, the whole batch fails with `not_found`.
    pub requires: Option<NodeId>,
    /// The commands, in request order.
    pub commands: Vec<Command>,
}

impl WriteBatch {
    /// An empty batch of `tenant` at `at`.
    pub fn new(tenant: TenantId, at: Timestamp) -> Self {
        WriteBatch {
            tenant,
            at,
            requires: None,
            commands: Vec::new(),
        }
    }

    /// Requires `actor` to exist.
    pub fn requiring(mut self, actor: NodeId) -> Self {
        self.requires = Some(actor);
        self
    }

    /// Appends a command.
    pub fn command(mut self, command: Command) -> Self {
        self.commands.push(command);
        self
    }
}

/// Whether a command changed the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Something changed (and, for edges, an event was written).
    Changed,
    /// Nothing changed; no event. Retrying is always safe.
    Unchanged,
}

/// What a successful command answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// Changed or unchanged.
    pub outcome: Outcome,
    /// The event written with the change, for edge commands that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
}

impl Applied {
    /// A command that changed nothing.
    pub const UNCHANGED: Applied = Applied {
        outcome: Outcome::Unchanged,
        event: None,
    };

    /// A change with no event (node commands).
    pub const CHANGED: Applied = Applied {
        outcome: Outcome::Changed,
        event: None,
    };

    /// Whether the outcome is `changed`.
    pub fn is_changed(&self) -> bool {
        self.outcome == Outcome::Changed
    }
}

/// One command's result inside a batch: its outcome, or its own error
/// (`not_found`, `not_following`, `invalid_argument`).
pub type CommandResult = Result<Applied, Error>;
