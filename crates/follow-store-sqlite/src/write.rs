//! One batch's load and commit inside the writer's open transaction: the
//! rows its keys name are read in key order, core decides, and the change
//! set is written back in key order. Nothing here decides.
//!
//! Rows are read and written by multi-row statements ([`crate::multirow`]):
//! a batch of `n` rows of one kind costs a handful of statements instead of
//! `n`, whatever the batch (an `unfollow_many` of 20, an import of 100,000).

use follow_core::write::{ChangeSet, EdgeKey, Facts, Keys};
use follow_core::{Edge, Error, EventPosition, Link, LinkKey, NodeRecord, TenantId, Timestamp};
use std::ops::Range;

use rusqlite::{CachedStatement, Connection, Statement};

use crate::codec;
use crate::error::map_sql;
use crate::multirow::{Kind, chunks, sql};
use crate::rows::{NodeRow, read_link};

/// The stored rows of `keys`, read in key order so each index is walked
/// front to back once. Links are looked up only between accounts whose
/// node rows count links ([`Keys::links_to_load`]), so a batch among
/// accounts that never blocked, muted or asked reads no link.
pub(crate) fn load(conn: &Connection, tenant: &TenantId, keys: &Keys) -> Result<Facts, Error> {
    let mut facts = Facts::with_capacity(keys.nodes.len(), keys.edges.len());
    let nodes = load_nodes(conn, tenant, keys)?;
    load_links(conn, tenant, &keys.links_to_load(&nodes), &mut facts)?;
    for node in nodes {
        facts.add_node(node);
    }
    load_edges(conn, tenant, keys, &mut facts)?;
    Ok(facts)
}

/// The link rows of `links`, in key order.
fn load_links(
    conn: &Connection,
    tenant: &TenantId,
    links: &[&LinkKey],
    facts: &mut Facts,
) -> Result<(), Error> {
    for range in chunks(Kind::LoadLinks, links.len()) {
        let part = &links[range];
        let mut stmt = conn
            .prepare_cached(sql(Kind::LoadLinks, part.len()))
            .map_err(map_sql)?;
        stmt.raw_bind_parameter(1, tenant.as_str())
            .map_err(map_sql)?;
        for (i, key) in part.iter().enumerate() {
            stmt.raw_bind_parameter(3 * i + 2, key.kind.name())
                .map_err(map_sql)?;
            stmt.raw_bind_parameter(3 * i + 3, key.from.as_str())
                .map_err(map_sql)?;
            stmt.raw_bind_parameter(3 * i + 4, key.to.as_str())
                .map_err(map_sql)?;
        }
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(map_sql)? {
            let (key, link) = read_link(row)?;
            facts.add_link(key, link);
        }
    }
    Ok(())
}

/// The edge rows of `keys`, in key order.
fn load_edges(
    conn: &Connection,
    tenant: &TenantId,
    keys: &Keys,
    facts: &mut Facts,
) -> Result<(), Error> {
    for range in chunks(Kind::LoadEdges, keys.edges.len()) {
        let part = &keys.edges[range];
        let mut stmt = conn
            .prepare_cached(sql(Kind::LoadEdges, part.len()))
            .map_err(map_sql)?;
        stmt.raw_bind_parameter(1, tenant.as_str())
            .map_err(map_sql)?;
        for (i, key) in part.iter().enumerate() {
            stmt.raw_bind_parameter(2 * i + 2, key.follower.as_str())
                .map_err(map_sql)?;
            stmt.raw_bind_parameter(2 * i + 3, key.target.as_str())
                .map_err(map_sql)?;
        }
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(map_sql)? {
            let follower: String = row.get(0).map_err(map_sql)?;
            let target: String = row.get(1).map_err(map_sql)?;
            let options: Option<String> = row.get(5).map_err(map_sql)?;
            let edge = codec::STORED.edge(
                row.get(2).map_err(map_sql)?,
                row.get(3).map_err(map_sql)?,
                row.get(4).map_err(map_sql)?,
                options.as_deref(),
            )?;
            let key = EdgeKey::new(
                codec::STORED.account_id(&follower)?,
                codec::STORED.node_id(&target)?,
            );
            facts.add_edge(key, edge);
        }
    }
    Ok(())
}

