//! What every link command shares: the checks of its two accounts, link
//! counts kept with the rows, atomic commits, and node removal waiting for
//! a node's links to go.

use crate::cases::prelude::links::*;
use crate::cases::prelude::*;

/// Every link command names two accounts: the same one twice is
/// `invalid_argument`, an unregistered one `not_found` (locking an unknown
/// account too); nothing is stored and no event written.
pub async fn link_commands_on_oneself_are_invalid_and_on_unknown_accounts_not_found(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice"]).await;
    let oneself = [
        block("alice", "alice"),
        unblock("alice", "alice"),
        mute_account("alice", "alice", true, None),
        unmute_account("alice", "alice"),
        authorize("alice", "alice"),
        reject("alice", "alice"),
    ];
    for command in oneself {
        let shown = format!("{command:?}");
        let answer = d.run(at(1), command).await;
        assert_eq!(answer, Err(ErrorKind::InvalidArgument), "{shown}");
    }
    let unknown = [
        block("alice", "ghost"),
        block("ghost", "alice"),
        unblock("alice", "ghost"),
        unblock("ghost", "alice"),
        mute_account("alice", "ghost", true, None),
        mute_account("ghost", "alice", true, None),
        unmute_account("alice", "ghost"),
        authorize("alice", "ghost"),
        authorize("ghost", "alice"),
        reject("alice", "ghost"),
        set_locked("ghost", true),
    ];
    for command in unknown {
        let shown = format!("{command:?}");
        let answer = d.run(at(1), command).await;
        assert_eq!(answer, Err(ErrorKind::NotFound), "{shown}");
    }
    assert!(d.node("ghost").await.is_none());
    assert_eq!(d.counts("alice").await, (0, 0, 0, 0));
    assert!(d.new_events().await.is_empty());
}

/// Each account's link count equals the links that touch it, both ways,
/// of every kind, after batches that make and end many links at once
/// (several on the same account in one batch): blocks, mutes, requests,
/// answers, and an expired mute replaced.
pub async fn link_counts_equal_links(store: Store) {
    let d = Direct::new(store);
    let ids = ["a", "b", "c", "d", "e"];
    d.register(&ids).await;
    d.setup(at(0), vec![set_locked("d", true)]).await;
    let ok = |results: Vec<follow_core::CommandResult>| {
        for (index, result) in results.iter().enumerate() {
            assert!(result.is_ok(), "command {index}: {result:?}");
        }
    };
    ok(d.write(
        at(1),
        vec![
            block("a", "b"),
            block("b", "a"),
            mute_account("a", "c", true, None),
            mute_account("c", "a", false, Some(at(50))),
            mute_account("d", "a", true, None),
            follow("a", "d"),
            follow("e", "d"),
            follow("b", "c"),
            follow("c", "b"),
        ],
    )
    .await);
    assert_eq!(link_counts(&d, &ids).await, [6, 2, 2, 3, 1]);
    d.assert_counts_match(&ids).await;

    ok(d.write(
        at(2),
        vec![
            unblock("b", "a"),
            reject("d", "e"),
            authorize("d", "a"),
            unmute_account("a", "c"),
        ],
    )
    .await);
    assert_eq!(link_counts(&d, &ids).await, [3, 1, 1, 1, 0]);
    d.assert_counts_match(&ids).await;

    // A block that cuts a mutual pair, and an expired mute made anew.
    ok(d.write(
        at(60),
        vec![block("c", "b"), mute_account("c", "a", true, None)],
    )
    .await);
    assert_eq!(link_counts(&d, &ids).await, [3, 2, 2, 1, 0]);
    assert_eq!(
        d.links_between("c", &["a", "b"]).await,
        BTreeMap::from([
            (link_key(LinkKind::Block, "c", "b"), Link::block(at(60))),
            (
                link_key(LinkKind::Mute, "c", "a"),
                Link::mute(at(60), true, None)
            ),
        ])
    );
    d.assert_counts_match(&ids).await;
}

