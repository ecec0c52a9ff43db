//! What a script relies on: exit statuses, wrong import files refused
//! before anything is written, lists that say how to go on, closed pipes,
//! Ctrl-C, and `verify` findings.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{cleanup, failure, followctl, graph_state, stdout, temp_db, temp_file};

fn bin() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("followctl"))
}

#[test]
fn an_unknown_header_is_refused_before_anything_is_written() {
    let db = temp_db("header");
    stdout(followctl(&db).args(["add-account", "alice"]));
    let before = graph_state(&db);
    for (input, hint) in [
        ("src,dst\nalice,bob\n", "follower,target"),
        ("follower;target\nalice;bob\n", "commas"),
        (
            "Account address,Show boosts,Notify on new posts,Languages\nx@y.org,true,false,\n",
            "--format mastodon",
        ),
        ("alice,bob\n", "follower,target"),
    ] {
        let (stderr, json) = failure(followctl(&db).args(["import", "-"]).write_stdin(input));
        assert_eq!(
            json["error"]["code"], "invalid_argument",
            "{input}: {stderr}"
        );
        assert!(stderr.contains(hint), "{input}: {stderr}");
        assert!(stderr.contains("nothing was imported"), "{stderr}");
    }
    assert!(
        graph_state(&db) == before,
        "a refused file changed the graph"
    );
    cleanup(&db);
}

#[test]
fn a_broken_quote_is_a_rejected_row() {
    let db = temp_db("quote");
    let output = followctl(&db)
        .args(["import", "-"])
        .write_stdin("follower,target\nalice,bob\nalice,\"carol\nbob,alice\nbob,carol\n")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.contains("line 3: rejected: "), "{out}");
    assert!(out.contains("unterminated quote"), "{out}");
    assert!(out.contains("1 edges created"), "{out}");
    assert!(out.contains("1 rows rejected"), "{out}");
    cleanup(&db);
}

#[test]
fn lists_say_how_to_go_on() {
    let db = temp_db("go-on");
    stdout(followctl(&db).args(["add-account", "alice", "bob", "carol"]));
    stdout(followctl(&db).args(["follow", "alice", "bob", "carol"]));
    let out = stdout(followctl(&db).args(["events", "--limit", "1"]));
    assert!(
        out.contains("more: repeat the command with --after 1"),
        "{out}"
    );
    let out = stdout(followctl(&db).args(["events", "--after", "1", "--limit", "5"]));
    assert!(!out.contains("--after"), "{out}");
    let out = stdout(followctl(&db).args(["following", "alice", "--limit", "1"]));
    assert!(
        out.contains("more: repeat the command with --cursor "),
        "{out}"
    );
    cleanup(&db);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let db = temp_db("pipe");
    stdout(followctl(&db).args(["add-account", "alice"]));
    let ids: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
    stdout(followctl(&db).arg("add-account").args(&ids));
    for args in [vec!["events", "--limit", "1000"], vec!["export"]] {
        for _ in 0..3 {
            stdout(followctl(&db).arg("follow").arg("alice").args(&ids));
            stdout(followctl(&db).arg("unfollow").arg("alice").args(&ids));
        }
        let mut child = bin()
            .arg("--db")
            .arg(&db)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close the pipe, as `head -c1` would.
        let mut out = child.stdout.take().unwrap();
        let mut byte = [0u8; 1];
        out.read_exact(&mut byte).unwrap();
        drop(out);
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            status.code() == Some(141) || status.code() == Some(0),
            "{args:?}: {status:?} {stderr}"
        );
    }
    cleanup(&db);
}

