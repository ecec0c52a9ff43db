//! Cases of `FollowStore::links_between` and `FollowStore::links`: the
//! links between accounts, read by pair and paged by account.

use std::time::Duration;

use super::prelude::links::*;
use super::prelude::*;
use crate::fixture::OTHER_TENANT;

/// Seconds from [`at`]`(0)` to a time in 2001.
const LONG_AGO: i64 = -800_000_000;

/// `links_between` answers every stored link (of any kind, either way,
/// expired mutes included) between the subject and each other account,
/// each once even when an account is named twice, and nothing of pairs it
/// was not asked about, of unregistered accounts, or of another tenant.
pub async fn links_between_answers_both_ways_once(store: Store) {
    let d = Direct::new(store.clone());
    d.register(&["alice", "bob", "carol", "dave", "erin", "frank"])
        .await;
    d.setup(
        at(0),
        vec![
            set_locked("alice", true),
            block("alice", "bob"),
            mute_account("bob", "alice", false, None),
            follow("carol", "alice"),
            mute_account("erin", "alice", true, None),
            block("erin", "frank"),
        ],
    )
    .await;
    // A mute that expired long before any clock the store could read.
    let expired = Link::mute(at(LONG_AGO), true, Some(at(LONG_AGO + 5)));
    let command = mute_account("alice", "dave", true, expired.expires_at);
    d.setup(at(LONG_AGO), vec![command]).await;
    let alice_bob = [
        (
            link_key(LinkKind::Block, "alice", "bob"),
            Link::block(at(0)),
        ),
        (
            link_key(LinkKind::Mute, "bob", "alice"),
            Link::mute(at(0), false, None),
        ),
    ];
    let mut expected = BTreeMap::from(alice_bob.clone());
    expected.extend([
        (
            link_key(LinkKind::Request, "carol", "alice"),
            Link::request(at(0), FollowOptions::default()),
        ),
        (link_key(LinkKind::Mute, "alice", "dave"), expired),
        (
            link_key(LinkKind::Mute, "erin", "alice"),
            Link::mute(at(0), true, None),
        ),
    ]);
    let others = ["bob", "carol", "dave", "erin", "frank", "ghost", "bob"];
    assert_eq!(d.links_between("alice", &others).await, expected);
    assert_eq!(
        d.links_between("bob", &["alice"]).await,
        BTreeMap::from(alice_bob.clone())
    );
    assert_eq!(
        d.links_between("erin", &["frank"]).await,
        BTreeMap::from([(
            link_key(LinkKind::Block, "erin", "frank"),
            Link::block(at(0))
        )])
    );
    assert!(d.links_between("frank", &["alice", "bob"]).await.is_empty());
    assert!(d.links_between("alice", &[]).await.is_empty());
    assert!(d.links_between("ghost", &["alice", "bob"]).await.is_empty());

    let other = Direct::in_tenant(store, OTHER_TENANT);
    other.register(&["alice", "bob"]).await;
    other.setup(at(1), vec![block("bob", "alice")]).await;
    assert_eq!(
        other.links_between("alice", &["bob"]).await,
        BTreeMap::from([(
            link_key(LinkKind::Block, "bob", "alice"),
            Link::block(at(1))
        )])
    );
    assert_eq!(
        d.links_between("alice", &["bob"]).await,
        BTreeMap::from(alice_bob)
    );
}

/// `links` answers `None` for an account that is not registered (never,
/// no longer, or only in another tenant), for every kind and direction,
/// and an empty page for a registered account without links.
pub async fn links_of_an_unknown_subject_is_none(store: Store) {
    let d = Direct::new(store.clone());
    d.register(&["alice", "bob"]).await;
    d.setup(
        at(1),
        vec![
            block("alice", "bob"),
            unblock("alice", "bob"),
            remove("bob"),
        ],
    )
    .await;
    Direct::in_tenant(store, OTHER_TENANT)
        .register(&["carol"])
        .await;
    for kind in LinkKind::ALL {
        for direction in [LinkDirection::Outgoing, LinkDirection::Incoming] {
            for unknown in ["ghost", "bob", "carol"] {
                let page = d.walk_links(kind, direction, unknown, 10).await;
                assert_eq!(page, None, "{kind} {direction:?} of {unknown}");
            }
            let page = d.walk_links(kind, direction, "alice", 10).await;
            assert_eq!(page, Some(Vec::new()), "{kind} {direction:?} of alice");
        }
    }
}

