//! The relationship commands through the real binary: blocks, account
//! mutes, locked accounts and their requests, follow options, the
//! relationship object, lists as a viewer sees them, delivery.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::{cleanup, failure, followctl, graph_state, stdout, temp_db};
use serde_json::{Value, json};

const NEWS: &str = "120363012345678901@newsletter";

/// Runs a command with `--json` and parses its output.
fn json_of(cmd: &mut Command) -> Value {
    let out = stdout(cmd.arg("--json"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The accounts of a JSON page of links.
fn accounts(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["account"].as_str().unwrap())
        .collect()
}

/// A database with `ids` registered as accounts.
fn graph(name: &str, ids: &[&str]) -> std::path::PathBuf {
    let db = temp_db(name);
    stdout(followctl(&db).arg("add-account").args(ids));
    db
}

/// The code of a refused command.
fn code(db: &Path, args: &[&str]) -> String {
    let (stderr, json) = failure(followctl(db).args(args));
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    json["error"]["code"].as_str().unwrap().to_owned()
}

#[test]
fn block_cuts_follows_both_ways_and_is_listed_paged() {
    let db = graph("block", &["alice", "bob", "carol"]);
    stdout(followctl(&db).args(["follow", "alice", "bob"]));
    stdout(followctl(&db).args(["follow", "bob", "alice"]));
    let out = stdout(followctl(&db).args(["block", "alice", "bob"]));
    assert_eq!(out.trim(), "block alice -> bob: changed");
    let out = stdout(followctl(&db).args(["block", "alice", "bob"]));
    assert_eq!(out.trim(), "block alice -> bob: unchanged");
    let out = stdout(followctl(&db).args(["counts", "alice"]));
    assert_eq!(out.trim(), "alice: following=0 followers=0 mutual=0");
    // Neither may follow the other while the block stands.
    assert_eq!(code(&db, &["follow", "bob", "alice"]), "forbidden");
    assert_eq!(code(&db, &["follow", "alice", "bob"]), "forbidden");

    let applied = json_of(followctl(&db).args(["block", "alice", "carol"]));
    assert_eq!(applied["outcome"], "changed", "{applied}");
    assert_eq!(applied["event"]["kind"], "blocked", "{applied}");
    let out = stdout(followctl(&db).args(["blocks", "alice", "--limit", "1"]));
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        ["ACCOUNT", "SINCE"]
    );
    assert!(rows[1].starts_with("carol "), "{out}");
    let cursor = out
        .lines()
        .find_map(|l| l.strip_prefix("next cursor: "))
        .unwrap();
    let page =
        json_of(followctl(&db).args(["blocks", "alice", "--limit", "1", "--cursor", cursor]));
    assert_eq!(accounts(&page), ["bob"]);
    assert_eq!(page["next_cursor"], Value::Null);

    let out = stdout(followctl(&db).args(["unblock", "alice", "bob"]));
    assert_eq!(out.trim(), "unblock alice -> bob: changed");
    let out = stdout(followctl(&db).args(["unblock", "alice", "bob"]));
    assert_eq!(out.trim(), "unblock alice -> bob: unchanged");
    // Unblocking restores nothing, and the follow is allowed again.
    assert_eq!(
        stdout(followctl(&db).args(["counts", "bob"])).trim(),
        "bob: following=0 followers=0 mutual=0"
    );
    stdout(followctl(&db).args(["follow", "bob", "alice"]));
    let page = json_of(followctl(&db).args(["blocks", "alice"]));
    assert_eq!(accounts(&page), ["carol"]);
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
    cleanup(&db);
}

#[test]
fn refused_relationship_commands_have_codes_and_change_nothing() {
    let db = graph("refused", &["alice", "bob"]);
    stdout(followctl(&db).args(["add-channel", NEWS]));
    let before = graph_state(&db);
    for (args, expected) in [
        (vec!["block", "alice", NEWS], "invalid_argument"),
        (vec!["block", NEWS, "alice"], "invalid_argument"),
        (vec!["block", "alice", "alice"], "invalid_argument"),
        (vec!["block", "has space", "bob"], "invalid_argument"),
        (vec!["block", "alice", "ghost"], "not_found"),
        (vec!["unblock", "ghost", "alice"], "not_found"),
        (vec!["blocks", "ghost"], "not_found"),
        (vec!["blocks", NEWS], "invalid_argument"),
        (
            vec!["blocks", "alice", "--cursor", "nope"],
            "invalid_argument",
        ),
        (
            vec!["mute-account", "alice", "bob", "--for", "0s"],
            "invalid_argument",
        ),
        (
            vec!["mute-account", "alice", "bob", "--for", "soon"],
            "invalid_argument",
        ),
        (vec!["mute-account", "alice", NEWS], "invalid_argument"),
        (vec!["mute-account", "alice", "alice"], "invalid_argument"),
        (vec!["mute-account", "alice", "ghost"], "not_found"),
        (vec!["unmute-account", "alice", "ghost"], "not_found"),
        (vec!["mutes", "ghost"], "not_found"),
        (vec!["lock", "ghost"], "not_found"),
        (vec!["lock", NEWS], "invalid_argument"),
        (vec!["unlock", "ghost"], "not_found"),
        (vec!["requests", "ghost"], "not_found"),
        (vec!["requests", "ghost", "--outgoing"], "not_found"),
        (vec!["authorize", "alice", "ghost"], "not_found"),
        (vec!["reject", "alice", "bad id"], "invalid_argument"),
        (vec!["relationship", "ghost", "alice"], "not_found"),
        (vec!["relationship", "bad id", "alice"], "invalid_argument"),
        (vec!["followers", "alice", "--viewer", "ghost"], "not_found"),
        (
            vec!["followers", "alice", "--viewer", NEWS],
            "invalid_argument",
        ),
        (vec!["delivery", "ghost"], "not_found"),
        (
            vec!["follow", "alice", "bob", "--languages", "xx"],
            "invalid_argument",
        ),
        (
            vec!["follow", "ghost", "bob", "--notify", "true"],
            "not_found",
        ),
    ] {
        assert_eq!(code(&db, &args), expected, "{args:?}");
    }
    assert!(
        graph_state(&db) == before,
        "a refused command changed the graph"
    );
    // Usage errors are clap's.
    for args in [
        vec!["mute-account", "alice", "bob", "--notifications", "maybe"],
        vec!["follow", "alice", "bob", "--reblogs", "yes please"],
        vec!["followers", "alice", "--relationships"],
        vec!["relationship", "alice"],
    ] {
        followctl(&db).args(&args).assert().code(2);
    }
    cleanup(&db);
}

#[test]
fn account_mutes_carry_notifications_and_an_expiry() {
    let db = graph("mutes", &["alice", "bob", "carol"]);
    stdout(followctl(&db).args(["follow", "alice", "bob"]));
    let out = stdout(followctl(&db).args([
        "mute-account",
        "alice",
        "bob",
        "--notifications",
        "false",
        "--for",
        "7d",
    ]));
    assert_eq!(
        out.trim(),
        "mute-account alice -> bob (notifications: no, for 7d): changed"
    );
    let out = stdout(followctl(&db).args(["mute-account", "alice", "carol"]));
    assert_eq!(
        out.trim(),
        "mute-account alice -> carol (notifications: yes, without end): changed"
    );
    let out = stdout(followctl(&db).args(["mutes", "alice"]));
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["ACCOUNT", "SINCE", "NOTIFICATIONS", "EXPIRES"]);
    assert_eq!(
        (rows[1][0], rows[1][2], rows[1][3]),
        ("carol", "yes", "never")
    );
    assert_eq!((rows[2][0], rows[2][2]), ("bob", "no"), "{out}");
    let page = json_of(followctl(&db).args(["mutes", "alice"]));
    assert_eq!(accounts(&page), ["carol", "bob"]);
    let bob = &page["items"][1]["link"];
    assert_eq!(bob["notifications"], false);
    let since = bob["since"].as_str().unwrap();
    let expires = bob["expires_at"].as_str().unwrap();
    assert_eq!(rows[2][3], expires, "the table shows the expiry");
    assert!(expires > since, "{since} {expires}");
    // Muting does not unfollow; the relationship says muting.
    let rel = json_of(followctl(&db).args(["relationship", "alice", "bob"]));
    assert_eq!(rel[0]["result"]["following"], true);
    assert_eq!(rel[0]["result"]["muting"], true);
    assert_eq!(rel[0]["result"]["muting_notifications"], false);
    assert_eq!(rel[0]["result"]["muting_expires_at"], expires);
    // Muting again with no value sets notifications back to true.
    let applied = json_of(followctl(&db).args(["mute-account", "alice", "bob"]));
    assert_eq!(applied["outcome"], "changed", "{applied}");
    let out = stdout(followctl(&db).args(["unmute-account", "alice", "bob"]));
    assert_eq!(out.trim(), "unmute-account alice -> bob: changed");
    let out = stdout(followctl(&db).args(["unmute-account", "alice", "bob"]));
    assert_eq!(out.trim(), "unmute-account alice -> bob: unchanged");
    assert_eq!(
        accounts(&json_of(followctl(&db).args(["mutes", "alice"]))),
        ["carol"]
    );
    cleanup(&db);
}

