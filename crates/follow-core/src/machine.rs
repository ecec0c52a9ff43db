//! The state machine: the single place where an edge transition is decided.
//!
//! [`transition`] is a pure function of the current edge, the reverse edge and
//! a command. It answers the edge's next state, the rewrite of the reverse edge
//! (its mutual mark), the count changes of both nodes and the event. Core
//! decides (through [`crate::write`]) and stores persist what it says.

use crate::{
    CountDelta, Edge, Error, ErrorKind, EventKind, FollowOptions, OptionsUpdate, Timestamp,
};

/// A command on one edge (follower → target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeCommand {
    /// The follower follows the target; a new edge begins at `since`.
    Follow {
        /// When the new edge begins (the clock, or an imported time).
        since: Timestamp,
        /// The options named; a new edge takes the defaults for the rest,
        /// a present one keeps its own.
        options: OptionsUpdate,
    },
    /// The follower stops following the target.
    Unfollow,
    /// Sets (never toggles) the mute flag.
    SetMute {
        /// The wanted state.
        muted: bool,
    },
    /// The target drops the follower.
    RemoveFollower,
}

/// What happens to the edge itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeWrite {
    /// Leave it as it is.
    Keep,
    /// Store this edge (create or replace).
    Put(Edge),
    /// Remove the edge.
    Delete,
}

/// Everything a store must persist for one command on one edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The edge's write.
    pub edge: EdgeWrite,
    /// A rewrite of the reverse edge (target → follower), when its mutual mark changes.
    pub reverse: Option<Edge>,
    /// The change to the follower's counts.
    pub follower_counts: CountDelta,
    /// The change to the target's counts.
    pub target_counts: CountDelta,
    /// The event to append; `Some` exactly when the outcome is `changed`.
    pub event: Option<EventKind>,
}

impl Transition {
    fn unchanged() -> Self {
        Transition {
            edge: EdgeWrite::Keep,
            reverse: None,
            follower_counts: CountDelta::default(),
            target_counts: CountDelta::default(),
            event: None,
        }
    }

    /// Whether the command changed anything (the outcome is `changed`).
    pub fn is_changed(&self) -> bool {
        self.event.is_some()
    }

    /// The edge after the transition, given the one before it.
    pub fn next_edge(&self, current: Option<Edge>) -> Option<Edge> {
        match self.edge {
            EdgeWrite::Keep => current,
            EdgeWrite::Put(edge) => Some(edge),
            EdgeWrite::Delete => None,
        }
    }
}

/// Decides one command on one edge.
///
/// `current` is the edge follower → target, `reverse` the edge target →
/// follower (always `None` when the target is a channel).
///
/// # Errors
/// `not_following` for `SetMute { muted: true }` of an absent edge; nothing
/// else fails.
pub fn transition(
    command: EdgeCommand,
    current: Option<&Edge>,
    reverse: Option<&Edge>,
) -> Result<Transition, Error> {
    match (command, current) {
        (EdgeCommand::Follow { options, .. }, Some(edge)) => {
            let wanted = options.apply(edge.options);
            if wanted == edge.options {
                return Ok(Transition::unchanged());
            }
            Ok(Transition {
                edge: EdgeWrite::Put(Edge {
                    options: wanted,
                    ..*edge
                }),
                event: Some(EventKind::OptionsChanged),
                ..Transition::unchanged()
            })
        }
        (EdgeCommand::Follow { since, options }, None) => Ok(create(
            since,
            options.apply(FollowOptions::default()),
            reverse,
        )),
        (EdgeCommand::Unfollow, None) | (EdgeCommand::RemoveFollower, None) => {
            Ok(Transition::unchanged())
        }
        (EdgeCommand::Unfollow, Some(_)) => Ok(delete(reverse, EventKind::Unfollowed)),
        (EdgeCommand::RemoveFollower, Some(_)) => Ok(delete(reverse, EventKind::FollowerRemoved)),
        // Unmuting what is not followed asks for a state that already holds.
        (EdgeCommand::SetMute { muted: false }, None) => Ok(Transition::unchanged()),
        (EdgeCommand::SetMute { muted: true }, None) => Err(Error::new(
            ErrorKind::NotFollowing,
            "cannot mute: the actor does not follow the target",
        )),
        (EdgeCommand::SetMute { muted }, Some(edge)) if edge.muted == muted => {
            Ok(Transition::unchanged())
        }
        (EdgeCommand::SetMute { muted }, Some(edge)) => Ok(Transition {
            edge: EdgeWrite::Put(Edge { muted, ..*edge }),
            event: Some(if muted {
                EventKind::Muted
            } else {
                EventKind::Unmuted
            }),
            ..Transition::unchanged()
        }),
    }
}

