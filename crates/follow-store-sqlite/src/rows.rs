//! Node, edge and link rows: reading one, and decoding its columns.

use follow_core::{Edge, Error, Link, LinkKey, NodeId, NodeRecord, TenantId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec;
use crate::error::map_sql;

/// The columns of a node row after its id, as `NODE_COLUMNS` lists them.
pub(crate) struct NodeRow {
    registered_at: i64,
    last_active: Option<i64>,
    counts: (i64, i64, i64),
    locked: bool,
    links: i64,
}

/// The columns [`NodeRow`] reads, in order.
pub(crate) const NODE_COLUMNS: &str =
    "registered_at, last_active, following, followers, mutual, locked, links";

impl NodeRow {
    /// Reads the node columns starting at column `first`.
    pub(crate) fn read(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(NodeRow {
            registered_at: row.get(first)?,
            last_active: row.get(first + 1)?,
            counts: (
                row.get(first + 2)?,
                row.get(first + 3)?,
                row.get(first + 4)?,
            ),
            locked: row.get(first + 5)?,
            links: row.get(first + 6)?,
        })
    }

    /// Decodes the row into the record of node `id`.
    pub(crate) fn into_record(self, id: NodeId) -> Result<NodeRecord, Error> {
        let (following, followers, mutual) = self.counts;
        Ok(NodeRecord {
            id,
            registered_at: codec::STORED.timestamp(self.registered_at)?,
            last_active: codec::STORED.optional_timestamp(self.last_active)?,
            counts: codec::STORED.counts(following, followers, mutual)?,
            locked: self.locked,
            links: codec::STORED.count(self.links)?,
        })
    }
}

/// Reads one node with its counts.
pub(crate) fn read_node(
    conn: &Connection,
    tenant: &TenantId,
    id: &NodeId,
) -> Result<Option<NodeRecord>, Error> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {NODE_COLUMNS} FROM nodes WHERE tenant = ?1 AND id = ?2"
        ))
        .and_then(|mut s| {
            s.query_row(params![tenant.as_str(), id.as_str()], |r| {
                NodeRow::read(r, 0)
            })
            .optional()
        })
        .map_err(map_sql)?;
    row.map(|row| row.into_record(id.clone())).transpose()
}

/// Reads the edge follower → target.
pub(crate) fn read_edge(
    conn: &Connection,
    tenant: &TenantId,
    follower: &str,
    target: &str,
) -> Result<Option<Edge>, Error> {
    let row = conn
        .prepare_cached(
            "SELECT since, muted, mutual_since, options FROM edges
             WHERE tenant = ?1 AND follower = ?2 AND target = ?3",
        )
        .and_then(|mut s| {
            s.query_row(params![tenant.as_str(), follower, target], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .optional()
        })
        .map_err(map_sql)?;
    row.map(|(since, muted, mutual, options)| {
        codec::STORED.edge(since, muted, mutual, options.as_deref())
    })
    .transpose()
}

/// The columns of a link's value, as [`read_link_value`] decodes them.
pub(crate) const LINK_VALUE_COLUMNS: &str = "since, notifications, expires_at, options";

/// The columns of a whole link row, as [`read_link`] decodes them.
pub(crate) const LINK_COLUMNS: &str =
    "kind, from_account, to_account, since, notifications, expires_at, options";

/// Decodes the [`LINK_VALUE_COLUMNS`] starting at column `first`.
pub(crate) fn read_link_value(row: &rusqlite::Row<'_>, first: usize) -> Result<Link, Error> {
    let since: i64 = row.get(first).map_err(map_sql)?;
    let notifications: bool = row.get(first + 1).map_err(map_sql)?;
    let expires_at: Option<i64> = row.get(first + 2).map_err(map_sql)?;
    let options: Option<String> = row.get(first + 3).map_err(map_sql)?;
    codec::STORED.link(since, notifications, expires_at, options.as_deref())
}

/// Decodes a row of [`LINK_COLUMNS`].
pub(crate) fn read_link(row: &rusqlite::Row<'_>) -> Result<(LinkKey, Link), Error> {
    let kind: String = row.get(0).map_err(map_sql)?;
    let from: String = row.get(1).map_err(map_sql)?;
    let to: String = row.get(2).map_err(map_sql)?;
    Ok((
        codec::STORED.link_key(&kind, &from, &to)?,
        read_link_value(row, 3)?,
    ))
}
