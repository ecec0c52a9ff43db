//! Lists long enough to take the chunked shape, with many `since` ties, read
//! page by page against a sorted model. The conformance suite's graphs are
//! small, so this is where chunk splits, seeks across chunks, the following
//! list's node index and the shrink back to one slice are checked.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use follow_core::{
    AccountId, Capabilities, Error, FollowGraph, ImportEdge, NodeId, PageRequest, Principal,
    Relation, TenantId, Timestamp,
};
use follow_store_memory::MemoryStore;

type Model = BTreeMap<(String, String), i64>;

fn id(n: usize) -> String {
    // Byte order differs from numeric order ("u10" < "u9"), so ties are
    // broken by the id's bytes, not by the order nodes were interned in.
    format!("u{n}")
}

/// Reads a whole list page by page.
async fn read_all(
    graph: &FollowGraph,
    admin: &Principal,
    kind: &str,
    subject: &str,
) -> Result<Vec<(i64, String)>, Error> {
    let mut request = PageRequest::first().with_limit(37);
    let mut items = Vec::new();
    loop {
        let page = match kind {
            "followers" => graph.followers(admin, subject, &request).await?,
            "following" => graph.following(admin, subject, &request).await?,
            _ => graph.mutuals(admin, subject, &request).await?,
        };
        items.extend(
            page.items
                .iter()
                .map(|e| (e.since.as_unix_micros(), e.node.as_str().to_owned())),
        );
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(37),
            None => return Ok(items),
        }
    }
}

fn expected(model: &Model, kind: &str, subject: &str) -> Vec<(i64, String)> {
    let mut items: Vec<(i64, String)> = match kind {
        "followers" => model
            .iter()
            .filter(|((_, t), _)| t == subject)
            .map(|((f, _), s)| (*s, f.clone()))
            .collect(),
        "following" => model
            .iter()
            .filter(|((f, _), _)| f == subject)
            .map(|((_, t), s)| (*s, t.clone()))
            .collect(),
        _ => model
            .iter()
            .filter(|((f, _), _)| f == subject)
            .filter_map(|((f, t), s)| {
                let back = model.get(&(t.clone(), f.clone()))?;
                Some((*s.max(back), t.clone()))
            })
            .collect(),
    };
    items.sort_by(|a, b| (Reverse(a.0), &a.1).cmp(&(Reverse(b.0), &b.1)));
    items
}

async fn check(graph: &FollowGraph, admin: &Principal, model: &Model) -> Result<(), Error> {
    for (kind, subject) in [
        ("followers", "u0"),
        ("following", "u1"),
        ("mutuals", "u1"),
        ("followers", "u1"),
    ] {
        let read = read_all(graph, admin, kind, subject).await?;
        let want = expected(model, kind, subject);
        let first_difference = read.iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(
            (read.len(), first_difference),
            (want.len(), None),
            "{kind} of {subject}: length and first differing item"
        );
    }
    for n in (2..3_000).step_by(7) {
        let other = id(n);
        let relation = graph.relation(admin, "u1", &other).await?;
        let out = model.contains_key(&("u1".to_owned(), other.clone()));
        let back = model.contains_key(&(other.clone(), "u1".to_owned()));
        assert_eq!(relation, Relation::from_edges(out, back), "u1 and {other}");
    }
    let counts = graph.counts(admin, "u1").await?;
    assert_eq!(
        counts.following as usize,
        expected(model, "following", "u1").len()
    );
    assert_eq!(
        counts.mutual as usize,
        expected(model, "mutuals", "u1").len()
    );
    Ok(())
}

#[tokio::test]
async fn long_lists_with_ties_page_in_order() -> Result<(), Error> {
    let graph = FollowGraph::new(Arc::new(MemoryStore::new()));
    let admin = Principal::new(TenantId::new("acme")?, Capabilities::ALL);
    let mut model = Model::new();
    let mut edges = Vec::new();
    let mut add = |f: usize, t: usize, since: i64| -> Result<(), Error> {
        model.insert((id(f), id(t)), since);
        edges.push(
            ImportEdge::new(AccountId::new(&id(f))?, NodeId::new(&id(t))?)
                .since(Timestamp::from_unix_micros(since)?),
        );
        Ok(())
    };
    // u0 is followed by 2,999 accounts, in a scrambled order, with `since`
    // in 0..40 so that ties run to ~75 entries and cross chunk boundaries;
    // u1 follows 1,500 of them and a third of those follow u1 back.
    for step in 0..2_999_usize {
        let n = 2 + (step * 1_657) % 2_999;
        add(n, 0, (n % 40) as i64)?;
        if n % 2 == 0 {
            add(1, n, (n % 13) as i64)?;
        }
        if n % 3 == 0 && n != 1 {
            add(n, 1, (n % 17) as i64)?;
        }
    }
    for chunk in edges.chunks(1_000) {
        for result in graph.import(&admin, chunk).await? {
            result?;
        }
    }
    check(&graph, &admin, &model).await?;

    // Shrink u1's following back below the chunked shape and u0's followers
    // by most of it, then read again.
    for n in (2..3_001).filter(|n| n % 2 == 0).take(1_480) {
        graph.unfollow(&admin, "u1", &id(n)).await?;
        model.remove(&("u1".to_owned(), id(n)));
    }
    for n in (2..3_001).filter(|n| n % 5 != 0) {
        graph.unfollow(&admin, &id(n), "u0").await?;
        model.remove(&(id(n), "u0".to_owned()));
    }
    check(&graph, &admin, &model).await?;

    // The nodes walk is in byte order of the ids, across its own chunks.
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = graph
            .store()
            .nodes(
                admin.tenant(),
                after.as_deref().map(NodeId::new).transpose()?.as_ref(),
                100,
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.as_str().to_owned());
        walked.extend(page.iter().map(|r| r.id.as_str().to_owned()));
    }
    let all: BTreeSet<String> = (0..3_001).map(id).collect();
    assert_eq!(walked, all.into_iter().collect::<Vec<_>>());
    Ok(())
}
