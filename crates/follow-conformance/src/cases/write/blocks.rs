//! Blocks: what a block cuts, what it forbids, and what lifting it does not
//! bring back.

use crate::cases::prelude::links::*;
use crate::cases::prelude::*;

/// A block cuts the follows between the two accounts both ways in its own
/// batch: `unfollowed` for the blocker's follow, `follower_removed` for the
/// blocked account's, then `blocked` (the command's event), in that order;
/// counts and mutual marks move, every other follow stays. A second block
/// is `unchanged`; the blocked account may block back, a second link.
pub async fn block_severs_follows_both_ways(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob", "carol", "dave", CHANNEL])
        .await;
    d.setup(
        at(0),
        vec![
            follow("alice", "bob"),
            follow("bob", "alice"),
            follow("alice", "carol"),
            follow("carol", "alice"),
            follow("bob", CHANNEL),
            follow("carol", "bob"),
            follow("dave", "alice"),
        ],
    )
    .await;
    d.new_events().await;

    let answer = d.run(at(5), block("alice", "bob")).await;
    assert_eq!(answer, changed(EventKind::Blocked, "alice", "bob"));
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::Unfollowed, "alice", "bob"),
            seen(EventKind::FollowerRemoved, "bob", "alice"),
            seen(EventKind::Blocked, "alice", "bob"),
        ]
    );
    assert_eq!(d.ids(ListKind::Following, "alice").await, ["carol"]);
    assert_eq!(d.ids(ListKind::Followers, "alice").await, ["carol", "dave"]);
    assert_eq!(d.ids(ListKind::Mutuals, "alice").await, ["carol"]);
    assert_eq!(d.ids(ListKind::Following, "bob").await, [CHANNEL]);
    assert_eq!(d.ids(ListKind::Followers, "bob").await, ["carol"]);
    assert!(d.ids(ListKind::Mutuals, "bob").await.is_empty());
    assert_eq!(d.counts("alice").await, (1, 2, 1, 1));
    assert_eq!(d.counts("bob").await, (1, 1, 0, 1));
    assert_eq!(d.counts("carol").await, (2, 1, 1, 0));
    let block_key = link_key(LinkKind::Block, "alice", "bob");
    assert_eq!(
        d.links_between("alice", &["bob"]).await,
        BTreeMap::from([(block_key.clone(), Link::block(at(5)))])
    );

    // One way only: just that follow is cut.
    let answer = d.run(at(6), block("alice", "dave")).await;
    assert_eq!(answer, changed(EventKind::Blocked, "alice", "dave"));
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::FollowerRemoved, "dave", "alice"),
            seen(EventKind::Blocked, "alice", "dave"),
        ]
    );

    // Again: nothing more happens.
    assert_eq!(d.run(at(7), block("alice", "bob")).await, UNCHANGED);
    assert!(d.new_events().await.is_empty());
    assert_eq!(
        d.links_between("alice", &["bob"]).await,
        BTreeMap::from([(block_key.clone(), Link::block(at(5)))])
    );

    // The blocked account blocks back: its own link, nothing left to cut.
    let answer = d.run(at(8), block("bob", "alice")).await;
    assert_eq!(answer, changed(EventKind::Blocked, "bob", "alice"));
    assert_eq!(
        d.new_events().await,
        [seen(EventKind::Blocked, "bob", "alice")]
    );
    assert_eq!(
        d.links_between("bob", &["alice"]).await,
        BTreeMap::from([
            (block_key, Link::block(at(5))),
            (
                link_key(LinkKind::Block, "bob", "alice"),
                Link::block(at(8))
            ),
        ])
    );
    assert_eq!(d.counts("alice").await, (1, 1, 1, 3));
    assert_eq!(d.counts("bob").await, (1, 1, 0, 2));
    d.assert_counts_match(&["alice", "bob", "carol", "dave"])
        .await;
}

/// A block rejects the pending follow requests between the two accounts
/// both ways in its own batch: the blocker's request is withdrawn
/// (`follow_request_withdrawn`), the blocked account's rejected
/// (`follow_request_rejected`), then `blocked`; no follow is made, and
/// other accounts' requests stay.
pub async fn block_rejects_pending_requests_both_ways(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob", "carol"]).await;
    d.setup(
        at(0),
        vec![set_locked("alice", true), set_locked("bob", true)],
    )
    .await;
    assert_eq!(
        d.run(at(1), follow("alice", "bob")).await,
        requested("alice", "bob")
    );
    assert_eq!(
        d.run(at(1), follow("bob", "alice")).await,
        requested("bob", "alice")
    );
    assert_eq!(
        d.run(at(1), follow("carol", "alice")).await,
        requested("carol", "alice")
    );
    d.new_events().await;

    let answer = d.run(at(3), block("alice", "bob")).await;
    assert_eq!(answer, changed(EventKind::Blocked, "alice", "bob"));
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::FollowRequestWithdrawn, "alice", "bob"),
            seen(EventKind::FollowRequestRejected, "bob", "alice"),
            seen(EventKind::Blocked, "alice", "bob"),
        ]
    );
    assert_eq!(
        d.links_of("alice").await,
        BTreeMap::from([
            (
                link_key(LinkKind::Block, "alice", "bob"),
                Link::block(at(3))
            ),
            (
                link_key(LinkKind::Request, "carol", "alice"),
                Link::request(at(1), FollowOptions::default())
            ),
        ])
    );
    for direction in [LinkDirection::Outgoing, LinkDirection::Incoming] {
        assert!(
            d.links(LinkKind::Request, direction, "bob")
                .await
                .is_empty()
        );
    }
    for id in ["alice", "bob"] {
        assert!(d.list(ListKind::Following, id).await.is_empty());
        assert!(d.list(ListKind::Followers, id).await.is_empty());
    }
    assert_eq!(d.counts("alice").await, (0, 0, 0, 2));
    assert_eq!(d.counts("bob").await, (0, 0, 0, 1));
    assert_eq!(d.counts("carol").await, (0, 0, 0, 1));
    d.assert_counts_match(&["alice", "bob", "carol"]).await;
}

