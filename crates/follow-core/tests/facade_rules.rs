//! Facade rules that need a real store underneath: what a bound principal
//! holding `admin` may do, and how far ahead `touch` may record activity.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use follow_core::{
    AccountId, Capabilities, Clock, ErrorKind, FollowGraph, ImportEdge, MAX_ACTIVITY_AHEAD,
    ManualClock, NodeId, PageRequest, Principal, TenantId, Timestamp,
};
use follow_store_memory::MemoryStore;
use futures::executor::block_on;

fn graph() -> (FollowGraph, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        Timestamp::from_unix_seconds(1_700_000_000).unwrap(),
    ));
    let graph = FollowGraph::builder(Arc::new(MemoryStore::new()))
        .clock(clock.clone())
        .build();
    (graph, clock)
}

fn operator() -> Principal {
    Principal::new(TenantId::new("acme").unwrap(), Capabilities::ALL)
}

fn bound_admin(account: &str) -> Principal {
    operator().bound_to(AccountId::new(account).unwrap())
}

#[test]
fn a_bound_admin_registers_and_removes_only_its_own_account() {
    block_on(async {
        let (graph, _) = graph();
        let op = operator();
        for id in ["alice", "bob"] {
            graph.register(&op, id).await.unwrap();
        }
        graph.follow(&op, "bob", "alice").await.unwrap();
        let alice = bound_admin("alice");
        for error in [
            graph.remove(&alice, "bob").await.unwrap_err(),
            graph.register(&alice, "carol").await.unwrap_err(),
            graph
                .register(&alice, "120363012345678901@newsletter")
                .await
                .unwrap_err(),
        ] {
            assert_eq!(error.kind(), ErrorKind::Forbidden, "{error}");
            assert_eq!(error.details()["bound_account"], "alice");
        }
        // Nothing changed: bob is there with his follow, carol is not.
        assert_eq!(graph.counts(&op, "bob").await.unwrap().following, 1);
        assert_eq!(
            graph.counts(&op, "carol").await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        // Its own account it may register again and remove.
        assert!(!graph.register(&alice, "alice").await.unwrap().is_changed());
        assert!(graph.remove(&alice, "alice").await.unwrap().is_changed());
        assert_eq!(graph.counts(&op, "bob").await.unwrap().following, 0);
    });
}

#[test]
fn a_bound_admin_imports_only_its_own_follows() {
    block_on(async {
        let (graph, _) = graph();
        let op = operator();
        let edge = |follower: &str, target: &str| {
            ImportEdge::new(
                AccountId::new(follower).unwrap(),
                NodeId::new(target).unwrap(),
            )
        };
        let alice = bound_admin("alice");
        let error = graph
            .import(&alice, &[edge("alice", "bob"), edge("mallory", "bob")])
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Forbidden, "{error}");
        // The whole call was refused: not even alice's own edge was written.
        let nodes = graph.nodes(&op, &PageRequest::first()).await.unwrap();
        assert!(nodes.items.is_empty(), "{nodes:?}");
        let results = graph
            .import(&alice, &[edge("alice", "bob"), edge("alice", "carol")])
            .await
            .unwrap();
        assert!(results.iter().all(|r| r.as_ref().unwrap().is_changed()));
        assert_eq!(graph.counts(&op, "alice").await.unwrap().following, 2);
    });
}

#[test]
fn touch_refuses_activity_far_in_the_future() {
    block_on(async {
        let (graph, clock) = graph();
        let op = operator();
        graph.register(&op, "bob").await.unwrap();
        let now = clock.now();
        let edge_of_bound = now.saturating_add(MAX_ACTIVITY_AHEAD);
        assert!(
            graph
                .touch(&op, "bob", Some(edge_of_bound))
                .await
                .unwrap()
                .is_changed()
        );
        let error = graph
            .touch(
                &op,
                "bob",
                Some(edge_of_bound.saturating_add(Duration::from_secs(1))),
            )
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert_eq!(error.details()["field"], "at");
        assert!(error.message().contains("future"), "{error}");
        let error = graph
            .touch(&op, "bob", Some(Timestamp::MAX))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        // A past time is fine, however old.
        graph
            .touch(&op, "bob", Some(Timestamp::EPOCH))
            .await
            .unwrap();
    });
}

#[test]
fn not_found_names_the_id() {
    block_on(async {
        let (graph, _) = graph();
        let op = operator();
        graph.register(&op, "alice").await.unwrap();
        let error = graph.relation(&op, "alice", "ghost").await.unwrap_err();
        assert!(error.message().contains("ghost"), "{error}");
        let error = graph.counts(&op, "nobody").await.unwrap_err();
        assert!(error.message().contains("nobody"), "{error}");
    });
}
