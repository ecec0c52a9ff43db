//! Events: one for every change to an edge or a link, none for
//! `unchanged`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AccountId, NodeId, TenantId, Timestamp};

/// What happened to an edge or a link. For a link's event, `follower` is
/// the account that blocks, mutes or asks, and `target` the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An edge was created.
    Followed,
    /// The follower removed the edge, or a node it touched was removed.
    Unfollowed,
    /// The edge was muted.
    Muted,
    /// The edge was unmuted.
    Unmuted,
    /// The target removed the follower (Mastodon's "remove from followers").
    FollowerRemoved,
    /// A follow again changed the edge's options.
    #[serde(rename = "follow_options_changed")]
    OptionsChanged,
    /// The follower blocked the target.
    Blocked,
    /// The follower unblocked the target.
    Unblocked,
    /// The follower muted the target as an account, or changed the mute.
    AccountMuted,
    /// The follower's account mute of the target ended (not by expiry).
    AccountUnmuted,
    /// The follower asked to follow the locked target.
    FollowRequested,
    /// The target authorised the follower's request (a `followed` follows).
    FollowRequestAuthorized,
    /// The target rejected the follower's request, or a block cut it.
    FollowRequestRejected,
    /// The follower withdrew its request, or a block or removal cut it.
    FollowRequestWithdrawn,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 14] = [
        EventKind::Followed,
        EventKind::Unfollowed,
        EventKind::Muted,
        EventKind::Unmuted,
        EventKind::FollowerRemoved,
        EventKind::OptionsChanged,
        EventKind::Blocked,
        EventKind::Unblocked,
        EventKind::AccountMuted,
        EventKind::AccountUnmuted,
        EventKind::FollowRequested,
        EventKind::FollowRequestAuthorized,
        EventKind::FollowRequestRejected,
        EventKind::FollowRequestWithdrawn,
    ];

    /// The stable name, as on the wire and in a store's rows
    /// (`"follower_removed"`).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Followed => "followed",
            EventKind::Unfollowed => "unfollowed",
            EventKind::Muted => "muted",
            EventKind::Unmuted => "unmuted",
            EventKind::FollowerRemoved => "follower_removed",
            EventKind::OptionsChanged => "follow_options_changed",
            EventKind::Blocked => "blocked",
            EventKind::Unblocked => "unblocked",
            EventKind::AccountMuted => "account_muted",
            EventKind::AccountUnmuted => "account_unmuted",
            EventKind::FollowRequested => "follow_requested",
            EventKind::FollowRequestAuthorized => "follow_request_authorized",
            EventKind::FollowRequestRejected => "follow_request_rejected",
            EventKind::FollowRequestWithdrawn => "follow_request_withdrawn",
        }
    }

    /// The kind of a stable name; `None` for any other string.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// An event's place in its store's total order: strictly increasing, never
/// reused. Positions are global to a store, so one tenant sees gaps.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct EventPosition(pub u64);

impl fmt::Display for EventPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An event before the store has placed it in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// What happened.
    pub kind: EventKind,
    /// The edge's follower.
    pub follower: AccountId,
    /// The edge's target.
    pub target: NodeId,
    /// When it happened.
    pub at: Timestamp,
}

impl NewEvent {
    /// Places the event at `position` of `tenant`.
    pub fn at_position(self, tenant: TenantId, position: EventPosition) -> Event {
        Event {
            position,
            tenant,
            kind: self.kind,
            follower: self.follower,
            target: self.target,
            at: self.at,
        }
    }
}

/// A change to an edge, as written to the store's outbox in the same
/// transaction as the change itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its place in the store's order.
    pub position: EventPosition,
    /// The tenant of the edge.
    pub tenant: TenantId,
    /// What happened.
    pub kind: EventKind,
    /// The edge's follower.
    pub follower: AccountId,
    /// The edge's target.
    pub target: NodeId,
    /// When it happened (the facade's clock).
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_wire_names_and_read_back() {
        for kind in EventKind::ALL {
            let json = serde_json::to_value(kind).ok();
            assert_eq!(json, Some(serde_json::Value::from(kind.name())));
            assert_eq!(EventKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(EventKind::from_name("Followed"), None);
        assert_eq!(EventKind::from_name(""), None);
    }
}