#[test]
fn locked_accounts_get_requests_that_are_authorised_or_rejected() {
    let db = graph("locked", &["alice", "bob", "carol", "dave"]);
    assert_eq!(
        stdout(followctl(&db).args(["lock", "carol"])).trim(),
        "lock carol: changed"
    );
    let out = stdout(followctl(&db).args(["follow", "alice", "carol"]));
    assert_eq!(out.trim(), "follow alice -> carol: requested");
    let out = stdout(followctl(&db).args(["follow", "bob", "carol", "--reblogs", "false"]));
    assert_eq!(out.trim(), "follow bob -> carol: requested");
    let applied = json_of(followctl(&db).args(["follow", "dave", "carol", "bob"]));
    assert_eq!(applied[0]["result"]["outcome"], "requested", "{applied}");
    assert_eq!(applied[1]["result"]["outcome"], "changed", "{applied}");

    let out = stdout(followctl(&db).args(["requests", "carol"]));
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["FOLLOWER", "SINCE", "REBLOGS", "NOTIFY", "LANGUAGES"]
    );
    let bob = rows.iter().find(|r| r[0] == "bob").unwrap();
    assert_eq!(&bob[2..], ["no", "no", "all"]);
    let pending = json_of(followctl(&db).args(["requests", "carol"]));
    let mut askers = accounts(&pending);
    askers.sort_unstable();
    assert_eq!(askers, ["alice", "bob", "dave"]);
    let outgoing = json_of(followctl(&db).args(["requests", "bob", "--outgoing"]));
    assert_eq!(accounts(&outgoing), ["carol"]);
    // Requests are not followers.
    assert_eq!(
        stdout(followctl(&db).args(["counts", "carol"])).trim(),
        "carol: following=0 followers=0 mutual=0"
    );

    let out = stdout(followctl(&db).args(["authorize", "carol", "bob"]));
    assert_eq!(
        out.trim(),
        "authorize: carol authorises bob's request (bob -> carol): changed"
    );
    let out = stdout(followctl(&db).args(["authorize", "carol", "bob"]));
    assert!(out.trim().ends_with(": unchanged"), "{out}");
    let out = stdout(followctl(&db).args(["reject", "carol", "alice"]));
    assert_eq!(
        out.trim(),
        "reject: carol rejects alice's request (alice -> carol): changed"
    );
    // The follow is made with the request's options.
    let rel = json_of(followctl(&db).args(["relationship", "bob", "carol"]));
    assert_eq!(rel[0]["result"]["following"], true);
    assert_eq!(rel[0]["result"]["showing_reblogs"], false);

    // Unlocking authorises what is still pending, and says how many.
    let out = stdout(followctl(&db).args(["unlock", "carol"]));
    assert_eq!(
        out.trim(),
        "unlock carol: changed; pending requests authorised: 1"
    );
    let unlocked = json_of(followctl(&db).args(["unlock", "carol"]));
    assert_eq!(unlocked["requests_authorized"], 0, "{unlocked}");
    assert_eq!(unlocked["result"]["outcome"], "unchanged", "{unlocked}");
    let followers = json_of(followctl(&db).args(["followers", "carol"]));
    let mut nodes: Vec<&str> = followers["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["node"].as_str().unwrap())
        .collect();
    nodes.sort_unstable();
    assert_eq!(nodes, ["bob", "dave"]);
    assert!(stdout(followctl(&db).args(["requests", "carol"])).contains("(none)"));
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
    cleanup(&db);
}

