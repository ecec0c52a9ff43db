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
        vec!["block", "a", "b"],
        vec!["mutes", "a"],
        vec!["unlock", "a"],
        vec!["relationship", "a", "b"],
        vec!["delivery", "a"],
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

#[test]
fn add_account_and_add_channel_take_only_their_own_kind() {
    let db = temp_db("kinds");
    stdout(followctl(&db).args(["add-account", "alice"]));
    let before = graph_state(&db);
    for (args, id) in [
        (vec!["add-channel", "12345"], "12345"),
        (
            vec!["add-channel", "120363000000000001@newsletter", "bob"],
            "bob",
        ),
        (
            vec!["add-account", "carol", "120363099999999999@newsletter"],
            "120363099999999999@newsletter",
        ),
    ] {
        let (stderr, json) = failure(followctl(&db).args(&args));
        assert_eq!(
            json["error"]["code"], "invalid_argument",
            "{args:?}: {stderr}"
        );
        assert_eq!(json["error"]["details"]["id"], id, "{args:?}: {stderr}");
        assert!(stderr.contains(id), "{args:?}: {stderr}");
    }
    // Nothing of a call with a bad id was registered.
    assert!(
        graph_state(&db) == before,
        "a refused call registered nodes"
    );
    followctl(&db).args(["counts", "carol"]).assert().code(1);
    stdout(followctl(&db).args(["add-channel", "120363000000000001@newsletter"]));
    cleanup(&db);
}

#[test]
fn remove_follower_takes_named_flags_only() {
    let db = temp_db("remove-follower");
    stdout(followctl(&db).args(["add-account", "alice", "erin"]));
    stdout(followctl(&db).args(["follow", "alice", "erin"]));
    stdout(followctl(&db).args(["follow", "erin", "alice"]));
    // The old positional form is a usage error, not a guess.
    followctl(&db)
        .args(["remove-follower", "erin", "alice"])
        .assert()
        .code(2);
    // alice drops erin: erin's follow of alice ends, alice's of erin stays.
    stdout(followctl(&db).args(["remove-follower", "--follower", "erin", "--actor", "alice"]));
    let out = stdout(followctl(&db).args(["relation", "alice", "erin"]));
    assert_eq!(out.trim(), "relation alice erin: following");
    let help = stdout(followctl(&db).args(["help", "remove-follower"]));
    assert!(help.contains("ACTOR drops FOLLOWER"), "{help}");
    cleanup(&db);
}

#[test]
fn write_commands_refuse_a_missing_database() {
    let db = temp_db("missing-write");
    for args in [
        vec!["follow", "alice", "bob"],
        vec!["unfollow", "alice", "bob"],
        vec!["mute", "alice", "bob"],
        vec!["remove", "alice"],
        vec!["remove-follower", "--actor", "a", "--follower", "b"],
        vec!["touch", "alice"],
        vec!["verify", "--repair"],
    ] {
        let (stderr, json) = failure(followctl(&db).args(&args));
        assert_eq!(
            json["error"]["code"], "database_missing",
            "{args:?}: {stderr}"
        );
        assert!(!db.exists(), "{args:?} created the database");
    }
    // The commands that can succeed on an empty database create it.
    stdout(followctl(&db).args(["add-account", "alice"]));
    assert!(db.exists());
    cleanup(&db);
}

#[test]
fn errors_name_the_id_they_are_about() {
    let db = temp_db("named");
    stdout(followctl(&db).args(["add-account", "alice"]));
    let (stderr, json) = failure(followctl(&db).args(["relation", "alice", "ghost"]));
    assert_eq!(json["error"]["code"], "not_found");
    assert!(stderr.contains("ghost"), "{stderr}");
    let (stderr, _) = failure(followctl(&db).args(["counts", "nobody-here"]));
    assert!(stderr.contains("nobody-here"), "{stderr}");
    cleanup(&db);
}

#[test]
fn importing_a_directory_is_a_file_error() {
    let db = temp_db("dir");
    let dir = std::env::temp_dir();
    let (stderr, json) = failure(followctl(&db).arg("import").arg(&dir));
    assert_eq!(json["error"]["code"], "file_error", "{stderr}");
    cleanup(&db);
}

#[test]
fn times_take_any_offset_and_far_futures_are_refused() {
    let db = temp_db("times");
    stdout(followctl(&db).args(["add-account", "alice", "bob"]));
    stdout(followctl(&db).args(["follow", "alice", "bob"]));
    stdout(followctl(&db).args(["touch", "bob", "--at", "2024-01-01T02:00:00+02:00"]));
    stdout(followctl(&db).args(["touch", "bob", "--at", "2024-01-01t00:00:00z"]));
    let out = stdout(followctl(&db).args([
        "--json",
        "stale",
        "alice",
        "--since",
        "2024-01-01T00:00:01Z",
    ]));
    let page: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        page["items"][0]["active_at"], "2024-01-01T00:00:00.000000Z",
        "{out}"
    );
    let (stderr, _) =
        failure(followctl(&db).args(["touch", "bob", "--at", "2024-01-01 00:00:00Z"]));
    assert!(stderr.contains("2024-01-01 00:00:00Z"), "{stderr}");
    assert!(stderr.contains("2026-11-23T10:00:00Z"), "{stderr}");
    let (stderr, json) =
        failure(followctl(&db).args(["touch", "bob", "--at", "9999-01-01T00:00:00Z"]));
    assert_eq!(json["error"]["code"], "invalid_argument", "{stderr}");
    assert!(stderr.contains("future"), "{stderr}");
    cleanup(&db);
}
