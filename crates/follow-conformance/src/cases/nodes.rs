//! Cases of `FollowStore::nodes`: the walk of a tenant's registered nodes.

use super::prelude::*;

/// The nodes walk answers every registered node of the tenant once, in id
/// order, with its counts; it resumes after a removed node, and its cursors
/// are bound to the walk and the tenant.
pub async fn nodes_walk_lists_every_node_once_in_order(store: Store) {
    let f = Fixture::new(store);
    let mut ids: Vec<String> = (0..7).map(|i| format!("n{i}")).collect();
    ids.push(CHANNEL.to_owned());
    // The walk's first page of 3 ends before n2.
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    f.register(&refs).await;
    f.register_other(&["z-other"]).await;
    f.follow("n3", CHANNEL).await;
    let mut seen = Vec::new();
    let mut request = PageRequest::first().with_limit(3);
    let mut removed = false;
    for page_number in 0.. {
        assert!(
            page_number < crate::fixture::MAX_PAGES,
            "nodes: a walk does not end"
        );
        let page = f.graph.nodes(&f.admin, &request).await.unwrap();
        seen.extend(page.items);
        if !removed {
            // The next page resumes after n2 even once it is gone.
            f.graph.remove(&f.admin, "n2").await.unwrap();
            removed = true;
        }
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(3),
            None => break,
        }
    }
    // n2 was removed before the walk reached it.
    let mut expected: Vec<&str> = refs.iter().copied().filter(|id| *id != "n2").collect();
    expected.sort_unstable();
    let got: Vec<&str> = seen.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(got, expected);
    let n3 = seen.iter().find(|n| n.id.as_str() == "n3").unwrap();
    assert_eq!(n3.counts.following, 1);
    let channel = seen.iter().find(|n| n.id.as_str() == CHANNEL).unwrap();
    assert_eq!(channel.counts.followers, 1);

    let first = f
        .graph
        .nodes(&f.admin, &PageRequest::first().with_limit(1))
        .await
        .unwrap();
    let cursor = first.next_cursor.unwrap();
    let other_tenant = f.graph.nodes(&f.other, &PageRequest::after(&*cursor)).await;
    assert_eq!(kind(other_tenant), Some(ErrorKind::InvalidArgument));
    let as_list = f
        .graph
        .followers(&f.admin, "n1", &PageRequest::after(&*cursor))
        .await;
    assert_eq!(kind(as_list), Some(ErrorKind::InvalidArgument));
    let others = f
        .graph
        .nodes(&f.other, &PageRequest::first())
        .await
        .unwrap();
    let other_ids: Vec<&str> = others.items.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(other_ids, ["z-other"]);
}
/// `nodes` answers at most `limit` nodes in id byte order, strictly after
/// `after`; a walk with limit 2 visits every node once and ends.
pub async fn nodes_answers_at_most_limit_in_id_order(store: Store) {
    let f = Fixture::new(store);
    let ids = ["b", "a", "c", "aa", CHANNEL];
    f.register(&ids).await;
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    let tenant = f.tenant();
    let mut after: Option<NodeId> = None;
    let mut seen = Vec::new();
    for _ in 0..=ids.len() {
        let page = f.store.nodes(&tenant, after.as_ref(), 2).await.unwrap();
        assert!(page.len() <= 2, "{} nodes for limit 2", page.len());
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        seen.extend(page.iter().map(|n| n.id.to_string()));
    }
    assert_eq!(seen, sorted);
}
