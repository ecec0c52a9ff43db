//! Cases of `FollowStore::list`: keyset pages of following, followers and mutuals.

use super::prelude::*;

/// A full walk of followers, following and mutuals returns every item
/// exactly once, newest first with ties by id, for every page size.
pub async fn full_walk_returns_every_item_once_in_order(store: Store) {
    let f = Fixture::new(store);
    let expected = paging_graph(&f).await;
    assert_eq!(expected[0].0, "p5");
    for list in [ListKind::Followers, ListKind::Following, ListKind::Mutuals] {
        for limit in [1, 2, 3, 7, 8, 100] {
            let got: Vec<(String, Timestamp)> = f
                .walk(list, "hub", limit)
                .await
                .into_iter()
                .map(|e| (e.node.to_string(), e.since))
                .collect();
            assert_eq!(got, expected, "{list:?} with pages of {limit}");
        }
    }
    let page = PageRequest::first().with_limit(7);
    let exact = f.graph.followers(&f.admin, "hub", &page).await.unwrap();
    assert_eq!(exact.items.len(), 7);
    assert!(
        exact.next_cursor.is_none(),
        "no cursor when nothing follows"
    );
    let empty = f
        .graph
        .followers(&f.admin, "p0", &PageRequest::first())
        .await
        .unwrap();
    assert_eq!(empty.items.len(), 1);
    assert!(empty.next_cursor.is_none());
}

/// The cursor is exclusive: the next page starts after the last item of the
/// previous one, even when that item is removed in between.
pub async fn cursor_is_exclusive(store: Store) {
    let f = Fixture::new(store);
    let expected = paging_graph(&f).await;
    let first = f
        .graph
        .followers(&f.admin, "hub", &PageRequest::first().with_limit(2))
        .await
        .unwrap();
    let cursor = first.next_cursor.clone().unwrap();
    let next = f
        .graph
        .followers(
            &f.admin,
            "hub",
            &PageRequest::after(cursor.clone()).with_limit(1),
        )
        .await
        .unwrap();
    assert_eq!(next.items[0].node.as_str(), expected[2].0);
    // The cursor's own item removed: the next page is still the same.
    let last = first.items[1].node.to_string();
    f.graph.unfollow(&f.admin, &last, "hub").await.unwrap();
    let again = f
        .graph
        .followers(&f.admin, "hub", &PageRequest::after(cursor).with_limit(1))
        .await
        .unwrap();
    assert_eq!(again.items[0].node.as_str(), expected[2].0);
}

/// Edges added and removed between pages never make an item present during
/// the whole walk be skipped or repeated, and no item appears twice.
pub async fn walk_survives_changes_between_pages(store: Store) {
    let f = Fixture::new(store);
    let names: Vec<String> = (0..12).map(|i| format!("f{i:02}")).collect();
    f.register(&["hub"]).await;
    let extra: Vec<String> = (0..12).map(|i| format!("n{i:02}")).collect();
    for name in names.iter().chain(&extra) {
        f.register(&[name]).await;
    }
    for (i, name) in names.iter().enumerate() {
        f.clock.set(at(i as i64 / 2));
        f.follow(name, "hub").await;
    }
    // Removed during the walk: one early, one late. Everything else stays.
    let removed = ["f11", "f01"];
    let stable: BTreeSet<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !removed.contains(n))
        .collect();
    let mut seen: Vec<ListEntry> = Vec::new();
    let mut request = PageRequest::first().with_limit(3);
    for step in 0.. {
        assert!(
            step < crate::fixture::MAX_PAGES,
            "list: a walk does not end"
        );
        let page = f.graph.followers(&f.admin, "hub", &request).await.unwrap();
        seen.extend(page.items);
        // Between pages: add a new follower (old and new times), remove one.
        if let Some(name) = extra.get(step) {
            f.clock
                .set(at(if step.is_multiple_of(2) { 100 } else { 2 }));
            f.follow(name, "hub").await;
        }
        if let Some(name) = removed.get(step) {
            f.graph.unfollow(&f.admin, name, "hub").await.unwrap();
        }
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(3),
            None => break,
        }
    }
    let ids: Vec<&str> = seen.iter().map(|e| e.node.as_str()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "an item was repeated: {ids:?}");
    for name in &stable {
        assert!(unique.contains(name), "{name} was skipped: {ids:?}");
    }
    for pair in seen.windows(2) {
        assert!(
            pair[0].position() < pair[1].position(),
            "out of order: {ids:?}"
        );
    }
}