/// The link count of each node, as stored.
async fn link_counts(d: &Direct, ids: &[&str]) -> Vec<u64> {
    let mut counts = Vec::new();
    for id in ids {
        counts.push(d.record(id).await.links);
    }
    counts
}

/// A commit with links that fails part-way (the factory's store fails
/// after writing some rows of a change set) leaves nothing of its batch
/// visible: every node (its counts, link count and lock), list, link and
/// event reads as before, at every point of failure.
pub async fn a_failed_commit_with_links_leaves_nothing_visible<F: crate::StoreFactory>(
    factory: Arc<F>,
) {
    // Setup commits write at most 5 rows each (a follow back: two edges,
    // two counters, one event). The batch under test writes at least 20
    // rows besides its counters (9 edge or link rows, 11 events).
    for rows in [5, 6, 7, 9, 12, 17] {
        let store = factory.create_failing_after(rows).await.expect(
            "create_failing_after answered None: declare the rollback cases not_applicable",
        );
        let d = Direct::new(store.clone());
        let f = Fixture::new(store.clone());
        let ids = ["alice", "bob", "carol", "dave", "erin"];
        d.register(&ids).await;
        d.setup(
            at(0),
            vec![
                follow("alice", "bob"),
                follow("bob", "alice"),
                set_locked("carol", true),
                set_locked("dave", true),
                follow("dave", "carol"),
                follow("carol", "dave"),
                mute_account("erin", "alice", true, None),
            ],
        )
        .await;
        let before = f.snapshot(&ids).await;

        let batch = WriteBatch {
            tenant: d.tenant.clone(),
            at: at(1),
            requires: None,
            commands: vec![
                block("alice", "bob"),
                block("carol", "dave"),
                mute_account("alice", "erin", false, None),
                unmute_account("erin", "alice"),
                follow("erin", "bob"),
                unfollow("erin", "bob"),
                follow("erin", "bob"),
            ],
        };
        let error = store
            .write(batch)
            .await
            .expect_err("a commit of more rows than the fault allows succeeded");
        assert!(
            matches!(
                error.kind(),
                ErrorKind::Unavailable | ErrorKind::StorageFailure
            ),
            "a failed commit is a storage error, not {error:?}"
        );
        assert_eq!(
            f.snapshot(&ids).await,
            before,
            "a batch of links failing after {rows} rows"
        );
        drop((d, f));
        factory.dispose(store).await;
    }
}

/// A node that a link touches (a block, a mute or a request, either way)
/// is not removed: `Remove` answers `unavailable` with reason
/// `edges_remain` and nothing changes. Once its links are dropped, in the
/// same batch, it is removed.
pub async fn a_node_with_links_is_not_removed(store: Store) {
    let d = Direct::new(store);
    let ids = ["alice", "bob", "carol", "dave"];
    d.register(&ids).await;
    d.setup(
        at(0),
        vec![
            block("alice", "bob"),
            mute_account("carol", "alice", true, None),
            set_locked("dave", true),
            follow("alice", "dave"),
        ],
    )
    .await;
    d.new_events().await;
    for id in ids {
        let error = d
            .write(at(1), vec![remove(id)])
            .await
            .remove(0)
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unavailable, "remove {id}");
        let reason = error.details().get("reason").and_then(|r| r.as_str());
        assert_eq!(reason, Some("edges_remain"), "remove {id}");
        assert!(d.node(id).await.is_some(), "{id} was removed");
    }
    assert_eq!(d.links_of("alice").await.len(), 3);
    assert!(d.new_events().await.is_empty());
    d.assert_counts_match(&ids).await;

    let results = d
        .write(
            at(2),
            vec![drop_link(LinkKind::Block, "alice", "bob"), remove("bob")],
        )
        .await;
    let answers: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().map(|a| a.outcome).map_err(|e| e.kind()))
        .collect();
    assert_eq!(answers, [Ok(Outcome::Changed), Ok(Outcome::Changed)]);
    assert!(d.node("bob").await.is_none());
    assert_eq!(
        d.new_events().await,
        [seen(EventKind::Unblocked, "alice", "bob")]
    );
    assert_eq!(d.counts("alice").await, (0, 0, 0, 2));
    d.assert_counts_match(&["alice", "carol", "dave"]).await;
}

