//! Follow options and the edge's own notification mute.

use crate::cases::prelude::links::*;
use crate::cases::prelude::*;

/// A follow's options start at the defaults under the ones it names. A
/// follow again updates only the options it names: `changed` with
/// `follow_options_changed` when one changed, `unchanged` with no event
/// otherwise; the edge keeps its `since`, mute flag and counts. A channel's
/// follow carries options too, and so does an imported one (with its own
/// `since`).
pub async fn follow_options_update_only_what_is_named(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob", "carol", CHANNEL]).await;
    let update = |reblogs, notify, languages: Option<&[&str]>| OptionsUpdate {
        reblogs,
        notify,
        languages: languages.map(|codes| Languages::parse(codes.iter().copied()).unwrap()),
    };
    let options_changed = changed(EventKind::OptionsChanged, "alice", "bob");
    let steps = [
        (
            1,
            update(Some(false), None, None),
            changed(EventKind::Followed, "alice", "bob"),
            options(false, false, &[]),
        ),
        (
            2,
            update(None, Some(true), None),
            options_changed.clone(),
            options(false, true, &[]),
        ),
        (3, OptionsUpdate::NONE, UNCHANGED, options(false, true, &[])),
        (
            3,
            update(Some(false), Some(true), None),
            UNCHANGED,
            options(false, true, &[]),
        ),
        (
            4,
            update(None, None, Some(&["en"])),
            options_changed.clone(),
            options(false, true, &["en"]),
        ),
        (
            5,
            update(None, None, Some(&["en"])),
            UNCHANGED,
            options(false, true, &["en"]),
        ),
        (
            5,
            update(None, None, Some(&[])),
            options_changed.clone(),
            options(false, true, &[]),
        ),
    ];
    for (time, named, answer, then) in steps {
        let command = follow_with("alice", "bob", named);
        assert_eq!(d.run(at(time), command).await, answer, "follow at {time}");
        let following = d.list(ListKind::Following, "alice").await;
        assert_eq!(
            following,
            [ListEntry {
                node: node("bob"),
                since: at(1),
                muted: false,
                options: then,
            }],
            "the edge after the follow at {time}"
        );
    }
    d.setup(at(6), vec![set_mute("alice", "bob", true)]).await;
    let command = follow_with("alice", "bob", update(Some(true), None, None));
    assert_eq!(d.run(at(7), command).await, options_changed);
    let edge = d.list(ListKind::Followers, "bob").await.remove(0);
    assert_eq!(
        (edge.since, edge.muted, edge.options),
        (at(1), true, options(true, true, &[]))
    );

    let command = follow_with("alice", CHANNEL, update(None, Some(true), None));
    let answer = d.run(at(8), command).await;
    assert_eq!(answer, changed(EventKind::Followed, "alice", CHANNEL));
    let followers = d.list(ListKind::Followers, CHANNEL).await;
    assert_eq!(followers[0].options, options(true, true, &[]));

    let options_event = seen(EventKind::OptionsChanged, "alice", "bob");
    assert_eq!(
        d.new_events().await,
        [
            seen(EventKind::Followed, "alice", "bob"),
            options_event.clone(),
            options_event.clone(),
            options_event.clone(),
            seen(EventKind::Muted, "alice", "bob"),
            options_event,
            seen(EventKind::Followed, "alice", CHANNEL),
        ]
    );
    assert_eq!(d.counts("alice").await, (2, 0, 0, 0));
    assert_eq!(d.counts("bob").await, (0, 1, 0, 0));

    let imported = options(true, true, &["en", "pt"]);
    let command = Command::Follow {
        follower: account("alice"),
        target: node("carol"),
        since: Some(at(-50)),
        options: OptionsUpdate::from(imported),
    };
    let answer = d.run(at(9), command).await;
    assert_eq!(answer, changed(EventKind::Followed, "alice", "carol"));
    assert_eq!(
        d.list(ListKind::Followers, "carol").await,
        [ListEntry {
            node: node("alice"),
            since: at(-50),
            muted: false,
            options: imported,
        }]
    );
    assert_eq!(d.counts("alice").await, (3, 0, 0, 0));
}

/// `set_mute(false)` on an absent edge is `unchanged` (the state asked for
/// already holds), with no event and no edge made; `set_mute(true)` on an
/// absent edge stays `not_following`.
pub async fn set_mute_false_on_absent_edge_is_unchanged(store: Store) {
    let d = Direct::new(store);
    d.register(&["alice", "bob", CHANNEL]).await;
    for target in ["bob", CHANNEL] {
        let unmute = set_mute("alice", target, false);
        assert_eq!(d.run(at(1), unmute).await, UNCHANGED, "unmute {target}");
        let mute = set_mute("alice", target, true);
        assert_eq!(
            d.run(at(1), mute).await,
            Err(ErrorKind::NotFollowing),
            "mute {target}"
        );
    }
    // An edge that was there and went is absent too.
    d.setup(
        at(2),
        vec![follow("alice", "bob"), unfollow("alice", "bob")],
    )
    .await;
    d.new_events().await;
    assert_eq!(
        d.run(at(3), set_mute("alice", "bob", false)).await,
        UNCHANGED
    );
    assert!(d.new_events().await.is_empty());
    assert!(d.list(ListKind::Following, "alice").await.is_empty());
    assert_eq!(d.counts("alice").await, (0, 0, 0, 0));
}
