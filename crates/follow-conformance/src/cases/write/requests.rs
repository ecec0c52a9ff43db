//! Follow requests: a follow of a locked account asks, and the target
//! authorises or rejects.

use crate::cases::prelude::links::*;
use crate::cases::prelude::*;

/// Locking is a set (`changed` without an event, then `unchanged`). A
/// follow of a locked account makes a request instead of an edge:
/// `requested` with `follow_requested`, the request stored from the
/// follower to the target with the follow's options and counted on both,
/// no follower counted. An existing follower is not asked again. Unlocking
/// leaves pending requests as they are.
pub async fn follow_of_a_locked_account_is_a_request(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob", "carol"]).await;
    d.setup(at(0), vec![follow("carol", "bob")]).await;
    d.new_events().await;
    assert_eq!(
        d.run(at(1), set_locked("bob", true)).await,
        Ok((Outcome::Changed, None))
    );
    assert!(d.record("bob").await.locked);
    assert!(!d.record("alice").await.locked);
    assert_eq!(d.run(at(1), set_locked("bob", true)).await, UNCHANGED);

    let asked = options(false, true, &["de"]);
    let command = follow_with("alice", "bob", OptionsUpdate::from(asked));
    assert_eq!(d.run(at(2), command).await, requested("alice", "bob"));
    assert_eq!(
        d.new_events().await,
        [seen(EventKind::FollowRequested, "alice", "bob")]
    );
    assert!(d.list(ListKind::Following, "alice").await.is_empty());
    assert_eq!(d.ids(ListKind::Followers, "bob").await, ["carol"]);
    assert_eq!(d.counts("alice").await, (0, 0, 0, 1));
    assert_eq!(d.counts("bob").await, (0, 1, 0, 1));
    let request = Link::request(at(2), asked);
    let outgoing = d
        .links(LinkKind::Request, LinkDirection::Outgoing, "alice")
        .await;
    assert_eq!(
        outgoing,
        [LinkEntry {
            account: account("bob"),
            link: request
        }]
    );
    let incoming = d
        .links(LinkKind::Request, LinkDirection::Incoming, "bob")
        .await;
    assert_eq!(
        incoming,
        [LinkEntry {
            account: account("alice"),
            link: request
        }]
    );

    assert_eq!(d.run(at(3), follow("carol", "bob")).await, UNCHANGED);
    assert!(d.new_events().await.is_empty());

    assert_eq!(
        d.run(at(4), set_locked("bob", false)).await,
        Ok((Outcome::Changed, None))
    );
    assert!(!d.record("bob").await.locked);
    assert_eq!(
        d.links_between("bob", &["alice"]).await,
        BTreeMap::from([(link_key(LinkKind::Request, "alice", "bob"), request)])
    );
    assert!(d.new_events().await.is_empty());
    d.assert_counts_match(&["alice", "bob", "carol"]).await;
}

