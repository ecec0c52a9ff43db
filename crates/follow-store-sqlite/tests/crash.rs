//! Crash safety: a child process writes in a loop, reporting each
//! acknowledged change, and is killed with SIGKILL at a varying moment.
//! Reopening must succeed, pass the integrity check, hold every acknowledged
//! change, and have counts equal to the edges.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};

use common::*;
use follow_core::FollowStore;
use follow_store_sqlite::{Durability, SqliteOptions, SqliteStore};
use futures::executor::block_on;

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
    let exe = std::env::current_exe().unwrap();
    let mut acked = Vec::new();
    for round in 0..4u32 {
        let mut child = Process::new(&exe)
            .args([
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{round}:{}", path.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // A varying moment: after a pseudo-random number of acknowledgements.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let kill_after = 5 + (nanos as usize + round as usize * 37) % 60;
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

        let store = SqliteStore::open(&path).unwrap();
        let report = block_on(store.verify()).unwrap();
        assert!(report.is_ok(), "round {round}: {report:?}");
        let hub = block_on(store.node(&tenant(), &node("hub")))
            .unwrap()
            .unwrap();
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
