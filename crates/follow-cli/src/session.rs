//! The open database and who acts on it.

use std::path::Path;
use std::sync::Arc;

use follow_core::{Capabilities, FollowGraph, Principal, TenantId};
use follow_store_sqlite::SqliteStore;

use crate::cli::Access;
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
    /// Opens `db` for `tenant` as `access` says; only a command that can
    /// succeed on an empty database creates the file.
    pub fn open(db: &Path, tenant: &str, access: Access) -> Result<Self, Failure> {
        let tenant = TenantId::new(tenant)?;
        let store = match access {
            Access::Existing if !db.exists() => return Err(Failure::database_missing(db)),
            Access::ReadOrEmpty if !db.exists() => SqliteStore::open_in_memory()?,
            Access::Scratch => SqliteStore::open_in_memory()?,
            _ => SqliteStore::open(db)?,
        };
        let store = Arc::new(store);
        Ok(Session {
            graph: FollowGraph::new(store.clone()),
            store,
            principal: Principal::new(tenant, Capabilities::ALL),
        })
    }
}
