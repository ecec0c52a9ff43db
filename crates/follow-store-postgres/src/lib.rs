//! # follow-store-postgres
//!
//! PostgreSQL storage for the follow graph of `follow-core`: any number of
//! service processes share one graph, async end to end on `tokio-postgres`
//! with a `deadpool` connection pool.
//!
//! - A write batch is one transaction in two round trips: the rows it needs
//!   are locked in key order and loaded (one pipelined exchange), core
//!   decides, and the change set is written and committed (a second one).
//!   Node rows are locked in key order, the acting account exclusively and
//!   the others only against removal, so writers never deadlock and many
//!   followers of one account wait on each other only for its counter.
//! - Counters change as deltas in the same transaction as the edges.
//! - Events take their positions from the writing transaction's id, and a
//!   reader stops below the oldest transaction still running, so positions
//!   increase in commit order and a reader never misses an event behind one
//!   it has seen, with no row that every writer locks.
//! - The tenant leads every key and index, and every statement filters by
//!   it: the tables hash-partition (or distribute on Citus) by tenant.
//!
//! ```no_run
//! use std::sync::Arc;
//! use follow_core::{Capabilities, FollowGraph, Principal, TenantId};
//! use follow_store_postgres::PostgresStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = PostgresStore::connect("postgres://app@127.0.0.1/app").await?;
//! let graph = FollowGraph::new(Arc::new(store));
//! let alice = Principal::new(TenantId::new("acme")?, Capabilities::ALL);
//! graph.register(&alice, "alice").await?;
//! graph.register(&alice, "bob").await?;
//! assert!(graph.follow(&alice, "alice", "bob").await?.is_changed());
//! assert_eq!(graph.counts(&alice, "bob").await?.followers, 1);
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/storage-postgres.md` for the schema, locking, event order and
//! distribution on Citus.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bound;
mod codec;
mod conn;
mod counters;
mod error;
mod feed;
mod links;
mod options;
mod pipeline;
mod positions;
mod reads;
mod schema;
mod store;
pub mod testing;
mod verify;
mod write;

pub use error::OpenError;
pub use options::PostgresOptions;
pub use schema::{Layout, SCHEMA_VERSION};
pub use store::PostgresStore;
pub use verify::{
    CountMismatch, EdgeName, LinkCountMismatch, LinkName, RepairReport, VerifyReport,
};
