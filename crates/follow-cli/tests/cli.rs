//! Drives the real `followctl` binary through everyday commands.
#![allow(clippy::unwrap_used)]

mod common;

use common::{cleanup, followctl, stdout, temp_db};

#[test]
fn demo_walks_through_the_scenarios() {
    let db = temp_db("demo");
    let out = stdout(followctl(&db).arg("demo"));
    assert!(out.contains("follow alice -> 120363012345678901@newsletter: changed"));
    assert!(out.contains("follow alice -> 120363012345678901@newsletter: unchanged"));
    assert!(out.contains("unfollow alice -> nobody: error not_found"));
    assert!(out.contains("next cursor: "));
    assert!(out.contains("counts alice: following=1 followers=1 mutual=1"));
    // The words of the JSON output, not Rust's names.
    assert!(out.contains("event #1 followed "), "{out}");
    assert!(out.contains("relation alice bob: mutual"), "{out}");
    // A heading per scenario says which API it plays.
    for heading in [
        "== WhatsApp channels API, follow a channel",
        "== Tencent IM follow_add",
        "== Tencent IM follow_check",
        "== Tencent IM follow_delete",
        "== Tencent IM follow_get:",
        "== Tencent IM follow_get_info",
    ] {
        assert!(out.contains(heading), "no {heading:?} in {out}");
    }
    let verify = stdout(followctl(&db).arg("verify"));
    assert!(verify.contains("verify: ok"));
    cleanup(&db);
}

#[test]
fn add_follow_counts_and_errors() {
    let db = temp_db("basic");
    stdout(followctl(&db).args(["add-account", "alice", "bob", "carol"]));
    let out = stdout(followctl(&db).args(["follow", "alice", "bob"]));
    assert_eq!(out.trim(), "follow alice -> bob: changed");
    // One bad target: the others are followed, and the exit status says
    // it was not a full success.
    let output = followctl(&db)
        .args(["follow", "alice", "bob", "carol", "ghost"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.contains("follow alice -> bob: unchanged"));
    assert!(out.contains("follow alice -> carol: changed"));
    assert!(out.contains("follow alice -> ghost: error not_found"));
    // A batch where every target is fine exits 0.
    stdout(followctl(&db).args(["unfollow", "alice", "carol", "bob"]));
    stdout(followctl(&db).args(["follow", "alice", "bob", "carol"]));

    let out = stdout(followctl(&db).args(["--json", "counts", "alice"]));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["counts"]["following"], 2);
    assert_eq!(value["counts"]["followers"], 0);

    let assert = followctl(&db)
        .args(["--json", "counts", "ghost"])
        .assert()
        .code(1);
    let output = assert.get_output();
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["error"]["code"], "not_found");
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(stderr.starts_with("error: not_found: "));
    cleanup(&db);
}

#[test]
fn remove_mutuals_events_touch_stale_repair() {
    let db = temp_db("more");
    stdout(followctl(&db).args(["add-account", "alice", "bob", "carol"]));
    stdout(followctl(&db).args(["follow", "alice", "bob", "carol"]));
    stdout(followctl(&db).args(["follow", "bob", "alice"]));
    stdout(followctl(&db).args(["follow", "carol", "alice"]));
    let out = stdout(followctl(&db).args(["mutuals", "alice"]));
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        ["NODE", "SINCE", "MUTED"]
    );
    assert!(rows[1..].iter().any(|r| r.starts_with("bob ")), "{out}");
    assert!(rows[1..].iter().any(|r| r.starts_with("carol ")), "{out}");
    let out =
        stdout(followctl(&db).args(["remove-follower", "--actor", "alice", "--follower", "carol"]));
    assert_eq!(
        out.trim(),
        "remove-follower: alice dropped follower carol (carol -> alice): changed"
    );
    let out = stdout(followctl(&db).args(["events", "--after", "1", "--limit", "2"]));
    let positions: Vec<&str> = out
        .lines()
        .skip(1)
        .take(2)
        .filter_map(|r| r.split_whitespace().next())
        .collect();
    assert_eq!(positions, ["2", "3"], "{out}");
    assert!(out.contains("followed"), "{out}");
    let out = stdout(followctl(&db).args(["touch", "bob", "--at", "2020-01-01T00:00:00Z"]));
    assert!(out.starts_with("touch bob: "));
    let out = stdout(followctl(&db).args(["stale", "alice", "--since", "2999-01-01T00:00:00Z"]));
    assert!(out.lines().any(|r| r.starts_with("bob ")), "{out}");
    followctl(&db)
        .args(["stale", "alice", "--since", "yesterday"])
        .assert()
        .code(1);
    let out = stdout(followctl(&db).args(["remove", "carol"]));
    assert_eq!(out.trim(), "remove carol: changed");
    let out = stdout(followctl(&db).args(["verify", "--repair"]));
    assert!(out.contains("repair: 0 counts fixed"));
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
    cleanup(&db);
}

#[test]
fn import_reports_rejected_rows_and_goes_on() {
    let db = temp_db("import");
    let output = followctl(&db)
        .args(["import", "-"])
        .write_stdin(
            "follower,target,since\n\
                 alice,bob,2020-01-01T00:00:00Z\n\
                 alice,bob\n\
                 bob,alice\n\
                 a,b,c,d,e\n\
                 carol,alice,not-a-time\n\
                 carol,120363012345678901@newsletter\n",
        )
        .assert()
        .code(3)
        .get_output()
        .clone();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.contains("line 5: rejected: "), "{out}");
    assert!(out.contains("line 6: rejected: "), "{out}");
    assert!(
        out.contains(
            "import: 6 rows read; 3 edges created; 1 already present; 0 mute changes; \
             0 option changes; 0 follow requests; 2 rows rejected"
        ),
        "{out}"
    );
    let out = stdout(followctl(&db).args(["counts", "alice"]));
    assert_eq!(out.trim(), "alice: following=1 followers=1 mutual=1");
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
    cleanup(&db);
}
