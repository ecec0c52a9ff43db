//! Cases of `FollowStore::node`: one registered node with its counts.

use super::prelude::*;

/// `node` answers the registration time, the last activity and the
/// counters of a registered node, as the writes left them.
pub async fn node_answers_registration_activity_and_counts(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice"]).await;
    f.tick(5);
    f.register(&["bob", "carol"]).await;
    f.follow("alice", "bob").await;
    f.follow("bob", "alice").await;
    f.follow("carol", "bob").await;
    f.graph.touch(&f.admin, "bob", Some(at(9))).await.unwrap();
    let tenant = f.tenant();
    let bob = f.store.node(&tenant, &node("bob")).await.unwrap().unwrap();
    assert_eq!(bob.id, node("bob"));
    assert_eq!(bob.registered_at, at(5));
    assert_eq!(bob.last_active, Some(at(9)));
    assert_eq!(
        (
            bob.counts.following,
            bob.counts.followers,
            bob.counts.mutual
        ),
        (1, 2, 1)
    );
    let alice = f
        .store
        .node(&tenant, &node("alice"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.registered_at, at(0));
    assert_eq!(alice.last_active, None);
    assert_eq!(
        (
            alice.counts.following,
            alice.counts.followers,
            alice.counts.mutual
        ),
        (1, 1, 1)
    );
}

/// `node` answers `None` for an id never registered, one removed, and one
/// registered only in another tenant.
pub async fn node_of_another_tenant_or_unknown_is_none(store: Store) {
    let f = Fixture::new(store);
    f.register(&["alice", "gone"]).await;
    f.register_other(&["bob"]).await;
    f.graph.remove(&f.admin, "gone").await.unwrap();
    let tenant = f.tenant();
    for id in ["ghost", "gone", "bob"] {
        assert!(
            f.store.node(&tenant, &node(id)).await.unwrap().is_none(),
            "{id} is not a node of {tenant}"
        );
    }
    let other = TenantId::new(crate::fixture::OTHER_TENANT).unwrap();
    assert!(
        f.store
            .node(&other, &node("alice"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(f.store.node(&other, &node("bob")).await.unwrap().is_some());
}

/// A node answers whether it is locked and how many links touch it, as the
/// writes left them: a fresh node is unlocked with none, and another
/// tenant's node of the same id keeps its own.
pub async fn node_answers_locked_and_links(store: Store) {
    use super::prelude::links::*;
    let d = Direct::new(store.clone());
    d.register(&["alice", "bob"]).await;
    let shown = |record: follow_core::NodeRecord| (record.locked, record.links);
    assert_eq!(shown(d.record("alice").await), (false, 0));
    d.setup(
        at(1),
        vec![set_locked("alice", true), block("bob", "alice")],
    )
    .await;
    assert_eq!(shown(d.record("alice").await), (true, 1));
    assert_eq!(shown(d.record("bob").await), (false, 1));
    d.setup(
        at(2),
        vec![
            mute_account("alice", "bob", true, None),
            set_locked("alice", false),
        ],
    )
    .await;
    assert_eq!(shown(d.record("alice").await), (false, 2));
    assert_eq!(shown(d.record("bob").await), (false, 2));

    let other = Direct::in_tenant(store, crate::fixture::OTHER_TENANT);
    other.register(&["alice"]).await;
    assert_eq!(shown(other.record("alice").await), (false, 0));
    assert_eq!(shown(d.record("alice").await), (false, 2));
}
