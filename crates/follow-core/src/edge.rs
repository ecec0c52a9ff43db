//! The edge model: what a follow is, how two accounts relate, and the counts
//! kept per node.

use serde::{Deserialize, Serialize};

use crate::{Error, FollowOptions, Timestamp};

/// A present follow edge (tenant, follower, target). An absent edge is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edge {
    /// When this follow began. A re-follow after an unfollow starts anew.
    pub since: Timestamp,
    /// Delivered without notification.
    pub muted: bool,
    /// When the follow became mutual (the later `since` of the two edges), if
    /// the target follows back. Kept on both edges so mutuals page by a seek.
    pub mutual_since: Option<Timestamp>,
    /// How the follower receives the target's posts.
    pub options: FollowOptions,
}

impl Edge {
    /// A fresh, unmuted, non-mutual edge with the default options.
    pub fn new(since: Timestamp) -> Self {
        Edge {
            since,
            muted: false,
            mutual_since: None,
            options: FollowOptions::default(),
        }
    }
}

/// How account A relates to account B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Neither follows the other.
    None,
    /// A follows B.
    Following,
    /// B follows A.
    FollowedBy,
    /// Both follow each other.
    Mutual,
}

impl Relation {
    /// The relation given which of the two edges exist.
    pub fn from_edges(a_follows_b: bool, b_follows_a: bool) -> Self {
        match (a_follows_b, b_follows_a) {
            (false, false) => Relation::None,
            (true, false) => Relation::Following,
            (false, true) => Relation::FollowedBy,
            (true, true) => Relation::Mutual,
        }
    }

    /// The same relation seen from B.
    pub fn reversed(self) -> Self {
        match self {
            Relation::Following => Relation::FollowedBy,
            Relation::FollowedBy => Relation::Following,
            other => other,
        }
    }
}

/// The counters kept for every node, read in O(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Edges this node is the follower of.
    pub following: u64,
    /// Edges pointing at this node.
    pub followers: u64,
    /// Accounts this node follows that follow it back.
    pub mutual: u64,
}

/// A change to one node's [`Counts`], produced by the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CountDelta {
    /// Change of `following`.
    pub following: i64,
    /// Change of `followers`.
    pub followers: i64,
    /// Change of `mutual`.
    pub mutual: i64,
}

impl CountDelta {
    /// Whether this delta changes nothing.
    pub fn is_zero(&self) -> bool {
        *self == CountDelta::default()
    }

    /// Both changes together. Saturates rather than wraps: a sum beyond
    /// `i64` is far past any real count, and applying it fails loudly.
    pub fn plus(self, other: CountDelta) -> CountDelta {
        CountDelta {
            following: self.following.saturating_add(other.following),
            followers: self.followers.saturating_add(other.followers),
            mutual: self.mutual.saturating_add(other.mutual),
        }
    }
}

impl Counts {
    /// These counts after `delta`. A count going below zero means the store's
    /// counters disagree with its edges: `internal`, never a silent wrap.
    pub fn apply(self, delta: CountDelta) -> Result<Counts, Error> {
        let add = |count: u64, change: i64, name: &str| {
            count.checked_add_signed(change).ok_or_else(|| {
                Error::internal(format!(
                    "{name} count {count} cannot change by {change}: counters disagree with edges"
                ))
            })
        };
        Ok(Counts {
            following: add(self.following, delta.following, "following")?,
            followers: add(self.followers, delta.followers, "followers")?,
            mutual: add(self.mutual, delta.mutual, "mutual")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relation_table() {
        assert_eq!(Relation::from_edges(false, false), Relation::None);
        assert_eq!(Relation::from_edges(true, false), Relation::Following);
        assert_eq!(Relation::from_edges(false, true), Relation::FollowedBy);
        assert_eq!(Relation::from_edges(true, true), Relation::Mutual);
        assert_eq!(Relation::Following.reversed(), Relation::FollowedBy);
        assert_eq!(Relation::Mutual.reversed(), Relation::Mutual);
    }

    #[test]
    fn counts_never_wrap() {
        let down = CountDelta {
            followers: -1,
            ..CountDelta::default()
        };
        assert!(Counts::default().apply(down).is_err());
        let up = CountDelta {
            following: 1,
            followers: 2,
            mutual: 1,
        };
        let counts = Counts::default().apply(up).ok();
        assert_eq!(
            counts,
            Some(Counts {
                following: 1,
                followers: 2,
                mutual: 1
            })
        );
    }
}
