//! Crash safety: a child process writes in a loop, reporting each
//! acknowledged change, and is killed with SIGKILL at a varying moment.
//! Reopening must succeed, pass the integrity check, hold every acknowledged
//! change, and have counts equal to the edges.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Lines, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command as Process, Stdio};

use common::*;
use follow_core::{FollowStore, NodeRecord};
use follow_store_sqlite::{Durability, SqliteOptions, SqliteStore};
use futures::executor::block_on;

/// Runs the test `child` of this binary again as a process, `env` set to
/// `round:path`, and answers it with the lines it prints.
fn spawn_child(
    child: &str,
    env: &str,
    round: u32,
    path: &Path,
) -> (Child, Lines<BufReader<ChildStdout>>) {
    let exe = std::env::current_exe().unwrap();
    let mut process = Process::new(&exe)
        .args(["--exact", child, "--nocapture", "--test-threads=1"])
        .env(env, format!("{round}:{}", path.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = process.stdout.take().unwrap();
    (process, BufReader::new(stdout).lines())
}

/// A number that differs from run to run, for a varying moment of a kill.
fn varying() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

/// The store at `path` reopened after a kill, verified clean, and `hub`'s
/// record.
fn reopen_verified(path: &Path, round: u32) -> (SqliteStore, NodeRecord) {
    let store = SqliteStore::open(path).unwrap();
    let report = block_on(store.verify()).unwrap();
    assert!(report.is_ok(), "round {round}: {report:?}");
    let hub = block_on(store.node(&tenant(), &node("hub")))
        .unwrap()
        .unwrap();
    (store, hub)
}

const CHILD_ENV: &str = "FOLLOW_SQLITE_CRASH_CHILD";

/// The child's body: a no-op unless re-invoked by `killed_writer_loses_no_acknowledged_change`.
#[test]
fn crash_child_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (round, path) = spec.split_once(':').unwrap();
    let options = SqliteOptions {
        synchronous: Durability::Normal,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(path, options).unwrap();
    block_on(store.write(batch(0, vec![register("hub")]))).unwrap();
    let mut out = std::io::stdout().lock();
    for k in 0.. {
        let user = format!("r{round}u{k}");
        let results =
            block_on(store.write(batch(k, vec![register(&user), follow(&user, "hub")]))).unwrap();
        assert!(results.iter().all(Result::is_ok));
        writeln!(out, "ack {user}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killed_writer_loses_no_acknowledged_change() {
    let dir = TempDir::new("crash");
    let path = dir.file("graph.db");
    let mut acked = Vec::new();
    for round in 0..4u32 {
        let (mut child, mut lines) = spawn_child("crash_child_writer", CHILD_ENV, round, &path);
        // A varying moment: after a pseudo-random number of acknowledgements.
        let kill_after = 5 + (varying() as usize + round as usize * 37) % 60;
        let mut seen = 0;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(user) = line.strip_prefix("ack ") {
                acked.push(user.to_owned());
                seen += 1;
                if seen >= kill_after {
                    break;
                }
            }
        }
        assert!(seen > 0, "round {round}: the child acknowledged nothing");
        child.kill().unwrap(); // SIGKILL on Unix
        // Acknowledgements written before the kill still count.
        for line in lines {
            let Ok(line) = line else { break };
            if let Some(user) = line.strip_prefix("ack ") {
                acked.push(user.to_owned());
            }
        }
        child.wait().unwrap();

        let (store, hub) = reopen_verified(&path, round);
        assert!(hub.counts.followers >= acked.len() as u64);
        for chunk in acked.chunks(100) {
            let others: Vec<_> = chunk.iter().map(|u| node(u)).collect();
            let facts = block_on(store.pairs(&tenant(), &node("hub"), &others))
                .unwrap()
                .unwrap();
            for (user, fact) in chunk.iter().zip(facts) {
                assert!(fact.incoming, "round {round}: lost {user} -> hub");
            }
        }
    }
}

const BULK_CHILD_ENV: &str = "FOLLOW_SQLITE_BULK_CRASH_CHILD";

/// The bulk child's body: imports into `hub` in calls that each write as
/// many edges as are stored, and at least 500 (so every call builds the
/// edge indexes in bulk), announcing each call before it and acknowledging
/// it after.
#[test]
fn crash_child_bulk_importer() {
    let Ok(spec) = std::env::var(BULK_CHILD_ENV) else {
        return;
    };
    let (round, path) = spec.split_once(':').unwrap();
    let options = SqliteOptions {
        synchronous: Durability::Normal,
        rebuild_indexes_from: 1,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(path, options).unwrap();
    block_on(store.write(batch(0, vec![register("hub")]))).unwrap();
    let hub = block_on(store.node(&tenant(), &node("hub")))
        .unwrap()
        .unwrap();
    let mut stored = hub.counts.followers as usize;
    let mut out = std::io::stdout().lock();
    for k in 0.. {
        let size = stored.max(500);
        writeln!(out, "begin {size}").unwrap();
        out.flush().unwrap();
        let mut commands = Vec::with_capacity(2 * size);
        for i in 0..size {
            let user = format!("b{round}c{k}u{i}");
            commands.push(register(&user));
            commands.push(follow(&user, "hub"));
        }
        let results = block_on(store.write(batch(k, commands))).unwrap();
        assert!(results.iter().all(Result::is_ok));
        stored += size;
        writeln!(out, "ack {size}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killed_bulk_import_applies_whole_calls_or_none() {
    let dir = TempDir::new("bulk-crash");
    let path = dir.file("graph.db");
    let mut acked = 0u64;
    for round in 0..3u32 {
        let (mut child, mut lines) =
            spawn_child("crash_child_bulk_importer", BULK_CHILD_ENV, round, &path);
        let nanos = varying();
        // Calls double, so a few calls reach thousands of edges; the kill
        // falls a varying moment into the call after the last one awaited.
        let kill_after = 1 + (nanos as usize + round as usize) % 3;
        let mut in_flight = 0u64;
        let mut seen = 0;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(size) = line.strip_prefix("begin ") {
                in_flight = size.parse().unwrap();
                if seen >= kill_after {
                    break;
                }
            } else if let Some(size) = line.strip_prefix("ack ") {
                acked += size.parse::<u64>().unwrap();
                in_flight = 0;
                seen += 1;
            }
        }
        assert!(seen > 0, "round {round}: the child acknowledged nothing");
        std::thread::sleep(std::time::Duration::from_micros(
            u64::from(nanos % 20) * 1_000,
        ));
        child.kill().unwrap(); // SIGKILL on Unix
        // A call acknowledged before the kill still counts.
        for line in lines {
            let Ok(line) = line else { break };
            if let Some(size) = line.strip_prefix("ack ") {
                acked += size.parse::<u64>().unwrap();
                in_flight = 0;
            }
        }
        child.wait().unwrap();

        let (store, hub) = reopen_verified(&path, round);
        let followers = hub.counts.followers;
        // Every acknowledged call, and the call in flight whole or not at all.
        assert!(
            followers == acked || followers == acked + in_flight,
            "round {round}: {followers} followers, {acked} acknowledged, {in_flight} in flight"
        );
        acked = followers;
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let indexes: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'edges'
                 AND sql IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 3, "round {round}: the edge indexes are missing");
        let listed: i64 = conn
            .query_row(
                "SELECT count(*) FROM edges INDEXED BY edges_followers
                 WHERE tenant = ?1 AND target = 'hub'",
                [tenant().as_str()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(listed as u64, followers, "round {round}");
    }
}