/// A list of links runs newest `since` first, ties by account id
/// ascending, one kind one way only, expired mutes included; a page holds
/// at most `limit` items, strictly after `after` (which need not name a
/// present link), and a walk in pages of any size answers every link once.
pub async fn links_walk_in_order_exclusive_and_limited(store: Store) {
    let d = Direct::new(store.clone());
    d.register(&["hub"]).await;
    // Registered out of id order; times tie in groups of 3, 2 and 2.
    let plan = [
        ("p2", 0),
        ("p0", 0),
        ("p1", 0),
        ("p4", 1),
        ("p3", 1),
        ("p6", 2),
        ("p5", 2),
    ];
    for (id, seconds) in plan {
        d.register(&[id]).await;
        d.setup(at(seconds), vec![block("hub", id)]).await;
        // Mutes that expired long ago, in the same order.
        let since = LONG_AGO + seconds;
        let mute = mute_account(id, "hub", true, Some(at(since + 1)));
        d.setup(at(since), vec![mute]).await;
    }
    d.setup(at(3), vec![mute_account("hub", "p0", true, None)])
        .await;
    let mut expected: Vec<(String, i64)> =
        plan.iter().map(|(id, s)| ((*id).to_owned(), *s)).collect();
    expected.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let shown = |entries: &[LinkEntry]| -> Vec<(String, Timestamp)> {
        entries
            .iter()
            .map(|e| (e.account.as_str().to_owned(), e.link.since))
            .collect()
    };
    let wanted: Vec<(String, Timestamp)> = expected
        .iter()
        .map(|(id, s)| (id.clone(), at(*s)))
        .collect();
    let long_ago: Vec<(String, Timestamp)> = expected
        .iter()
        .map(|(id, s)| (id.clone(), at(LONG_AGO + s)))
        .collect();
    for limit in [1, 2, 3, 7, 8, 100] {
        let blocks = d.walk_links(LinkKind::Block, LinkDirection::Outgoing, "hub", limit);
        let blocks = blocks.await.unwrap();
        assert_eq!(shown(&blocks), wanted, "blocks of hub in pages of {limit}");
        assert!(blocks.iter().all(|e| e.link == Link::block(e.link.since)));
        let mutes = d.walk_links(LinkKind::Mute, LinkDirection::Incoming, "hub", limit);
        let mutes = mutes.await.unwrap();
        assert_eq!(shown(&mutes), long_ago, "mutes of hub in pages of {limit}");
        for entry in &mutes {
            let expires = entry.link.since.saturating_add(Duration::from_secs(1));
            assert_eq!(
                entry.link,
                Link::mute(entry.link.since, true, Some(expires))
            );
        }
    }

    // One page: at most `limit`, strictly after `after`.
    let page = |after: Option<usize>, limit| {
        let query = LinkQuery {
            tenant: d.tenant.clone(),
            kind: LinkKind::Block,
            direction: LinkDirection::Outgoing,
            subject: account("hub"),
            after: after.map(|i| follow_core::ListPosition {
                since: wanted[i].1,
                node: node(&wanted[i].0),
            }),
            limit,
        };
        let store = d.store.clone();
        async move { shown(&store.links(query).await.unwrap().unwrap()) }
    };
    assert_eq!(page(None, 3).await, wanted[..3]);
    assert_eq!(page(Some(2), 1).await, wanted[3..4]);
    assert_eq!(page(Some(2), 100).await, wanted[3..]);
    assert!(page(Some(6), 100).await.is_empty());
    // The link at `after` gone: the next page is still the one after it.
    d.setup(at(4), vec![unblock("hub", &wanted[3].0)]).await;
    assert_eq!(page(Some(3), 2).await, wanted[4..6]);

    // One kind, one way.
    let mutes = d
        .links(LinkKind::Mute, LinkDirection::Outgoing, "hub")
        .await;
    assert_eq!(shown(&mutes), [("p0".to_owned(), at(3))]);
    assert!(
        d.links(LinkKind::Block, LinkDirection::Incoming, "hub")
            .await
            .is_empty()
    );
    assert!(
        d.links(LinkKind::Request, LinkDirection::Outgoing, "hub")
            .await
            .is_empty()
    );
    let blocked = d
        .links(LinkKind::Block, LinkDirection::Incoming, "p0")
        .await;
    assert_eq!(shown(&blocked), [("hub".to_owned(), at(0))]);
    assert!(
        d.links(LinkKind::Block, LinkDirection::Outgoing, "p0")
            .await
            .is_empty()
    );
}