#[test]
fn follow_options_apply_to_each_target_and_show_in_the_relationship() {
    let db = graph("options", &["alice", "bob", "carol"]);
    stdout(followctl(&db).args(["add-channel", NEWS]));
    stdout(followctl(&db).args(["follow", "bob", "alice"]));
    let out = stdout(followctl(&db).args([
        "follow",
        "alice",
        "bob",
        NEWS,
        "--reblogs",
        "false",
        "--notify",
        "true",
        "--languages",
        "en,fr",
    ]));
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "follow alice -> bob: changed",
            &format!("follow alice -> {NEWS}: changed"),
        ]
    );
    let out = stdout(followctl(&db).args(["relationship", "alice", "bob", NEWS, "carol"]));
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        ["TARGET", "STATE", "REBLOGS", "NOTIFY", "LANGUAGES"]
    );
    assert!(
        rows[1].starts_with("bob ") && rows[1].contains("following followed_by"),
        "{out}"
    );
    assert!(rows[1].ends_with("no       yes     en fr"), "{out}");
    assert!(
        rows[3].starts_with("carol ") && rows[3].contains(" none "),
        "{out}"
    );
    let rel = json_of(followctl(&db).args(["relationship", "alice", "bob", NEWS]));
    for item in rel.as_array().unwrap() {
        let r = &item["result"];
        assert_eq!(r["showing_reblogs"], false, "{rel}");
        assert_eq!(r["notifying"], true, "{rel}");
        assert_eq!(r["languages"], json!(["en", "fr"]), "{rel}");
    }
    // Again: only the options named change.
    let applied = json_of(followctl(&db).args(["follow", "alice", "bob", "--notify", "false"]));
    assert_eq!(applied["outcome"], "changed", "{applied}");
    assert_eq!(
        applied["event"]["kind"], "follow_options_changed",
        "{applied}"
    );
    let out = stdout(followctl(&db).args(["follow", "alice", "bob", "--notify", "false"]));
    assert_eq!(out.trim(), "follow alice -> bob: unchanged");
    let rel = json_of(followctl(&db).args(["relationship", "alice", "bob"]));
    assert_eq!(rel[0]["result"]["notifying"], false);
    assert_eq!(rel[0]["result"]["showing_reblogs"], false);
    stdout(followctl(&db).args(["follow", "alice", "bob", "--languages", "all"]));
    let rel = json_of(followctl(&db).args(["relationship", "alice", "bob"]));
    assert_eq!(rel[0]["result"]["languages"], Value::Null);
    // One bad target of several: the others are followed, exit status 3.
    let output = followctl(&db)
        .args(["follow", "alice", "carol", "ghost", "--reblogs", "false"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.contains("follow alice -> carol: changed"), "{out}");
    assert!(
        out.contains("follow alice -> ghost: error not_found"),
        "{out}"
    );
    // So does a relationship batch with an unknown target.
    let output = followctl(&db)
        .args(["relationship", "alice", "carol", "ghost"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.contains("error not_found"), "{out}");
    cleanup(&db);
}

#[test]
fn lists_as_a_viewer_sees_them_and_delivery() {
    let db = graph("viewer", &["alice", "bob", "carol", "dave", "erin"]);
    for follower in ["alice", "carol", "dave"] {
        stdout(followctl(&db).args(["follow", follower, "bob"]));
    }
    stdout(followctl(&db).args(["follow", "erin", "dave"]));
    stdout(followctl(&db).args(["block", "carol", "erin"]));
    let out = stdout(followctl(&db).args(["followers", "bob", "--viewer", "erin"]));
    let nodes: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(nodes, ["dave", "alice"], "{out}");
    let out = stdout(followctl(&db).args([
        "followers",
        "bob",
        "--viewer",
        "erin",
        "--relationships",
        "--limit",
        "1",
    ]));
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        ["NODE", "SINCE", "MUTED", "VIEWER"]
    );
    assert!(
        rows[1].starts_with("dave ") && rows[1].ends_with(" following"),
        "{out}"
    );
    let cursor = out
        .lines()
        .find_map(|l| l.strip_prefix("next cursor: "))
        .unwrap();
    // A viewer's cursor is its own list's.
    assert_eq!(
        code(&db, &["followers", "bob", "--cursor", cursor]),
        "invalid_argument"
    );
    let page = json_of(followctl(&db).args([
        "followers",
        "bob",
        "--viewer",
        "erin",
        "--relationships",
        "--limit",
        "1",
        "--cursor",
        cursor,
    ]));
    assert_eq!(page["items"][0]["node"], "alice", "{page}");
    assert_eq!(page["items"][0]["viewer"]["following"], false, "{page}");
    assert_eq!(page["next_cursor"], Value::Null, "{page}");
    // The owner of a list blocks the viewer: the list is empty to it.
    stdout(followctl(&db).args(["block", "bob", "erin"]));
    let out = stdout(followctl(&db).args(["followers", "bob", "--viewer", "erin"]));
    assert_eq!(out.trim(), "(none)");
    let page = json_of(followctl(&db).args(["following", "dave", "--viewer", "alice"]));
    assert_eq!(page["items"][0]["node"], "bob", "{page}");
    let page = json_of(followctl(&db).args(["mutuals", "bob", "--viewer", "alice"]));
    assert_eq!(page["items"], json!([]), "{page}");

    // Delivery: a muted follow is silent, an account mute withholds.
    stdout(followctl(&db).args(["mute", "alice", "bob"]));
    stdout(followctl(&db).args(["mute-account", "carol", "bob"]));
    stdout(followctl(&db).args(["follow", "dave", "bob", "--notify", "true"]));
    let out = stdout(followctl(&db).args(["delivery", "bob"]));
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "FOLLOWER",
            "SINCE",
            "DELIVERY",
            "REBLOGS",
            "NOTIFY",
            "LANGUAGES"
        ]
    );
    let delivery = |who: &str| {
        let row = rows.iter().find(|r| r[0] == who).unwrap();
        (row[2], row[4])
    };
    assert_eq!(delivery("alice"), ("silent", "no"));
    assert_eq!(delivery("carol"), ("withheld", "no"));
    assert_eq!(delivery("dave"), ("notified", "yes"));
    let page = json_of(followctl(&db).args(["delivery", "bob", "--limit", "2"]));
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    assert!(page["next_cursor"].is_string(), "{page}");
    assert_eq!(page["items"][0]["options"]["notify"], true, "{page}");
    cleanup(&db);
}
