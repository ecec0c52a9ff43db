//! The open database and who acts on it.

use std::path::Path;
use std::sync::Arc;

use follow_core::{Capabilities, FollowGraph, Principal, TenantId};
use follow_store_sqlite::SqliteStore;

use crate::failure::Failure;

/// A graph over the database, and the operator's principal in one tenant.
pub struct Session {
    /// The facade every command goes through.
    pub graph: FollowGraph,
    /// The store, for what only it offers (verify, repair, snapshot reads).
    pub store: Arc<SqliteStore>,
    /// The operator: every capability, in the chosen tenant.
    pub principal: Principal,
}

impl Session {
    /// Opens `db` for `tenant`. With `only_reads`, a missing file is
    /// `database_missing` and nothing is created.
    pub fn open(db: &Path, tenant: &str, only_reads: bool) -> Result<Self, Failure> {
        let tenant = TenantId::new(tenant)?;
        if only_reads && !db.exists() {
            return Err(Failure::database_missing(db));
        }
        let store = Arc::new(SqliteStore::open(db)?);
        Ok(Session {
            graph: FollowGraph::new(store.clone()),
            store,
            principal: Principal::new(tenant, Capabilities::ALL),
        })
    }
}
