//! # follow-conformance
//!
//! The contract of [`follow_core::FollowStore`], as one documented
//! `pub async fn` per rule in [`mod@cases`], grouped by the store method the
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
//! A second run of the suite on a slower variant of an adapter (the same
//! code on another schema layout, say) may cap the property tests' default
//! number of cases (a literal above 0, after `not_applicable` when both are
//! given), which `PROPTEST_CASES` still overrides:
//!
//! ```ignore
//! follow_conformance::suite!(Partitioned, model_cases: 8);
//! ```

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
mod feed_model;
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
    ($factory:ty $(, model_cases: $cases:literal)? $(,)?) => {
        $crate::__suite!(
            ($) $factory; [];
            ::core::option::Option::<u32>::None $(.or(::core::option::Option::Some($cases)))?
        );
    };
    (
        $factory:ty,
        not_applicable: { $($skip:ident : $reason:literal),* $(,)? }
        $(, model_cases: $cases:literal)? $(,)?
    ) => {
        $crate::__suite!(
            ($) $factory; [$($skip : $reason),*];
            ::core::option::Option::<u32>::None $(.or(::core::option::Option::Some($cases)))?
        );
    };
}

/// The expansion of [`suite!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __suite {
    (($d:tt) $factory:ty; [$($skip:ident : $reason:literal),*]; $model_cases:expr) => {
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
                            $model_cases,
                        );
                    }
                };
            }

            macro_rules! __modules {
                ($d($d method:ident : [$d($d kind:ident $d rule:ident),* $d(,)?]),* $d(,)?) => {
                    $d(
                        pub mod $d method {
                            use super::*;
                            $d(__case!($d kind $d method $d rule);)*
                        }
                    )*
                };
            }

            $crate::__cases!(__modules);
        }
    };
}

/// Every case of the suite but the property tests, for the factory `F`, as
/// its name and a function that runs it (panicking on failure): for
/// measuring the suite against deliberately broken stores.
pub fn cases<F: StoreFactory>() -> Vec<(CaseName, fn())> {
    macro_rules! __one {
        (current $method:ident $rule:ident) => {
            (|| {
                run::<F, _>(
                    CaseName {
                        method: stringify!($method),
                        rule: stringify!($rule),
                    },
                    false,
                    cases::$method::$rule,
                )
            }) as fn()
        };
        (multi $method:ident $rule:ident) => {
            (|| {
                run::<F, _>(
                    CaseName {
                        method: stringify!($method),
                        rule: stringify!($rule),
                    },
                    true,
                    cases::$method::$rule,
                )
            }) as fn()
        };
        (factory $method:ident $rule:ident) => {
            (|| {
                run_factory::<F, _>(
                    CaseName {
                        method: stringify!($method),
                        rule: stringify!($rule),
                    },
                    cases::$method::$rule::<F>,
                )
            }) as fn()
        };
    }
    macro_rules! __all {
        ($($method:ident : [$($kind:ident $rule:ident),* $(,)?]),* $(,)?) => {{
            let mut all: Vec<(CaseName, fn())> = Vec::new();
            $($(__each!(all, $kind $method $rule);)*)*
            all
        }};
    }
    macro_rules! __each {
        ($all:ident, model $method:ident $rule:ident) => {};
        ($all:ident, $kind:ident $method:ident $rule:ident) => {
            $all.push((
                CaseName { method: stringify!($method), rule: stringify!($rule) },
                __one!($kind $method $rule),
            ));
        };
    }
    crate::__cases!(__all)
}