/// The node rows of `keys`, in key order.
fn load_nodes(conn: &Connection, tenant: &TenantId, keys: &Keys) -> Result<Vec<NodeRecord>, Error> {
    let mut nodes = Vec::with_capacity(keys.nodes.len());
    for range in chunks(Kind::LoadNodes, keys.nodes.len()) {
        let part = &keys.nodes[range];
        let mut stmt = conn
            .prepare_cached(sql(Kind::LoadNodes, part.len()))
            .map_err(map_sql)?;
        stmt.raw_bind_parameter(1, tenant.as_str())
            .map_err(map_sql)?;
        for (i, id) in part.iter().enumerate() {
            stmt.raw_bind_parameter(i + 2, id.as_str())
                .map_err(map_sql)?;
        }
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(map_sql)? {
            let id: String = row.get(0).map_err(map_sql)?;
            let node = NodeRow::read(row, 1).map_err(map_sql)?;
            nodes.push(node.into_record(codec::STORED.node_id(&id)?)?);
        }
    }
    Ok(nodes)
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

    /// How many of the next `rows` rows may be written: all of them, or
    /// fewer when the failure falls among them (the caller writes those,
    /// then fails).
    fn allow(&mut self, rows: usize) -> usize {
        match &mut self.left {
            Some(left) => {
                let allowed = rows.min(*left);
                *left -= allowed;
                allowed
            }
            None => rows,
        }
    }
}

fn injected() -> Error {
    Error::unavailable("sqlite: injected failure part-way through a commit")
}

