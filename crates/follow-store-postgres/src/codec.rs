//! Decoding rows into the library's values.

use follow_core::{
    AccountId, Counts, Edge, Error, EventKind, FollowOptions, Link, LinkKey, LinkKind, NodeId,
    Timestamp,
};
use tokio_postgres::Row;

use crate::error::map_pg;

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
        .map_err(|_| Error::internal(format!("postgres: stored count {value} is negative")))
}

pub(crate) fn counts(following: i64, followers: i64, mutual: i64) -> Result<Counts, Error> {
    Ok(Counts {
        following: count(following)?,
        followers: count(followers)?,
        mutual: count(mutual)?,
    })
}

pub(crate) fn signed(value: u64) -> Result<i64, Error> {
    i64::try_from(value)
        .map_err(|_| Error::internal(format!("postgres: count {value} is too large")))
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

/// A follow's (or a request's) options as stored: NULL for the defaults.
pub(crate) fn follow_options(stored: Option<&str>) -> Result<FollowOptions, Error> {
    FollowOptions::decode(stored).map_err(|e| bad_value("follow options", e))
}

pub(crate) fn link_kind(name: &str) -> Result<LinkKind, Error> {
    LinkKind::from_name(name)
        .ok_or_else(|| Error::internal(format!("postgres: unknown link kind {name:?}")))
}

/// A link key from columns `at..at + 3`: kind, from, to.
pub(crate) fn link_key(row: &Row, at: usize) -> Result<LinkKey, Error> {
    Ok(LinkKey::new(
        link_kind(row.try_get(at).map_err(map_pg)?)?,
        account_id(row.try_get(at + 1).map_err(map_pg)?)?,
        account_id(row.try_get(at + 2).map_err(map_pg)?)?,
    ))
}

/// A link from columns `at..at + 4` in the order of [`LINK_COLUMNS`].
pub(crate) fn link(row: &Row, at: usize) -> Result<Link, Error> {
    Ok(Link {
        since: timestamp(row.try_get(at).map_err(map_pg)?)?,
        notifications: row.try_get(at + 1).map_err(map_pg)?,
        expires_at: row
            .try_get::<_, Option<i64>>(at + 2)
            .map_err(map_pg)?
            .map(timestamp)
            .transpose()?,
        options: follow_options(row.try_get(at + 3).map_err(map_pg)?)?,
    })
}

/// The columns of a link after its key, as [`link`] reads them.
pub(crate) const LINK_COLUMNS: &str = "since, notifications, expires_at, options";

pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(crate) fn kind_name(kind: EventKind) -> &'static str {
    kind.name()
}

pub(crate) fn kind(name: &str) -> Result<EventKind, Error> {
    EventKind::from_name(name)
        .ok_or_else(|| Error::internal(format!("postgres: unknown event kind {name:?}")))
}

/// A node row in the column order of [`NODE_COLUMNS`], starting at `at`.
pub(crate) fn node_record(
    id: NodeId,
    row: &Row,
    at: usize,
) -> Result<follow_core::NodeRecord, Error> {
    Ok(follow_core::NodeRecord {
        id,
        registered_at: timestamp(row.try_get(at).map_err(map_pg)?)?,
        last_active: row
            .try_get::<_, Option<i64>>(at + 1)
            .map_err(map_pg)?
            .map(timestamp)
            .transpose()?,
        counts: counts(
            row.try_get(at + 2).map_err(map_pg)?,
            row.try_get(at + 3).map_err(map_pg)?,
            row.try_get(at + 4).map_err(map_pg)?,
        )?,
        locked: row.try_get(at + 5).map_err(map_pg)?,
        links: count(row.try_get(at + 6).map_err(map_pg)?)?,
    })
}

/// The columns of a node after its id, as [`node_record`] reads them.
pub(crate) const NODE_COLUMNS: &str =
    "registered_at, last_active, following, followers, mutual, locked, links";