/// followers(t) is who receives t's posts: every follower, each with its
/// muted flag (muted: delivered without notification).
pub async fn followers_carry_the_muted_flag_for_delivery(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", CHANNEL]).await;
    for id in ["alice", "bob", "carol"] {
        f.follow(id, CHANNEL).await;
    }
    f.graph.mute(&f.admin, "bob", CHANNEL).await.unwrap();
    let delivery: BTreeMap<String, bool> = f
        .list(ListKind::Followers, CHANNEL)
        .await
        .into_iter()
        .map(|e| (e.node.to_string(), e.muted))
        .collect();
    let expected: BTreeMap<String, bool> = [("alice", false), ("bob", true), ("carol", false)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(delivery, expected);
}

/// Once an unfollow returns, the account is no longer among the followers
/// (delivery stops); the same after remove_follower.
pub async fn unfollow_stops_delivery(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", CHANNEL]).await;
    f.follow("alice", CHANNEL).await;
    f.follow("bob", CHANNEL).await;
    f.graph.unfollow(&f.admin, "alice", CHANNEL).await.unwrap();
    assert_eq!(f.ids(ListKind::Followers, CHANNEL).await, ["bob"]);
    f.graph
        .remove_follower(&f.admin, CHANNEL, "bob")
        .await
        .unwrap();
    assert!(f.ids(ListKind::Followers, CHANNEL).await.is_empty());
    assert_eq!(
        f.graph.counts(&f.admin, CHANNEL).await.unwrap().followers,
        0
    );
}
/// Each list carries the mute flag of the edge it is about: following and
/// mutuals the subject's own edge, followers the follower's edge; a mutual
/// pair with different flags shows each side its own.
pub async fn mutuals_carry_the_subjects_own_mute_flag(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob"]).await;
    f.follow("alice", "bob").await;
    f.follow("bob", "alice").await;
    f.graph.mute(&f.admin, "alice", "bob").await.unwrap();
    let flag = |entries: Vec<ListEntry>| -> Vec<(String, bool)> {
        entries
            .into_iter()
            .map(|e| (e.node.to_string(), e.muted))
            .collect()
    };
    let muted = |id: &str| vec![(id.to_owned(), true)];
    let unmuted = |id: &str| vec![(id.to_owned(), false)];
    assert_eq!(flag(f.list(ListKind::Mutuals, "alice").await), muted("bob"));
    assert_eq!(
        flag(f.list(ListKind::Mutuals, "bob").await),
        unmuted("alice")
    );
    assert_eq!(
        flag(f.list(ListKind::Following, "alice").await),
        muted("bob")
    );
    assert_eq!(
        flag(f.list(ListKind::Following, "bob").await),
        unmuted("alice")
    );
    assert_eq!(
        flag(f.list(ListKind::Followers, "bob").await),
        muted("alice")
    );
    assert_eq!(
        flag(f.list(ListKind::Followers, "alice").await),
        unmuted("bob")
    );
}

/// `list` answers at most `limit` items, strictly after `after`, in display
/// order; walking with any limit visits every item once.
pub async fn list_answers_at_most_limit_items(store: Store) {
    let f = Fixture::new(store);
    let expected = paging_graph(&f).await;
    let expected: Vec<String> = expected.into_iter().map(|(id, _)| id).collect();
    for list in [ListKind::Followers, ListKind::Following, ListKind::Mutuals] {
        for limit in [1, 2, 3, 7, 8] {
            let mut after = None;
            let mut seen = Vec::new();
            for _ in 0..=expected.len() {
                let page = f
                    .store
                    .list(ListQuery {
                        tenant: f.tenant(),
                        list,
                        subject: node("hub"),
                        after: after.clone(),
                        limit,
                    })
                    .await
                    .unwrap()
                    .unwrap();
                assert!(
                    page.len() <= limit,
                    "{list:?}: {} items for limit {limit}",
                    page.len()
                );
                let Some(last) = page.last() else { break };
                after = Some(last.position());
                seen.extend(page.iter().map(|e| e.node.to_string()));
                if page.len() < limit {
                    break;
                }
            }
            assert_eq!(seen, expected, "{list:?} walked with limit {limit}");
        }
    }
}

/// `list` answers `None` when the subject is not registered in the tenant.
pub async fn list_of_an_unknown_subject_is_none(store: Store) {
    let f = Fixture::new(store);
    f.register_other(&["alice"]).await;
    for list in [ListKind::Followers, ListKind::Following, ListKind::Mutuals] {
        let answer = f
            .store
            .list(ListQuery {
                tenant: f.tenant(),
                list,
                subject: node("alice"),
                after: None,
                limit: 10,
            })
            .await
            .unwrap();
        assert!(answer.is_none(), "{list:?} of an unknown subject");
    }
}

/// Each item carries the options of the edge the list is about: the
/// subject's own edge in following and mutuals, the follower's edge in
/// followers; a change of options shows in every list that edge is in.
pub async fn items_carry_the_options_of_the_edge_the_list_is_about(store: Store) {
    use super::prelude::links::*;
    let d = Direct::new(store);
    d.register(&["alice", "bob", "carol", CHANNEL]).await;
    let a = options(false, true, &["en"]);
    let b = options(true, true, &[]);
    let c = options(true, false, &["de", "fr"]);
    let ch = options(false, false, &[]);
    d.setup(at(1), vec![follow_with("alice", "bob", a.into())])
        .await;
    d.setup(at(2), vec![follow_with("bob", "alice", b.into())])
        .await;
    d.setup(at(3), vec![follow_with("carol", "alice", c.into())])
        .await;
    d.setup(at(4), vec![follow_with("alice", CHANNEL, ch.into())])
        .await;
    let item = |id: &str, since, options| ListEntry {
        node: node(id),
        since: at(since),
        muted: false,
        options,
    };
    assert_eq!(
        d.list(ListKind::Following, "alice").await,
        [item(CHANNEL, 4, ch), item("bob", 1, a)]
    );
    assert_eq!(
        d.list(ListKind::Followers, "alice").await,
        [item("carol", 3, c), item("bob", 2, b)]
    );
    assert_eq!(
        d.list(ListKind::Mutuals, "alice").await,
        [item("bob", 2, a)]
    );
    assert_eq!(
        d.list(ListKind::Mutuals, "bob").await,
        [item("alice", 2, b)]
    );
    assert_eq!(
        d.list(ListKind::Followers, "bob").await,
        [item("alice", 1, a)]
    );
    assert_eq!(
        d.list(ListKind::Followers, CHANNEL).await,
        [item("alice", 4, ch)]
    );

    let fewer = OptionsUpdate {
        reblogs: Some(false),
        ..OptionsUpdate::NONE
    };
    d.setup(at(5), vec![follow_with("bob", "alice", fewer)])
        .await;
    let b = options(false, true, &[]);
    assert_eq!(
        d.list(ListKind::Followers, "alice").await,
        [item("carol", 3, c), item("bob", 2, b)]
    );
    assert_eq!(
        d.list(ListKind::Following, "bob").await,
        [item("alice", 2, b)]
    );
    assert_eq!(
        d.list(ListKind::Mutuals, "bob").await,
        [item("alice", 2, b)]
    );
    assert_eq!(
        d.list(ListKind::Mutuals, "alice").await,
        [item("bob", 2, a)]
    );
}
