//! Reading back what a store kept: the one decoding of stored columns into
//! the library's values, shared by every adapter that keeps them as
//! integers and text.
//!
//! A value that does not decode is never guessed at: it is `internal`,
//! naming the backend and the column, with the cause as its source, because
//! only a damaged or foreign database holds one.
//!
//! ```
//! use follow_core::stored::Decoder;
//! use follow_core::ErrorKind;
//!
//! const STORED: Decoder = Decoder::new("mystore");
//! let edge = STORED.edge(1_800_000_000_000_000, true, None, None)?;
//! assert!(edge.muted && edge.options.reblogs);
//! let negative = STORED.count(-1).unwrap_err();
//! assert_eq!(negative.kind(), ErrorKind::Internal);
//! assert!(negative.message().starts_with("mystore:"));
//! # Ok::<(), follow_core::Error>(())
//! ```

use crate::{
    AccountId, Counts, Edge, Error, EventKind, FollowOptions, Link, LinkKey, LinkKind, NodeId,
    Timestamp,
};

/// Decodes one backend's stored columns; errors name the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    backend: &'static str,
}

impl Decoder {
    /// A decoder whose errors begin with `backend` (`"sqlite"`).
    pub const fn new(backend: &'static str) -> Self {
        Decoder { backend }
    }

    /// `internal`: the stored `what` does not decode, because of `cause`.
    pub fn bad_value(&self, what: &str, cause: Error) -> Error {
        Error::internal(format!("{}: stored {what} does not decode", self.backend))
            .with_source(cause)
    }

    fn corrupt(&self, message: String) -> Error {
        Error::internal(format!("{}: {message}", self.backend))
    }

    /// A time kept as microseconds since the epoch.
    pub fn timestamp(&self, micros: i64) -> Result<Timestamp, Error> {
        Timestamp::from_unix_micros(micros).map_err(|e| self.bad_value("timestamp", e))
    }

    /// An optional time kept as microseconds since the epoch.
    pub fn optional_timestamp(&self, micros: Option<i64>) -> Result<Option<Timestamp>, Error> {
        micros.map(|micros| self.timestamp(micros)).transpose()
    }

    /// A node id.
    pub fn node_id(&self, text: &str) -> Result<NodeId, Error> {
        NodeId::new(text).map_err(|e| self.bad_value("node id", e))
    }

    /// An account id.
    pub fn account_id(&self, text: &str) -> Result<AccountId, Error> {
        AccountId::new(text).map_err(|e| self.bad_value("account id", e))
    }

    /// A count kept as a signed integer.
    pub fn count(&self, value: i64) -> Result<u64, Error> {
        u64::try_from(value).map_err(|_| self.corrupt(format!("stored count {value} is negative")))
    }

    /// A count as the signed integer a store keeps.
    pub fn signed(&self, value: u64) -> Result<i64, Error> {
        i64::try_from(value).map_err(|_| self.corrupt(format!("count {value} is too large")))
    }

    /// A node's three counters.
    pub fn counts(&self, following: i64, followers: i64, mutual: i64) -> Result<Counts, Error> {
        Ok(Counts {
            following: self.count(following)?,
            followers: self.count(followers)?,
            mutual: self.count(mutual)?,
        })
    }

    /// Follow options kept as [`FollowOptions::encode`] wrote them.
    pub fn follow_options(&self, stored: Option<&str>) -> Result<FollowOptions, Error> {
        FollowOptions::decode(stored).map_err(|e| self.bad_value("follow options", e))
    }

    /// An edge's columns.
    pub fn edge(
        &self,
        since: i64,
        muted: bool,
        mutual_since: Option<i64>,
        options: Option<&str>,
    ) -> Result<Edge, Error> {
        Ok(Edge {
            since: self.timestamp(since)?,
            muted,
            mutual_since: self.optional_timestamp(mutual_since)?,
            options: self.follow_options(options)?,
        })
    }

    /// A link kind kept by its [`LinkKind::name`].
    pub fn link_kind(&self, name: &str) -> Result<LinkKind, Error> {
        LinkKind::from_name(name).ok_or_else(|| self.corrupt(format!("unknown link kind {name:?}")))
    }

    /// A link's key columns.
    pub fn link_key(&self, kind: &str, from: &str, to: &str) -> Result<LinkKey, Error> {
        Ok(LinkKey::new(
            self.link_kind(kind)?,
            self.account_id(from)?,
            self.account_id(to)?,
        ))
    }

    /// A link's value columns.
    pub fn link(
        &self,
        since: i64,
        notifications: bool,
        expires_at: Option<i64>,
        options: Option<&str>,
    ) -> Result<Link, Error> {
        Ok(Link {
            since: self.timestamp(since)?,
            notifications,
            expires_at: self.optional_timestamp(expires_at)?,
            options: self.follow_options(options)?,
        })
    }

    /// An event kind kept by its [`EventKind::name`].
    pub fn event_kind(&self, name: &str) -> Result<EventKind, Error> {
        EventKind::from_name(name)
            .ok_or_else(|| self.corrupt(format!("unknown event kind {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    const STORED: Decoder = Decoder::new("test");

    fn internal<T: std::fmt::Debug>(result: Result<T, Error>, names: &str) {
        match result {
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::Internal, "{names}");
                assert!(error.message().starts_with("test: "), "{error}");
                assert!(error.message().contains(names), "{error} names {names}");
            }
            Ok(value) => panic!("{value:?} decoded; {names} should not"),
        }
    }

    #[test]
    fn values_no_store_writes_are_internal_errors_naming_the_backend_and_column() {
        internal(STORED.timestamp(i64::MAX), "timestamp");
        internal(STORED.node_id(""), "node id");
        internal(STORED.account_id("1@newsletter"), "account id");
        internal(STORED.count(-3), "-3");
        internal(STORED.signed(u64::MAX), "too large");
        internal(STORED.follow_options(Some("x")), "follow options");
        internal(STORED.link_kind("Block"), "link kind");
        internal(STORED.link_key("mute", "a b", "c"), "account id");
        internal(STORED.event_kind("follow"), "event kind");
        internal(STORED.edge(0, false, Some(i64::MIN), None), "timestamp");
        internal(STORED.link(0, true, Some(i64::MAX), None), "timestamp");
    }

    #[test]
    fn stored_values_read_back() -> Result<(), Error> {
        let counts = STORED.counts(1, 2, 3)?;
        assert_eq!(
            (counts.following, counts.followers, counts.mutual),
            (1, 2, 3)
        );
        assert_eq!(STORED.signed(7)?, 7);
        let link = STORED.link(5, false, Some(9), Some("reblogs=0;notify=0;languages="))?;
        assert_eq!(link.expires_at, Some(Timestamp::from_unix_micros(9)?));
        assert!(!link.notifications && !link.options.reblogs);
        let key = STORED.link_key("request", "alice", "bob")?;
        assert_eq!(key.to_string(), "request alice -> bob");
        let edge = STORED.edge(1, false, Some(2), None)?;
        assert_eq!(edge.mutual_since, Some(Timestamp::from_unix_micros(2)?));
        assert_eq!(STORED.event_kind("blocked")?, EventKind::Blocked);
        Ok(())
    }
}
