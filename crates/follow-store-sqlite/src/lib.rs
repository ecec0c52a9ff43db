//! # follow-store-sqlite
//!
//! SQLite storage for the follow graph of `follow-core`: durable, safe under
//! concurrent tasks and processes killed mid-write, and free of any async
//! runtime.
//!
//! - One writer thread owns the only write connection and commits queued
//!   batches together (group commit), one savepoint per batch when a group
//!   holds several.
//! - Reads run on a small pool of reader connections, each on its own thread
//!   (WAL mode lets them read while the writer commits). Point reads (`node`,
//!   `pairs` of a few others) run on the caller's thread instead, on a free
//!   pooled connection, and go to a reader thread when none is free or the
//!   database is busy.
//! - A caller's future resolves only once its transaction has committed, at
//!   the durability chosen in [`SqliteOptions`].
//!
//! ```
//! use std::sync::Arc;
//! use follow_core::{Capabilities, FollowGraph, Principal, TenantId};
//! use follow_store_sqlite::SqliteStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::open_in_memory()?;
//! let graph = FollowGraph::new(Arc::new(store));
//! let alice = Principal::new(TenantId::new("acme")?, Capabilities::ALL);
//! futures::executor::block_on(async {
//!     graph.register(&alice, "alice").await?;
//!     graph.register(&alice, "bob").await?;
//!     let applied = graph.follow(&alice, "alice", "bob").await?;
//!     assert!(applied.is_changed());
//!     assert_eq!(graph.counts(&alice, "bob").await?.followers, 1);
//!     Ok::<(), follow_core::Error>(())
//! })?;
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/storage-sqlite.md` for the schema, threading and durability.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod codec;
mod error;
mod feed;
mod links;
mod multirow;
mod queries;
mod rebuild;
mod rows;
mod schema;
mod store;
#[cfg(test)]
mod testing;
mod verify;
mod write;
mod writer;

pub use error::OpenError;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub use store::{Durability, SqliteOptions, SqliteStore};
pub use verify::{CountMismatch, LinkCountMismatch, LinkName, RepairReport, VerifyReport};