/// A new edge with `options`; it marks both edges mutual when the target
/// follows back.
pub fn create(since: Timestamp, options: FollowOptions, reverse: Option<&Edge>) -> Transition {
    let mutual_since = reverse.map(|back| back.since.max(since));
    let mutual = i64::from(reverse.is_some());
    Transition {
        edge: EdgeWrite::Put(Edge {
            since,
            muted: false,
            mutual_since,
            options,
        }),
        reverse: reverse.map(|back| Edge {
            mutual_since,
            ..*back
        }),
        follower_counts: CountDelta {
            following: 1,
            followers: 0,
            mutual,
        },
        target_counts: CountDelta {
            following: 0,
            followers: 1,
            mutual,
        },
        event: Some(EventKind::Followed),
    }
}

fn delete(reverse: Option<&Edge>, event: EventKind) -> Transition {
    let mutual = -i64::from(reverse.is_some());
    Transition {
        edge: EdgeWrite::Delete,
        reverse: reverse.map(|back| Edge {
            mutual_since: None,
            ..*back
        }),
        follower_counts: CountDelta {
            following: -1,
            followers: 0,
            mutual,
        },
        target_counts: CountDelta {
            following: 0,
            followers: -1,
            mutual,
        },
        event: Some(event),
    }
}

#[cfg(test)]
mod tests {
    //! Given an edge, when a command, then this edge, outcome and event.
    use super::*;

