//! What the memory store promises beyond the shared suite: a commit that
//! fails part-way leaves nothing behind, the stale audit's boundary, and
//! lists whose edges date from the epoch.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use follow_core::{
    AccountId, Capabilities, Error, ErrorKind, FollowGraph, ImportEdge, ManualClock, NodeId,
    PageRequest, Principal, Relation, TenantId, Timestamp,
};
use follow_store_memory::MemoryStore;

fn admin() -> Result<Principal, Error> {
    Ok(Principal::new(TenantId::new("acme")?, Capabilities::ALL))
}

/// Follows alice → bob on a store whose commits fail after `rows` rows.
async fn follow_failing_after(rows: usize) -> Result<(FollowGraph, Result<(), Error>), Error> {
    let graph = FollowGraph::new(Arc::new(MemoryStore::failing_commits_after(rows)));
    let admin = admin()?;
    graph.register(&admin, "alice").await?;
    graph.register(&admin, "bob").await?;
    let followed = graph.follow(&admin, "alice", "bob").await.map(drop);
    Ok((graph, followed))
}

#[tokio::test]
async fn a_commit_that_fails_part_way_leaves_nothing_behind() -> Result<(), Error> {
    let admin = admin()?;
    // A registration is one row; a follow writes the edge, two counts and
    // an event, so it fails part-way below its size and commits at it.
    let mut size = 1;
    while follow_failing_after(size).await?.1.is_err() {
        size += 1;
        assert!(size < 16, "no follow commits");
    }
    assert!(size >= 3, "a follow committed after {size} rows");
    for rows in 1..size {
        let (graph, followed) = follow_failing_after(rows).await?;
        let error = followed.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unavailable, "after {rows} rows");
        let relation = graph.relation(&admin, "alice", "bob").await?;
        assert_eq!(
            relation,
            Relation::from_edges(false, false),
            "after {rows} rows"
        );
        for id in ["alice", "bob"] {
            let counts = graph.counts(&admin, id).await?;
            assert_eq!(
                (counts.following, counts.followers, counts.mutual),
                (0, 0, 0),
                "{id} after {rows} rows"
            );
        }
        let followers = graph
            .followers(&admin, "bob", &PageRequest::first())
            .await?;
        assert!(followers.items.is_empty(), "after {rows} rows");
        let following = graph
            .following(&admin, "alice", &PageRequest::first())
            .await?;
        assert!(following.items.is_empty(), "after {rows} rows");
        let events = graph.events(&admin, None, None).await?;
        assert!(events.is_empty(), "after {rows} rows");
    }
    Ok(())
}

#[test]
fn the_store_names_itself() {
    assert_eq!(MemoryStore::new().to_string(), "memory");
}

/// A target is stale when its last activity is strictly before the time
/// asked about: one active at that very time is not.
#[tokio::test]
async fn stale_means_inactive_strictly_before() -> Result<(), Error> {
    let start = Timestamp::from_unix_micros(1_700_000_000_000_000)?;
    let clock = Arc::new(ManualClock::new(start));
    let graph = FollowGraph::builder(Arc::new(MemoryStore::new()))
        .clock(clock.clone())
        .build();
    let admin = admin()?;
    graph.register(&admin, "alice").await?;
    graph.register(&admin, "bob").await?;
    clock.advance(Duration::from_secs(10));
    graph.follow(&admin, "alice", "bob").await?;
    let stale = |since: Timestamp| {
        let graph = &graph;
        let admin = &admin;
        async move {
            let page = graph
                .stale_following(admin, "alice", since, &PageRequest::first())
                .await?;
            Ok::<_, Error>(
                page.items
                    .iter()
                    .map(|e| e.node.as_str().to_owned())
                    .collect::<Vec<_>>(),
            )
        }
    };
    let bob_active = graph.node(&admin, "bob").await?.active_at();
    assert!(stale(bob_active).await?.is_empty());
    let later = bob_active.saturating_add(Duration::from_micros(1));
    assert_eq!(stale(later).await?, ["bob"]);
    Ok(())
}

/// An edge from the epoch (the smallest time) is a follower like any
/// other, and never read as a mutual.
#[tokio::test]
async fn edges_from_the_epoch_list_as_followers_not_mutuals() -> Result<(), Error> {
    let graph = FollowGraph::new(Arc::new(MemoryStore::new()));
    let admin = admin()?;
    let edges = [("bob", "alice"), ("carol", "alice"), ("alice", "dave")].map(|(f, t)| {
        Ok::<_, Error>(ImportEdge::new(AccountId::new(f)?, NodeId::new(t)?).since(Timestamp::EPOCH))
    });
    let edges = edges.into_iter().collect::<Result<Vec<_>, _>>()?;
    for result in graph.import(&admin, &edges).await? {
        result?;
    }
    let first = PageRequest::first();
    let followers = graph.followers(&admin, "alice", &first).await?;
    let names: Vec<&str> = followers.items.iter().map(|e| e.node.as_str()).collect();
    assert_eq!(names, ["bob", "carol"]);
    assert!(followers.items.iter().all(|e| e.since == Timestamp::EPOCH));
    for id in ["alice", "bob", "dave"] {
        assert!(
            graph.mutuals(&admin, id, &first).await?.items.is_empty(),
            "{id}"
        );
    }
    Ok(())
}
