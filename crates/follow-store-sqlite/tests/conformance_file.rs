//! The shared conformance suite against fresh file-backed SQLite stores
//! (exercising the reader pool and WAL), under Cargo's test temp dir.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_sqlite::{Durability, SqliteOptions, SqliteStore};

#[derive(Default)]
struct OnFile;

impl StoreFactory for OnFile {
    fn create(&self) -> Arc<dyn FollowStore> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("conformance-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let options = SqliteOptions {
            synchronous: Durability::Normal,
            readers: 2,
            ..SqliteOptions::default()
        };
        Arc::new(SqliteStore::open_with(dir.join("graph.db"), options).expect("a SQLite store"))
    }
}

follow_conformance::suite!(OnFile);
