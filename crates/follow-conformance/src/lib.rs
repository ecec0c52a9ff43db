//! # follow-conformance
//!
//! The contract of [`follow_core::FollowStore`], as one documented
//! `pub async fn` per rule in [`cases`], grouped by the store method the
//! rule is about, plus model-based property tests ([`model`]) that drive
//! random command sequences against a plain reference model.
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
//! #[async_trait::async_trait]
//! impl StoreFactory for Factory {
//!     async fn create(&self) -> Arc<dyn FollowStore> {
//!         Arc::new(my_store::MyStore::new())
//!     }
//!     async fn create_failing_after(&self, rows: usize) -> Option<Arc<dyn FollowStore>> {
//!         Some(Arc::new(my_store::MyStore::failing_commits_after(rows)))
//!     }
//!     async fn dispose(&self, _store: Arc<dyn FollowStore>) {}
//! }
//!
//! follow_conformance::suite!(Factory);
//! ```
//!
//! The macro expands to a module `conformance` with one module per store
//! method (`conformance::write`, `conformance::list`, …) holding one
//! `#[test]` per rule, each on a fresh store from the factory, disposed of
//! afterwards whether the case passed or not. A failure names the store
//! method, the rule and the store. The case list is written once, in
//! [`__cases!`]; a test of this crate checks that every case is in it.
//!
//! A rule that does not apply to an adapter is declared in the call, with
//! its reason, and shows as ignored with that reason, never as a pass:
//!
//! ```ignore
//! follow_conformance::suite!(Factory, not_applicable: {
//!     a_failed_commit_leaves_nothing_visible: "commits cannot be made to fail part-way",
//! });
//! ```
//!
//! Property tests honour `PROPTEST_CASES` and keep their regressions in the
//! adapter's `tests/conformance.proptest-regressions`; commit that file.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use follow_core::FollowStore;
use futures::FutureExt;

pub mod cases;
pub mod fixture;
pub mod model;

/// Makes isolated stores for the suite: one per case, disposed of after it.
#[async_trait]
pub trait StoreFactory: Default + Send + Sync + 'static {
    /// A fresh, empty store that shares nothing with any other store this
    /// factory made (a networked adapter: its own database or schema).
    async fn create(&self) -> Arc<dyn FollowStore>;

    /// A fresh, empty store whose every commit fails with a storage error
    /// (`unavailable` or `storage_failure`) after writing `rows` rows of its
    /// change set, for the rollback cases; `None` if the adapter cannot
    /// inject such faults (declare those cases `not_applicable` then).
    async fn create_failing_after(&self, rows: usize) -> Option<Arc<dyn FollowStore>>;

    /// Releases what [`Self::create`] set up for `store` (a file, a
    /// database). Called after every case, whether it passed or not.
    async fn dispose(&self, store: Arc<dyn FollowStore>);
}

/// The longest a case may run before it fails (a store that never answers
/// must not hang the suite). Loops over a store's answers are bounded in
/// the cases themselves, since a store that answers without yielding never
/// lets a timer fire.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// What a case is about, for its failure message.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct CaseName {
    /// The store method the rule is about.
    pub method: &'static str,
    /// The rule, as the case's function name.
    pub rule: &'static str,
}

/// Runs one case on a fresh store from `F`, on a current-thread runtime
/// (`multi`: four worker threads), disposes of the store, and fails with a
/// message naming the method, the rule and the store.
#[doc(hidden)]
pub fn run<F, Fut>(name: CaseName, multi: bool, case: impl FnOnce(Arc<dyn FollowStore>) -> Fut)
where
    F: StoreFactory,
    Fut: Future<Output = ()>,
{
    run_with::<F, _, _>(name, multi, |factory| async move {
        let store = factory.create().await;
        let shown = store.to_string();
        let outcome = AssertUnwindSafe(case(store.clone())).catch_unwind().await;
        factory.dispose(store).await;
        (shown, outcome)
    });
}

