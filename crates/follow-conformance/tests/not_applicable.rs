//! An adapter that cannot inject commit faults declares the rollback rule
//! not applicable: the suite still runs every other rule, and that one shows
//! as ignored with the reason (`cargo test -- --ignored` lists it), never as
//! a pass. Here over the in-memory store, which stands in for such an
//! adapter.

use std::sync::Arc;

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_memory::MemoryStore;

#[derive(Default)]
struct WithoutFaults;

#[async_trait::async_trait]
impl StoreFactory for WithoutFaults {
    async fn create(&self) -> Arc<dyn FollowStore> {
        Arc::new(MemoryStore::new())
    }

    async fn create_failing_after(&self, _rows: usize) -> Option<Arc<dyn FollowStore>> {
        None
    }

    async fn dispose(&self, _store: Arc<dyn FollowStore>) {}
}

follow_conformance::suite!(WithoutFaults, not_applicable: {
    a_failed_commit_leaves_nothing_visible: "this factory cannot make a commit fail part-way",
    a_failed_commit_with_links_leaves_nothing_visible: "this factory cannot make a commit fail part-way",
});
