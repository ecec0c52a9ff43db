//! `followctl --db postgres://...`: every command on a PostgreSQL graph
//! (the tests' own throwaway server, or `FOLLOW_TEST_POSTGRES_URL`), each
//! test in a schema of its own.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::{failure, followctl, stdout, temp_file};
use follow_store_postgres::testing::{TestServer, fresh_schema_name};

/// A fresh graph's URL: the server, in a new schema.
fn fresh_url() -> PathBuf {
    let server = TestServer::shared().unwrap_or_else(|e| panic!("{e}"));
    PathBuf::from(format!("{}?schema={}", server.url(), fresh_schema_name()))
}

#[test]
fn every_command_works_on_postgres() {
    let db = fresh_url();
    let (_, error) = failure(followctl(&db).args(["counts", "alice"]));
    assert_eq!(
        error["error"]["code"], "database_missing",
        "reads never create"
    );

    stdout(followctl(&db).args(["add-account", "alice", "bob", "carol"]));
    let channel = "120363012345678901@newsletter";
    stdout(followctl(&db).args(["add-channel", channel]));
    let out = stdout(followctl(&db).args(["follow", "alice", "bob", "carol", channel]));
    assert!(out.contains("follow alice -> bob: changed"), "{out}");
    let ghost = followctl(&db)
        .args(["follow", "alice", "ghost"])
        .assert()
        .failure();
    let output = ghost.get_output();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("ghost") && out.contains("not_found"), "{out}");
    stdout(followctl(&db).args(["follow", "bob", "alice"]));
    let out = stdout(followctl(&db).args(["mute", "alice", channel]));
    assert_eq!(out.trim(), format!("mute alice -> {channel}: changed"));
    let out = stdout(followctl(&db).args(["following", "alice", "--limit", "2"]));
    assert!(out.contains("next cursor: "), "{out}");
    let out = stdout(followctl(&db).args(["followers", "bob"]));
    assert!(out.lines().any(|r| r.starts_with("alice ")), "{out}");
    let out = stdout(followctl(&db).args(["mutuals", "alice"]));
    assert!(out.lines().any(|r| r.starts_with("bob ")), "{out}");
    let out = stdout(followctl(&db).args(["--json", "counts", "alice"]));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["counts"]["following"], 3);
    assert_eq!(value["counts"]["mutual"], 1);
    let out = stdout(followctl(&db).args(["--json", "relation", "alice", "bob"]));
    assert!(out.contains("mutual"), "{out}");
    let out = stdout(followctl(&db).args(["touch", "bob", "--at", "2020-01-01T00:00:00Z"]));
    assert!(out.starts_with("touch bob: "), "{out}");
    let out = stdout(followctl(&db).args(["stale", "alice", "--since", "2999-01-01T00:00:00Z"]));
    assert!(out.lines().any(|r| r.starts_with("bob ")), "{out}");
    let out = stdout(followctl(&db).args(["events", "--limit", "3"]));
    let positions: Vec<u64> = out
        .lines()
        .skip(1)
        .filter_map(|r| r.split_whitespace().next()?.parse().ok())
        .take(3)
        .collect();
    assert_eq!(positions.len(), 3, "{out}");
    assert!(
        positions[0] >= 1 && positions.windows(2).all(|w| w[0] < w[1]),
        "{out}"
    );

    let file = temp_file("pg-export.csv");
    stdout(followctl(&db).args(["export", "--output"]).arg(&file));
    let copy = fresh_url();
    let out = stdout(followctl(&copy).args(["import", "--dry-run"]).arg(&file));
    assert!(out.starts_with("dry run, nothing written"), "{out}");
    let (_, error) = failure(followctl(&copy).args(["counts", "alice"]));
    assert_eq!(
        error["error"]["code"], "database_missing",
        "a dry run created nothing"
    );
    let out = stdout(followctl(&copy).arg("import").arg(&file));
    assert!(out.contains("4 edges created"), "{out}");
    let out = stdout(followctl(&copy).args(["--json", "counts", "alice"]));
    assert_eq!(
        out,
        stdout(followctl(&db).args(["--json", "counts", "alice"]))
    );
    let _ = std::fs::remove_file(&file);

    let out =
        stdout(followctl(&db).args(["remove-follower", "--actor", "alice", "--follower", "bob"]));
    assert!(out.trim().ends_with("changed"), "{out}");
    let out = stdout(followctl(&db).args(["unfollow", "alice", "carol"]));
    assert!(out.trim().ends_with("changed"), "{out}");
    let out = stdout(followctl(&db).args(["remove", "carol"]));
    assert_eq!(out.trim(), "remove carol: changed");
    let out = stdout(followctl(&db).args(["verify", "--repair"]));
    assert!(out.contains("repair: 0 counts fixed"), "{out}");
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));

    let demo = fresh_url();
    let out = stdout(followctl(&demo).arg("demo"));
    assert!(
        out.contains("counts alice: following=1 followers=1 mutual=1"),
        "{out}"
    );
    assert!(stdout(followctl(&demo).arg("verify")).contains("verify: ok"));
}

#[test]
fn the_relationship_commands_work_on_postgres() {
    let db = fresh_url();
    stdout(followctl(&db).args(["add-account", "alice", "bob", "carol", "dave"]));
    let json = |args: &[&str]| {
        let out = stdout(followctl(&db).arg("--json").args(args));
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    stdout(followctl(&db).args(["follow", "bob", "alice"]));
    let out = stdout(followctl(&db).args(["block", "alice", "bob"]));
    assert_eq!(out.trim(), "block alice -> bob: changed");
    assert_eq!(json(&["blocks", "alice"])["items"][0]["account"], "bob");
    let out = stdout(followctl(&db).args(["mute-account", "alice", "carol", "--for", "12h"]));
    assert!(out.trim().ends_with("changed"), "{out}");
    let mutes = json(&["mutes", "alice"]);
    assert!(
        mutes["items"][0]["link"]["expires_at"].is_string(),
        "{mutes}"
    );
    stdout(followctl(&db).args(["lock", "dave"]));
    let out = stdout(followctl(&db).args(["follow", "carol", "dave", "--notify", "true"]));
    assert_eq!(out.trim(), "follow carol -> dave: requested");
    stdout(followctl(&db).args(["follow", "alice", "dave"]));
    assert_eq!(
        json(&["requests", "carol", "--outgoing"])["items"][0]["account"],
        "dave"
    );
    let out = stdout(followctl(&db).args(["authorize", "dave", "carol"]));
    assert!(out.trim().ends_with("changed"), "{out}");
    let out = stdout(followctl(&db).args(["unlock", "dave"]));
    assert!(out.contains("pending requests authorised: 1"), "{out}");
    let rel = json(&["relationship", "carol", "dave", "alice"]);
    assert_eq!(rel[0]["result"]["following"], true, "{rel}");
    assert_eq!(rel[0]["result"]["notifying"], true, "{rel}");
    assert_eq!(rel[1]["result"]["muting"], false, "{rel}");
    let page = json(&["followers", "dave", "--viewer", "bob", "--relationships"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["node"], "carol", "{page}");
    stdout(followctl(&db).args(["mute-account", "carol", "dave"]));
    let page = json(&["delivery", "dave"]);
    let carol = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["follower"] == "carol")
        .unwrap();
    assert_eq!(carol["delivery"], "withheld", "{page}");
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
}

#[test]
fn an_unreachable_server_is_unavailable() {
    let db = PathBuf::from("postgres://nobody@127.0.0.1:1/none");
    let (stderr, error) = failure(followctl(&db).args(["counts", "alice"]));
    assert_eq!(error["error"]["code"], "unavailable", "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