/// Writes `rows` rows of `kind` in the chunks [`chunks`] cuts them into.
/// For each chunk, the statement of its size gets the tenant as `?1` and
/// `bind` is given each row's index and its first parameter (from `?2`,
/// [`Kind::width`] apart); the statement runs, and `done` is given the
/// chunk and the rows it changed. A statement stays prepared across the
/// chunks of its size: a kind written row by row looks its statement up
/// once, not once per row. A failure injected among the rows comes after
/// the rows before it are written.
fn write_rows(
    conn: &Connection,
    tenant: &str,
    fault: &mut Fault,
    kind: Kind,
    rows: usize,
    mut bind: impl FnMut(&mut Statement<'_>, usize, usize) -> rusqlite::Result<()>,
    mut done: impl FnMut(Range<usize>, usize) -> Result<(), Error>,
) -> Result<(), Error> {
    let allowed = fault.allow(rows);
    let width = kind.width();
    let mut prepared: Option<(usize, CachedStatement<'_>)> = None;
    for range in chunks(kind, allowed) {
        let stmt = match prepared {
            Some((size, ref mut stmt)) if size == range.len() => stmt,
            _ => {
                let stmt = conn
                    .prepare_cached(sql(kind, range.len()))
                    .map_err(map_sql)?;
                &mut prepared.insert((range.len(), stmt)).1
            }
        };
        stmt.raw_bind_parameter(1, tenant).map_err(map_sql)?;
        for (i, row) in range.clone().enumerate() {
            bind(stmt, width * i + 2, row).map_err(map_sql)?;
        }
        let changed = stmt.raw_execute().map_err(map_sql)?;
        done(range, changed)?;
    }
    if allowed < rows {
        return Err(injected());
    }
    Ok(())
}

/// An update meant to change `rows` rows of `what` changed `changed`: the
/// rows it missed were loaded but are gone, which only a bug explains.
fn updated_all(changed: usize, rows: usize, what: &str) -> Result<(), Error> {
    if changed == rows {
        return Ok(());
    }
    Err(Error::internal(format!(
        "sqlite: {} of {rows} updated {what} are absent",
        rows.saturating_sub(changed)
    )))
}

/// Writes keyed rows (edges or links) with the statements of `kind`, each
/// row bound by `bind`; an update must change every row it names.
fn put_rows<K, V>(
    conn: &Connection,
    tenant: &str,
    fault: &mut Fault,
    kind: Kind,
    rows: &[(K, V)],
    bind: fn(&mut Statement<'_>, usize, &K, &V) -> rusqlite::Result<()>,
) -> Result<(), Error> {
    write_rows(
        conn,
        tenant,
        fault,
        kind,
        rows.len(),
        |stmt, at, row| {
            let (key, value) = &rows[row];
            bind(stmt, at, key, value)
        },
        |range, changed| match kind {
            Kind::UpdateEdges => updated_all(changed, range.len(), "edges"),
            Kind::UpdateLinks => updated_all(changed, range.len(), "links"),
            _ => Ok(()),
        },
    )
}

/// Binds an edge row's six values from `at`: follower, target, since,
/// muted, mutual_since, options.
fn bind_edge(
    stmt: &mut Statement<'_>,
    at: usize,
    key: &EdgeKey,
    edge: &Edge,
) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(at, key.follower.as_str())?;
    stmt.raw_bind_parameter(at + 1, key.target.as_str())?;
    stmt.raw_bind_parameter(at + 2, edge.since.as_unix_micros())?;
    stmt.raw_bind_parameter(at + 3, edge.muted)?;
    stmt.raw_bind_parameter(at + 4, edge.mutual_since.map(Timestamp::as_unix_micros))?;
    stmt.raw_bind_parameter(at + 5, edge.options.encode())
}

/// Binds a link row's seven values from `at`: kind, from, to, since,
/// notifications, expires_at, options.
fn bind_link(
    stmt: &mut Statement<'_>,
    at: usize,
    key: &LinkKey,
    link: &Link,
) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(at, key.kind.name())?;
    stmt.raw_bind_parameter(at + 1, key.from.as_str())?;
    stmt.raw_bind_parameter(at + 2, key.to.as_str())?;
    stmt.raw_bind_parameter(at + 3, link.since.as_unix_micros())?;
    stmt.raw_bind_parameter(at + 4, link.notifications)?;
    stmt.raw_bind_parameter(at + 5, link.expires_at.map(Timestamp::as_unix_micros))?;
    stmt.raw_bind_parameter(at + 6, link.options.encode())
}

/// Any number of rows written.
fn written(_: Range<usize>, _: usize) -> Result<(), Error> {
    Ok(())
}

/// Writes a change set in its documented order and answers the positions
/// of its events. On an error the caller rolls back.
pub(crate) fn commit(
    conn: &Connection,
    changes: &ChangeSet,
    fault: &mut Fault,
) -> Result<Vec<EventPosition>, Error> {
    let t = changes.tenant.as_str();
    let deletes = &changes.edge_deletes;
    write_rows(
        conn,
        t,
        fault,
        Kind::DeleteEdges,
        deletes.len(),
        |stmt, at, row| {
            let key = &deletes[row];
            stmt.raw_bind_parameter(at, key.follower.as_str())?;
            stmt.raw_bind_parameter(at + 1, key.target.as_str())
        },
        written,
    )?;
    let deletes = &changes.link_deletes;
    write_rows(
        conn,
        t,
        fault,
        Kind::DeleteLinks,
        deletes.len(),
        |stmt, at, row| {
            let key = &deletes[row];
            stmt.raw_bind_parameter(at, key.kind.name())?;
            stmt.raw_bind_parameter(at + 1, key.from.as_str())?;
            stmt.raw_bind_parameter(at + 2, key.to.as_str())
        },
        written,
    )?;
    let deletes = &changes.node_deletes;
    write_rows(
        conn,
        t,
        fault,
        Kind::DeleteNodes,
        deletes.len(),
        |stmt, at, row| stmt.raw_bind_parameter(at, deletes[row].as_str()),
        written,
    )?;
    let inserts = &changes.node_inserts;
    let counts = inserts
        .iter()
        .map(|node| {
            Ok([
                codec::STORED.signed(node.counts.following)?,
                codec::STORED.signed(node.counts.followers)?,
                codec::STORED.signed(node.counts.mutual)?,
                codec::STORED.signed(node.links)?,
            ])
        })
        .collect::<Result<Vec<_>, Error>>()?;
    write_rows(
        conn,
        t,
        fault,
        Kind::InsertNodes,
        inserts.len(),
        |stmt, at, row| {
            let (node, counts) = (&inserts[row], &counts[row]);
            stmt.raw_bind_parameter(at, node.id.as_str())?;
            stmt.raw_bind_parameter(at + 1, node.registered_at.as_unix_micros())?;
            stmt.raw_bind_parameter(at + 2, node.last_active.map(Timestamp::as_unix_micros))?;
            stmt.raw_bind_parameter(at + 3, counts[0])?;
            stmt.raw_bind_parameter(at + 4, counts[1])?;
            stmt.raw_bind_parameter(at + 5, counts[2])?;
            stmt.raw_bind_parameter(at + 6, node.locked)?;
            stmt.raw_bind_parameter(at + 7, counts[3])
        },
        written,
    )?;
    put_rows(
        conn,
        t,
        fault,
        Kind::InsertEdges,
        &changes.edge_inserts,
        bind_edge,
    )?;
    put_rows(
        conn,
        t,
        fault,
        Kind::UpdateEdges,
        &changes.edge_updates,
        bind_edge,
    )?;
    put_rows(
        conn,
        t,
        fault,
        Kind::InsertLinks,
        &changes.link_inserts,
        bind_link,
    )?;
    put_rows(
        conn,
        t,
        fault,
        Kind::UpdateLinks,
        &changes.link_updates,
        bind_link,
    )?;
    let updates = &changes.node_updates;
    write_rows(
        conn,
        t,
        fault,
        Kind::UpdateNodes,
        updates.len(),
        |stmt, at, row| {
            let update = &updates[row];
            stmt.raw_bind_parameter(at, update.id.as_str())?;
            stmt.raw_bind_parameter(at + 1, update.counts.following)?;
            stmt.raw_bind_parameter(at + 2, update.counts.followers)?;
            stmt.raw_bind_parameter(at + 3, update.counts.mutual)?;
            stmt.raw_bind_parameter(at + 4, update.links)?;
            stmt.raw_bind_parameter(at + 5, update.locked)?;
            stmt.raw_bind_parameter(at + 6, update.last_active.map(Timestamp::as_unix_micros))
        },
        // The CHECK (>= 0) constraints refuse a count driven below zero.
        |range, changed| updated_all(changed, range.len(), "nodes"),
    )?;
    let events = &changes.events;
    let mut positions = Vec::with_capacity(events.len());
    write_rows(
        conn,
        t,
        fault,
        Kind::InsertEvents,
        events.len(),
        |stmt, at, row| {
            let event = &events[row];
            stmt.raw_bind_parameter(at, event.kind.name())?;
            stmt.raw_bind_parameter(at + 1, event.follower.as_str())?;
            stmt.raw_bind_parameter(at + 2, event.target.as_str())?;
            stmt.raw_bind_parameter(at + 3, event.at.as_unix_micros())
        },
        |range, inserted| {
            // One statement's rows take consecutive positions in VALUES
            // order (AUTOINCREMENT gives each the largest so far plus one),
            // and this connection is the only writer.
            let last = conn.last_insert_rowid();
            let count = i64::try_from(inserted).unwrap_or(i64::MAX);
            if inserted != range.len() || last < count {
                return Err(Error::internal(format!(
                    "sqlite: {inserted} of {} events placed, the last at {last}",
                    range.len()
                )));
            }
            for rowid in last - count + 1..=last {
                let position = u64::try_from(rowid).map_err(|_| {
                    Error::internal(format!("sqlite: event position {rowid} is negative"))
                })?;
                positions.push(EventPosition(position));
            }
            Ok(())
        },
    )?;
    Ok(positions)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use rusqlite::StatementStatus;

    use super::*;
    use crate::SqliteOptions;

    /// Runs the 4-row node load for ids new to it each `round` and
    /// answers how many times SQLite has prepared it again since it was
    /// first prepared.
    fn load_nodes(conn: &Connection, round: i64) -> i32 {
        let mut stmt = conn.prepare_cached(sql(Kind::LoadNodes, 4)).unwrap();
        stmt.raw_bind_parameter(1, "t").unwrap();
        for row in 0..4 {
            stmt.raw_bind_parameter(2 + row, format!("n{round}-{row}"))
                .unwrap();
        }
        let mut rows = stmt.raw_query();
        while rows.next().unwrap().is_some() {}
        drop(rows);
        stmt.get_status(StatementStatus::RePrepare)
    }

    fn migrated(configured: bool) -> Connection {
        let conn = crate::testing::migrated();
        if configured {
            crate::store::configure(&conn, Path::new(":memory:"), &SqliteOptions::default())
                .unwrap();
        }
        conn
    }

    /// The store's connections keep each write statement's first plan:
    /// new values do not make SQLite parse and plan it again. The bare
    /// connection shows that without the store's settings it would.
    #[test]
    fn new_values_do_not_plan_a_write_statement_again() {
        let bare = migrated(false);
        let reprepared: Vec<i32> = (1..4).map(|round| load_nodes(&bare, round)).collect();
        assert!(reprepared[2] > 0, "{reprepared:?}");

        let store = migrated(true);
        let reprepared: Vec<i32> = (1..4).map(|round| load_nodes(&store, round)).collect();
        assert_eq!(reprepared, [0, 0, 0]);
    }

    /// An update names rows the load found, so one that changes fewer
    /// rows than it names means the store and the decision disagree: the
    /// commit stops with `internal` rather than go on from a wrong state.
    #[test]
    fn an_update_of_an_absent_row_fails_the_commit() {
        use follow_core::{AccountId, ErrorKind, FollowOptions, LinkKind, NodeId};
        let account = |id: &str| AccountId::new(id).unwrap();
        let since = Timestamp::from_unix_micros(1).unwrap();
        let tenant = TenantId::new("t").unwrap();

        let mut edge_update = ChangeSet::empty(tenant.clone());
        edge_update.edge_updates.push((
            EdgeKey::new(account("a"), NodeId::new("b").unwrap()),
            Edge {
                since,
                muted: true,
                mutual_since: None,
                options: FollowOptions::default(),
            },
        ));
        let mut link_update = ChangeSet::empty(tenant);
        link_update.link_updates.push((
            LinkKey::new(LinkKind::Mute, account("a"), account("b")),
            Link {
                since,
                notifications: false,
                expires_at: None,
                options: FollowOptions::default(),
            },
        ));
        for changes in [edge_update, link_update] {
            let conn = crate::testing::migrated();
            let err = commit(&conn, &changes, &mut Fault::after(None)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
        }
    }
}
