//! # follow-core
//!
//! The follow graph of a service: accounts follow accounts and channels,
//! unfollow, mute; the target may drop a follower; accounts block and mute
//! each other, lock themselves and answer follow requests. This crate holds
//! everything that decides, and nothing that stores:
//!
//! - typed, validated ids ([`TenantId`], [`AccountId`], [`ChannelId`], [`NodeId`]);
//! - the state machine ([`machine::transition`]), links between accounts
//!   ([`Link`]: blocks, mutes, requests), follow options
//!   ([`FollowOptions`]), and the one place a batch is decided ([`mod@write`]: a store loads the rows a batch names, core
//!   decides, the store commits the change set);
//! - principals and capabilities ([`Principal`]), per-tenant rate limits;
//! - one error type ([`Error`]) with a stable code and HTTP status;
//! - tamper-evident keyset cursors, events with store positions;
//! - the storage trait ([`FollowStore`]) adapters implement, and the facade
//!   ([`FollowGraph`]) a host holds.
//!
//! It does no I/O and depends on no storage engine or async runtime.
//! Storage lives in adapter crates (`follow-store-memory`,
//! `follow-store-sqlite`, `follow-store-postgres`), each proven by
//! `follow-conformance`; [`stored`] decodes what they keep.
//!
//! ## The state machine, without any store
//!
//! ```
//! use follow_core::machine::{transition, EdgeCommand, EdgeWrite};
//! use follow_core::{Edge, EventKind, OptionsUpdate, Timestamp};
//!
//! let now = Timestamp::from_unix_seconds(1_800_000_000)?;
//! // Follow an absent edge: created unmuted, one event.
//! let step = transition(EdgeCommand::Follow { since: now, options: OptionsUpdate::NONE }, None, None)?;
//! assert_eq!(step.edge, EdgeWrite::Put(Edge::new(now)));
//! assert_eq!(step.event, Some(EventKind::Followed));
//!
//! // Follow again: unchanged, no event, the mute flag kept.
//! let muted = Edge { muted: true, ..Edge::new(now) };
//! let again = transition(EdgeCommand::Follow { since: now, options: OptionsUpdate::NONE }, Some(&muted), None)?;
//! assert!(!again.is_changed());
//! assert_eq!(again.next_edge(Some(muted)), Some(muted));
//! # Ok::<(), follow_core::Error>(())
//! ```
//!
//! ## A host's call
//!
//! A service holds one [`FollowGraph`] over any store and passes the caller's
//! [`Principal`] to each call:
//!
//! ```ignore
//! let graph = FollowGraph::new(Arc::new(MemoryStore::new()));
//! let alice = Principal::new(TenantId::new("acme")?, Capabilities::ALL);
//! graph.register(&alice, "alice").await?;
//! graph.register(&alice, "120363012345678901@newsletter").await?;
//! let applied = graph.follow(&alice, "alice", "120363012345678901@newsletter").await?;
//! assert!(applied.is_changed());
//! ```
//! (Runnable in `follow-store-memory`'s documentation, which has a store.)

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod command;
mod cursor;
mod edge;
mod error;
mod event;
pub mod feed;
mod graph;
mod id;
mod link;
pub mod machine;
mod options;
mod page;
mod rate;
mod relationship;
mod store;
pub mod stored;
mod time;
pub mod write;

pub use auth::{Capabilities, Capability, Principal, Role};
pub use command::{Applied, Command, CommandResult, Outcome, WriteBatch};
pub use edge::{CountDelta, Counts, Edge, Relation};
pub use error::{Error, ErrorKind};
pub use event::{Event, EventKind, EventPosition, NewEvent};
pub use graph::{
    DEFAULT_BATCH_LIMIT, DEFAULT_IMPORT_LIMIT, DEFAULT_READ_BATCH_LIMIT, FollowGraph,
    FollowGraphBuilder, HISTORY_SCAN_LIMIT, ImportEdge, ItemResult, MAX_ACTIVITY_AHEAD,
    REMOVAL_CHUNK,
};
pub use id::{AccountId, ChannelId, MAX_ID_BYTES, NodeId, NodeKind, TenantId};
pub use link::{Link, LinkKey, LinkKind, LinkPair};
pub use options::{FollowOptions, Languages, OptionsUpdate};
pub use page::{DEFAULT_PAGE_LIMIT, MAX_EVENT_LIMIT, MAX_PAGE_LIMIT, Page, PageRequest};
pub use rate::RateLimit;
pub use relationship::{Delivery, DeliveryEntry, Relationship, ViewedEntry};
pub use store::{
    FollowStore, LinkDirection, LinkEntry, LinkQuery, ListEntry, ListKind, ListPosition, ListQuery,
    NodeRecord, PairFacts, StaleEntry, StaleQuery,
};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
