//! The schema hash-partitioned by tenant, as Citus distributes it: the
//! shared suite runs on it, and the plan of every statement a write batch
//! or a read sends touches one partition only, which is what lets Citus
//! route a transaction to one node.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use follow_conformance::StoreFactory;
use follow_core::{
    AccountId, Capabilities, FollowGraph, FollowStore, ImportEdge, ListKind, ManualClock, NodeId,
    Outcome, PageRequest, Principal, TenantId, Timestamp,
};
use follow_store_postgres::testing::{isolated_store, recycle_isolated};
use follow_store_postgres::{Layout, PostgresOptions, PostgresStore};

use common::{Proxy, schema};

const PARTITIONS: u16 = 4;

fn partitioned() -> PostgresOptions {
    PostgresOptions {
        layout: Layout::HashPartitioned(PARTITIONS),
        ..PostgresOptions::default()
    }
}

#[derive(Default)]
struct Partitioned;

#[async_trait::async_trait]
impl StoreFactory for Partitioned {
    async fn create(&self) -> Arc<dyn FollowStore> {
        let store = isolated_store(partitioned()).await;
        Arc::new(store.unwrap_or_else(|e| panic!("{e}")))
    }

    async fn create_failing_after(&self, rows: usize) -> Option<Arc<dyn FollowStore>> {
        let options = PostgresOptions {
            fail_commits_after: Some(rows),
            ..partitioned()
        };
        let store = isolated_store(options).await;
        Some(Arc::new(store.unwrap_or_else(|e| panic!("{e}"))))
    }

