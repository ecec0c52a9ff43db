//! Persistence, lists and verify/repair of the SQLite store.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use follow_core::{FollowStore, ListKind, ListPosition, ListQuery};
use follow_store_sqlite::SqliteStore;
use futures::executor::block_on;

#[test]
fn persists_across_reopen() {
    let dir = TempDir::new("persist");
    let path = dir.file("graph.db");
    let (counts, events) = {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.to_string(), format!("sqlite:{}", path.display()));
        let results = block_on(store.write(batch(
            0,
            vec![
                register("alice"),
                register("bob"),
                follow("alice", "bob"),
                follow("bob", "alice"),
            ],
        )))
        .unwrap();
        assert!(results.iter().all(Result::is_ok));
        let counts = block_on(store.node(&tenant(), &node("alice")))
            .unwrap()
            .unwrap()
            .counts;
        let events = block_on(store.events_after(&tenant(), None, 100)).unwrap();
        (counts, events)
    };
    assert_eq!(counts.mutual, 1);
    assert_eq!(events.len(), 2);
    let store = SqliteStore::open(&path).unwrap();
    let again = block_on(store.node(&tenant(), &node("alice")))
        .unwrap()
        .unwrap()
        .counts;
    assert_eq!(again, counts);
    assert_eq!(
        block_on(store.events_after(&tenant(), None, 100)).unwrap(),
        events
    );
    assert!(block_on(store.verify()).unwrap().is_ok());
}

#[test]
fn lists_page_in_display_order() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut commands = vec![register("star")];
    for i in 0..10 {
        commands.push(register(&format!("fan{i}")));
    }
    block_on(store.write(batch(0, commands))).unwrap();
    // Two followers per second, so ties are broken by id.
    for i in 0..10 {
        block_on(store.write(batch(i / 2, vec![follow(&format!("fan{i}"), "star")]))).unwrap();
    }
    let mut seen = Vec::new();
    let mut after: Option<ListPosition> = None;
    loop {
        let page = block_on(store.list(ListQuery {
            tenant: tenant(),
            list: ListKind::Followers,
            subject: node("star"),
            after: after.clone(),
            limit: 3,
        }))
        .unwrap()
        .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|e| e.position());
        seen.extend(page.into_iter().map(|e| e.position()));
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 10);
    assert_eq!(seen[0].node.as_str(), "fan8");
    assert_eq!(seen[1].node.as_str(), "fan9");
}

#[test]
fn verify_and_repair_fix_counts() {
    let dir = TempDir::new("repair");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        block_on(store.write(batch(
            0,
            vec![register("alice"), register("bob"), follow("alice", "bob")],
        )))
        .unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE nodes SET followers = 7 WHERE id = 'bob'", [])
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let report = block_on(store.verify()).unwrap();
    assert!(!report.is_ok());
    assert_eq!(report.count_mismatches.len(), 1);
    assert!(report.integrity_errors.is_empty());
    assert!(report.dangling_edges.is_empty() && report.wrong_mutual_marks.is_empty());
    let other = follow_core::TenantId::new("other").unwrap();
    assert!(block_on(store.verify_tenant(&other)).unwrap().is_ok());
    assert!(
        block_on(store.repair_tenant(&other))
            .unwrap()
            .counts_fixed
            .is_empty()
    );
    let one = block_on(store.verify_tenant(&tenant())).unwrap();
    assert_eq!(one.count_mismatches, report.count_mismatches);
    let repaired = block_on(store.repair_tenant(&tenant())).unwrap();
    assert_eq!(repaired.counts_fixed.len(), 1);
    assert!(block_on(store.verify()).unwrap().is_ok());
    let bob = block_on(store.node(&tenant(), &node("bob")))
        .unwrap()
        .unwrap();
    assert_eq!(bob.counts.followers, 1);
}

#[test]
fn verify_and_repair_fix_mutual_marks() {
    let dir = TempDir::new("marks");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        block_on(store.write(batch(
            0,
            vec![register("alice"), register("bob"), register("carol")],
        )))
        .unwrap();
        block_on(store.write(batch(1, vec![follow("alice", "bob")]))).unwrap();
        block_on(store.write(batch(2, vec![follow("bob", "alice")]))).unwrap();
        block_on(store.write(batch(3, vec![follow("carol", "alice")]))).unwrap();
    }
    let mark = |conn: &rusqlite::Connection, follower: &str, target: &str| -> Option<i64> {
        conn.query_row(
            "SELECT mutual_since FROM edges WHERE follower = ?1 AND target = ?2",
            [follower, target],
            |r| r.get(0),
        )
        .unwrap()
    };
    let right = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let right = mark(&conn, "alice", "bob");
        assert!(right.is_some() && right == mark(&conn, "bob", "alice"));
        conn.execute_batch(
            "UPDATE edges SET mutual_since = NULL WHERE follower = 'alice' AND target = 'bob';
             UPDATE edges SET mutual_since = 5 WHERE follower = 'carol' AND target = 'alice';",
        )
        .unwrap();
        right
    };
    let store = SqliteStore::open(&path).unwrap();
    let report = block_on(store.verify()).unwrap();
    assert!(!report.is_ok());
    let mut wrong: Vec<_> = report
        .wrong_mutual_marks
        .iter()
        .map(|(_, f, t)| format!("{f}->{t}"))
        .collect();
    wrong.sort();
    assert_eq!(wrong, ["alice->bob", "carol->alice"]);
    let repaired = block_on(store.repair()).unwrap();
    assert_eq!(repaired.mutual_marks_fixed.len(), 2);
    assert!(repaired.counts_fixed.is_empty());
    assert!(block_on(store.verify()).unwrap().is_ok());
    let facts = |subject: &str, other: &str| {
        block_on(store.pairs(&tenant(), &node(subject), &[node(other)]))
            .unwrap()
            .unwrap()[0]
    };
    assert!(facts("alice", "bob").incoming);
    assert!(!facts("carol", "alice").incoming);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(mark(&conn, "alice", "bob"), right);
    assert_eq!(mark(&conn, "carol", "alice"), None);
}

