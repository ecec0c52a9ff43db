//! The change feed: named consumers with durable positions, retention, and
//! the rules a reader of the feed is held to.
//!
//! A store keeps each consumer's acknowledged position and the range of
//! events retention removed ([`FeedState`]); every rule is decided here:
//! what a consumer may read ([`check_not_behind`]), what a prune step may
//! remove ([`prune_bound`]), how far behind a consumer is ([`ConsumerLag`]).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, Event, EventPosition, TenantId, Timestamp};

/// The longest consumer name, in bytes.
pub const MAX_CONSUMER_NAME_BYTES: usize = 64;

/// The default number of events one prune step removes: one short
/// transaction, so live writes wait at most that long.
pub const DEFAULT_PRUNE_STEP: usize = 1_000;

/// The name of a consumer: 1 to 64 ASCII letters, digits, `.`, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConsumerName(String);

impl ConsumerName {
    /// Validates a name.
    ///
    /// # Errors
    /// `invalid_argument` (field `consumer`) for an empty or too long name,
    /// or one with other characters.
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= MAX_CONSUMER_NAME_BYTES
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(ConsumerName(name))
        } else {
            Err(Error::invalid_argument(
                "consumer",
                format!(
                    "a consumer name is 1 to {MAX_CONSUMER_NAME_BYTES} letters, digits, '.', '_' or '-'"
                ),
            ))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ConsumerName {
    type Error = Error;
    fn try_from(name: String) -> Result<Self, Error> {
        ConsumerName::new(name)
    }
}

impl From<ConsumerName> for String {
    fn from(name: ConsumerName) -> String {
        name.0
    }
}

impl fmt::Display for ConsumerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A consumer as stored: everything at or below `position` is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerState {
    /// Its name, unique within the tenant.
    pub name: ConsumerName,
    /// The last acknowledged position; 0 before the first acknowledgement.
    pub position: EventPosition,
    /// When it was last acknowledged (or registered).
    pub updated_at: Timestamp,
}

/// What retention removed of one tenant's feed: always a prefix, so one
/// range says it all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunedRange {
    /// Every event of the tenant at or below this position is gone.
    pub through: EventPosition,
    /// The time of the newest removed event.
    pub last_at: Timestamp,
    /// How many events were removed in all.
    pub events: u64,
}

/// The bounds of a tenant's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeedState {
    /// At or above every position of this tenant a reader can read (removed
    /// ones included) and below every event still to commit; 0 when none.
    /// The last position the store handed out to any tenant qualifies.
    pub last_position: EventPosition,
    /// What retention removed of this tenant's events, if anything.
    pub pruned: Option<PrunedRange>,
}

/// One bounded prune step, as a store runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneStep {
    /// The tenant.
    pub tenant: TenantId,
    /// Remove nothing above this position.
    pub through: EventPosition,
    /// Remove nothing at or after this time.
    pub before: Timestamp,
    /// Remove at most this many events.
    pub limit: usize,
}

/// How long events are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Events every consumer acknowledged are kept this long.
    pub acknowledged: Duration,
    /// Events are removed after this long even if a consumer has not
    /// acknowledged them (that consumer then fails with `fell_behind`);
    /// `None` keeps unacknowledged events for ever.
    pub unacknowledged: Option<Duration>,
}

impl RetentionPolicy {
    /// Keep acknowledged events for `acknowledged`, unacknowledged ones for
    /// ever.
    pub fn acknowledged_for(acknowledged: Duration) -> Self {
        RetentionPolicy {
            acknowledged,
            unacknowledged: None,
        }
    }
}

/// What a prune removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PruneReport {
    /// Events removed.
    pub removed: u64,
    /// Store calls (transactions) it took.
    pub steps: u64,
}

/// Where a newly registered consumer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerStart {
    /// At the oldest retained event.
    Oldest,
    /// After the newest event: only changes from now on.
    Latest,
}

/// How far behind a consumer is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerLag {
    /// The consumer.
    pub consumer: ConsumerState,
    /// Unacknowledged events, counted up to [`ConsumerLag::COUNT_LIMIT`].
    pub unread: usize,
    /// Whether there are more than `unread`.
    pub more: bool,
    /// The time of the oldest unacknowledged event.
    pub oldest_unread_at: Option<Timestamp>,
    /// Whether retention removed events it had not acknowledged.
    pub fell_behind: bool,
}

impl ConsumerLag {
    /// Lag is counted up to this many events (one page of events).
    pub const COUNT_LIMIT: usize = crate::MAX_EVENT_LIMIT as usize;

    /// The lag in words, as of `now`: "caught up", "12 events, oldest 3m 5s
    /// old", "1000+ events, oldest 2days 4h old".
    pub fn describe(&self, now: Timestamp) -> String {
        if self.fell_behind {
            return "fell behind retention".to_owned();
        }
        let Some(oldest) = self.oldest_unread_at else {
            return "caught up".to_owned();
        };
        let plus = if self.more { "+" } else { "" };
        let noun = if self.unread == 1 && !self.more {
            "event"
        } else {
            "events"
        };
        // Whole seconds: microseconds are noise to a reader.
        let age = Duration::from_secs(now.since(oldest).as_secs());
        format!(
            "{}{plus} {noun}, oldest {} old",
            self.unread,
            humantime::format_duration(age)
        )
    }
}

/// The highest position a prune step may remove up to under the
/// acknowledged rule: the lowest acknowledged position of the tenant's
/// consumers, or every event when no consumer is registered (nobody waits
/// for them).
pub fn prune_bound(feed: &FeedState, consumers: &[ConsumerState]) -> EventPosition {
    consumers
        .iter()
        .map(|consumer| consumer.position)
        .min()
        .unwrap_or(feed.last_position)
}

