//! The commands of a random sequence, and what a step must answer.

use follow_core::{ErrorKind, EventKind, LinkKind, OptionsUpdate, Outcome};

/// One step of a random sequence. Node fields are indexes into
/// [`super::NODES`], tenant fields into [`super::TENANTS`].
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
    /// A follow naming `options` (`OptionsUpdate::NONE` for a plain one).
    Follow {
        tenant: usize,
        actor: usize,
        target: usize,
        options: OptionsUpdate,
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
    Block {
        tenant: usize,
        actor: usize,
        target: usize,
    },
    Unblock {
        tenant: usize,
        actor: usize,
        target: usize,
    },
    /// An account mute; `duration` in seconds, `None` for no end.
    MuteAccount {
        tenant: usize,
        actor: usize,
        target: usize,
        notifications: Option<bool>,
        duration: Option<u64>,
    },
    UnmuteAccount {
        tenant: usize,
        actor: usize,
        target: usize,
    },
    SetLocked {
        tenant: usize,
        node: usize,
        locked: bool,
    },
    /// `actor` (the locked account) authorises `follower`'s request.
    AuthorizeRequest {
        tenant: usize,
        actor: usize,
        follower: usize,
    },
    /// `actor` (the locked account) rejects `follower`'s request.
    RejectRequest {
        tenant: usize,
        actor: usize,
        follower: usize,
    },
    /// The store command that deletes one link whatever its kind (what a
    /// node's removal sends), written to the store directly.
    DropLink {
        tenant: usize,
        kind: LinkKind,
        from: usize,
        to: usize,
    },
    /// The clock advances by `seconds`.
    Tick {
        seconds: u64,
    },
}

/// The kind of an [`Op`], for weights and the generator's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum OpKind {
    Register,
    Remove,
    Follow,
    Unfollow,
    SetMute,
    RemoveFollower,
    FollowMany,
    UnfollowMany,
    Touch,
    Block,
    Unblock,
    MuteAccount,
    UnmuteAccount,
    SetLocked,
    AuthorizeRequest,
    RejectRequest,
    DropLink,
    Tick,
}

impl OpKind {
    /// Every kind.
    pub const ALL: [OpKind; 18] = [
        OpKind::Register,
        OpKind::Remove,
        OpKind::Follow,
        OpKind::Unfollow,
        OpKind::SetMute,
        OpKind::RemoveFollower,
        OpKind::FollowMany,
        OpKind::UnfollowMany,
        OpKind::Touch,
        OpKind::Block,
        OpKind::Unblock,
        OpKind::MuteAccount,
        OpKind::UnmuteAccount,
        OpKind::SetLocked,
        OpKind::AuthorizeRequest,
        OpKind::RejectRequest,
        OpKind::DropLink,
        OpKind::Tick,
    ];

    /// The kind's name, as in a table.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Register => "register",
            OpKind::Remove => "remove",
            OpKind::Follow => "follow",
            OpKind::Unfollow => "unfollow",
            OpKind::SetMute => "set_mute",
            OpKind::RemoveFollower => "remove_follower",
            OpKind::FollowMany => "follow_many",
            OpKind::UnfollowMany => "unfollow_many",
            OpKind::Touch => "touch",
            OpKind::Block => "block",
            OpKind::Unblock => "unblock",
            OpKind::MuteAccount => "mute_account",
            OpKind::UnmuteAccount => "unmute_account",
            OpKind::SetLocked => "set_locked",
            OpKind::AuthorizeRequest => "authorize_request",
            OpKind::RejectRequest => "reject_request",
            OpKind::DropLink => "drop_link",
            OpKind::Tick => "tick",
        }
    }
}

impl Op {
    /// What kind of command this is.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Register { .. } => OpKind::Register,
            Op::Remove { .. } => OpKind::Remove,
            Op::Follow { .. } => OpKind::Follow,
            Op::Unfollow { .. } => OpKind::Unfollow,
            Op::SetMute { .. } => OpKind::SetMute,
            Op::RemoveFollower { .. } => OpKind::RemoveFollower,
            Op::FollowMany { .. } => OpKind::FollowMany,
            Op::UnfollowMany { .. } => OpKind::UnfollowMany,
            Op::Touch { .. } => OpKind::Touch,
            Op::Block { .. } => OpKind::Block,
            Op::Unblock { .. } => OpKind::Unblock,
            Op::MuteAccount { .. } => OpKind::MuteAccount,
            Op::UnmuteAccount { .. } => OpKind::UnmuteAccount,
            Op::SetLocked { .. } => OpKind::SetLocked,
            Op::AuthorizeRequest { .. } => OpKind::AuthorizeRequest,
            Op::RejectRequest { .. } => OpKind::RejectRequest,
            Op::DropLink { .. } => OpKind::DropLink,
            Op::Tick { .. } => OpKind::Tick,
        }
    }

    /// The tenant the command writes to (0 for a tick).
    pub fn tenant(&self) -> usize {
        match self {
            Op::Register { tenant, .. }
            | Op::Remove { tenant, .. }
            | Op::Follow { tenant, .. }
            | Op::Unfollow { tenant, .. }
            | Op::SetMute { tenant, .. }
            | Op::RemoveFollower { tenant, .. }
            | Op::FollowMany { tenant, .. }
            | Op::UnfollowMany { tenant, .. }
            | Op::Touch { tenant, .. }
            | Op::Block { tenant, .. }
            | Op::Unblock { tenant, .. }
            | Op::MuteAccount { tenant, .. }
            | Op::UnmuteAccount { tenant, .. }
            | Op::SetLocked { tenant, .. }
            | Op::AuthorizeRequest { tenant, .. }
            | Op::RejectRequest { tenant, .. }
            | Op::DropLink { tenant, .. } => *tenant,
            Op::Tick { .. } => 0,
        }
    }

    /// Whether a command's events come in an order the rules leave open
    /// (a cascade), so they are compared as a set.
    pub fn cascades(&self) -> bool {
        matches!(
            self,
            Op::Remove { .. } | Op::Block { .. } | Op::SetLocked { .. }
        )
    }
}

/// One command's result: its outcome or its own error.
pub type ItemOutcome = Result<Outcome, ErrorKind>;

/// What a step must answer: a whole-request error, or one result per
/// command (one for a single command, one per target for a batch).
pub type Expected = Result<Vec<ItemOutcome>, ErrorKind>;

/// An expected event: kind, follower (or the link's `from`) index, target
/// (or the link's `to`) index.
pub type ExpectedEvent = (EventKind, usize, usize);