    async fn dispose(&self, store: Arc<dyn FollowStore>) {
        recycle_isolated(&store)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

// The property tests run their full default number of cases on the plain
// layout (`tests/conformance.rs`), through the same adapter code. Here only
// the tables' layout differs and every read costs more planning, so at most
// 8 cases each keep CI's time (`PROPTEST_CASES` still sets any number).
follow_conformance::suite!(Partitioned, model_cases: 8);

/// The partitions (their numbers) a plan names.
fn partitions_in(plan: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for table in [
        "follow_nodes_p",
        "follow_node_deltas_p",
        "follow_edges_p",
        "follow_links_p",
        "follow_events_p",
    ] {
        let mut rest = plan;
        while let Some(at) = rest.find(table) {
            rest = &rest[at + table.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                out.insert(digits);
            }
        }
    }
    out
}

/// Checks the plans the server reported since the last call: each names
/// at most one partition, the same one for every statement of the tenant.
fn check_plans(proxy: &Proxy, what: &str, home: &mut Option<String>) -> usize {
    let plans = proxy.take_notices();
    assert!(
        !plans.is_empty(),
        "{what}: the server explained no statement"
    );
    let mut named = 0;
    for plan in &plans {
        let parts = partitions_in(plan);
        assert!(
            parts.len() <= 1,
            "{what}: a statement touches partitions {parts:?}:\n{plan}"
        );
        if let Some(part) = parts.into_iter().next() {
            named += 1;
            let home = home.get_or_insert_with(|| part.clone());
            assert_eq!(
                *home, part,
                "{what}: another partition than the tenant's:\n{plan}"
            );
        }
    }
    named
}

#[tokio::test]
async fn every_statement_of_writes_and_reads_touches_one_partition() {
    let proxy = Proxy::start().await;
    // Every plan the session runs comes back as a notice, as the executor
    // ran it (after partition pruning at plan or at executor start).
    let explain = "-c session_preload_libraries=auto_explain \
                   -c auto_explain.log_min_duration=0 -c auto_explain.log_level=notice";
    let store = PostgresStore::connect_config(
        proxy.config(explain),
        PostgresOptions {
            schema: Some(schema()),
            max_connections: 1,
            event_visibility_wait: follow_store_postgres::testing::TEST_VISIBILITY_WAIT,
            ..partitioned()
        },
    )
    .await
    .unwrap();
    let store = Arc::new(store);
    let clock = Arc::new(ManualClock::new(
        Timestamp::from_unix_seconds(1_800_000_000).unwrap(),
    ));
    let graph = FollowGraph::builder(store.clone())
        .clock(clock.clone())
        .build();
    let mut named = 0;
    for tenant in ["acme", "globex", "initech"] {
        let admin = Principal::new(TenantId::new(tenant).unwrap(), Capabilities::ALL);
        let mut home = None;
        let channel = "120363012345678901@newsletter";
        for id in ["alice", "bob", "carol", "dave", channel] {
            graph.register(&admin, id).await.unwrap();
        }
        proxy.take_notices();

        graph
            .follow_many(&admin, "alice", &["bob", "carol", "dave", channel])
            .await
            .unwrap();
        named += check_plans(&proxy, "follow_many", &mut home);
        graph.follow(&admin, "bob", "alice").await.unwrap();
        named += check_plans(&proxy, "follow back", &mut home);
        graph.mute(&admin, "alice", channel).await.unwrap();
        named += check_plans(&proxy, "mute", &mut home);
        graph.unfollow(&admin, "alice", "dave").await.unwrap();
        named += check_plans(&proxy, "unfollow", &mut home);
        graph
            .remove_follower(&admin, "carol", "alice")
            .await
            .unwrap();
        named += check_plans(&proxy, "remove_follower", &mut home);
        clock.advance(std::time::Duration::from_secs(60));
        graph.touch(&admin, "bob", None).await.unwrap();
        named += check_plans(&proxy, "touch", &mut home);
        let import = [ImportEdge::new(
            AccountId::new("erin").unwrap(),
            NodeId::new("frank").unwrap(),
        )];
        graph.import(&admin, &import).await.unwrap();
        named += check_plans(&proxy, "import", &mut home);
        let hour = Some(std::time::Duration::from_secs(3600));
        graph
            .mute_account(&admin, "alice", "bob", Some(false), hour)
            .await
            .unwrap();
        named += check_plans(&proxy, "mute_account", &mut home);
        graph.block(&admin, "bob", "dave").await.unwrap();
        named += check_plans(&proxy, "block", &mut home);
        graph.set_locked(&admin, "carol", true).await.unwrap();
        named += check_plans(&proxy, "set_locked", &mut home);
        for follower in ["dave", "frank"] {
            let asked = graph.follow(&admin, follower, "carol").await.unwrap();
            assert_eq!(asked.outcome, Outcome::Requested);
            named += check_plans(&proxy, "follow request", &mut home);
        }
        graph
            .authorize_request(&admin, "carol", "dave")
            .await
            .unwrap();
        named += check_plans(&proxy, "authorize_request", &mut home);
        graph
            .reject_request(&admin, "carol", "frank")
            .await
            .unwrap();
        named += check_plans(&proxy, "reject_request", &mut home);
        graph.follow(&admin, "erin", "carol").await.unwrap();
        graph.follow(&admin, "bob", "carol").await.unwrap();
        graph
            .mute_account(&admin, "erin", "bob", None, None)
            .await
            .unwrap();
        proxy.take_notices();
        graph.remove(&admin, "bob").await.unwrap();
        named += check_plans(&proxy, "remove (cascade of edges and links)", &mut home);
        graph.block(&admin, "alice", "frank").await.unwrap();
        graph.block(&admin, "alice", "erin").await.unwrap();
        graph.unblock(&admin, "alice", "erin").await.unwrap();
        named += check_plans(&proxy, "unblock", &mut home);
        graph.unmute_account(&admin, "erin", "alice").await.unwrap();
        named += check_plans(&proxy, "unmute_account of none", &mut home);
        graph.block(&admin, "alice", "erin").await.unwrap();
        proxy.take_notices();
        graph.follow(&admin, "carol", "alice").await.unwrap();
        graph.follow(&admin, "alice", "carol").await.unwrap();
        proxy.take_notices();

        graph.relation(&admin, "alice", "carol").await.unwrap();
        named += check_plans(&proxy, "relation", &mut home);
        graph
            .check_many(&admin, "alice", &["carol", "dave", channel])
            .await
            .unwrap();
        named += check_plans(&proxy, "check_many", &mut home);
        graph.counts(&admin, "alice").await.unwrap();
        named += check_plans(&proxy, "counts", &mut home);
        let first = PageRequest::first().with_limit(1);
        for list in 0..3 {
            let page = match list {
                0 => graph.following(&admin, "alice", &first).await.unwrap(),
                1 => graph.followers(&admin, "alice", &first).await.unwrap(),
                _ => graph.mutuals(&admin, "alice", &first).await.unwrap(),
            };
            named += check_plans(&proxy, "a list's first page", &mut home);
            if let Some(cursor) = page.next_cursor {
                let next = PageRequest::after(cursor).with_limit(1);
                match list {
                    0 => graph.following(&admin, "alice", &next).await.unwrap(),
                    1 => graph.followers(&admin, "alice", &next).await.unwrap(),
                    _ => graph.mutuals(&admin, "alice", &next).await.unwrap(),
                };
                named += check_plans(&proxy, "a list's next page", &mut home);
            }
        }
        let later = Timestamp::from_unix_seconds(1_900_000_000).unwrap();
        let stale = graph
            .stale_following(&admin, "alice", later, &first)
            .await
            .unwrap();
        named += check_plans(&proxy, "stale_following", &mut home);
        if let Some(cursor) = stale.next_cursor {
            graph
                .stale_following(
                    &admin,
                    "alice",
                    later,
                    &PageRequest::after(cursor).with_limit(1),
                )
                .await
                .unwrap();
            named += check_plans(&proxy, "stale_following, next page", &mut home);
        }
        let targets = ["carol", "dave", "frank", channel];
        graph
            .relationships(&admin, "alice", &targets)
            .await
            .unwrap();
        named += check_plans(&proxy, "relationships", &mut home);
        graph.relationship(&admin, "alice", "frank").await.unwrap();
        named += check_plans(&proxy, "relationship", &mut home);
        for list in 0..3 {
            let (subject, what) = match list {
                0 => ("alice", "blocks"),
                1 => ("dave", "requested"),
                _ => ("carol", "follow_requests"),
            };
            let read = async |page: &PageRequest| match list {
                0 => graph.blocks(&admin, subject, page).await,
                1 => graph.requested(&admin, subject, page).await,
                _ => graph.follow_requests(&admin, subject, page).await,
            };
            let page = read(&first).await.unwrap();
            named += check_plans(&proxy, what, &mut home);
            if let Some(cursor) = page.next_cursor {
                read(&PageRequest::after(cursor).with_limit(1))
                    .await
                    .unwrap();
                named += check_plans(&proxy, what, &mut home);
            }
        }
        graph.mutes(&admin, "alice", &first).await.unwrap();
        named += check_plans(&proxy, "mutes", &mut home);
        graph
            .list_as(&admin, "frank", ListKind::Followers, "carol", &first, true)
            .await
            .unwrap();
        named += check_plans(&proxy, "a list as a viewer sees it", &mut home);
        graph.delivery(&admin, "carol", &first).await.unwrap();
        named += check_plans(&proxy, "delivery", &mut home);
        let nodes = graph.nodes(&admin, &first).await.unwrap();
        named += check_plans(&proxy, "nodes", &mut home);
        let cursor = nodes.next_cursor.unwrap();
        graph
            .nodes(&admin, &PageRequest::after(cursor).with_limit(1))
            .await
            .unwrap();
        named += check_plans(&proxy, "nodes, next page", &mut home);
        graph.events(&admin, None, Some(5)).await.unwrap();
        named += check_plans(&proxy, "events", &mut home);
    }
    assert!(named > 100, "only {named} plans named a partition");
}