#[test]
fn closing_checkpoints_the_wal_into_the_main_file() {
    for round in 0..5 {
        let dir = TempDir::new("checkpoint");
        let path = dir.file("graph.db");
        {
            let store = SqliteStore::open(&path).unwrap();
            let commands = (0..300).map(|i| register(&format!("n-{i:04}"))).collect();
            block_on(store.write(batch(0, commands))).unwrap();
            // Reader threads and the inline pool have served something, so
            // their connections are live: `node` reads inline, `events_after`
            // on a reader thread.
            for i in 0..8 {
                block_on(store.node(&tenant(), &node(&format!("n-{i:04}")))).unwrap();
                block_on(store.events_after(&tenant(), None, 10)).unwrap();
            }
        }
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        assert!(
            !std::path::Path::new(&wal).exists(),
            "round {round}: the WAL outlived the store"
        );
        assert!(std::fs::metadata(&path).unwrap().len() > 8192);
    }
}

#[test]
fn verify_finds_dangling_edges() {
    let dir = TempDir::new("dangling");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        block_on(store.write(batch(
            0,
            vec![register("alice"), register("bob"), follow("alice", "bob")],
        )))
        .unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "UPDATE nodes SET following = 0 WHERE id = 'alice';
             UPDATE nodes SET followers = 0 WHERE id = 'bob';
             DELETE FROM nodes WHERE id = 'bob';",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let report = block_on(store.verify()).unwrap();
    assert!(!report.is_ok());
    assert_eq!(
        report.dangling_edges,
        [("acme".to_owned(), "alice".to_owned(), "bob".to_owned())]
    );
    assert!(report.integrity_errors.is_empty() && report.wrong_mutual_marks.is_empty());
}

/// An index that disagrees with its table (its definition changed under
/// it) is an integrity error, reported line by line.
#[test]
fn verify_reports_integrity_errors() {
    let dir = TempDir::new("integrity");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        block_on(store.write(batch(
            0,
            vec![register("alice"), register("bob"), follow("alice", "bob")],
        )))
        .unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA writable_schema = ON;
             UPDATE sqlite_master
                SET sql = replace(sql, 'IS NOT NULL', 'IS NULL')
              WHERE name = 'edges_mutuals';",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let report = block_on(store.verify()).unwrap();
    assert!(!report.is_ok());
    assert!(!report.integrity_errors.is_empty());
    assert!(
        report
            .integrity_errors
            .iter()
            .all(|line| line != "ok" && !line.is_empty())
    );
    assert!(report.count_mismatches.is_empty() && report.dangling_edges.is_empty());
}

#[test]
fn a_store_names_where_it_lives() {
    let store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(store.to_string(), "sqlite::memory:");
    assert_eq!(store.path(), None);
    assert!(format!("{store:?}").starts_with("SqliteStore"), "{store:?}");
    let dir = TempDir::new("names");
    let path = dir.file("graph.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    let debug = format!("{store:?}");
    assert!(
        debug.contains("graph.db") && debug.contains("threads"),
        "{debug}"
    );
}

/// A stored edge that stays is updated in place; an edge the same batch
/// deleted first, or a new one, is inserted. All three in one batch, with
/// the mutual marks the reverse edges need.
#[test]
fn stored_edges_update_in_place_and_new_or_recreated_ones_insert() {
    let store = SqliteStore::open_in_memory().unwrap();
    let setup = vec![
        register("alice"),
        register("bob"),
        register("carol"),
        follow("alice", "bob"),
        follow("bob", "alice"),
        follow("alice", "carol"),
    ];
    block_on(store.write(batch(0, setup))).unwrap();
    let results = block_on(store.write(batch(
        5,
        vec![
            mute("alice", "bob", true),
            unfollow("alice", "carol"),
            follow("alice", "carol"),
            follow("carol", "alice"),
        ],
    )))
    .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let pairs = block_on(store.pairs(&tenant(), &node("alice"), &[node("bob"), node("carol")]))
        .unwrap()
        .unwrap();
    let to_bob = pairs[0].outgoing.unwrap();
    assert!(to_bob.muted);
    assert_eq!(to_bob.since, at(0));
    let to_carol = pairs[1].outgoing.unwrap();
    assert_eq!(to_carol.since, at(5));
    assert!(to_carol.mutual_since.is_some());
    assert!(pairs[1].incoming);
    let alice = block_on(store.node(&tenant(), &node("alice")))
        .unwrap()
        .unwrap();
    assert_eq!((alice.counts.following, alice.counts.mutual), (2, 2));
    assert!(block_on(store.verify()).unwrap().is_ok());
}
