//! Links: the relations between two accounts that are not follows. A block,
//! an account mute, a pending follow request.
//!
//! A store keeps them in one table keyed by (tenant, kind, from, to), beside
//! the edges; core decides every change to them, as it does for edges.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AccountId, FollowOptions, Timestamp};

/// What a link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// `from` blocks `to`: no follow or follow request either way.
    Block,
    /// `from` mutes `to` as an account, followed or not.
    Mute,
    /// `from` asked to follow `to`, which is locked; not yet answered.
    Request,
}

impl LinkKind {
    /// Every kind.
    pub const ALL: [LinkKind; 3] = [LinkKind::Block, LinkKind::Mute, LinkKind::Request];

    /// The stable name, as on the wire and in a store's rows.
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Block => "block",
            LinkKind::Mute => "mute",
            LinkKind::Request => "request",
        }
    }

    /// The kind of a stable name; `None` for any other string.
    pub fn from_name(name: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The key of one link, ordered by kind, then `from`, then `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkKey {
    /// What the link is.
    pub kind: LinkKind,
    /// The account that blocks, mutes, or asks to follow.
    pub from: AccountId,
    /// The account blocked, muted, or asked.
    pub to: AccountId,
}

impl LinkKey {
    /// The link `from → to` of `kind`.
    pub fn new(kind: LinkKind, from: AccountId, to: AccountId) -> Self {
        LinkKey { kind, from, to }
    }

    /// The link of the same kind the other way.
    pub fn reverse(&self) -> LinkKey {
        LinkKey::new(self.kind, self.to.clone(), self.from.clone())
    }
}

impl fmt::Display for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} -> {}", self.kind, self.from, self.to)
    }
}

/// A present link's value. The fields a kind does not use hold their
/// defaults, so every store keeps the same columns for every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Link {
    /// When it was made. A mute set again with other values keeps it; a
    /// mute made after an expired one starts anew.
    pub since: Timestamp,
    /// A mute's notifications flag: whether notifications from the muted
    /// account are hidden too. `true` for the other kinds.
    pub notifications: bool,
    /// When a mute ends; `None` for a mute without end and the other kinds.
    /// An expired mute is absent from every read at once.
    pub expires_at: Option<Timestamp>,
    /// A request's follow options, used when it is authorised; the defaults
    /// for the other kinds.
    pub options: FollowOptions,
}

impl Link {
    /// A block made at `since`.
    pub fn block(since: Timestamp) -> Self {
        Link {
            since,
            notifications: true,
            expires_at: None,
            options: FollowOptions::default(),
        }
    }

    /// A mute made at `since`.
    pub fn mute(since: Timestamp, notifications: bool, expires_at: Option<Timestamp>) -> Self {
        Link {
            notifications,
            expires_at,
            ..Link::block(since)
        }
    }

    /// A follow request made at `since` with the follow's options.
    pub fn request(since: Timestamp, options: FollowOptions) -> Self {
        Link {
            options,
            ..Link::block(since)
        }
    }

    /// Whether the link still holds at `now`: a mute past its expiry is gone.
    pub fn holds_at(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|end| end > now)
    }
}

/// The links between a subject and one other account, both ways, as a read
/// at one time sees them (expired mutes left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkPair {
    /// The subject blocks the other.
    pub blocking: Option<Link>,
    /// The other blocks the subject.
    pub blocked_by: Option<Link>,
    /// The subject mutes the other.
    pub muting: Option<Link>,
    /// The other mutes the subject.
    pub muted_by: Option<Link>,
    /// The subject asked to follow the other.
    pub requested: Option<Link>,
    /// The other asked to follow the subject.
    pub requested_by: Option<Link>,
}

impl LinkPair {
    /// Either side blocks the other.
    pub fn blocked_either_way(&self) -> bool {
        self.blocking.is_some() || self.blocked_by.is_some()
    }

    /// Files `link` (between `subject` and the other, either way) in its
    /// field, if it holds at `now`.
    pub fn add(&mut self, subject: &AccountId, key: &LinkKey, link: Link, now: Timestamp) {
        if !link.holds_at(now) {
            return;
        }
        let outgoing = key.from == *subject;
        let field = match (key.kind, outgoing) {
            (LinkKind::Block, true) => &mut self.blocking,
            (LinkKind::Block, false) => &mut self.blocked_by,
            (LinkKind::Mute, true) => &mut self.muting,
            (LinkKind::Mute, false) => &mut self.muted_by,
            (LinkKind::Request, true) => &mut self.requested,
            (LinkKind::Request, false) => &mut self.requested_by,
        };
        *field = Some(link);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(1_800_000_000 + seconds).unwrap()
    }

    #[test]
    fn names_read_back() {
        for kind in LinkKind::ALL {
            assert_eq!(LinkKind::from_name(kind.name()), Some(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::Value::from(kind.name()));
        }
        assert_eq!(LinkKind::from_name("Block"), None);
    }

    #[test]
    fn a_mute_holds_until_its_expiry_and_not_at_it() {
        let mute = Link::mute(at(0), true, Some(at(10)));
        assert!(mute.holds_at(at(9)));
        assert!(!mute.holds_at(at(10)));
        assert!(Link::mute(at(0), false, None).holds_at(at(1_000_000)));
    }

    #[test]
    fn a_pair_files_each_link_by_kind_and_direction_and_drops_expired_ones() {
        let alice = AccountId::new("alice").unwrap();
        let bob = AccountId::new("bob").unwrap();
        let mut pair = LinkPair::default();
        let out = |kind| LinkKey::new(kind, alice.clone(), bob.clone());
        let back = |kind| LinkKey::new(kind, bob.clone(), alice.clone());
        pair.add(&alice, &out(LinkKind::Block), Link::block(at(1)), at(5));
        pair.add(&alice, &back(LinkKind::Request), Link::block(at(2)), at(5));
        pair.add(
            &alice,
            &back(LinkKind::Mute),
            Link::mute(at(3), true, Some(at(4))),
            at(5),
        );
        assert_eq!(pair.blocking.map(|l| l.since), Some(at(1)));
        assert_eq!(pair.requested_by.map(|l| l.since), Some(at(2)));
        assert_eq!(pair.muted_by, None);
        assert!(pair.blocked_either_way());
        assert_eq!(out(LinkKind::Mute).reverse(), back(LinkKind::Mute));
        // Errors name a link this way.
        assert_eq!(out(LinkKind::Request).to_string(), "request alice -> bob");
    }
}
