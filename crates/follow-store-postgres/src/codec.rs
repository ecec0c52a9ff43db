//! Decoding rows into the library's values: core's [`Decoder`], naming
//! this backend, over the columns of a row.

use follow_core::stored::Decoder;
use follow_core::{Error, Link, LinkKey, NodeId, NodeRecord};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use crate::error::map_pg;

/// Decodes this store's columns; its errors begin with `postgres:`.
pub(crate) const STORED: Decoder = Decoder::new("postgres");

/// Column `at` of `row`.
fn column<'a, T: FromSql<'a>>(row: &'a Row, at: usize) -> Result<T, Error> {
    row.try_get(at).map_err(map_pg)
}

/// A link key from columns `at..at + 3`: kind, from, to.
pub(crate) fn link_key(row: &Row, at: usize) -> Result<LinkKey, Error> {
    STORED.link_key(column(row, at)?, column(row, at + 1)?, column(row, at + 2)?)
}

/// A link from columns `at..at + 4` in the order of [`LINK_COLUMNS`].
pub(crate) fn link(row: &Row, at: usize) -> Result<Link, Error> {
    STORED.link(
        column(row, at)?,
        column(row, at + 1)?,
        column(row, at + 2)?,
        column(row, at + 3)?,
    )
}

/// The columns of a link after its key, as [`link`] reads them.
pub(crate) const LINK_COLUMNS: &str = "since, notifications, expires_at, options";

/// A page limit as SQL binds it (a limit past `i64::MAX` is no limit).
pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A node row in the column order of [`NODE_COLUMNS`], starting at `at`.
pub(crate) fn node_record(id: NodeId, row: &Row, at: usize) -> Result<NodeRecord, Error> {
    Ok(NodeRecord {
        id,
        registered_at: STORED.timestamp(column(row, at)?)?,
        last_active: STORED.optional_timestamp(column(row, at + 1)?)?,
        counts: STORED.counts(
            column(row, at + 2)?,
            column(row, at + 3)?,
            column(row, at + 4)?,
        )?,
        locked: column(row, at + 5)?,
        links: STORED.count(column(row, at + 6)?)?,
    })
}

/// The columns of a node after its id, as [`node_record`] reads them, from
/// `follow_nodes n` joined to its pending counter deltas `d`
/// ([`crate::counters::pending_sql`]).
pub(crate) const NODE_COLUMNS: &str = "n.registered_at, n.last_active, \
     n.following + d.following, n.followers + d.followers, n.mutual + d.mutual, \
     n.locked, n.links + d.links";
