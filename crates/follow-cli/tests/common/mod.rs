//! Helpers shared by the tests that drive the real `followctl` binary.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub fn temp_db(name: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!(
        "followctl-test-{}-{name}-{n}.db",
        std::process::id()
    ))
}

pub fn cleanup(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.to_path_buf().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
}

pub fn followctl(db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("followctl").unwrap();
    cmd.arg("--db").arg(db);
    cmd
}

pub fn stdout(cmd: &mut Command) -> String {
    let output = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(output).unwrap()
}

/// A scratch file path next to the test databases.
pub fn temp_file(name: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("followctl-test-{}-{name}-{n}", std::process::id()))
}

/// Runs a command expected to fail; answers its stderr and parsed JSON
/// error (the command is run with `--json`).
pub fn failure(cmd: &mut Command) -> (String, serde_json::Value) {
    let output = cmd.arg("--json").assert().failure().get_output().clone();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (stderr, json)
}

/// The graph (its export) and the change feed, to show a command changed
/// nothing. A database file's bytes would not do: closing a connection may
/// checkpoint the WAL into it.
pub fn graph_state(db: &Path) -> (String, String) {
    let export = stdout(followctl(db).arg("export"));
    let events = stdout(followctl(db).args(["--json", "events", "--limit", "1000"]));
    (export, events)
}
