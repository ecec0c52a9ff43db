//! The open database and who acts on it.

use std::path::Path;
use std::sync::Arc;

use follow_core::{Capabilities, FollowGraph, FollowStore, Principal, TenantId};
use follow_store_postgres::{PostgresOptions, PostgresStore};
use follow_store_sqlite::SqliteStore;

use crate::cli::Access;
use crate::failure::Failure;

/// The store behind the graph, for what only it offers (verify, repair).
pub enum Backend {
    /// An SQLite file (or an empty in-memory graph for a dry run).
    Sqlite(Arc<SqliteStore>),
    /// A PostgreSQL database.
    Postgres(Arc<PostgresStore>),
}

/// A graph over the database, and the operator's principal in one tenant.
pub struct Session {
    /// The facade every command goes through.
    pub graph: FollowGraph,
    /// The store, for snapshot reads the facade does not offer.
    pub store: Arc<dyn FollowStore>,
    /// The same store, by kind.
    pub backend: Backend,
    /// The operator: every capability, in the chosen tenant.
    pub principal: Principal,
}

/// Whether `--db` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(db: &Path) -> bool {
    db.to_str()
        .is_some_and(|db| db.starts_with("postgres://") || db.starts_with("postgresql://"))
}

impl Session {
    /// Opens `db` (a file, or a `postgres://` URL) for `tenant` as `access`
    /// says; a command that only reads never creates the database.
    pub async fn open(db: &Path, tenant: &str, access: Access) -> Result<Self, Failure> {
        let tenant = TenantId::new(tenant)?;
        let backend = match db.to_str().filter(|_| is_postgres_url(db)) {
            Some(url) => open_postgres(url, access).await?,
            None => Backend::Sqlite(Arc::new(match access {
                Access::Read if !db.exists() => return Err(Failure::database_missing(db)),
                Access::ReadOrEmpty if !db.exists() => SqliteStore::open_in_memory()?,
                _ => SqliteStore::open(db)?,
            })),
        };
        let store: Arc<dyn FollowStore> = match &backend {
            Backend::Sqlite(store) => store.clone(),
            Backend::Postgres(store) => store.clone(),
        };
        Ok(Session {
            graph: FollowGraph::new(store.clone()),
            store,
            backend,
            principal: Principal::new(tenant, Capabilities::ALL),
        })
    }
}

/// Opens a PostgreSQL store; reads never create the schema, and a dry run
/// into a database without one reads an empty graph.
async fn open_postgres(url: &str, access: Access) -> Result<Backend, Failure> {
    let options = PostgresOptions {
        create_schema: access == Access::Write,
        max_connections: 4,
        ..PostgresOptions::default()
    };
    match PostgresStore::connect_with(url, options).await {
        Ok(store) => Ok(Backend::Postgres(Arc::new(store))),
        Err(follow_store_postgres::OpenError::NoSchema { .. }) if access == Access::ReadOrEmpty => {
            Ok(Backend::Sqlite(Arc::new(SqliteStore::open_in_memory()?)))
        }
        Err(error) => Err(error.into()),
    }
}
