//! # follow-conformance
//!
//! The behaviour every storage adapter of the follow graph must show, as one
//! documented `pub async fn` per rule in [`cases`], plus model-based property
//! tests ([`model`]) that drive random command sequences against a plain
//! reference model.
//!
//! An adapter runs all of it with one macro call in its `tests/`:
//!
//! ```ignore
//! use std::sync::Arc;
//! use follow_conformance::StoreFactory;
//! use follow_core::FollowStore;
//!
//! #[derive(Default)]
//! struct Factory;
//!
//! impl StoreFactory for Factory {
//!     fn create(&self) -> Arc<dyn FollowStore> {
//!         Arc::new(my_store::MyStore::new())
//!     }
//! }
//!
//! follow_conformance::suite!(Factory);
//! ```
//!
//! The macro expands to a module `conformance` holding one `#[test]` per
//! rule, named after the rule, each with a fresh store from the factory, so a
//! failure names the rule that broke. The list of cases is written once, in
//! [`suite!`]; none can be forgotten by an adapter.
//!
//! Property tests honour `PROPTEST_CASES` and keep their regressions in the
//! adapter's `tests/conformance.proptest-regressions`; commit that file.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::future::Future;
use std::sync::Arc;

use follow_core::FollowStore;

pub mod cases;
pub mod fixture;
pub mod model;

/// Makes fresh, empty stores for the suite: one per case.
pub trait StoreFactory: Default + Send + Sync + 'static {
    /// A fresh, empty store.
    fn create(&self) -> Arc<dyn FollowStore>;
}

/// Runs one case on a fresh store from `F`, on a current-thread runtime.
#[doc(hidden)]
pub fn run_current<F, Fut>(case: impl FnOnce(Arc<dyn FollowStore>) -> Fut)
where
    F: StoreFactory,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let store = F::default().create();
    runtime.block_on(case(store));
}

/// Runs one case on a fresh store from `F`, on a multi-thread runtime (for
/// the concurrency cases).
#[doc(hidden)]
pub fn run_multi<F, Fut>(case: impl FnOnce(Arc<dyn FollowStore>) -> Fut)
where
    F: StoreFactory,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let store = F::default().create();
    runtime.block_on(case(store));
}

/// Expands to a module `conformance` with one `#[test]` per rule of the
/// suite, for the [`StoreFactory`] type `$factory`.
///
/// This is the single table of cases: a case added to [`cases`] is added
/// here, and every adapter then runs it.
#[macro_export]
macro_rules! suite {
    ($factory:ty) => {
        $crate::__suite! {
            $factory;
            current: [
                follow_absent_creates_unmuted_edge,
                follow_present_is_unchanged_and_keeps_mute,
                unfollow_absent_is_unchanged,
                unfollow_present_removes_edge,
                set_mute_absent_is_not_following,
                set_mute_same_value_is_unchanged,
                mute_defaults_to_true,
                unmute_clears_the_flag,
                remove_follower_absent_is_unchanged,
                remove_follower_present_removes_edge,
                refollow_after_remove_follower_is_allowed,
                refollow_after_unfollow_starts_a_new_edge,
                second_application_is_unchanged_without_event,
                register_and_remove_are_idempotent,
                batch_empty_is_invalid_and_changes_nothing,
                batch_over_limit_is_invalid_and_changes_nothing,
                batch_duplicates_second_is_unchanged,
                batch_mixed_item_errors_in_request_order,
                batch_unknown_actor_is_not_found_and_changes_nothing,
                unfollow_many_applies_per_target,
                check_many_answers_relations_in_request_order,
                every_error_code_is_reachable,
                rate_limited_after_burst_until_refill,
                no_principal_is_unauthenticated,
                missing_capability_is_forbidden_before_lookup,
                bound_principal_cannot_act_for_another_account,
                other_tenants_node_is_not_found,
                tenants_are_isolated,
                channel_as_follower_is_invalid,
                self_follow_is_invalid,
                bad_ids_are_invalid,
                page_limits_out_of_range_are_invalid,
                unknown_nodes_are_not_found,
                node_removal_cascades_edges_counts_and_events,
                counts_equal_edges_after_operations,
                relation_is_consistent_both_ways,
                mutual_since_is_the_later_follow,
                full_walk_returns_every_item_once_in_order,
                cursor_is_exclusive,
                walk_survives_changes_between_pages,
                tampered_cursor_is_invalid,
                cursor_from_another_list_is_invalid,
                cursor_for_another_subject_is_invalid,
                cursor_from_another_tenant_is_invalid,
                nodes_walk_lists_every_node_once_in_order,
                import_registers_nodes_keeps_since_and_mute,
                arbitrary_cursor_strings_never_panic,
                followers_carry_the_muted_flag_for_delivery,
                unfollow_stops_delivery,
                interaction_guard_requires_following,
                touch_and_stale_following_audit,
                events_read_back_in_order_equal_the_changes,
                events_after_position_is_exclusive,
                cursor_secret_is_the_stores_own_and_signs_cursors_by_default,
            ]
            multi: [
                concurrent_follows_keep_counts_equal_to_edges,
            ]
        }
    };
}

/// The expansion of [`suite!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite {
    ($factory:ty; current: [$($current:ident),* $(,)?] multi: [$($multi:ident),* $(,)?]) => {
        /// The `follow-conformance` suite for this adapter.
        #[allow(unused_imports)]
        mod conformance {
            use super::*;

            $(
                #[test]
                fn $current() {
                    $crate::run_current::<$factory, _>($crate::cases::$current);
                }
            )*

            $(
                #[test]
                fn $multi() {
                    $crate::run_multi::<$factory, _>($crate::cases::$multi);
                }
            )*

            #[test]
            fn model_matches_reference() {
                $crate::model::model_matches_reference::<$factory>(
                    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance.proptest-regressions"),
                );
            }

            #[test]
            fn commands_applied_twice_are_idempotent() {
                $crate::model::commands_applied_twice_are_idempotent::<$factory>(
                    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance.proptest-regressions"),
                );
            }
        }
    };
}