/// Following again while the request is pending is `unchanged` with no
/// event, and updates the request's options with those it names (the rest
/// keep their values); the request keeps when it was made.
pub async fn follow_again_while_requested_updates_request_options(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob"]).await;
    d.setup(at(0), vec![set_locked("bob", true)]).await;
    let key = link_key(LinkKind::Request, "alice", "bob");
    let update = |reblogs, notify, languages: Option<&[&str]>| OptionsUpdate {
        reblogs,
        notify,
        languages: languages.map(|codes| Languages::parse(codes.iter().copied()).unwrap()),
    };
    let steps = [
        (
            1,
            update(Some(false), None, None),
            requested("alice", "bob"),
            options(false, false, &[]),
        ),
        (
            2,
            update(None, Some(true), None),
            UNCHANGED,
            options(false, true, &[]),
        ),
        (3, OptionsUpdate::NONE, UNCHANGED, options(false, true, &[])),
        (
            4,
            update(None, None, Some(&["en", "de"])),
            UNCHANGED,
            options(false, true, &["de", "en"]),
        ),
        (
            5,
            update(Some(false), Some(true), None),
            UNCHANGED,
            options(false, true, &["de", "en"]),
        ),
        (
            6,
            update(Some(true), None, Some(&[])),
            UNCHANGED,
            options(true, true, &[]),
        ),
    ];
    for (time, named, answer, then) in steps {
        let command = follow_with("alice", "bob", named);
        assert_eq!(d.run(at(time), command).await, answer, "follow at {time}");
        assert_eq!(
            d.links_between("alice", &["bob"]).await,
            BTreeMap::from([(key.clone(), Link::request(at(1), then))]),
            "the request after the follow at {time}"
        );
    }
    assert_eq!(
        d.new_events().await,
        [seen(EventKind::FollowRequested, "alice", "bob")]
    );
    assert!(d.list(ListKind::Followers, "bob").await.is_empty());
    assert_eq!(d.counts("alice").await, (0, 0, 0, 1));
    assert_eq!(d.counts("bob").await, (0, 0, 0, 1));
}

/// An unfollow while the request is pending withdraws it
/// (`follow_request_withdrawn`, `changed`); again it is `unchanged`, and a
/// new follow asks anew.
pub async fn unfollow_withdraws_a_request(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob"]).await;
    d.setup(at(0), vec![set_locked("bob", true), follow("alice", "bob")])
        .await;
    d.new_events().await;
    let answer = d.run(at(2), unfollow("alice", "bob")).await;
    assert_eq!(
        answer,
        changed(EventKind::FollowRequestWithdrawn, "alice", "bob")
    );
    assert!(d.links_between("alice", &["bob"]).await.is_empty());
    assert_eq!(d.counts("alice").await, (0, 0, 0, 0));
    assert_eq!(d.counts("bob").await, (0, 0, 0, 0));
    assert_eq!(d.run(at(3), unfollow("alice", "bob")).await, UNCHANGED);

    assert_eq!(
        d.run(at(4), follow("alice", "bob")).await,
        requested("alice", "bob")
    );
    assert_eq!(
        d.links_between("alice", &["bob"]).await,
        BTreeMap::from([(
            link_key(LinkKind::Request, "alice", "bob"),
            Link::request(at(4), FollowOptions::default())
        )])
    );
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::FollowRequestWithdrawn, "alice", "bob"),
            seen(EventKind::FollowRequested, "alice", "bob"),
        ]
    );
    d.assert_counts_match(&["alice", "bob"]).await;
}

/// Authorising a pending request (`changed`, `follow_request_authorized`,
/// then `followed`) deletes it and makes the follow with the request's
/// options, beginning at the authorisation; a follow back makes it mutual
/// with counts to match.
pub async fn authorize_makes_the_follow_with_the_request_options(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob"]).await;
    d.setup(at(0), vec![follow("bob", "alice"), set_locked("bob", true)])
        .await;
    let asked = options(false, true, &["de"]);
    let command = follow_with("alice", "bob", OptionsUpdate::from(asked));
    assert_eq!(d.run(at(1), command).await, requested("alice", "bob"));
    d.new_events().await;

    let answer = d.run(at(5), authorize("bob", "alice")).await;
    assert_eq!(
        answer,
        changed(EventKind::FollowRequestAuthorized, "alice", "bob")
    );
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::FollowRequestAuthorized, "alice", "bob"),
            seen(EventKind::Followed, "alice", "bob"),
        ]
    );
    let made = |id: &str| ListEntry {
        node: node(id),
        since: at(5),
        muted: false,
        options: asked,
    };
    assert_eq!(d.list(ListKind::Following, "alice").await, [made("bob")]);
    assert_eq!(d.list(ListKind::Followers, "bob").await, [made("alice")]);
    assert_eq!(d.ids(ListKind::Mutuals, "alice").await, ["bob"]);
    assert_eq!(d.ids(ListKind::Mutuals, "bob").await, ["alice"]);
    assert!(d.links_between("alice", &["bob"]).await.is_empty());
    assert_eq!(d.counts("alice").await, (1, 1, 1, 0));
    assert_eq!(d.counts("bob").await, (1, 1, 1, 0));
    d.assert_counts_match(&["alice", "bob"]).await;
}

