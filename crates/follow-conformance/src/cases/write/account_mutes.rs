//! Account mutes: a set of both values, one per pair and direction, with an
//! optional expiry decided at every write and applied lazily.

use crate::cases::prelude::links::*;
use crate::cases::prelude::*;

/// An account mute is a set of its two values (notifications, expiry): a
/// new one or one that differs is `changed` with `account_muted` (keeping
/// when it began), the same again is `unchanged`; an expiry must lie after
/// the write's time (`invalid_argument`). Muting does not unfollow.
/// Unmuting is `account_unmuted`, and `unchanged` when absent. Each
/// direction is its own mute.
pub async fn mute_account_set_semantics_and_expiry(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob"]).await;
    d.setup(at(0), vec![follow("alice", "bob")]).await;
    d.new_events().await;
    let key = link_key(LinkKind::Mute, "alice", "bob");
    let muted = |kind| changed(kind, "alice", "bob");
    let steps = [
        (
            1,
            true,
            None,
            muted(EventKind::AccountMuted),
            Some((true, None)),
        ),
        (2, true, None, UNCHANGED, Some((true, None))),
        (
            3,
            false,
            None,
            muted(EventKind::AccountMuted),
            Some((false, None)),
        ),
        (
            4,
            false,
            Some(100),
            muted(EventKind::AccountMuted),
            Some((false, Some(100))),
        ),
        (5, false, Some(100), UNCHANGED, Some((false, Some(100)))),
        (
            6,
            false,
            Some(90),
            muted(EventKind::AccountMuted),
            Some((false, Some(90))),
        ),
        (
            7,
            true,
            None,
            muted(EventKind::AccountMuted),
            Some((true, None)),
        ),
        (
            8,
            true,
            Some(8),
            Err(ErrorKind::InvalidArgument),
            Some((true, None)),
        ),
        (
            8,
            true,
            Some(7),
            Err(ErrorKind::InvalidArgument),
            Some((true, None)),
        ),
    ];
    for (time, notifications, expires, answer, then) in steps {
        let expires_at = expires.map(at);
        let command = mute_account("alice", "bob", notifications, expires_at);
        assert_eq!(
            d.run(at(time), command).await,
            answer,
            "mute at {time} with ({notifications}, {expires:?})"
        );
        let expected: BTreeMap<LinkKey, Link> = then
            .map(|(n, e)| (key.clone(), Link::mute(at(1), n, e.map(at))))
            .into_iter()
            .collect();
        assert_eq!(
            d.links_between("alice", &["bob"]).await,
            expected,
            "the mute after the step at {time}"
        );
    }
    assert_eq!(
        d.new_events().await,
        vec![seen(EventKind::AccountMuted, "alice", "bob"); 5]
    );
    assert_eq!(d.ids(ListKind::Following, "alice").await, ["bob"]);
    assert_eq!(d.counts("alice").await, (1, 0, 0, 1));
    assert_eq!(d.counts("bob").await, (0, 1, 0, 1));

    // The other direction is a mute of its own.
    assert_eq!(
        d.run(at(9), unmute_account("bob", "alice")).await,
        UNCHANGED
    );
    let answer = d
        .run(at(9), mute_account("bob", "alice", false, None))
        .await;
    assert_eq!(answer, changed(EventKind::AccountMuted, "bob", "alice"));
    assert_eq!(d.counts("alice").await, (1, 0, 0, 2));

    let answer = d.run(at(10), unmute_account("alice", "bob")).await;
    assert_eq!(answer, muted(EventKind::AccountUnmuted));
    assert_eq!(
        d.run(at(11), unmute_account("alice", "bob")).await,
        UNCHANGED
    );
    assert_eq!(
        d.links_between("alice", &["bob"]).await,
        BTreeMap::from([(
            link_key(LinkKind::Mute, "bob", "alice"),
            Link::mute(at(9), false, None)
        )])
    );
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::AccountMuted, "bob", "alice"),
            seen(EventKind::AccountUnmuted, "alice", "bob"),
        ]
    );
    assert_eq!(d.ids(ListKind::Following, "alice").await, ["bob"]);
    d.assert_counts_match(&["alice", "bob"]).await;
}

/// A mute past its expiry stays stored (and read: `links_between` and
/// `links` answer it) until a write loads it; that write finds it absent and
/// deletes it with no event, uncounting it on both accounts. Expiry is
/// exclusive: at its `expires_at` a mute no longer holds. A mute made after
/// an expired one is new (it begins then) and counted once.
pub async fn expired_mute_is_deleted_lazily_and_uncounted(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob", "carol"]).await;
    let expiring = |target| mute_account("alice", target, true, Some(at(10)));
    d.setup(at(0), vec![expiring("bob"), expiring("carol")])
        .await;
    assert_eq!(d.counts("alice").await, (0, 0, 0, 2));
    let old = Link::mute(at(0), true, Some(at(10)));

    // Stored until a write loads it: reads answer it whatever the time, and
    // a write that does not name it (at its expiry) leaves it.
    d.setup(at(10), vec![follow("bob", "carol")]).await;
    assert_eq!(
        d.links_between("alice", &["bob", "carol"]).await,
        BTreeMap::from([
            (link_key(LinkKind::Mute, "alice", "bob"), old),
            (link_key(LinkKind::Mute, "alice", "carol"), old),
        ])
    );
    let listed = d
        .links(LinkKind::Mute, LinkDirection::Outgoing, "alice")
        .await;
    assert_eq!(listed.len(), 2);

    // Unmuting at the expiry finds no mute: unchanged, and the row goes.
    assert_eq!(
        d.run(at(10), unmute_account("alice", "bob")).await,
        UNCHANGED
    );
    assert!(d.links_between("alice", &["bob"]).await.is_empty());
    assert_eq!(d.counts("alice").await, (0, 0, 0, 1));
    assert_eq!(d.counts("bob").await, (1, 0, 0, 0));

    // Muting after the expiry makes a new mute, counted once.
    let answer = d
        .run(at(20), mute_account("alice", "carol", false, None))
        .await;
    assert_eq!(answer, changed(EventKind::AccountMuted, "alice", "carol"));
    assert_eq!(
        d.links_between("alice", &["carol"]).await,
        BTreeMap::from([(
            link_key(LinkKind::Mute, "alice", "carol"),
            Link::mute(at(20), false, None)
        )])
    );
    assert_eq!(d.counts("alice").await, (0, 0, 0, 1));
    assert_eq!(d.counts("carol").await, (0, 1, 0, 1));
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::AccountMuted, "alice", "bob"),
            seen(EventKind::AccountMuted, "alice", "carol"),
            seen(EventKind::Followed, "bob", "carol"),
            seen(EventKind::AccountMuted, "alice", "carol"),
        ]
    );
    d.assert_counts_match(&["alice", "bob", "carol"]).await;
}