/// Sends SIGINT, as Ctrl-C does.
fn interrupt(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_during_an_import_says_what_was_committed_and_how_to_resume() {
    let db = temp_db("sigint");
    let file = temp_file("sigint.csv");
    let mut rows = String::from("follower,target\n");
    for i in 0..200_000 {
        rows.push_str(&format!("u{},hub{}\n", i, i % 7));
    }
    std::fs::write(&file, rows).unwrap();
    let child = bin()
        .arg("--db")
        .arg(&db)
        .args(["import", "--batch-size", "500"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let wal = {
        let mut p = db.clone().into_os_string();
        p.push("-wal");
        std::path::PathBuf::from(p)
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30)
        && !std::fs::metadata(&wal).is_ok_and(|m| m.len() > 512 * 1024)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.starts_with("error: interrupted: "), "{stderr}");
    assert!(stderr.contains("rows committed in"), "{stderr}");
    assert!(stderr.contains("run the same import again"), "{stderr}");
    // What it says was committed is what the database holds.
    let committed: u64 = stderr
        .split("interrupted: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let exported = stdout(followctl(&db).arg("export"));
    assert_eq!(exported.lines().count() as u64 - 1, committed, "{stderr}");
    assert!(committed > 0 && committed < 200_000, "{stderr}");
    let _ = std::fs::remove_file(&file);
    cleanup(&db);
}

#[test]
fn ctrl_c_during_an_export_leaves_no_partial_file() {
    let db = temp_db("sigint-export");
    let rows: String = std::iter::once("follower,target\n".to_owned())
        .chain((0..30_000).map(|i| format!("u{i},hub{}\n", i % 3)))
        .collect();
    followctl(&db)
        .args(["import", "-"])
        .write_stdin(rows)
        .assert()
        .success();
    let out = temp_file("export.csv");
    let mut partial = out.clone().into_os_string();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let child = bin()
        .arg("--db")
        .arg(&db)
        .args(["export", "--output"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) && !partial.exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    if output.status.success() {
        // It finished before the signal arrived: the file is whole.
        assert!(out.exists());
    } else {
        assert_eq!(output.status.code(), Some(130), "{stderr}");
        assert!(!out.exists(), "{stderr}");
    }
    assert!(!partial.exists(), "{stderr}");
    let _ = std::fs::remove_file(&out);
    cleanup(&db);
}

/// Sets alice's stored following count to a wrong value behind the tool.
fn damage_counts(db: &std::path::Path, tenant: &str, node: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute(
        "UPDATE nodes SET following = following + 5 WHERE tenant = ?1 AND id = ?2",
        [tenant, node],
    )
    .unwrap();
}

#[test]
fn verify_findings_have_their_own_code_and_honour_the_tenant() {
    let db = temp_db("verify");
    stdout(followctl(&db).args(["add-account", "alice", "bob"]));
    stdout(followctl(&db).args(["follow", "alice", "bob"]));
    stdout(followctl(&db).args(["--tenant", "other", "add-account", "zed"]));
    damage_counts(&db, "default", "alice");

    let output = followctl(&db)
        .args(["--json", "verify"])
        .assert()
        .code(4)
        .get_output()
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["code"], "verify_findings");
    assert_eq!(report["affected_nodes"], serde_json::json!(["alice"]));
    assert_eq!(report["count_mismatches"][0]["stored"]["following"], 6);
    let output = followctl(&db)
        .arg("verify")
        .assert()
        .code(4)
        .get_output()
        .clone();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("count mismatch alice: stored following=6"),
        "{text}"
    );
    assert!(
        !String::from_utf8(output.stderr)
            .unwrap()
            .contains("internal")
    );

    // Another tenant is clean, and its repair leaves this one alone.
    assert!(stdout(followctl(&db).args(["--tenant", "other", "verify"])).contains("verify: ok"));
    let out = stdout(followctl(&db).args(["--tenant", "other", "verify", "--repair"]));
    assert!(out.contains("repair: 0 counts fixed"), "{out}");
    followctl(&db).arg("verify").assert().code(4);
    let out = stdout(followctl(&db).args(["verify", "--repair"]));
    assert!(out.contains("repair: 1 counts fixed"), "{out}");
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
    cleanup(&db);
}

#[test]
fn verify_lists_wrong_link_counts_and_repair_rewrites_them() {
    let db = temp_db("verify-links");
    stdout(followctl(&db).args(["add-account", "alice", "bob"]));
    stdout(followctl(&db).args(["block", "alice", "bob"]));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE nodes SET links = links + 2 WHERE tenant = 'default' AND id = 'alice'",
        [],
    )
    .unwrap();
    drop(conn);
    let output = followctl(&db)
        .args(["--json", "verify"])
        .assert()
        .code(4)
        .get_output()
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["affected_nodes"], serde_json::json!(["alice"]));
    let mismatch = &report["link_count_mismatches"][0];
    assert_eq!(
        (&mismatch["stored"], &mismatch["actual"]),
        (&3.into(), &1.into())
    );
    let output = followctl(&db)
        .arg("verify")
        .assert()
        .code(4)
        .get_output()
        .clone();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("link count mismatch alice: stored 3 actual 1"),
        "{text}"
    );
    let out = stdout(followctl(&db).args(["verify", "--repair"]));
    assert!(out.contains("1 link counts fixed"), "{out}");
    assert!(stdout(followctl(&db).arg("verify")).contains("verify: ok"));
    cleanup(&db);
}
