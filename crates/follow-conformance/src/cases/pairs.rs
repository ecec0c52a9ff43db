//! Cases of `FollowStore::pairs`: the edges between a subject and each other node, in one snapshot.

use super::prelude::*;

/// relation(a, b) is the reverse of relation(b, a), and agrees with the lists.
pub async fn relation_is_consistent_both_ways(store: Store) {
    let f = Fixture::new(store);
    let nodes = ["a", "b", "c", CHANNEL];
    f.register(&nodes).await;
    f.follow("a", "b").await;
    f.follow("b", "a").await;
    f.follow("c", "a").await;
    f.follow("a", CHANNEL).await;
    for x in nodes {
        let following: BTreeSet<String> = f.ids(ListKind::Following, x).await.into_iter().collect();
        let followers: BTreeSet<String> = f.ids(ListKind::Followers, x).await.into_iter().collect();
        for y in nodes {
            if x == y {
                continue;
            }
            let xy = f.graph.relation(&f.admin, x, y).await.unwrap();
            let yx = f.graph.relation(&f.admin, y, x).await.unwrap();
            assert_eq!(xy.reversed(), yx, "{x} and {y}");
            let expected = Relation::from_edges(following.contains(y), followers.contains(y));
            assert_eq!(xy, expected, "{x} to {y}");
        }
    }
    assert_eq!(
        f.graph.relation(&f.admin, "a", "b").await.unwrap(),
        Relation::Mutual
    );
    assert_eq!(
        f.graph.relation(&f.admin, "a", "c").await.unwrap(),
        Relation::FollowedBy
    );
    assert_eq!(
        f.graph.relation(&f.admin, "a", CHANNEL).await.unwrap(),
        Relation::Following
    );
}

/// check_many answers the actor's relation to each target in request order,
/// with per-item errors.
pub async fn check_many_answers_relations_in_request_order(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", "dave", CHANNEL])
        .await;
    f.follow("alice", "bob").await;
    f.follow("bob", "alice").await;
    f.follow("alice", CHANNEL).await;
    f.follow("carol", "alice").await;
    let targets = ["dave", "bob", CHANNEL, "carol", "ghost", "alice", "bad id"];
    let results = f
        .graph
        .check_many(&f.admin, "alice", &targets)
        .await
        .unwrap();
    let got: Vec<_> = results
        .iter()
        .map(|i| {
            (
                i.target.as_str(),
                i.result.as_ref().copied().map_err(|e| e.kind()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("dave", Ok(Relation::None)),
            ("bob", Ok(Relation::Mutual)),
            (CHANNEL, Ok(Relation::Following)),
            ("carol", Ok(Relation::FollowedBy)),
            ("ghost", Err(ErrorKind::NotFound)),
            ("alice", Err(ErrorKind::InvalidArgument)),
            ("bad id", Err(ErrorKind::InvalidArgument)),
        ]
    );
}

/// ensure_can_interact is `Ok` only while the actor follows the target
/// (muted or not); otherwise `forbidden`; unknown nodes `not_found`.
pub async fn interaction_guard_requires_following(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", CHANNEL]).await;
    let g = &f.graph;
    let p = &f.admin;
    assert_eq!(
        kind(g.ensure_can_interact(p, "alice", CHANNEL).await),
        Some(ErrorKind::Forbidden)
    );
    f.follow("alice", CHANNEL).await;
    assert!(g.ensure_can_interact(p, "alice", CHANNEL).await.is_ok());
    g.mute(p, "alice", CHANNEL).await.unwrap();
    assert!(g.ensure_can_interact(p, "alice", CHANNEL).await.is_ok());
    // Being followed is not following.
    f.follow("bob", "alice").await;
    assert_eq!(
        kind(g.ensure_can_interact(p, "alice", "bob").await),
        Some(ErrorKind::Forbidden)
    );
    g.unfollow(p, "alice", CHANNEL).await.unwrap();
    assert_eq!(
        kind(g.ensure_can_interact(p, "alice", CHANNEL).await),
        Some(ErrorKind::Forbidden)
    );
    assert_eq!(
        kind(g.ensure_can_interact(p, "alice", "ghost").await),
        Some(ErrorKind::NotFound)
    );
}
/// `pairs` answers one fact per other, in the order asked, a repeated
/// other repeated: whether it is registered, the subject's edge to it (with
/// its mute flag and times), and whether it follows back.
pub async fn pairs_answer_each_other_in_order_with_duplicates(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "bob", "carol", CHANNEL]).await;
    f.follow("alice", "bob").await;
    f.tick(3);
    f.follow("bob", "alice").await;
    f.follow("carol", "alice").await;
    f.follow("alice", CHANNEL).await;
    f.graph.mute(&f.admin, "alice", CHANNEL).await.unwrap();
    let others = [
        node("bob"),
        node("ghost"),
        node("carol"),
        node(CHANNEL),
        node("bob"),
    ];
    let facts = f
        .store
        .pairs(&f.tenant(), &node("alice"), &others)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(facts.len(), others.len());
    let bob = facts[0];
    assert!(bob.exists && bob.incoming);
    let edge = bob.outgoing.unwrap();
    assert_eq!(
        (edge.since, edge.muted, edge.mutual_since),
        (at(0), false, Some(at(3)))
    );
    assert!(!facts[1].exists && facts[1].outgoing.is_none() && !facts[1].incoming);
    assert!(facts[2].exists && facts[2].outgoing.is_none() && facts[2].incoming);
    let channel = facts[3];
    assert!(channel.exists && !channel.incoming);
    let edge = channel.outgoing.unwrap();
    assert_eq!(
        (edge.since, edge.muted, edge.mutual_since),
        (at(3), true, None)
    );
    assert_eq!(facts[4], facts[0], "a repeated other answers the same");
}

/// `pairs` answers `None` when the subject is not registered in the
/// tenant, whoever the others are.
pub async fn pairs_of_an_unknown_subject_is_none(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice"]).await;
    f.register_other(&["ghost"]).await;
    let tenant = f.tenant();
    let answer = f
        .store
        .pairs(&tenant, &node("ghost"), &[node("alice")])
        .await;
    assert!(answer.unwrap().is_none());
    let answer = f.store.pairs(&tenant, &node("nobody"), &[]).await;
    assert!(answer.unwrap().is_none());
    let empty = f.store.pairs(&tenant, &node("alice"), &[]).await.unwrap();
    assert_eq!(empty, Some(Vec::new()));
}