/// While either account blocks the other, a follow between them, either
/// way, is `forbidden` (a locked target's too: no request is made), as its
/// own result: the batch's other commands apply. Nothing of the refused
/// follows is stored and no event is written for them.
pub async fn follow_across_a_block_is_forbidden(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob", "carol", "dave"]).await;
    d.setup(
        at(0),
        vec![
            set_locked("carol", true),
            block("alice", "bob"),
            block("carol", "alice"),
        ],
    )
    .await;
    d.new_events().await;
    let refused = [
        follow("alice", "bob"),
        follow("bob", "alice"),
        follow("alice", "carol"),
        follow("carol", "alice"),
        follow_with(
            "bob",
            "alice",
            OptionsUpdate::from(options(false, true, &[])),
        ),
        follow_since("alice", "bob", at(-10)),
    ];
    for command in refused {
        let shown = format!("{command:?}");
        assert_eq!(
            d.run(at(1), command).await,
            Err(ErrorKind::Forbidden),
            "{shown}"
        );
    }
    let results = d
        .write(at(2), vec![follow("alice", "bob"), follow("alice", "dave")])
        .await;
    let answers: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().map(|a| a.outcome).map_err(|e| e.kind()))
        .collect();
    assert_eq!(answers, [Err(ErrorKind::Forbidden), Ok(Outcome::Changed)]);
    assert_eq!(
        d.new_events().await,
        [seen(EventKind::Followed, "alice", "dave")]
    );
    assert_eq!(d.ids(ListKind::Following, "alice").await, ["dave"]);
    for id in ["bob", "carol"] {
        assert!(d.list(ListKind::Following, id).await.is_empty());
        assert!(d.list(ListKind::Followers, id).await.is_empty());
    }
    assert_eq!(
        d.links_of("alice").await,
        BTreeMap::from([
            (
                link_key(LinkKind::Block, "alice", "bob"),
                Link::block(at(0))
            ),
            (
                link_key(LinkKind::Block, "carol", "alice"),
                Link::block(at(0))
            ),
        ])
    );
    d.assert_counts_match(&["alice", "bob", "carol", "dave"])
        .await;
}

/// Unblocking ends the block (`unblocked`) and restores nothing: the
/// follows it cut stay cut, and only a new follow makes one again. An
/// unblock of an absent block, or of the other account's block, is
/// `unchanged`: that block stays.
pub async fn unblock_restores_nothing(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob"]).await;
    d.setup(at(0), vec![follow("alice", "bob"), follow("bob", "alice")])
        .await;
    d.setup(at(1), vec![block("alice", "bob")]).await;
    d.new_events().await;

    let answer = d.run(at(2), unblock("alice", "bob")).await;
    assert_eq!(answer, changed(EventKind::Unblocked, "alice", "bob"));
    assert_eq!(
        d.new_events().await,
        [seen(EventKind::Unblocked, "alice", "bob")]
    );
    for id in ["alice", "bob"] {
        assert!(d.list(ListKind::Following, id).await.is_empty());
        assert!(d.list(ListKind::Followers, id).await.is_empty());
        assert_eq!(d.counts(id).await, (0, 0, 0, 0));
    }
    assert!(d.links_between("alice", &["bob"]).await.is_empty());
    assert_eq!(d.run(at(3), unblock("alice", "bob")).await, UNCHANGED);
    assert_eq!(d.run(at(3), unblock("bob", "alice")).await, UNCHANGED);
    assert!(d.new_events().await.is_empty());

    // A new follow is allowed again, and starts anew.
    let answer = d.run(at(4), follow("alice", "bob")).await;
    assert_eq!(answer, changed(EventKind::Followed, "alice", "bob"));
    let following = d.list(ListKind::Following, "alice").await;
    assert_eq!((following.len(), following[0].since), (1, at(4)));

    // The other account's block is not the actor's to lift.
    d.setup(at(5), vec![block("bob", "alice")]).await;
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::Followed, "alice", "bob"),
            seen(EventKind::FollowerRemoved, "alice", "bob"),
            seen(EventKind::Blocked, "bob", "alice"),
        ]
    );
    assert_eq!(d.run(at(6), unblock("alice", "bob")).await, UNCHANGED);
    assert_eq!(
        d.links_between("alice", &["bob"]).await,
        BTreeMap::from([(
            link_key(LinkKind::Block, "bob", "alice"),
            Link::block(at(5))
        )])
    );
    assert!(d.new_events().await.is_empty());
    d.assert_counts_match(&["alice", "bob"]).await;
}
