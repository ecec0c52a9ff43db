//! Bad input to the real binary: a clear coded error, no panic, and the
//! database and files untouched.
#![allow(clippy::unwrap_used)]

mod common;

use common::{cleanup, failure, followctl, graph_state, stdout, temp_db, temp_file};

#[test]
fn reading_a_missing_database_neither_creates_nor_panics() {
    let db = temp_db("missing");
    for args in [
        vec!["counts", "alice"],
        vec!["followers", "alice"],
        vec!["relation", "a", "b"],
        vec!["events"],
        vec!["verify"],
        vec!["export"],
    ] {
        let (stderr, json) = failure(followctl(&db).args(&args));
        assert!(
            stderr.starts_with("error: database_missing: "),
            "{args:?}: {stderr}"
        );
        assert_eq!(json["error"]["code"], "database_missing");
        assert!(!db.exists(), "{args:?} created the database");
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let path = temp_file("notes.txt");
    let text = b"these are my notes, not a database\n".repeat(200);
    std::fs::write(&path, &text).unwrap();
    for args in [vec!["counts", "alice"], vec!["add-account", "alice"]] {
        let (stderr, json) = failure(followctl(&path).args(&args));
        assert_eq!(json["error"]["code"], "not_a_database", "{stderr}");
        assert!(stderr.starts_with("error: not_a_database: "), "{stderr}");
    }
    assert!(
        std::fs::read(&path).unwrap() == text,
        "the file was changed"
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn bad_ids_limits_cursors_and_times_are_invalid_arguments() {
    let db = temp_db("bad-input");
    stdout(followctl(&db).args(["add-account", "alice"]));
    let before = graph_state(&db);
    for args in [
        vec!["add-account", "has space"],
        vec!["follow", "alice", ""],
        vec!["followers", "alice", "--limit", "0"],
        vec!["followers", "alice", "--cursor", "not-a-cursor"],
        vec!["touch", "alice", "--at", "tomorrow"],
        vec!["--tenant", "", "counts", "alice"],
        vec![
            "import",
            "--format",
            "mastodon",
            "--as",
            "120363012345678901@newsletter",
            "-",
        ],
    ] {
        let (stderr, json) = failure(followctl(&db).args(&args).write_stdin(""));
        assert_eq!(
            json["error"]["code"], "invalid_argument",
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.starts_with("error: invalid_argument: "),
            "{args:?}: {stderr}"
        );
    }
    assert!(
        graph_state(&db) == before,
        "a refused command changed the graph"
    );
    // A usage error is clap's: exit status 2 and the usage on stderr.
    followctl(&db).args(["follow"]).assert().code(2);
    followctl(&db)
        .args(["import", "--batch-size", "0", "-"])
        .assert()
        .code(2);
    cleanup(&db);
}

#[test]
fn a_missing_import_file_is_a_file_error() {
    let db = temp_db("no-file");
    let (stderr, json) = failure(followctl(&db).args(["import", "/nonexistent/follows.csv"]));
    assert_eq!(json["error"]["code"], "file_error", "{stderr}");
    cleanup(&db);
}
