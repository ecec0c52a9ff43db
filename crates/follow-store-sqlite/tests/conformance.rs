//! The shared conformance suite against fresh in-memory SQLite stores.

use std::sync::Arc;

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_sqlite::SqliteStore;

#[derive(Default)]
struct InMemory;

impl StoreFactory for InMemory {
    fn create(&self) -> Arc<dyn FollowStore> {
        Arc::new(SqliteStore::open_in_memory().expect("an in-memory SQLite store"))
    }
}

follow_conformance::suite!(InMemory);
