//! Opening files that are not ours: a typed error, and the file unchanged.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use follow_core::FollowStore;
use follow_store_sqlite::{OpenError, SqliteStore};
use futures::executor::block_on;

fn open_fails_untouched(path: &Path) -> OpenError {
    let before = std::fs::read(path).unwrap();
    let error = SqliteStore::open(path).unwrap_err();
    assert_eq!(std::fs::read(path).unwrap(), before, "file changed");
    error
}

#[test]
fn garbage_is_not_a_database() {
    let dir = TempDir::new("garbage");
    let path = dir.file("garbage.db");
    let bytes: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&path, bytes).unwrap();
    let error = open_fails_untouched(&path);
    assert!(matches!(error, OpenError::NotADatabase { .. }), "{error}");
    std::fs::write(&path, b"hello").unwrap();
    let error = open_fails_untouched(&path);
    assert!(matches!(error, OpenError::NotADatabase { .. }), "{error}");
}

#[test]
fn empty_file_becomes_a_new_database() {
    let dir = TempDir::new("empty");
    let path = dir.file("empty.db");
    std::fs::write(&path, b"").unwrap();
    let store = SqliteStore::open(&path).unwrap();
    block_on(store.write(batch(0, vec![register("alice")]))).unwrap();
    assert!(
        block_on(store.node(&tenant(), &node("alice")))
            .unwrap()
            .is_some()
    );
}

#[test]
fn truncated_database_is_corrupt() {
    let dir = TempDir::new("truncated");
    let path = dir.file("graph.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        let commands = (0..400)
            .map(|i| register(&format!("node-{i:04}")))
            .collect();
        block_on(store.write(batch(0, commands))).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192);
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let error = open_fails_untouched(&path);
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error}");
}

#[test]
fn newer_schema_is_refused() {
    let dir = TempDir::new("newer");
    let path = dir.file("graph.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA user_version = 99;")
            .unwrap();
    }
    let error = open_fails_untouched(&path);
    assert!(
        matches!(error, OpenError::NewerSchema { found: 99, .. }),
        "{error}"
    );
}

#[test]
fn foreign_database_is_refused() {
    let dir = TempDir::new("foreign");
    let path = dir.file("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
            .unwrap();
    }
    let error = open_fails_untouched(&path);
    assert!(
        matches!(
            error,
            OpenError::ForeignDatabase {
                application_id: 0,
                ..
            }
        ),
        "{error}"
    );
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA application_id = 1234;").unwrap();
    }
    let error = open_fails_untouched(&path);
    assert!(
        matches!(
            error,
            OpenError::ForeignDatabase {
                application_id: 1234,
                ..
            }
        ),
        "{error}"
    );
}

/// The names in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_refused_wal_file_leaves_the_directory_as_it_was() {
    let dir = TempDir::new("wal-refused");
    // Ours, in WAL mode, with a newer schema.
    let newer = dir.file("newer.db");
    drop(SqliteStore::open(&newer).unwrap());
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    }
    // Another application's, in WAL mode.
    let foreign = dir.file("foreign.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT);
             INSERT INTO notes VALUES ('hi');",
        )
        .unwrap();
    }
    let before = listing(&dir.0);
    assert_eq!(before, ["foreign.db", "newer.db"]);
    for path in [&newer, &foreign] {
        let error = open_fails_untouched(path);
        assert!(
            matches!(
                error,
                OpenError::NewerSchema { .. } | OpenError::ForeignDatabase { .. }
            ),
            "{error}"
        );
        assert_eq!(listing(&dir.0), before, "{error}");
    }
}

#[test]
fn a_negative_schema_version_is_refused_at_open() {
    let dir = TempDir::new("negative");
    let path = dir.file("graph.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA application_id = {}; PRAGMA user_version = -3;",
            follow_store_sqlite::APPLICATION_ID
        ))
        .unwrap();
    }
    let error = open_fails_untouched(&path);
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("-3"), "{error}");
}

#[test]
fn a_schema_version_without_its_tables_is_refused_at_open() {
    let dir = TempDir::new("no-tables");
    let path = dir.file("graph.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA application_id = {}; PRAGMA user_version = 1;",
            follow_store_sqlite::APPLICATION_ID
        ))
        .unwrap();
    }
    let error = open_fails_untouched(&path);
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error}");
}

#[test]
fn a_sqlite_header_over_garbage_is_not_a_database() {
    let dir = TempDir::new("header");
    let path = dir.file("graph.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.resize(8192, 0);
    std::fs::write(&path, bytes).unwrap();
    let error = open_fails_untouched(&path);
    assert!(matches!(error, OpenError::NotADatabase { .. }), "{error}");
}

#[test]
fn a_damaged_schema_page_is_corrupt() {
    let dir = TempDir::new("damaged");
    let path = dir.file("graph.db");
    drop(SqliteStore::open(&path).unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    // Page 1 after the file header holds the schema's b-tree.
    for byte in &mut bytes[100..1024] {
        *byte = 0xA5;
    }
    std::fs::write(&path, bytes).unwrap();
    let error = open_fails_untouched(&path);
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error}");
}

#[test]
fn another_applications_id_is_refused_without_tables() {
    let dir = TempDir::new("foreign-id");
    let path = dir.file("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA application_id = 1234;").unwrap();
    }
    let error = open_fails_untouched(&path);
    assert!(
        matches!(
            error,
            OpenError::ForeignDatabase {
                application_id: 1234,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn an_unreadable_path_is_an_io_error() {
    let dir = TempDir::new("not-a-dir");
    let file = dir.file("plain");
    std::fs::write(&file, b"x").unwrap();
    let error = SqliteStore::open(file.join("graph.db")).unwrap_err();
    assert!(matches!(error, OpenError::Io { .. }), "{error}");
}