/// Runs a case that makes its own stores from the factory.
#[doc(hidden)]
pub fn run_factory<F, Fut>(name: CaseName, case: impl FnOnce(Arc<F>) -> Fut)
where
    F: StoreFactory,
    Fut: Future<Output = ()>,
{
    run_with::<F, _, _>(name, false, |factory| async move {
        let outcome = AssertUnwindSafe(case(factory)).catch_unwind().await;
        (std::any::type_name::<F>().to_owned(), outcome)
    });
}

type Outcome = (String, std::thread::Result<()>);

fn run_with<F, G, Fut>(name: CaseName, multi: bool, body: G)
where
    F: StoreFactory,
    G: FnOnce(Arc<F>) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let runtime = if multi {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .expect("a tokio runtime");
    let factory = Arc::new(F::default());
    let result =
        runtime.block_on(async { tokio::time::timeout(CASE_TIMEOUT, body(factory)).await });
    let (store, outcome) = match result {
        Ok(done) => done,
        Err(_) => panic!(
            "store method `{}`, rule `{}`: no answer within {CASE_TIMEOUT:?}",
            name.method, name.rule
        ),
    };
    if let Err(panic) = outcome {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        panic!(
            "store method `{}`, rule `{}`, store {store}:\n{message}",
            name.method, name.rule
        );
    }
}

/// Expands to a module `conformance` with one `#[test]` per rule of the
/// suite, for the [`StoreFactory`] type `$factory`; see the crate docs.
#[macro_export]
macro_rules! suite {
    ($factory:ty $(,)?) => {
        $crate::suite!($factory, not_applicable: {});
    };
    ($factory:ty, not_applicable: { $($skip:ident : $reason:literal),* $(,)? } $(,)?) => {
        $crate::__suite!(($) $factory; [$($skip : $reason),*]);
    };
}

/// The expansion of [`suite!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite {
    (($d:tt) $factory:ty; [$($skip:ident : $reason:literal),*]) => {
        /// The `follow-conformance` suite for this adapter.
        #[allow(unused_imports)]
        mod conformance {
            use super::*;

            macro_rules! __case {
                $(
                    ($d kind:ident $d method:ident $skip) => {
                        #[test]
                        #[ignore = $reason]
                        fn $skip() {}
                    };
                )*
                (current $d method:ident $d rule:ident) => {
                    #[test]
                    fn $d rule() {
                        $crate::run::<$factory, _>(
                            $crate::CaseName { method: stringify!($d method), rule: stringify!($d rule) },
                            false,
                            $crate::cases::$d method::$d rule,
                        );
                    }
                };
                (multi $d method:ident $d rule:ident) => {
                    #[test]
                    fn $d rule() {
                        $crate::run::<$factory, _>(
                            $crate::CaseName { method: stringify!($d method), rule: stringify!($d rule) },
                            true,
                            $crate::cases::$d method::$d rule,
                        );
                    }
                };
                (factory $d method:ident $d rule:ident) => {
                    #[test]
                    fn $d rule() {
                        $crate::run_factory::<$factory, _>(
                            $crate::CaseName { method: stringify!($d method), rule: stringify!($d rule) },
                            $crate::cases::$d method::$d rule::<$factory>,
                        );
                    }
                };
                (model $d method:ident $d rule:ident) => {
                    #[test]
                    fn $d rule() {
                        $crate::model::$d rule::<$factory>(
                            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance.proptest-regressions"),
                        );
                    }
                };
            }

            $crate::__cases!(__case);
        }
    };
}

