//! A database of schema 3 (before links) opens, migrates in place, and
//! keeps every row, count and event.
//!
//! `fixtures/schema3.db` was written by the schema-3 adapter through its
//! public API and closed cleanly: in tenant `acme`, alice, bob, carol and a
//! channel (dave registered, followed, unfollowed and was removed), alice
//! and bob follow each other, carol follows both and mutes bob, both follow
//! the channel, bob was touched; in tenant `other`, xavier follows yvonne;
//! two feed consumers of `acme` and a pruned prefix of its events.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use follow_core::feed::ConsumerName;
use follow_core::{
    Command, FollowOptions, FollowStore, LinkDirection, LinkKind, LinkQuery, ListKind, ListQuery,
    TenantId,
};
use follow_store_sqlite::{OpenError, SCHEMA_VERSION, SqliteStore};
use futures::executor::block_on;
use rusqlite::Connection;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema3.db");

/// Every row of the schema-3 tables, in key order, each row as text.
fn schema3_rows(path: &Path) -> Vec<(String, Vec<String>)> {
    let conn = Connection::open(path).unwrap();
    let tables = [
        (
            "nodes",
            "SELECT tenant, id, registered_at, last_active, following, followers, mutual
             FROM nodes ORDER BY tenant, id",
        ),
        (
            "edges",
            "SELECT tenant, follower, target, since, muted, mutual_since
             FROM edges ORDER BY tenant, follower, target",
        ),
        (
            "events",
            "SELECT position, tenant, kind, follower, target, at FROM events ORDER BY position",
        ),
        (
            "consumers",
            "SELECT tenant, name, position, updated_at FROM consumers ORDER BY tenant, name",
        ),
        (
            "pruned",
            "SELECT tenant, through, last_at, events FROM pruned ORDER BY tenant",
        ),
        ("cursor_secret", "SELECT id, hex(secret) FROM cursor_secret"),
        ("sqlite_sequence", "SELECT name, seq FROM sqlite_sequence"),
    ];
    tables
        .iter()
        .map(|(table, sql)| {
            let mut stmt = conn.prepare(sql).unwrap();
            let columns = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let values: Vec<String> = (0..columns)
                        .map(|i| match r.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                            rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                            other => format!("{other:?}"),
                        })
                        .collect();
                    Ok(values.join("|"))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            ((*table).to_owned(), rows)
        })
        .collect()
}

fn pragma(path: &Path, name: &str) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .unwrap()
}

fn count(path: &Path, sql: &str) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The fixture, copied: a test never writes the committed file.
fn copy_of_fixture(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.file("graph.db");
    std::fs::copy(FIXTURE, &path).unwrap();
    path
}

