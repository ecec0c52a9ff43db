//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use follow_core::{AccountId, Command, NodeId, OptionsUpdate, TenantId, Timestamp, WriteBatch};

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "follow-sqlite-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Takes a current database back to schema 3, the last one without links,
/// to be followed by each older step's own undo.
pub const BACK_TO_SCHEMA_3: &str = "
    DROP TABLE links;
    ALTER TABLE nodes DROP COLUMN locked;
    ALTER TABLE nodes DROP COLUMN links;
    ALTER TABLE edges DROP COLUMN options;
    PRAGMA user_version = 3;";

pub fn tenant() -> TenantId {
    TenantId::new("acme").unwrap()
}

pub fn node(id: &str) -> NodeId {
    NodeId::new(id).unwrap()
}

pub fn account(id: &str) -> AccountId {
    AccountId::new(id).unwrap()
}

pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000 + seconds).unwrap()
}

pub fn batch(seconds: i64, commands: Vec<Command>) -> WriteBatch {
    let mut batch = WriteBatch::new(tenant(), at(seconds));
    batch.commands = commands;
    batch
}

pub fn register(id: &str) -> Command {
    Command::Register { node: node(id) }
}

pub fn follow(follower: &str, target: &str) -> Command {
    Command::Follow {
        follower: account(follower),
        target: node(target),
        since: None,
        options: OptionsUpdate::NONE,
    }
}

pub fn unfollow(follower: &str, target: &str) -> Command {
    Command::Unfollow {
        follower: account(follower),
        target: node(target),
    }
}

pub fn mute(follower: &str, target: &str, muted: bool) -> Command {
    Command::SetMute {
        follower: account(follower),
        target: node(target),
        muted,
    }
}