/// The one list of cases: `kind method rule`, where `kind` says how a case
/// runs (`current`: a current-thread runtime; `multi`: four worker
/// threads; `factory`: the case makes its own stores; `model`: a property
/// test) and `method` is the module of [`cases`] (the store method the rule
/// is about). Calls `$case!(kind method rule)` for each, inside one module
/// per method.
#[doc(hidden)]
#[macro_export]
macro_rules! __cases {
    ($case:ident) => {
        pub mod write {
            use super::*;
            $case!(current write follow_absent_creates_unmuted_edge);
            $case!(current write follow_present_is_unchanged_and_keeps_mute);
            $case!(current write unfollow_absent_is_unchanged);
            $case!(current write unfollow_present_removes_edge);
            $case!(current write set_mute_absent_is_not_following);
            $case!(current write set_mute_same_value_is_unchanged);
            $case!(current write unmute_clears_the_flag);
            $case!(current write remove_follower_absent_is_unchanged);
            $case!(current write remove_follower_present_removes_edge);
            $case!(current write refollow_after_remove_follower_is_allowed);
            $case!(current write refollow_after_unfollow_starts_a_new_edge);
            $case!(current write second_application_is_unchanged_without_event);
            $case!(current write register_and_remove_are_idempotent);
            $case!(current write batch_duplicates_second_is_unchanged);
            $case!(current write batch_mixed_item_errors_in_request_order);
            $case!(current write batch_unknown_actor_is_not_found_and_changes_nothing);
            $case!(current write unfollow_many_applies_per_target);
            $case!(current write self_follow_is_invalid);
            $case!(current write unknown_nodes_are_not_found);
            $case!(current write other_tenants_node_is_not_found);
            $case!(current write tenants_are_isolated);
            $case!(current write node_removal_cascades_edges_counts_and_events);
            $case!(current write removal_of_a_node_with_more_edges_than_a_chunk);
            $case!(current write counts_equal_edges_after_operations);
            $case!(current write mutual_since_is_the_later_follow);
            $case!(current write import_registers_nodes_keeps_since_and_mute);
            $case!(current write write_answers_one_result_per_command_in_order);
            $case!(current write a_failing_decision_commits_nothing);
            $case!(factory write a_failed_commit_leaves_nothing_visible);
            $case!(multi write concurrent_follows_keep_counts_equal_to_edges);
            $case!(multi write concurrent_follows_of_each_other_keep_mutual_marks);
        }
        pub mod node {
            use super::*;
            $case!(current node node_answers_registration_activity_and_counts);
            $case!(current node node_of_another_tenant_or_unknown_is_none);
        }
        pub mod pairs {
            use super::*;
            $case!(current pairs relation_is_consistent_both_ways);
            $case!(current pairs check_many_answers_relations_in_request_order);
            $case!(current pairs interaction_guard_requires_following);
            $case!(current pairs pairs_answer_each_other_in_order_with_duplicates);
            $case!(current pairs pairs_of_an_unknown_subject_is_none);
        }
        pub mod list {
            use super::*;
            $case!(current list full_walk_returns_every_item_once_in_order);
            $case!(current list cursor_is_exclusive);
            $case!(current list walk_survives_changes_between_pages);
            $case!(current list followers_carry_the_muted_flag_for_delivery);
            $case!(current list unfollow_stops_delivery);
            $case!(current list mutuals_carry_the_subjects_own_mute_flag);
            $case!(current list list_answers_at_most_limit_items);
            $case!(current list list_of_an_unknown_subject_is_none);
        }
        pub mod stale_following {
            use super::*;
            $case!(current stale_following touch_and_stale_following_audit);
            $case!(current stale_following stale_following_pages_are_exclusive_and_limited);
        }
        pub mod nodes {
            use super::*;
            $case!(current nodes nodes_walk_lists_every_node_once_in_order);
            $case!(current nodes nodes_answers_at_most_limit_in_id_order);
        }
        pub mod events_after {
            use super::*;
            $case!(current events_after events_read_back_in_order_equal_the_changes);
            $case!(current events_after events_after_position_is_exclusive);
            $case!(current events_after positions_start_at_one_and_are_global_to_the_store);
            $case!(current events_after events_after_answers_at_most_limit);
            $case!(multi events_after a_tailing_reader_never_skips_or_repeats_a_position);
        }
        pub mod model {
            use super::*;
            $case!(model model model_matches_reference);
            $case!(model model commands_applied_twice_are_idempotent);
        }
        pub mod cursor_secret {
            use super::*;
            $case!(current cursor_secret cursor_secret_is_the_stores_own_and_signs_cursors_by_default);
            $case!(factory cursor_secret each_store_has_its_own_cursor_secret);
        }
    };
}