#[test]
fn a_schema_3_database_migrates_in_place_and_keeps_every_row() {
    let dir = TempDir::new("migrate-3-4");
    let path = copy_of_fixture(&dir);
    assert_eq!(pragma(&path, "user_version"), 3);
    let before = schema3_rows(&path);
    let sizes: Vec<(&str, usize)> = before.iter().map(|(t, r)| (t.as_str(), r.len())).collect();
    assert_eq!(
        sizes,
        [
            ("nodes", 6),
            ("edges", 7),
            ("events", 10),
            ("consumers", 2),
            ("pruned", 1),
            ("cursor_secret", 1),
            ("sqlite_sequence", 1),
        ],
        "the fixture holds what its description says"
    );

    let store = SqliteStore::open(&path).unwrap();
    let acme = tenant();
    let other = TenantId::new("other").unwrap();
    assert!(block_on(store.verify()).unwrap().is_ok());

    // Every node reads back with its counts and activity, unlocked and
    // without links.
    for tenant in [&acme, &other] {
        let nodes = block_on(store.nodes(tenant, None, 100)).unwrap();
        for record in &nodes {
            assert!(!record.locked && record.links == 0, "{record:?}");
            let again = block_on(store.node(tenant, &record.id)).unwrap();
            assert_eq!(again.as_ref(), Some(record));
        }
    }
    let bob = block_on(store.node(&acme, &node("bob"))).unwrap().unwrap();
    assert_eq!(
        (
            bob.counts.following,
            bob.counts.followers,
            bob.counts.mutual
        ),
        (2, 2, 1)
    );
    assert_eq!(bob.last_active, Some(at(25)));
    assert!(
        block_on(store.node(&acme, &node("dave")))
            .unwrap()
            .is_none()
    );

    // Edges keep their mute flags and marks, with the default options.
    let followers = block_on(store.list(ListQuery {
        tenant: acme.clone(),
        list: ListKind::Followers,
        subject: node("bob"),
        after: None,
        limit: 10,
    }))
    .unwrap()
    .unwrap();
    let shown: Vec<(&str, bool)> = followers
        .iter()
        .map(|e| (e.node.as_str(), e.muted))
        .collect();
    assert_eq!(shown, [("alice", false), ("carol", true)]);
    assert!(
        followers
            .iter()
            .all(|e| e.options == FollowOptions::default())
    );
    let pairs = block_on(store.pairs(&acme, &node("alice"), &[node("bob")]))
        .unwrap()
        .unwrap();
    assert_eq!(pairs[0].outgoing.unwrap().mutual_since, Some(at(10)));
    assert!(pairs[0].incoming);

    // The change feed: events after the pruned prefix, positions kept, and
    // the consumers' positions.
    let events = block_on(store.events_after(&acme, None, 100)).unwrap();
    let positions: Vec<u64> = events.iter().map(|e| e.position.0).collect();
    assert_eq!(positions, (4..=12).collect::<Vec<_>>());
    assert_eq!(
        block_on(store.events_after(&other, None, 100))
            .unwrap()
            .len(),
        1
    );
    let mailer = ConsumerName::new("mailer").unwrap();
    let state = block_on(store.consumer(&acme, &mailer)).unwrap().unwrap();
    assert_eq!(state.position.0, 4);
    assert_eq!(block_on(store.consumers(&acme)).unwrap().len(), 2);
    assert!(
        block_on(store.links(LinkQuery {
            tenant: acme.clone(),
            kind: LinkKind::Block,
            direction: LinkDirection::Outgoing,
            subject: follow_core::AccountId::new("alice").unwrap(),
            after: None,
            limit: 10,
        }))
        .unwrap()
        .unwrap()
        .is_empty()
    );
    drop(store);

    // Every row of the old tables is still there, byte for byte; the new
    // columns hold their defaults; the file is at the new version.
    assert_eq!(schema3_rows(&path), before);
    assert_eq!(pragma(&path, "user_version"), SCHEMA_VERSION);
    assert_eq!(
        pragma(&path, "application_id"),
        follow_store_sqlite::APPLICATION_ID
    );
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM nodes WHERE locked = 0 AND links = 0"
        ),
        6
    );
    assert_eq!(
        count(&path, "SELECT count(*) FROM edges WHERE options IS NULL"),
        7
    );
    assert_eq!(count(&path, "SELECT count(*) FROM links"), 0);
}

#[test]
fn a_migrated_database_takes_links_and_keeps_them_across_reopen() {
    let dir = TempDir::new("migrate-links");
    let path = copy_of_fixture(&dir);
    let acme = tenant();
    {
        let store = SqliteStore::open(&path).unwrap();
        // Alice blocks carol: carol's follow of alice is cut.
        let results = block_on(store.write(batch(
            50,
            vec![Command::Block {
                actor: account("alice"),
                target: account("carol"),
            }],
        )))
        .unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
    let store = SqliteStore::open(&path).unwrap();
    assert!(block_on(store.verify()).unwrap().is_ok());
    let alice = block_on(store.node(&acme, &node("alice")))
        .unwrap()
        .unwrap();
    let carol = block_on(store.node(&acme, &node("carol")))
        .unwrap()
        .unwrap();
    assert_eq!((alice.links, carol.links), (1, 1));
    assert_eq!(alice.counts.followers, 1, "only bob follows alice now");
    assert_eq!(carol.counts.following, 1, "carol follows only bob now");
    let links =
        block_on(store.links_between(&acme, &account("carol"), &[account("alice")])).unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].0.kind, LinkKind::Block);
    assert_eq!(links[0].1.since, at(50));
    drop(store);
    assert_eq!(pragma(&path, "user_version"), SCHEMA_VERSION);
}

#[test]
fn a_schema_newer_than_this_code_is_refused_and_left_as_it_was() {
    let dir = TempDir::new("migrate-newer");
    let path = dir.file("graph.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = DELETE; PRAGMA user_version = {};",
            SCHEMA_VERSION + 1
        ))
        .unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(
            error,
            OpenError::NewerSchema { found, supported, .. }
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
        ),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}
