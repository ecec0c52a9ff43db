//! The contract of [`follow_core::FollowStore`]: one documented
//! `pub async fn` per rule, in one module per store method.
//!
//! Each case takes a fresh, empty store (or, for the rollback cases, the
//! factory) and panics when the store breaks the rule; [`crate::suite!`]
//! turns each into a `#[test]` of the same name, and its failure names the
//! method and the rule. Cases drive the public facade
//! ([`follow_core::FollowGraph`]) with a manual clock where the rule is
//! about behaviour a host sees, and call the store directly where the rule
//! is about the store's own contract (limits, positions, `None` answers)
//! or about what one command does to the rows (the link, request and
//! option rules, written as [`crate::fixture::commands`] batches through
//! [`crate::fixture::Direct`] at the times the case names).
//! Every loop over a store's answers is bounded, so a store that never
//! advances fails instead of hanging the suite.

pub mod consumers;
pub mod cursor_secret;
pub mod events_after;
pub mod links;
pub mod list;
pub mod node;
pub mod nodes;
pub mod pairs;
pub mod stale_following;
pub mod write;

/// What every case module uses.
mod prelude {
    pub(crate) use std::collections::{BTreeMap, BTreeSet};
    pub(crate) use std::sync::Arc;

    pub(crate) use follow_core::{
        AccountId, Command, ErrorKind, EventKind, EventPosition, FollowStore, ListEntry, ListKind,
        ListQuery, NodeId, Outcome, PageRequest, Relation, StaleQuery, TenantId, Timestamp,
        WriteBatch,
    };

    pub(crate) use crate::fixture::{CHANNEL, Fixture, at, kind, node, paging_graph};

    /// What the cases of links, follow requests and follow options use.
    pub(crate) mod links {
        pub(crate) use follow_core::{
            FollowOptions, Languages, Link, LinkDirection, LinkEntry, LinkKey, LinkKind, LinkQuery,
            OptionsUpdate,
        };

        pub(crate) use crate::fixture::commands::*;
        pub(crate) use crate::fixture::{
            Direct, UNCHANGED, account, changed, link_key, options, requested, seen,
        };
    }

    pub(crate) type Store = Arc<dyn FollowStore>;
}
