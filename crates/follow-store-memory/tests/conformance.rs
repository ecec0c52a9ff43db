//! The shared `follow-conformance` suite, run against the in-memory store.

use std::sync::Arc;

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_memory::MemoryStore;

/// Fresh, empty in-memory stores.
#[derive(Default)]
struct Factory;

impl StoreFactory for Factory {
    fn create(&self) -> Arc<dyn FollowStore> {
        Arc::new(MemoryStore::new())
    }
}

follow_conformance::suite!(Factory);
