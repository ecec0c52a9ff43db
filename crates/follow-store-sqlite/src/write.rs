//! One batch's load and commit inside the writer's open transaction: the
//! rows its keys name are read in key order, core decides, and the change
//! set is written back in key order. Nothing here decides.

use follow_core::write::{ChangeSet, Facts, Keys};
use follow_core::{Error, EventPosition, TenantId, Timestamp};
use rusqlite::{Connection, params};

use crate::codec;
use crate::error::map_sql;
use crate::rows::{read_edge, read_node};

/// The stored rows of `keys`, read in key order so each index is walked
/// front to back once.
pub(crate) fn load(conn: &Connection, tenant: &TenantId, keys: &Keys) -> Result<Facts, Error> {
    let mut facts = Facts::with_capacity(keys.nodes.len(), keys.edges.len());
    for id in &keys.nodes {
        if let Some(record) = read_node(conn, tenant, id)? {
            facts.add_node(record);
        }
    }
    for key in &keys.edges {
        if let Some(edge) = read_edge(conn, tenant, key.follower.as_str(), key.target.as_str())? {
            facts.add_edge(key.clone(), edge);
        }
    }
    Ok(facts)
}

/// Counts rows written against an injected failure (rollback tests).
pub(crate) struct Fault {
    left: Option<usize>,
}

impl Fault {
    /// Fails after `rows` rows; `None` never fails.
    pub(crate) fn after(rows: Option<usize>) -> Self {
        Fault { left: rows }
    }

    fn row(&mut self) -> Result<(), Error> {
        match &mut self.left {
            Some(0) => Err(Error::unavailable(
                "sqlite: injected failure part-way through a commit",
            )),
            Some(left) => {
                *left -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// Writes a change set in its documented order and answers the positions
/// of its events. On an error the caller rolls back.
pub(crate) fn commit(
    conn: &Connection,
    changes: &ChangeSet,
    fault: &mut Fault,
) -> Result<Vec<EventPosition>, Error> {
    let t = changes.tenant.as_str();
    let run = |fault: &mut Fault, sql: &str, params: &[&dyn rusqlite::ToSql]| {
        fault.row()?;
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute(params))
            .map_err(map_sql)
    };
    for key in &changes.edge_deletes {
        run(
            fault,
            "DELETE FROM edges WHERE tenant = ?1 AND follower = ?2 AND target = ?3",
            params![t, key.follower.as_str(), key.target.as_str()],
        )?;
    }
    for id in &changes.node_deletes {
        run(
            fault,
            "DELETE FROM nodes WHERE tenant = ?1 AND id = ?2",
            params![t, id.as_str()],
        )?;
    }
    for node in &changes.node_inserts {
        run(
            fault,
            "INSERT INTO nodes
               (tenant, id, registered_at, last_active, following, followers, mutual)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                t,
                node.id.as_str(),
                node.registered_at.as_unix_micros(),
                node.last_active.map(Timestamp::as_unix_micros),
                codec::signed(node.counts.following)?,
                codec::signed(node.counts.followers)?,
                codec::signed(node.counts.mutual)?,
            ],
        )?;
    }
    for (key, edge) in &changes.edge_puts {
        run(
            fault,
            "INSERT INTO edges (tenant, follower, target, since, muted, mutual_since)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (tenant, follower, target) DO UPDATE SET
               since = excluded.since, muted = excluded.muted,
               mutual_since = excluded.mutual_since",
            params![
                t,
                key.follower.as_str(),
                key.target.as_str(),
                edge.since.as_unix_micros(),
                edge.muted,
                edge.mutual_since.map(Timestamp::as_unix_micros),
            ],
        )?;
    }
    for update in &changes.node_updates {
        // The CHECK (>= 0) constraints refuse a count driven below zero.
        let changed = run(
            fault,
            "UPDATE nodes SET following = following + ?3, followers = followers + ?4,
               mutual = mutual + ?5, last_active = coalesce(?6, last_active)
             WHERE tenant = ?1 AND id = ?2",
            params![
                t,
                update.id.as_str(),
                update.counts.following,
                update.counts.followers,
                update.counts.mutual,
                update.last_active.map(Timestamp::as_unix_micros),
            ],
        )?;
        if changed == 0 {
            return Err(Error::internal(format!(
                "sqlite: update of absent node {}",
                update.id
            )));
        }
    }
    changes
        .events
        .iter()
        .map(|event| {
            run(
                fault,
                "INSERT INTO events (tenant, kind, follower, target, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    t,
                    codec::kind_name(event.kind),
                    event.follower.as_str(),
                    event.target.as_str(),
                    event.at.as_unix_micros(),
                ],
            )?;
            let rowid = conn.last_insert_rowid();
            u64::try_from(rowid)
                .map(EventPosition)
                .map_err(|_| Error::internal(format!("sqlite: event position {rowid} is negative")))
        })
        .collect()
}