/// `fell_behind` when retention removed events after `position`: what was
/// read after it would have a silent gap.
///
/// # Errors
/// `fell_behind`, naming the positions and the time lost.
pub fn check_not_behind(
    reader: &str,
    position: EventPosition,
    feed: &FeedState,
) -> Result<(), Error> {
    match feed.pruned {
        Some(pruned) if pruned.through > position => Err(Error::new(
            ErrorKind::FellBehind,
            format!(
                "{reader} is at position {position}, but retention removed every event up to \
                 position {} (the newest of them from {}); events after {position} up to {} were lost",
                pruned.through, pruned.last_at, pruned.through
            ),
        )
        .with_detail("reader", reader)
        .with_detail("position", position.0)
        .with_detail("lost_from", position.0 + 1)
        .with_detail("lost_through", pruned.through.0)
        .with_detail("lost_until", pruned.last_at.to_string())),
        _ => Ok(()),
    }
}

/// The lag of `consumer`, from the events after its position (at most
/// [`ConsumerLag::COUNT_LIMIT`] + 1 of them).
pub fn lag(consumer: ConsumerState, unread: &[Event], feed: &FeedState) -> ConsumerLag {
    let fell_behind = check_not_behind("", consumer.position, feed).is_err();
    ConsumerLag {
        unread: unread.len().min(ConsumerLag::COUNT_LIMIT),
        more: unread.len() > ConsumerLag::COUNT_LIMIT,
        oldest_unread_at: unread.first().map(|event| event.at),
        fell_behind,
        consumer,
    }
}

/// A question the retained feed answers about one node since a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// Who stopped following the node: its `unfollowed` and
    /// `follower_removed` events as the target.
    LostFollowers,
    /// What the account followed or unfollowed: its `followed` and
    /// `unfollowed` events as the follower.
    FollowChanges,
}

impl HistoryKind {
    /// Whether `event` answers this question about `subject`.
    pub fn matches(self, subject: &str, event: &Event) -> bool {
        use crate::EventKind::{Followed, FollowerRemoved, Unfollowed};
        match self {
            HistoryKind::LostFollowers => {
                event.target.as_str() == subject
                    && matches!(event.kind, Unfollowed | FollowerRemoved)
            }
            HistoryKind::FollowChanges => {
                event.follower.as_str() == subject && matches!(event.kind, Followed | Unfollowed)
            }
        }
    }
}

/// `invalid_argument` when `position` is beyond the last event: a consumer
/// cannot have processed what does not exist.
///
/// # Errors
/// As described.
pub fn check_acknowledgeable(position: EventPosition, last: EventPosition) -> Result<(), Error> {
    if position > last {
        return Err(Error::invalid_argument(
            "position",
            format!("position {position} is beyond the last event ({last})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn consumer(name: &str, position: u64) -> ConsumerState {
        ConsumerState {
            name: ConsumerName::new(name).unwrap(),
            position: EventPosition(position),
            updated_at: Timestamp::EPOCH,
        }
    }

    #[test]
    fn names_are_validated() {
        assert!(ConsumerName::new("webhooks-1.main_x").is_ok());
        for bad in ["", "a b", "é", &"x".repeat(65)] {
            assert_eq!(
                ConsumerName::new(bad).map_err(|e| e.kind()).err(),
                Some(ErrorKind::InvalidArgument)
            );
        }
    }

    #[test]
    fn prune_bound_is_the_slowest_consumer_or_everything() {
        let feed = FeedState {
            last_position: EventPosition(50),
            pruned: None,
        };
        assert_eq!(prune_bound(&feed, &[]), EventPosition(50));
        let both = [consumer("a", 7), consumer("b", 3)];
        assert_eq!(prune_bound(&feed, &both), EventPosition(3));
    }

    #[test]
    fn a_reader_behind_the_pruned_range_is_told_what_it_lost() {
        let feed = FeedState {
            last_position: EventPosition(50),
            pruned: Some(PrunedRange {
                through: EventPosition(10),
                last_at: Timestamp::EPOCH,
                events: 4,
            }),
        };
        assert!(check_not_behind("c", EventPosition(10), &feed).is_ok());
        let error = check_not_behind("c", EventPosition(4), &feed).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::FellBehind);
        assert_eq!(error.details()["lost_from"], 5);
        assert_eq!(error.details()["lost_through"], 10);
        assert!(check_acknowledgeable(EventPosition(51), feed.last_position).is_err());
        assert!(check_acknowledgeable(EventPosition(50), feed.last_position).is_ok());
    }

    #[test]
    fn lag_reads_as_words() {
        let now = Timestamp::from_unix_seconds(1_000).unwrap();
        let feed = FeedState::default();
        let caught_up = lag(consumer("a", 0), &[], &feed);
        assert_eq!(caught_up.describe(now), "caught up");
        let event = Event {
            position: EventPosition(1),
            tenant: TenantId::new("t").unwrap(),
            kind: crate::EventKind::Followed,
            follower: crate::AccountId::new("a").unwrap(),
            target: crate::NodeId::new("b").unwrap(),
            at: Timestamp::from_unix_seconds(815).unwrap(),
        };
        let behind = lag(consumer("a", 0), std::slice::from_ref(&event), &feed);
        assert_eq!(behind.describe(now), "1 event, oldest 3m 5s old");
        let many = vec![event; ConsumerLag::COUNT_LIMIT + 1];
        let lots = lag(consumer("a", 0), &many, &feed);
        assert_eq!(lots.describe(now), "1000+ events, oldest 3m 5s old");
    }
}
