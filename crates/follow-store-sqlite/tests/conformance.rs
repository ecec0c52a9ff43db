//! The shared conformance suite against fresh in-memory SQLite stores.

use std::sync::Arc;

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_sqlite::{SqliteOptions, SqliteStore};

/// Fresh in-memory databases, gone with their store.
#[derive(Default)]
struct InMemory;

#[async_trait::async_trait]
impl StoreFactory for InMemory {
    async fn create(&self) -> Arc<dyn FollowStore> {
        Arc::new(SqliteStore::open_in_memory().expect("an in-memory SQLite store"))
    }

    async fn create_failing_after(&self, rows: usize) -> Option<Arc<dyn FollowStore>> {
        let options = SqliteOptions {
            fail_commits_after: Some(rows),
            ..SqliteOptions::default()
        };
        let store = SqliteStore::open_in_memory_with(options).expect("an in-memory SQLite store");
        Some(Arc::new(store))
    }

    async fn dispose(&self, _store: Arc<dyn FollowStore>) {}
}

follow_conformance::suite!(InMemory);
