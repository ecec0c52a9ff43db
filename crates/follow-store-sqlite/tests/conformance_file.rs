//! The shared conformance suite against fresh file-backed SQLite stores
//! (exercising the reader pool, WAL and the bulk index rebuild), each in
//! its own directory under Cargo's test temp dir, removed after its case.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_sqlite::{Durability, SqliteOptions, SqliteStore};

/// Stores on files; remembers each store's directory to remove it.
#[derive(Default)]
struct OnFile {
    dirs: Mutex<HashMap<String, PathBuf>>,
}

impl OnFile {
    fn open(&self, fail_commits_after: Option<usize>) -> Arc<dyn FollowStore> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("conformance-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        // Every batch that writes at least as many edges as the file holds
        // builds the edge indexes in bulk (the in-memory suite keeps the
        // default), so the whole suite runs through both write paths.
        let options = SqliteOptions {
            synchronous: Durability::Normal,
            readers: 2,
            fail_commits_after,
            rebuild_indexes_from: 1,
            ..SqliteOptions::default()
        };
        let store = SqliteStore::open_with(dir.join("graph.db"), options).expect("a SQLite store");
        let store: Arc<dyn FollowStore> = Arc::new(store);
        if let Ok(mut dirs) = self.dirs.lock() {
            dirs.insert(store.to_string(), dir);
        }
        store
    }
}

#[async_trait::async_trait]
impl StoreFactory for OnFile {
    async fn create(&self) -> Arc<dyn FollowStore> {
        self.open(None)
    }

    async fn create_failing_after(&self, rows: usize) -> Option<Arc<dyn FollowStore>> {
        Some(self.open(Some(rows)))
    }

    async fn dispose(&self, store: Arc<dyn FollowStore>) {
        let dir = self
            .dirs
            .lock()
            .ok()
            .and_then(|mut d| d.remove(&store.to_string()));
        // The store closes (checkpointing its WAL) before its files go.
        drop(store);
        if let Some(dir) = dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

follow_conformance::suite!(OnFile);
