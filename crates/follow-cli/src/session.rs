//! The open database and who acts on it.

use std::path::Path;
use std::sync::Arc;

use follow_core::{Capabilities, Error, FollowGraph, FollowStore, Principal, TenantId};
use follow_store_postgres::{PostgresOptions, PostgresStore};
use follow_store_sqlite::{
    CountMismatch, LinkCountMismatch, RepairReport, SqliteStore, VerifyReport,
};

use crate::cli::Access;
use crate::failure::Failure;

/// The store behind the graph, for what only it offers (verify, repair).
pub enum Backend {
    /// An SQLite file (or an in-memory graph).
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
    /// says; only a command that can succeed on an empty database creates
    /// it.
    pub async fn open(db: &Path, tenant: &str, access: Access) -> Result<Self, Failure> {
        let tenant = TenantId::new(tenant)?;
        let backend = match db.to_str().filter(|_| is_postgres_url(db)) {
            Some(url) if access != Access::Scratch => open_postgres(url, access).await?,
            _ => Backend::Sqlite(Arc::new(match access {
                Access::Existing if !db.exists() => return Err(Failure::database_missing(db)),
                Access::ReadOrEmpty if !db.exists() => SqliteStore::open_in_memory()?,
                Access::Scratch => SqliteStore::open_in_memory()?,
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

/// Opens a PostgreSQL store; only creating commands create the schema, and
/// a dry run into a database without one reads an empty graph.
async fn open_postgres(url: &str, access: Access) -> Result<Backend, Failure> {
    let options = PostgresOptions {
        create_schema: access == Access::Create,
        max_connections: 4,
        // One command per process: the next one reads what this one wrote.
        event_visibility_wait: std::time::Duration::from_secs(5),
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

fn mismatch(m: follow_store_postgres::CountMismatch) -> CountMismatch {
    CountMismatch {
        tenant: m.tenant,
        node: m.node,
        stored: m.stored,
        actual: m.actual,
    }
}

fn link_mismatch(m: follow_store_postgres::LinkCountMismatch) -> LinkCountMismatch {
    LinkCountMismatch {
        tenant: m.tenant,
        node: m.node,
        stored: m.stored,
        actual: m.actual,
    }
}

impl Backend {
    /// The tenant's findings, in SQLite's report (PostgreSQL's repeated
    /// event positions count as integrity errors).
    pub async fn verify_tenant(&self, tenant: &TenantId) -> Result<VerifyReport, Error> {
        match self {
            Backend::Sqlite(store) => store.verify_tenant(tenant).await,
            Backend::Postgres(store) => {
                let report = store.verify_tenant(tenant).await?;
                Ok(VerifyReport {
                    integrity_errors: report
                        .event_order_errors
                        .iter()
                        .map(|(t, p)| format!("event position {p} repeated ({t})"))
                        .collect(),
                    count_mismatches: report.count_mismatches.into_iter().map(mismatch).collect(),
                    dangling_edges: report.dangling_edges,
                    wrong_mutual_marks: report.wrong_mutual_marks,
                    link_count_mismatches: report
                        .link_count_mismatches
                        .into_iter()
                        .map(link_mismatch)
                        .collect(),
                    broken_links: report.broken_links,
                })
            }
        }
    }

    /// Rewrites the tenant's wrong mutual marks and counts from the edges,
    /// and link counts from the links.
    pub async fn repair_tenant(&self, tenant: &TenantId) -> Result<RepairReport, Error> {
        match self {
            Backend::Sqlite(store) => store.repair_tenant(tenant).await,
            Backend::Postgres(store) => {
                let report = store.repair_tenant(tenant).await?;
                Ok(RepairReport {
                    counts_fixed: report.counts_fixed.into_iter().map(mismatch).collect(),
                    mutual_marks_fixed: report.mutual_marks_fixed,
                    link_counts_fixed: report
                        .link_counts_fixed
                        .into_iter()
                        .map(link_mismatch)
                        .collect(),
                })
            }
        }
    }
}