/// Rejecting a pending request deletes it (`changed`,
/// `follow_request_rejected`) and makes nothing. Authorise and reject of an
/// absent request are `unchanged`: before any request, again after an
/// answer, and after the other answer; rejecting after an authorisation
/// leaves the follow.
pub async fn reject_and_authorize_are_idempotent(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob", "carol"]).await;
    d.setup(at(0), vec![set_locked("bob", true)]).await;
    assert_eq!(d.run(at(1), authorize("bob", "alice")).await, UNCHANGED);
    assert_eq!(d.run(at(1), reject("bob", "alice")).await, UNCHANGED);
    d.setup(at(2), vec![follow("alice", "bob"), follow("carol", "bob")])
        .await;
    d.new_events().await;

    let rejected = changed(EventKind::FollowRequestRejected, "alice", "bob");
    assert_eq!(d.run(at(3), reject("bob", "alice")).await, rejected);
    assert_eq!(d.run(at(4), reject("bob", "alice")).await, UNCHANGED);
    assert_eq!(d.run(at(4), authorize("bob", "alice")).await, UNCHANGED);
    let authorized = changed(EventKind::FollowRequestAuthorized, "carol", "bob");
    assert_eq!(d.run(at(5), authorize("bob", "carol")).await, authorized);
    assert_eq!(d.run(at(6), authorize("bob", "carol")).await, UNCHANGED);
    assert_eq!(d.run(at(6), reject("bob", "carol")).await, UNCHANGED);

    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::FollowRequestRejected, "alice", "bob"),
            seen(EventKind::FollowRequestAuthorized, "carol", "bob"),
            seen(EventKind::Followed, "carol", "bob"),
        ]
    );
    assert_eq!(d.ids(ListKind::Followers, "bob").await, ["carol"]);
    assert!(d.list(ListKind::Following, "alice").await.is_empty());
    assert!(d.links_of("bob").await.is_empty());
    d.assert_counts_match(&["alice", "bob", "carol"]).await;
}

/// A request left pending by an unlock is replaced by the follow the
/// follower makes once the target is unlocked: one `followed` event, the
/// follow taking the request's options under the ones it names, the
/// request deleted and uncounted.
pub async fn a_follow_of_an_unlocked_account_replaces_its_pending_request(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob"]).await;
    d.setup(at(0), vec![set_locked("bob", true)]).await;
    let asked = OptionsUpdate::from(options(false, false, &["fr"]));
    assert_eq!(
        d.run(at(1), follow_with("alice", "bob", asked)).await,
        requested("alice", "bob")
    );
    d.setup(at(2), vec![set_locked("bob", false)]).await;
    d.new_events().await;

    let named = OptionsUpdate {
        notify: Some(true),
        ..OptionsUpdate::NONE
    };
    let answer = d.run(at(3), follow_with("alice", "bob", named)).await;
    assert_eq!(answer, changed(EventKind::Followed, "alice", "bob"));
    assert_eq!(
        d.new_events().await,
        [seen(EventKind::Followed, "alice", "bob")]
    );
    assert_eq!(
        d.list(ListKind::Following, "alice").await,
        [ListEntry {
            node: node("bob"),
            since: at(3),
            muted: false,
            options: options(false, true, &["fr"]),
        }]
    );
    assert!(d.links_between("alice", &["bob"]).await.is_empty());
    assert_eq!(d.counts("alice").await, (1, 0, 0, 0));
    assert_eq!(d.counts("bob").await, (0, 1, 0, 0));
}
