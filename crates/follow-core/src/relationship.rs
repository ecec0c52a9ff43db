//! The relationship of one account to another, as Mastodon answers it, and
//! what a viewer or a delivery sees of a list.

use serde::{Deserialize, Serialize};

use crate::{
    AccountId, FollowOptions, Languages, LinkPair, ListEntry, NodeId, PairFacts, Timestamp,
};

/// How an account (the viewer) relates to a target: Mastodon's
/// relationship object, plus the follow's own notification mute (`muted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    /// The target.
    pub target: NodeId,
    /// The viewer follows the target.
    pub following: bool,
    /// The target follows the viewer.
    pub followed_by: bool,
    /// The viewer asked to follow the target, which has not answered.
    pub requested: bool,
    /// The target asked to follow the viewer, who has not answered.
    pub requested_by: bool,
    /// The viewer blocks the target.
    pub blocking: bool,
    /// The target blocks the viewer.
    pub blocked_by: bool,
    /// The viewer mutes the target as an account.
    pub muting: bool,
    /// The viewer's mute hides the target's notifications too.
    pub muting_notifications: bool,
    /// When the viewer's mute ends, if it does.
    pub muting_expires_at: Option<Timestamp>,
    /// The viewer's follow (or request) shows the target's reblogs.
    pub showing_reblogs: bool,
    /// The viewer's follow (or request) notifies of each new post.
    pub notifying: bool,
    /// The languages the viewer's follow (or request) shows; `None` for
    /// all, or when the viewer neither follows nor asked.
    pub languages: Option<Languages>,
    /// The viewer's follow is muted (delivered without notification).
    pub muted: bool,
}

impl Relationship {
    /// The relationship read from the edges and the links of the pair, as
    /// of the read's time (`links` already leaves expired mutes out).
    pub fn from_facts(target: NodeId, pair: &PairFacts, links: &LinkPair) -> Self {
        let options: Option<FollowOptions> = pair
            .outgoing
            .map(|edge| edge.options)
            .or(links.requested.map(|request| request.options));
        Relationship {
            target,
            following: pair.outgoing.is_some(),
            followed_by: pair.incoming,
            requested: links.requested.is_some(),
            requested_by: links.requested_by.is_some(),
            blocking: links.blocking.is_some(),
            blocked_by: links.blocked_by.is_some(),
            muting: links.muting.is_some(),
            muting_notifications: links.muting.is_some_and(|mute| mute.notifications),
            muting_expires_at: links.muting.and_then(|mute| mute.expires_at),
            showing_reblogs: options.is_some_and(|options| options.reblogs),
            notifying: options.is_some_and(|options| options.notify),
            languages: options
                .map(|options| options.languages)
                .filter(|languages| !languages.is_all()),
            muted: pair.outgoing.is_some_and(|edge| edge.muted),
        }
    }
}

/// An item of a list read on behalf of a viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewedEntry {
    /// The item as the list holds it.
    #[serde(flatten)]
    pub entry: ListEntry,
    /// The viewer's relationship to the item's node (Bluesky's `viewer`
    /// state), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub viewer: Option<Relationship>,
}

/// How a follower receives a post of the account it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Delivered with notification.
    Notified,
    /// Delivered without notification: the follow is muted.
    Silent,
    /// Not delivered: the follower mutes the author as an account.
    Withheld,
}

impl Delivery {
    /// The rule: an account mute withholds everything; else the follow's
    /// mute delivers silently; else with notification.
    pub fn of(edge_muted: bool, muting_author: bool) -> Delivery {
        match (muting_author, edge_muted) {
            (true, _) => Delivery::Withheld,
            (false, true) => Delivery::Silent,
            (false, false) => Delivery::Notified,
        }
    }
}

/// A follower of a delivery list: who gets the author's posts, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryEntry {
    /// The follower.
    pub follower: AccountId,
    /// When the follow began.
    pub since: Timestamp,
    /// How the follower receives a post.
    pub delivery: Delivery,
    /// The follow's options (reblogs, notify on each post, languages), for
    /// the host to apply to each post.
    pub options: FollowOptions,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Edge, Link, OptionsUpdate};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(1_800_000_000 + seconds).unwrap()
    }

    #[test]
    fn delivery_rule() {
        assert_eq!(Delivery::of(false, false), Delivery::Notified);
        assert_eq!(Delivery::of(true, false), Delivery::Silent);
        assert_eq!(Delivery::of(false, true), Delivery::Withheld);
        assert_eq!(Delivery::of(true, true), Delivery::Withheld);
    }

    #[test]
    fn a_relationship_reads_options_from_the_follow_or_else_the_request() {
        let target = NodeId::new("bob").unwrap();
        let options = OptionsUpdate {
            reblogs: Some(false),
            notify: Some(true),
            languages: Some(Languages::parse(["en"]).unwrap()),
        }
        .apply(FollowOptions::default());
        let requested = LinkPair {
            requested: Some(Link::request(at(1), options)),
            muting: Some(Link::mute(at(2), false, Some(at(9)))),
            ..LinkPair::default()
        };
        let none = Relationship::from_facts(target.clone(), &PairFacts::default(), &requested);
        assert!(none.requested && !none.following);
        assert!(!none.showing_reblogs && none.notifying);
        assert_eq!(none.languages, Some(Languages::parse(["en"]).unwrap()));
        assert!(none.muting && !none.muting_notifications);
        assert_eq!(none.muting_expires_at, Some(at(9)));
        let followed = PairFacts::from_outgoing(Edge {
            muted: true,
            ..Edge::new(at(0))
        });
        let plain = Relationship::from_facts(target, &followed, &LinkPair::default());
        assert!(plain.following && plain.muted && plain.showing_reblogs && !plain.notifying);
        assert_eq!(plain.languages, None);
        assert!(!plain.blocking && !plain.blocked_by && !plain.requested_by);
    }
}
