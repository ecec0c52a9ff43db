//! The shared `follow-conformance` suite, run against the in-memory store.

use std::sync::Arc;

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_memory::MemoryStore;

/// Fresh, empty in-memory stores; nothing to release.
#[derive(Default)]
struct Factory;

#[async_trait::async_trait]
impl StoreFactory for Factory {
    async fn create(&self) -> Arc<dyn FollowStore> {
        Arc::new(MemoryStore::new())
    }

    async fn create_failing_after(&self, rows: usize) -> Option<Arc<dyn FollowStore>> {
        Some(Arc::new(MemoryStore::failing_commits_after(rows)))
    }

    async fn dispose(&self, _store: Arc<dyn FollowStore>) {}
}

follow_conformance::suite!(Factory);
