//! The shared conformance suite and model tests against fresh stores on a
//! real PostgreSQL (see `follow_store_postgres::testing` for how the tests
//! find or start one), each store in a schema of its own, emptied after
//! its case for the next one.

use std::sync::Arc;

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_postgres::PostgresOptions;
use follow_store_postgres::testing::{isolated_store, recycle_isolated};

#[derive(Default)]
struct Isolated;

#[async_trait::async_trait]
impl StoreFactory for Isolated {
    async fn create(&self) -> Arc<dyn FollowStore> {
        let store = isolated_store(PostgresOptions::default()).await;
        Arc::new(store.unwrap_or_else(|e| panic!("{e}")))
    }

    async fn create_failing_after(&self, rows: usize) -> Option<Arc<dyn FollowStore>> {
        let options = PostgresOptions {
            fail_commits_after: Some(rows),
            ..PostgresOptions::default()
        };
        let store = isolated_store(options).await;
        Some(Arc::new(store.unwrap_or_else(|e| panic!("{e}"))))
    }

    async fn dispose(&self, store: Arc<dyn FollowStore>) {
        recycle_isolated(&store)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

follow_conformance::suite!(Isolated);
