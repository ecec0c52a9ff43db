//! `FollowStore::cursor_secret`: the store's own random key, with which the
//! facade signs its cursors unless the host sets one.

use super::prelude::*;

/// The store's cursor secret is stable, not a constant anyone knows, and is
/// what a facade signs cursors with by default: its cursors are accepted
/// by another facade over the same store and refused under any other key.
pub async fn cursor_secret_is_the_stores_own_and_signs_cursors_by_default(store: Store) {
    let secret = store.cursor_secret();
    assert_eq!(store.cursor_secret(), secret, "the secret changed");
    assert_ne!(secret, [0; 16], "an all-zero secret");
    assert_ne!(&secret, b"follow-cursor-v1", "a secret anyone knows");
    let f = Fixture::new(store.clone());
    f.register(&["alice", "bob", "carol"]).await;
    f.follow("alice", "bob").await;
    f.follow("alice", "carol").await;
    let page = f
        .graph
        .following(&f.admin, "alice", &PageRequest::first().with_limit(1))
        .await
        .unwrap();
    let cursor = page.next_cursor.expect("a second page");
    let next = PageRequest::after(cursor).with_limit(1);
    let same_store = Fixture::new(store.clone());
    let rest = same_store
        .graph
        .following(&same_store.admin, "alice", &next)
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    let mut other_key = secret;
    other_key[0] ^= 1;
    for key in [other_key, *b"follow-cursor-v1"] {
        let forger = Fixture::with(store.clone(), |b| b.cursor_key(key));
        let refused = forger.graph.following(&forger.admin, "alice", &next).await;
        assert_eq!(kind(refused), Some(ErrorKind::InvalidArgument));
    }
    // A host's own key still wins over the store's.
    let host = Fixture::with(store, |b| b.cursor_key(other_key));
    let page = host
        .graph
        .following(&host.admin, "alice", &PageRequest::first().with_limit(1))
        .await
        .unwrap();
    let cursor = PageRequest::after(page.next_cursor.expect("a second page")).with_limit(1);
    let refused = f.graph.following(&f.admin, "alice", &cursor).await;
    assert_eq!(kind(refused), Some(ErrorKind::InvalidArgument));
}

/// Two stores the factory makes (two databases) have different secrets,
/// so a cursor of one is never accepted by the other.
pub async fn each_store_has_its_own_cursor_secret<F: crate::StoreFactory>(factory: Arc<F>) {
    let (a, b) = (factory.create().await, factory.create().await);
    let (secret_a, secret_b) = (a.cursor_secret(), b.cursor_secret());
    factory.dispose(a).await;
    factory.dispose(b).await;
    assert_ne!(secret_a, secret_b, "two stores share a cursor secret");
}
