//! The cursor secret lives in the file: cursors outlive a restart, differ
//! between databases, and a database of the previous schema gains one on
//! open with its data kept.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use follow_core::{Capabilities, FollowGraph, FollowStore, PageRequest, Principal};
use follow_store_sqlite::{SCHEMA_VERSION, SqliteStore};
use futures::executor::block_on;

fn admin() -> Principal {
    Principal::new(tenant(), Capabilities::ALL)
}

#[test]
fn a_cursor_outlives_a_restart_of_the_same_database_only() {
    let dir = TempDir::new("secret-restart");
    let path = dir.file("graph.db");
    let (secret, cursor) = {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        block_on(store.write(batch(
            0,
            vec![
                register("alice"),
                register("bob"),
                register("carol"),
                follow("alice", "bob"),
                follow("alice", "carol"),
            ],
        )))
        .unwrap();
        let graph = FollowGraph::new(store.clone());
        let first = PageRequest::first().with_limit(1);
        let page = block_on(graph.following(&admin(), "alice", &first)).unwrap();
        (store.cursor_secret(), page.next_cursor.unwrap())
    };
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    assert_eq!(store.cursor_secret(), secret);
    let graph = FollowGraph::new(store);
    let next = PageRequest::after(cursor.clone()).with_limit(1);
    let page = block_on(graph.following(&admin(), "alice", &next)).unwrap();
    assert_eq!(page.items.len(), 1);

    // Another database with the same graph has its own secret, and refuses
    // the cursor.
    let other = Arc::new(SqliteStore::open(dir.file("other.db")).unwrap());
    assert_ne!(other.cursor_secret(), secret);
    block_on(other.write(batch(
        0,
        vec![register("alice"), register("bob"), follow("alice", "bob")],
    )))
    .unwrap();
    let error = block_on(FollowGraph::new(other).following(&admin(), "alice", &next)).unwrap_err();
    assert_eq!(error.code(), "invalid_argument");
}

#[test]
fn a_database_of_the_previous_schema_gains_a_secret_and_keeps_its_data() {
    let dir = TempDir::new("secret-migrate");
    let path = dir.file("graph.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let store = SqliteStore::open(&path).unwrap();
        block_on(store.write(batch(
            0,
            vec![register("alice"), register("bob"), follow("alice", "bob")],
        )))
        .unwrap();
    }
    // Back to schema 1: the same tables without the secret.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(BACK_TO_SCHEMA_3).unwrap();
        conn.execute_batch(
            "DROP TABLE cursor_secret; DROP TABLE consumers; DROP TABLE pruned;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let alice = block_on(store.node(&tenant(), &node("alice")))
        .unwrap()
        .unwrap();
    assert_eq!(alice.counts.following, 1);
    assert_ne!(store.cursor_secret(), [0; 16]);
    let secret = store.cursor_secret();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    drop(conn);
    assert_eq!(SqliteStore::open(&path).unwrap().cursor_secret(), secret);
}

#[test]
fn a_missing_secret_row_is_a_damaged_database() {
    let dir = TempDir::new("secret-missing");
    let path = dir.file("graph.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DELETE FROM cursor_secret;").unwrap();
    }
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(error, follow_store_sqlite::OpenError::Corrupt { .. }),
        "{error}"
    );
}