/// The one list of cases, by store method: `kind rule`, where `kind` says
/// how a case runs (`current`: a current-thread runtime; `multi`: four
/// worker threads; `factory`: the case makes its own stores; `model`: a
/// property test) and the method is the module of [`cases`] the rule is
/// in. Hands the whole table to `$callback!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __cases {
    ($callback:ident) => {
        $callback! {
            write: [
                current follow_absent_creates_unmuted_edge,
                current follow_present_is_unchanged_and_keeps_mute,
                current unfollow_absent_is_unchanged,
                current unfollow_present_removes_edge,
                current set_mute_true_on_absent_edge_is_not_following,
                current set_mute_same_value_is_unchanged,
                current unmute_clears_the_flag,
                current remove_follower_absent_is_unchanged,
                current remove_follower_present_removes_edge,
                current refollow_after_remove_follower_is_allowed,
                current refollow_after_unfollow_starts_a_new_edge,
                current second_application_is_unchanged_without_event,
                current register_and_remove_are_idempotent,
                current batch_duplicates_second_is_unchanged,
                current batch_mixed_item_errors_in_request_order,
                current batch_unknown_actor_is_not_found_and_changes_nothing,
                current unfollow_many_applies_per_target,
                current self_follow_is_invalid,
                current unknown_nodes_are_not_found,
                current other_tenants_node_is_not_found,
                current tenants_are_isolated,
                current node_removal_cascades_edges_counts_and_events,
                current removal_of_a_node_with_more_edges_than_a_chunk,
                current counts_equal_edges_after_operations,
                current mutual_since_is_the_later_follow,
                current import_registers_nodes_keeps_since_and_mute,
                current import_writes_the_events_of_the_same_follows,
                current write_answers_one_result_per_command_in_order,
                current a_failing_decision_commits_nothing,
                factory a_failed_commit_leaves_nothing_visible,
                multi concurrent_follows_keep_counts_equal_to_edges,
                multi concurrent_follows_of_each_other_keep_mutual_marks,
                current block_severs_follows_both_ways,
                current block_rejects_pending_requests_both_ways,
                current follow_across_a_block_is_forbidden,
                current unblock_restores_nothing,
                current mute_account_set_semantics_and_expiry,
                current expired_mute_is_deleted_lazily_and_uncounted,
                current follow_of_a_locked_account_is_a_request,
                current follow_again_while_requested_updates_request_options,
                current unfollow_withdraws_a_request,
                current authorize_makes_the_follow_with_the_request_options,
                current reject_and_authorize_are_idempotent,
                current a_follow_of_an_unlocked_account_replaces_its_pending_request,
                current follow_options_update_only_what_is_named,
                current set_mute_false_on_absent_edge_is_unchanged,
                current link_commands_on_oneself_are_invalid_and_on_unknown_accounts_not_found,
                current link_counts_equal_links,
                factory a_failed_commit_with_links_leaves_nothing_visible,
                current a_node_with_links_is_not_removed,
                current drop_link_ends_any_link_with_its_event,
                multi concurrent_link_commands_keep_counts_and_blocks_consistent,
            ],
            node: [
                current node_answers_registration_activity_and_counts,
                current node_of_another_tenant_or_unknown_is_none,
                current node_answers_locked_and_links,
            ],
            pairs: [
                current relation_is_consistent_both_ways,
                current check_many_answers_relations_in_request_order,
                current interaction_guard_requires_following,
                current pairs_answer_each_other_in_order_with_duplicates,
                current pairs_of_an_unknown_subject_is_none,
            ],
            list: [
                current full_walk_returns_every_item_once_in_order,
                current cursor_is_exclusive,
                current walk_survives_changes_between_pages,
                current followers_carry_the_muted_flag_for_delivery,
                current unfollow_stops_delivery,
                current mutuals_carry_the_subjects_own_mute_flag,
                current list_answers_at_most_limit_items,
                current list_of_an_unknown_subject_is_none,
                current items_carry_the_options_of_the_edge_the_list_is_about,
            ],
            links: [
                current links_between_answers_both_ways_once,
                current links_of_an_unknown_subject_is_none,
                current links_walk_in_order_exclusive_and_limited,
            ],
            stale_following: [
                current touch_and_stale_following_audit,
                current stale_following_pages_are_exclusive_and_limited,
            ],
            nodes: [
                current nodes_walk_lists_every_node_once_in_order,
                current nodes_answers_at_most_limit_in_id_order,
            ],
            events_after: [
                current events_read_back_in_order_equal_the_changes,
                current events_after_position_is_exclusive,
                current positions_are_positive_and_global_to_the_store,
                current events_after_answers_at_most_limit,
                multi a_tailing_reader_never_skips_or_repeats_a_position,
            ],
            consumers: [
                current a_consumer_resumes_exactly_after_its_last_acknowledgement,
                current consumers_read_and_acknowledge_independently,
                current acknowledge_is_monotonic_and_bounded_by_the_last_event,
                multi concurrent_acknowledgements_keep_the_highest,
                current prune_never_removes_unacknowledged_or_recent_events,
                current prune_is_bounded_and_removes_a_prefix,
                current prune_leaves_positions_and_other_data_unchanged,
                current a_consumer_behind_a_time_limit_is_told_what_it_lost,
                current history_answers_since_a_time_in_pages,
            ],
            cursor_secret: [
                current cursor_secret_is_the_stores_own_and_signs_cursors_by_default,
                factory each_store_has_its_own_cursor_secret,
            ],
            model: [
                model model_matches_reference,
                model commands_applied_twice_are_idempotent,
                model feed_matches_reference,
            ],
        }
    };
}