/// `DropLink` deletes a link whatever its kind, with the event that ends
/// it (`unblocked`, `account_unmuted`, `follow_request_withdrawn`) about
/// its `from` and `to`; an absent link, or one with an unregistered end,
/// is `unchanged`.
pub async fn drop_link_ends_any_link_with_its_event(store: Store) {
    let d = Direct::new(store);
    let ids = ["alice", "bob", "carol"];
    d.register(&ids).await;
    d.setup(
        at(0),
        vec![
            block("bob", "alice"),
            mute_account("alice", "carol", false, Some(at(100))),
            set_locked("alice", true),
            follow("carol", "alice"),
        ],
    )
    .await;
    d.new_events().await;
    let steps = [
        (LinkKind::Block, "bob", "alice", EventKind::Unblocked),
        (LinkKind::Mute, "alice", "carol", EventKind::AccountUnmuted),
        (
            LinkKind::Request,
            "carol",
            "alice",
            EventKind::FollowRequestWithdrawn,
        ),
    ];
    for (kind, from, to, event) in steps {
        let answer = d.run(at(1), drop_link(kind, from, to)).await;
        assert_eq!(
            answer,
            changed(event, from, to),
            "drop {kind} {from} -> {to}"
        );
        assert_eq!(d.run(at(2), drop_link(kind, from, to)).await, UNCHANGED);
    }
    assert_eq!(
        d.run(at(2), drop_link(LinkKind::Block, "alice", "ghost"))
            .await,
        UNCHANGED
    );
    assert_eq!(
        d.new_events().await,
        steps.map(|(_, from, to, event)| seen(event, from, to))
    );
    for id in ids {
        assert!(d.links_of(id).await.is_empty(), "links of {id}");
    }
    d.assert_counts_match(&ids).await;
}

/// Blocks, mutes, follows, requests and answers from many tasks at once,
/// on overlapping accounts, leave every account's link count equal to its
/// links and its counts equal to its edges, and no follow or request
/// standing across a block: each batch sees the others entirely or not at
/// all.
pub async fn concurrent_link_commands_keep_counts_and_blocks_consistent(store: Store) {
    let d = Arc::new(Direct::new(store));
    let names: Vec<String> = (0..6).map(|i| format!("u{i}")).collect();
    let ids: Vec<&str> = names.iter().map(String::as_str).collect();
    d.register(&ids).await;
    d.setup(at(0), vec![set_locked("u0", true), set_locked("u3", true)])
        .await;
    let mut tasks = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (d, names, name) = (d.clone(), names.clone(), name.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..24_usize {
                let other = &names[(i + 1 + round % (names.len() - 1)) % names.len()];
                let command = match (round + i) % 6 {
                    0 => block(&name, other),
                    1 => follow(&name, other),
                    2 => mute_account(&name, other, round % 4 == 2, None),
                    3 => unblock(&name, other),
                    4 => authorize(&name, other),
                    _ => unmute_account(&name, other),
                };
                let shown = format!("{command:?}");
                let time = at(i64::try_from(round).unwrap());
                let result = d.write(time, vec![command]).await.remove(0);
                if let Err(error) = result {
                    // Only a follow across a block is refused.
                    assert_eq!(error.kind(), ErrorKind::Forbidden, "{shown}: {error:?}");
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    d.assert_counts_match(&ids).await;
    for id in &ids {
        for key in d.links_of(id).await.into_keys() {
            if key.kind != LinkKind::Block || key.from.as_str() != *id {
                continue;
            }
            let other = key.to.as_str();
            assert!(
                !d.ids(ListKind::Following, id)
                    .await
                    .iter()
                    .any(|f| f == other)
            );
            assert!(
                !d.ids(ListKind::Followers, id)
                    .await
                    .iter()
                    .any(|f| f == other)
            );
            let between = d.links_between(id, &[other]).await;
            assert!(
                between.keys().all(|k| k.kind != LinkKind::Request),
                "a request stands across the block {key}"
            );
        }
    }
}
