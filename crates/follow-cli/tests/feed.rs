//! `followctl events` consumer commands and the history commands, on the
//! real binary.
#![allow(clippy::unwrap_used)]

mod common;

use common::{cleanup, failure, followctl, stdout, temp_db};

#[test]
fn consumers_show_their_lag_acknowledge_and_prune() {
    let db = temp_db("consumers");
    stdout(followctl(&db).args(["add-account", "alice", "bob", "carol"]));
    stdout(followctl(&db).args(["follow", "alice", "bob", "carol"]));
    stdout(followctl(&db).args(["unfollow", "alice", "bob"]));
    let out = stdout(followctl(&db).args(["events", "consumers"]));
    assert_eq!(out.trim(), "(no consumers)");
    let out = stdout(followctl(&db).args(["events", "register", "mailer"]));
    assert_eq!(out.trim(), "consumer mailer: at position 0");
    stdout(followctl(&db).args(["events", "register", "audit", "--from", "latest"]));

    let out = stdout(followctl(&db).args(["events", "consumers"]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("CONSUMER"), "{out}");
    assert!(
        lines[1].starts_with("audit") && lines[1].ends_with("caught up"),
        "{out}"
    );
    assert!(lines[2].starts_with("mailer"), "{out}");
    assert!(lines[2].contains("3 events, oldest "), "{out}");

    let out = stdout(followctl(&db).args(["events", "ack", "mailer", "2"]));
    assert_eq!(out.trim(), "consumer mailer: acknowledged up to 2");
    // Never backwards.
    let out = stdout(followctl(&db).args(["events", "ack", "mailer", "1"]));
    assert_eq!(out.trim(), "consumer mailer: acknowledged up to 2");
    let out = stdout(followctl(&db).args(["--json", "events", "consumers"]));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mailer = &value["consumers"][1];
    assert_eq!(mailer["name"], "mailer");
    assert_eq!(
        (mailer["position"].clone(), mailer["unread"].clone()),
        (2.into(), 1.into())
    );
    assert!(
        mailer["lag"]
            .as_str()
            .unwrap()
            .starts_with("1 event, oldest ")
    );

    let (_, error) = failure(followctl(&db).args(["events", "ack", "mailer", "99"]));
    assert_eq!(error["error"]["code"], "invalid_argument");
    let (_, error) = failure(followctl(&db).args(["events", "ack", "nobody", "1"]));
    assert_eq!(error["error"]["code"], "not_found");
    let (_, error) = failure(followctl(&db).args(["events", "prune", "--keep", "soon"]));
    assert_eq!(error["error"]["details"]["field"], "keep");

    // Only what every consumer acknowledged goes: events 1 and 2.
    let out = stdout(followctl(&db).args(["events", "prune", "--keep", "0s", "--step", "1"]));
    assert_eq!(out.trim(), "prune: removed 2 events in 3 transactions");
    let out = stdout(followctl(&db).args(["--json", "events"]));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value.as_array().unwrap().len(), 1);
    assert_eq!(value[0]["position"], 3);
    // A reader resuming inside the removed range is told what it lost.
    let (_, error) = failure(followctl(&db).args(["events", "--after", "1"]));
    assert_eq!(error["error"]["code"], "fell_behind");
    assert_eq!(error["error"]["details"]["lost_through"], 2);
    cleanup(&db);
}

#[test]
fn history_commands_page_through_the_retained_feed() {
    let db = temp_db("history");
    stdout(followctl(&db).args(["add-account", "alice", "bob", "carol"]));
    stdout(followctl(&db).args(["follow", "bob", "alice"]));
    stdout(followctl(&db).args(["follow", "carol", "alice"]));
    stdout(followctl(&db).args(["unfollow", "bob", "alice"]));
    stdout(followctl(&db).args(["remove-follower", "--actor", "alice", "--follower", "carol"]));
    let since = "2000-01-01T00:00:00Z";
    let out =
        stdout(followctl(&db).args(["lost-followers", "alice", "--since", since, "--limit", "1"]));
    assert!(out.contains("unfollowed  bob"), "{out}");
    let cursor = out
        .lines()
        .find_map(|line| line.strip_prefix("next cursor: "))
        .unwrap()
        .to_owned();
    let out = stdout(followctl(&db).args([
        "lost-followers",
        "alice",
        "--since",
        since,
        "--cursor",
        &cursor,
    ]));
    assert!(out.contains("follower_removed  carol"), "{out}");
    assert!(!out.contains("next cursor"), "{out}");
    let out = stdout(followctl(&db).args(["--json", "follow-changes", "bob", "--since", since]));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = value["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["followed", "unfollowed"]);
    cleanup(&db);
}
