//! Cases of `FollowStore::stale_following`: the inactive-follows audit.

use super::prelude::*;

/// touch records activity (a later time kept, an earlier one `unchanged`);
/// stale_following lists the actor's follows whose target has been inactive
/// since the given time, in following order, with working pages.
pub async fn touch_and_stale_following_audit(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", CHANNEL, "dave"])
        .await;
    for target in ["bob", "carol", CHANNEL] {
        f.follow("alice", target).await;
    }
    let g = &f.graph;
    let p = &f.admin;
    f.tick(100);
    assert!(g.touch(p, "bob", None).await.unwrap().is_changed());
    assert_eq!(
        g.touch(p, "bob", Some(at(50))).await.unwrap().outcome,
        Outcome::Unchanged
    );
    assert_eq!(
        g.touch(p, "bob", Some(at(100))).await.unwrap().outcome,
        Outcome::Unchanged
    );
    assert!(
        g.touch(p, "carol", Some(at(40)))
            .await
            .unwrap()
            .is_changed()
    );
    let record = g.node(p, "bob").await.unwrap();
    assert_eq!(record.last_active, Some(at(100)));
    let stale = |since: i64, page: PageRequest| async move {
        g.stale_following(p, "alice", at(since), &page)
            .await
            .unwrap()
    };
    let all = stale(100, PageRequest::first()).await;
    let mut ids: Vec<String> = all.items.iter().map(|e| e.node.to_string()).collect();
    ids.sort();
    assert_eq!(ids, [CHANNEL, "carol"]);
    let carol = all
        .items
        .iter()
        .find(|e| e.node.as_str() == "carol")
        .unwrap();
    assert_eq!(carol.active_at, at(40));
    let early = stale(30, PageRequest::first()).await;
    let ids: Vec<&str> = early.items.iter().map(|e| e.node.as_str()).collect();
    assert_eq!(ids, [CHANNEL]);
    assert!(stale(0, PageRequest::first()).await.items.is_empty());
    // Pages of one walk the same set.
    let mut walked = Vec::new();
    let mut page = PageRequest::first().with_limit(1);
    for page_number in 0.. {
        assert!(
            page_number < crate::fixture::MAX_PAGES,
            "stale_following: a walk does not end"
        );
        let got = stale(100, page.clone()).await;
        walked.extend(got.items.into_iter().map(|e| e.node.to_string()));
        match got.next_cursor {
            Some(cursor) => page = PageRequest::after(cursor).with_limit(1),
            None => break,
        }
    }
    let listed: Vec<String> = all.items.iter().map(|e| e.node.to_string()).collect();
    assert_eq!(walked, listed);
    assert!(
        g.stale_following(p, "dave", at(100), &PageRequest::first())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Touch emits no follow event.
    assert_eq!(f.events().await.len(), 3);
}
/// `stale_following` answers at most `limit` stale follows, strictly after
/// `after` in the following list's order; a walk with limit 1 visits each
/// stale follow once and ends.
pub async fn stale_following_pages_are_exclusive_and_limited(store: Store) {
    let f = Fixture::new(store);
    let targets = ["t0", "t1", "t2", "t3", "t4"];
    f.register(&["alice"]).await;
    f.register(&targets).await;
    for (i, target) in targets.iter().enumerate() {
        f.clock.set(at(i as i64));
        f.follow("alice", target).await;
    }
    // t2 was active late; the others are stale since their registration.
    f.graph.touch(&f.admin, "t2", Some(at(50))).await.unwrap();
    let query = |after: Option<follow_core::ListPosition>, limit| StaleQuery {
        tenant: f.tenant(),
        actor: AccountId::new("alice").unwrap(),
        inactive_since: at(20),
        after,
        limit,
    };
    let all = f
        .store
        .stale_following(query(None, 10))
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<String> = all.iter().map(|e| e.node.to_string()).collect();
    assert_eq!(
        ids,
        ["t4", "t3", "t1", "t0"],
        "newest follow first, t2 active"
    );
    let mut after = None;
    let mut seen = Vec::new();
    for _ in 0..=targets.len() {
        let page = f
            .store
            .stale_following(query(after.clone(), 1))
            .await
            .unwrap()
            .unwrap();
        assert!(page.len() <= 1, "{} items for limit 1", page.len());
        let Some(entry) = page.first() else { break };
        after = Some(entry.position());
        seen.push(entry.node.to_string());
    }
    assert_eq!(seen, ids, "a walk with limit 1");
}