    const T0: Timestamp = Timestamp::EPOCH;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(seconds).unwrap_or_default()
    }

    fn edge(muted: bool) -> Edge {
        Edge {
            muted,
            ..Edge::new(T0)
        }
    }

    struct Case {
        name: &'static str,
        given: Option<Edge>,
        when: EdgeCommand,
        then_edge: Option<Edge>,
        then_event: Option<EventKind>,
    }

    #[test]
    fn the_spec_table_without_a_reverse_edge() {
        let now = at(10);
        let cases = [
            Case {
                name: "follow absent creates unmuted",
                given: None,
                when: EdgeCommand::Follow {
                    since: now,
                    options: OptionsUpdate::NONE,
                },
                then_edge: Some(Edge::new(now)),
                then_event: Some(EventKind::Followed),
            },
            Case {
                name: "follow present keeps edge and mute",
                given: Some(edge(true)),
                when: EdgeCommand::Follow {
                    since: now,
                    options: OptionsUpdate::NONE,
                },
                then_edge: Some(edge(true)),
                then_event: None,
            },
            Case {
                name: "unfollow absent is unchanged",
                given: None,
                when: EdgeCommand::Unfollow,
                then_edge: None,
                then_event: None,
            },
            Case {
                name: "unfollow present removes",
                given: Some(edge(true)),
                when: EdgeCommand::Unfollow,
                then_edge: None,
                then_event: Some(EventKind::Unfollowed),
            },
            Case {
                name: "mute sets when it differs",
                given: Some(edge(false)),
                when: EdgeCommand::SetMute { muted: true },
                then_edge: Some(edge(true)),
                then_event: Some(EventKind::Muted),
            },
            Case {
                name: "mute is a set, not a toggle",
                given: Some(edge(true)),
                when: EdgeCommand::SetMute { muted: true },
                then_edge: Some(edge(true)),
                then_event: None,
            },
            Case {
                name: "unmute sets when it differs",
                given: Some(edge(true)),
                when: EdgeCommand::SetMute { muted: false },
                then_edge: Some(edge(false)),
                then_event: Some(EventKind::Unmuted),
            },
            Case {
                name: "remove follower absent is unchanged",
                given: None,
                when: EdgeCommand::RemoveFollower,
                then_edge: None,
                then_event: None,
            },
            Case {
                name: "remove follower present removes",
                given: Some(edge(false)),
                when: EdgeCommand::RemoveFollower,
                then_edge: None,
                then_event: Some(EventKind::FollowerRemoved),
            },
        ];
        for case in cases {
            let result = transition(case.when, case.given.as_ref(), None);
            let Ok(step) = result else {
                panic!("{}: unexpected {result:?}", case.name);
            };
            assert_eq!(step.next_edge(case.given), case.then_edge, "{}", case.name);
            assert_eq!(step.event, case.then_event, "{}", case.name);
            assert_eq!(
                step.is_changed(),
                case.then_event.is_some(),
                "{}",
                case.name
            );
            assert_eq!(step.reverse, None, "{}", case.name);
        }
    }

    #[test]
    fn mute_of_absent_edge_is_not_following_unmute_is_unchanged() {
        let error = transition(EdgeCommand::SetMute { muted: true }, None, None).err();
        assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::NotFollowing));
        let unmute = transition(EdgeCommand::SetMute { muted: false }, None, None);
        assert!(unmute.is_ok_and(|step| !step.is_changed() && step.edge == EdgeWrite::Keep));
    }

    #[test]
    fn follow_again_with_options_changes_only_the_options_named() {
        let current = Edge {
            muted: true,
            mutual_since: Some(at(3)),
            ..Edge::new(at(2))
        };
        let notify = OptionsUpdate {
            notify: Some(true),
            ..OptionsUpdate::NONE
        };
        let follow = |options| EdgeCommand::Follow {
            since: at(9),
            options,
        };
        let Ok(step) = transition(follow(notify), Some(&current), None) else {
            panic!("follow failed");
        };
        let expected = Edge {
            options: FollowOptions {
                notify: true,
                ..FollowOptions::default()
            },
            ..current
        };
        assert_eq!(step.next_edge(Some(current)), Some(expected));
        assert_eq!(step.event, Some(EventKind::OptionsChanged));
        assert!(step.follower_counts.is_zero() && step.target_counts.is_zero());
        // The same options again, or none: unchanged.
        for options in [notify, OptionsUpdate::NONE] {
            let again = transition(follow(options), Some(&expected), None);
            assert!(again.is_ok_and(|step| !step.is_changed()));
        }
        // A new edge takes the options named and the defaults for the rest.
        let Ok(step) = transition(follow(notify), None, None) else {
            panic!("follow failed");
        };
        assert_eq!(
            step.next_edge(None).map(|edge| edge.options),
            Some(expected.options)
        );
    }

    #[test]
    fn counts_move_with_edges() {
        let Ok(step) = transition(
            EdgeCommand::Follow {
                since: T0,
                options: OptionsUpdate::NONE,
            },
            None,
            None,
        ) else {
            panic!("follow failed");
        };
        assert_eq!(
            (step.follower_counts.following, step.target_counts.followers),
            (1, 1)
        );
        assert_eq!(
            (step.follower_counts.mutual, step.target_counts.mutual),
            (0, 0)
        );
        let Ok(step) = transition(EdgeCommand::Unfollow, Some(&edge(false)), None) else {
            panic!("unfollow failed");
        };
        assert_eq!(
            (step.follower_counts.following, step.target_counts.followers),
            (-1, -1)
        );
        let Ok(step) = transition(
            EdgeCommand::SetMute { muted: true },
            Some(&edge(false)),
            None,
        ) else {
            panic!("mute failed");
        };
        assert!(step.follower_counts.is_zero() && step.target_counts.is_zero());
    }

    #[test]
    fn follow_back_makes_both_edges_mutual_at_the_later_since() {
        let back = Edge::new(at(5));
        let Ok(step) = transition(
            EdgeCommand::Follow {
                since: at(9),
                options: OptionsUpdate::NONE,
            },
            None,
            Some(&back),
        ) else {
            panic!("follow failed");
        };
        let expected_mark = Some(at(9));
        assert_eq!(
            step.next_edge(None).and_then(|e| e.mutual_since),
            expected_mark
        );
        assert_eq!(step.reverse.and_then(|e| e.mutual_since), expected_mark);
        assert_eq!(
            (step.follower_counts.mutual, step.target_counts.mutual),
            (1, 1)
        );
    }

    #[test]
    fn dropping_a_mutual_edge_clears_the_reverse_mark() {
        let mark = Some(at(9));
        let current = Edge {
            mutual_since: mark,
            ..Edge::new(at(9))
        };
        let back = Edge {
            mutual_since: mark,
            muted: true,
            ..Edge::new(at(5))
        };
        for command in [EdgeCommand::Unfollow, EdgeCommand::RemoveFollower] {
            let Ok(step) = transition(command, Some(&current), Some(&back)) else {
                panic!("{command:?} failed");
            };
            let expected = Edge {
                mutual_since: None,
                ..back
            };
            assert_eq!(step.reverse, Some(expected));
            assert_eq!(
                (step.follower_counts.mutual, step.target_counts.mutual),
                (-1, -1)
            );
        }
    }

    #[test]
    fn mute_keeps_the_mutual_mark_and_since() {
        let current = Edge {
            mutual_since: Some(at(3)),
            ..Edge::new(at(2))
        };
        let Ok(step) = transition(EdgeCommand::SetMute { muted: true }, Some(&current), None)
        else {
            panic!("mute failed");
        };
        let expected = Edge {
            muted: true,
            ..current
        };
        assert_eq!(step.next_edge(Some(current)), Some(expected));
    }
}
