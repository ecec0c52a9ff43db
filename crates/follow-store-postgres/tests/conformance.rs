//! The shared conformance suite and model tests against fresh stores on a
//! real PostgreSQL (see `follow_store_postgres::testing` for how the tests
//! find or start one), each store in a schema of its own.

use std::sync::Arc;

use follow_conformance::StoreFactory;
use follow_core::FollowStore;
use follow_store_postgres::PostgresOptions;
use follow_store_postgres::testing::{block_on_own_thread, isolated_store};

#[derive(Default)]
struct Isolated;

impl StoreFactory for Isolated {
    fn create(&self) -> Arc<dyn FollowStore> {
        let store = block_on_own_thread(isolated_store(PostgresOptions::default()));
        Arc::new(store.unwrap_or_else(|e| panic!("{e}")))
    }
}

follow_conformance::suite!(Isolated);
