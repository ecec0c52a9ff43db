//! Commands a store applies, in batches, and what each one answers.

use serde::{Deserialize, Serialize};

use crate::{AccountId, Error, Event, LinkKey, NodeId, OptionsUpdate, TenantId, Timestamp};

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
    /// Follows; a new edge begins at `since`, or at the batch's time. A
    /// locked target gets a request instead.
    Follow {
        /// The account that follows.
        follower: AccountId,
        /// The node followed.
        target: NodeId,
        /// An imported start time; `None` means the batch's time.
        since: Option<Timestamp>,
        /// The options named; the rest keep their values (or defaults).
        options: OptionsUpdate,
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
    /// `actor` blocks `target`, cutting follows and requests both ways.
    Block {
        /// The account that blocks.
        actor: AccountId,
        /// The account blocked.
        target: AccountId,
    },
    /// `actor` lifts its block of `target`; nothing cut comes back.
    Unblock {
        /// The account that blocked.
        actor: AccountId,
        /// The account blocked.
        target: AccountId,
    },
    /// `actor` mutes `target` as an account (a set of both values).
    MuteAccount {
        /// The account that mutes.
        actor: AccountId,
        /// The account muted.
        target: AccountId,
        /// Whether notifications from `target` are hidden too.
        notifications: bool,
        /// When the mute ends; `None` for never.
        expires_at: Option<Timestamp>,
    },
    /// `actor` ends its account mute of `target`.
    UnmuteAccount {
        /// The account that muted.
        actor: AccountId,
        /// The account muted.
        target: AccountId,
    },
    /// `target` authorises `follower`'s request: the follow is made.
    AuthorizeRequest {
        /// The locked account asked (the actor).
        target: AccountId,
        /// The account that asked.
        follower: AccountId,
    },
    /// `target` rejects `follower`'s request: nothing is made.
    RejectRequest {
        /// The locked account asked (the actor).
        target: AccountId,
        /// The account that asked.
        follower: AccountId,
    },
    /// Locks or unlocks an account: while locked, a follow makes a request.
    SetLocked {
        /// The account.
        node: AccountId,
        /// The wanted state.
        locked: bool,
    },
    /// Deletes one link whatever its kind, with the event that ends it
    /// (`unblocked`, `account_unmuted`, `follow_request_withdrawn`): what a
    /// node's removal does to the links that touch it.
    DropLink {
        /// The link.
        key: LinkKey,
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
    /// A follow of a locked account made a follow request (event
    /// `follow_requested`); the follow exists once the target authorises it.
    Requested,
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

    /// Whether the command changed anything: `changed`, or `requested`.
    pub fn is_changed(&self) -> bool {
        self.outcome != Outcome::Unchanged
    }
}

/// One command's result inside a batch: its outcome, or its own error
/// (`not_found`, `not_following`, `invalid_argument`, `forbidden`).
pub type CommandResult = Result<Applied, Error>;
