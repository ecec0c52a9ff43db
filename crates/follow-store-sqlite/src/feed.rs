//! The change feed's tables: consumers and what retention removed.
//!
//! Acknowledgements and prune steps run on the writer connection, each in
//! its own short `BEGIN IMMEDIATE` transaction between write groups, so a
//! prune step holds up live writes only for the rows it removes.

use follow_core::feed::{self, ConsumerName, ConsumerState, FeedState, PruneStep, PrunedRange};
use follow_core::{Error, EventPosition, TenantId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec;
use crate::error::map_sql;

/// Runs `f` in one immediate transaction, rolled back if it fails.
pub(crate) fn in_transaction<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(map_sql)?;
    match f(conn).and_then(|out| {
        conn.execute_batch("COMMIT").map_err(map_sql)?;
        Ok(out)
    }) {
        Ok(out) => Ok(out),
        Err(error) => {
            // Nothing to undo if the transaction is already gone.
            let _ = conn.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

fn consumer_row(name: String, position: i64, updated_at: i64) -> Result<ConsumerState, Error> {
    Ok(ConsumerState {
        name: ConsumerName::new(name)
            .map_err(|e| Error::internal("stored consumer name is invalid").with_source(e))?,
        position: EventPosition(codec::STORED.count(position)?),
        updated_at: codec::STORED.timestamp(updated_at)?,
    })
}

pub(crate) fn consumer(
    conn: &Connection,
    tenant: &TenantId,
    name: &ConsumerName,
) -> Result<Option<ConsumerState>, Error> {
    let row = conn
        .prepare_cached(
            "SELECT name, position, updated_at FROM consumers WHERE tenant = ?1 AND name = ?2",
        )
        .map_err(map_sql)?
        .query_row(params![tenant.as_str(), name.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(map_sql)?;
    row.map(|(name, position, at)| consumer_row(name, position, at))
        .transpose()
}

pub(crate) fn consumers(conn: &Connection, tenant: &TenantId) -> Result<Vec<ConsumerState>, Error> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT name, position, updated_at FROM consumers WHERE tenant = ?1 ORDER BY name",
        )
        .map_err(map_sql)?;
    let rows = stmt
        .query_map([tenant.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(map_sql)?;
    rows.map(|row| {
        let (name, position, at) = row.map_err(map_sql)?;
        consumer_row(name, position, at)
    })
    .collect()
}

fn last_position(conn: &Connection) -> Result<EventPosition, Error> {
    let seq: Option<i64> = conn
        .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        .map_err(map_sql)?
        .query_row([], |r| r.get(0))
        .optional()
        .map_err(map_sql)?;
    Ok(EventPosition(codec::STORED.count(seq.unwrap_or(0))?))
}

fn pruned(conn: &Connection, tenant: &TenantId) -> Result<Option<PrunedRange>, Error> {
    let row: Option<(i64, i64, i64)> = conn
        .prepare_cached("SELECT through, last_at, events FROM pruned WHERE tenant = ?1")
        .map_err(map_sql)?
        .query_row([tenant.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(map_sql)?;
    row.map(|(through, last_at, events)| {
        Ok(PrunedRange {
            through: EventPosition(codec::STORED.count(through)?),
            last_at: codec::STORED.timestamp(last_at)?,
            events: codec::STORED.count(events)?,
        })
    })
    .transpose()
}

pub(crate) fn feed_state(conn: &Connection, tenant: &TenantId) -> Result<FeedState, Error> {
    Ok(FeedState {
        last_position: last_position(conn)?,
        pruned: pruned(conn, tenant)?,
    })
}

pub(crate) fn acknowledge(
    conn: &Connection,
    tenant: &TenantId,
    name: &ConsumerName,
    position: EventPosition,
    at: Timestamp,
) -> Result<ConsumerState, Error> {
    in_transaction(conn, |conn| {
        feed::check_acknowledgeable(position, last_position(conn)?)?;
        conn.prepare_cached(
            "INSERT INTO consumers (tenant, name, position, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant, name) DO UPDATE
             SET position = excluded.position, updated_at = excluded.updated_at
             WHERE excluded.position > consumers.position",
        )
        .map_err(map_sql)?
        .execute(params![
            tenant.as_str(),
            name.as_str(),
            codec::STORED.signed(position.0)?,
            at.as_unix_micros()
        ])
        .map_err(map_sql)?;
        consumer(conn, tenant, name)?
            .ok_or_else(|| Error::internal("the acknowledged consumer is missing"))
    })
}

pub(crate) fn prune_events(conn: &Connection, step: &PruneStep) -> Result<u64, Error> {
    in_transaction(conn, |conn| {
        let tenant = step.tenant.as_str();
        let mut removed = 0u64;
        let mut newest = None;
        {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT position, at FROM events WHERE tenant = ?1
                     ORDER BY position ASC LIMIT ?2",
                )
                .map_err(map_sql)?;
            let mut rows = stmt
                .query(params![tenant, codec::limit(step.limit)])
                .map_err(map_sql)?;
            while let Some(row) = rows.next().map_err(map_sql)? {
                let position: i64 = row.get(0).map_err(map_sql)?;
                let at: i64 = row.get(1).map_err(map_sql)?;
                if codec::STORED.count(position)? > step.through.0
                    || at >= step.before.as_unix_micros()
                {
                    break;
                }
                removed += 1;
                newest = Some((position, at));
            }
        }
        let Some((through, last_at)) = newest else {
            return Ok(0);
        };
        conn.prepare_cached("DELETE FROM events WHERE tenant = ?1 AND position <= ?2")
            .map_err(map_sql)?
            .execute(params![tenant, through])
            .map_err(map_sql)?;
        conn.prepare_cached(
            "INSERT INTO pruned (tenant, through, last_at, events) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant) DO UPDATE
             SET through = excluded.through, last_at = excluded.last_at,
                 events = pruned.events + excluded.events",
        )
        .map_err(map_sql)?
        .execute(params![
            tenant,
            through,
            last_at,
            codec::STORED.signed(removed)?
        ])
        .map_err(map_sql)?;
        Ok(removed)
    })
}
