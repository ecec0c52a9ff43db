//! Decoding rows into the library's values.

use follow_core::{
    AccountId, Counts, Edge, Error, EventKind, FollowOptions, Link, LinkKey, LinkKind, NodeId,
    Timestamp,
};

use crate::error::bad_value;

pub(crate) fn timestamp(micros: i64) -> Result<Timestamp, Error> {
    Timestamp::from_unix_micros(micros).map_err(|e| bad_value("timestamp", e))
}

pub(crate) fn node_id(text: &str) -> Result<NodeId, Error> {
    NodeId::new(text).map_err(|e| bad_value("node id", e))
}

pub(crate) fn account_id(text: &str) -> Result<AccountId, Error> {
    AccountId::new(text).map_err(|e| bad_value("account id", e))
}

pub(crate) fn count(value: i64) -> Result<u64, Error> {
    u64::try_from(value)
        .map_err(|_| Error::internal(format!("sqlite: stored count {value} is negative")))
}

pub(crate) fn counts(following: i64, followers: i64, mutual: i64) -> Result<Counts, Error> {
    Ok(Counts {
        following: count(following)?,
        followers: count(followers)?,
        mutual: count(mutual)?,
    })
}

pub(crate) fn signed(value: u64) -> Result<i64, Error> {
    i64::try_from(value).map_err(|_| Error::internal(format!("sqlite: count {value} is too large")))
}

pub(crate) fn edge(
    since: i64,
    muted: bool,
    mutual_since: Option<i64>,
    options: Option<&str>,
) -> Result<Edge, Error> {
    Ok(Edge {
        since: timestamp(since)?,
        muted,
        mutual_since: mutual_since.map(timestamp).transpose()?,
        options: follow_options(options)?,
    })
}

/// Follow options as stored: NULL for the defaults.
pub(crate) fn follow_options(stored: Option<&str>) -> Result<FollowOptions, Error> {
    FollowOptions::decode(stored).map_err(|e| bad_value("follow options", e))
}

/// Every link kind's stored name as an SQL string literal, comma-separated,
/// for `kind IN (…)`: with the kind named, a statement seeks the primary
/// key or an index instead of scanning a tenant's links.
pub(crate) fn link_kinds_sql() -> String {
    LinkKind::ALL
        .iter()
        .map(|kind| format!("'{}'", kind.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn link_kind(name: &str) -> Result<LinkKind, Error> {
    LinkKind::from_name(name)
        .ok_or_else(|| Error::internal(format!("sqlite: unknown link kind {name:?}")))
}

/// A link row's columns after its key: since, notifications, expires_at,
/// options.
pub(crate) fn link(
    since: i64,
    notifications: bool,
    expires_at: Option<i64>,
    options: Option<&str>,
) -> Result<Link, Error> {
    Ok(Link {
        since: timestamp(since)?,
        notifications,
        expires_at: expires_at.map(timestamp).transpose()?,
        options: follow_options(options)?,
    })
}

/// The key of a link row from its kind and ends.
pub(crate) fn link_key(kind: &str, from: &str, to: &str) -> Result<LinkKey, Error> {
    Ok(LinkKey::new(
        link_kind(kind)?,
        account_id(from)?,
        account_id(to)?,
    ))
}

pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(crate) fn kind_name(kind: EventKind) -> &'static str {
    kind.name()
}

pub(crate) fn kind(name: &str) -> Result<EventKind, Error> {
    EventKind::from_name(name)
        .ok_or_else(|| Error::internal(format!("sqlite: unknown event kind {name:?}")))
}
