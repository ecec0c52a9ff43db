//! [`WriteTxn`] over an open SQLite transaction: plain reads and writes of
//! one tenant, nothing decided.

use follow_core::apply::WriteTxn;
use follow_core::{
    AccountId, CountDelta, Edge, Error, Event, EventPosition, NewEvent, NodeId, NodeRecord,
    TenantId, Timestamp,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec;
use crate::error::map_sql;

/// One tenant's view of the writer's open transaction.
pub(crate) struct SqlTxn<'c> {
    pub(crate) conn: &'c Connection,
    pub(crate) tenant: &'c TenantId,
}

impl SqlTxn<'_> {
    fn t(&self) -> &str {
        self.tenant.as_str()
    }
}

impl WriteTxn for SqlTxn<'_> {
    fn node(&mut self, id: &NodeId) -> Result<Option<NodeRecord>, Error> {
        read_node(self.conn, self.tenant, id)
    }

    fn insert_node(&mut self, node: &NodeRecord) -> Result<(), Error> {
        let following = codec::signed(node.counts.following)?;
        let followers = codec::signed(node.counts.followers)?;
        let mutual = codec::signed(node.counts.mutual)?;
        self.conn
            .prepare_cached(
                "INSERT INTO nodes
                   (tenant, id, registered_at, last_active, following, followers, mutual)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.t(),
                    node.id.as_str(),
                    node.registered_at.as_unix_micros(),
                    node.last_active.map(Timestamp::as_unix_micros),
                    following,
                    followers,
                    mutual,
                ])
            })
            .map_err(map_sql)?;
        Ok(())
    }

    fn delete_node(&mut self, id: &NodeId) -> Result<(), Error> {
        self.conn
            .prepare_cached("DELETE FROM nodes WHERE tenant = ?1 AND id = ?2")
            .and_then(|mut s| s.execute(params![self.t(), id.as_str()]))
            .map_err(map_sql)?;
        Ok(())
    }

    fn set_last_active(&mut self, id: &NodeId, at: Timestamp) -> Result<(), Error> {
        self.conn
            .prepare_cached("UPDATE nodes SET last_active = ?3 WHERE tenant = ?1 AND id = ?2")
            .and_then(|mut s| s.execute(params![self.t(), id.as_str(), at.as_unix_micros()]))
            .map_err(map_sql)?;
        Ok(())
    }

    fn edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<Option<Edge>, Error> {
        read_edge(self.conn, self.tenant, follower.as_str(), target.as_str())
    }

    fn put_edge(&mut self, follower: &AccountId, target: &NodeId, edge: Edge) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "INSERT INTO edges (tenant, follower, target, since, muted, mutual_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (tenant, follower, target) DO UPDATE SET
                   since = excluded.since, muted = excluded.muted,
                   mutual_since = excluded.mutual_since",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.t(),
                    follower.as_str(),
                    target.as_str(),
                    edge.since.as_unix_micros(),
                    edge.muted,
                    edge.mutual_since.map(Timestamp::as_unix_micros),
                ])
            })
            .map_err(map_sql)?;
        Ok(())
    }

    fn delete_edge(&mut self, follower: &AccountId, target: &NodeId) -> Result<(), Error> {
        self.conn
            .prepare_cached("DELETE FROM edges WHERE tenant = ?1 AND follower = ?2 AND target = ?3")
            .and_then(|mut s| s.execute(params![self.t(), follower.as_str(), target.as_str()]))
            .map_err(map_sql)?;
        Ok(())
    }

    fn add_counts(&mut self, id: &NodeId, delta: CountDelta) -> Result<(), Error> {
        // The CHECK (>= 0) constraints refuse a count driven below zero, so a
        // delta that disagrees with the stored counters fails the batch.
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE nodes SET following = following + ?3, followers = followers + ?4,
                   mutual = mutual + ?5
                 WHERE tenant = ?1 AND id = ?2",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.t(),
                    id.as_str(),
                    delta.following,
                    delta.followers,
                    delta.mutual
                ])
            })
            .map_err(map_sql)?;
        if changed == 0 {
            return Err(Error::internal(format!(
                "sqlite: counts of absent node {id}"
            )));
        }
        Ok(())
    }

    fn edges_touching(&mut self, id: &NodeId) -> Result<Vec<(AccountId, NodeId)>, Error> {
        let mut out = Vec::new();
        for sql in [
            "SELECT follower, target FROM edges WHERE tenant = ?1 AND follower = ?2",
            "SELECT follower, target FROM edges WHERE tenant = ?1 AND target = ?2",
        ] {
            let mut stmt = self.conn.prepare_cached(sql).map_err(map_sql)?;
            let rows = stmt
                .query_map(params![self.t(), id.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(map_sql)?;
            for row in rows {
                let (follower, target) = row.map_err(map_sql)?;
                out.push((codec::account_id(&follower)?, codec::node_id(&target)?));
            }
        }
        Ok(out)
    }

    fn append_event(&mut self, event: NewEvent) -> Result<Event, Error> {
        self.conn
            .prepare_cached(
                "INSERT INTO events (tenant, kind, follower, target, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.t(),
                    codec::kind_name(event.kind),
                    event.follower.as_str(),
                    event.target.as_str(),
                    event.at.as_unix_micros(),
                ])
            })
            .map_err(map_sql)?;
        let rowid = self.conn.last_insert_rowid();
        let position = u64::try_from(rowid)
            .map_err(|_| Error::internal(format!("sqlite: event position {rowid} is negative")))?;
        Ok(event.at_position(self.tenant.clone(), EventPosition(position)))
    }
}

/// The columns of a node row after its id, as `NODE_COLUMNS` lists them.
pub(crate) struct NodeRow {
    registered_at: i64,
    last_active: Option<i64>,
    counts: (i64, i64, i64),
}

/// The columns [`NodeRow`] reads, in order.
pub(crate) const NODE_COLUMNS: &str = "registered_at, last_active, following, followers, mutual";

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
        })
    }

    /// Decodes the row into the record of node `id`.
    pub(crate) fn into_record(self, id: NodeId) -> Result<NodeRecord, Error> {
        let (following, followers, mutual) = self.counts;
        Ok(NodeRecord {
            id,
            registered_at: codec::timestamp(self.registered_at)?,
            last_active: self.last_active.map(codec::timestamp).transpose()?,
            counts: codec::counts(following, followers, mutual)?,
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
            "SELECT since, muted, mutual_since FROM edges
             WHERE tenant = ?1 AND follower = ?2 AND target = ?3",
        )
        .and_then(|mut s| {
            s.query_row(params![tenant.as_str(), follower, target], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })
            .optional()
        })
        .map_err(map_sql)?;
    row.map(|(since, muted, mutual)| codec::edge(since, muted, mutual))
        .transpose()
}
