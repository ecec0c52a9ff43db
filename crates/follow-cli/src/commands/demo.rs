//! `demo`: the seeds' scenarios, step by step, on a fresh or given database.

use follow_core::{Error, PageRequest};
use serde_json::json;

use super::edit::batch_lines;
use crate::output::{Output, outcome, to_json};
use crate::session::Session;

/// Builds a small graph and walks through the seeds' scenarios, printing
/// each outcome: follow, follow again, mute, relation, a batch unfollow
/// with a per-item error, paging by cursor, counts and events.
pub async fn demo(s: &Session) -> Result<Output, Error> {
    let (graph, p) = (&s.graph, &s.principal);
    const NEWS: &str = "120363012345678901@newsletter";
    let mut lines = Vec::new();
    let mut steps = Vec::new();
    for id in ["alice", "bob", "carol", "dave", NEWS] {
        let applied = graph.register(p, id).await?;
        lines.push(format!("register {id}: {}", outcome(&applied)));
        steps.push(json!({"step": "register", "id": id, "result": to_json(&applied)?}));
    }
    for (actor, target) in [
        ("alice", NEWS),
        ("alice", NEWS),
        ("bob", NEWS),
        ("carol", NEWS),
        ("alice", "bob"),
        ("bob", "alice"),
    ] {
        let applied = graph.follow(p, actor, target).await?;
        lines.push(format!("follow {actor} -> {target}: {}", outcome(&applied)));
        steps.push(json!({"step": "follow", "actor": actor, "target": target,
            "result": to_json(&applied)?}));
    }
    let muted = graph.mute(p, "carol", NEWS).await?;
    lines.push(format!("mute carol -> {NEWS}: {}", outcome(&muted)));
    steps.push(json!({"step": "mute", "actor": "carol", "target": NEWS,
        "result": to_json(&muted)?}));
    let relation = graph.relation(p, "alice", "bob").await?;
    lines.push(format!("relation alice bob: {relation:?}"));
    steps.push(json!({"step": "relation", "a": "alice", "b": "bob",
        "result": to_json(&relation)?}));
    let batch = graph
        .unfollow_many(p, "alice", &[NEWS, "dave", "nobody"])
        .await?;
    lines.extend(batch_lines("unfollow alice ->", &batch));
    steps.push(json!({"step": "unfollow_many", "actor": "alice", "result": to_json(&batch)?}));
    let mut page = PageRequest::first().with_limit(1);
    loop {
        let followers = graph.followers(p, NEWS, &page).await?;
        for e in &followers.items {
            lines.push(format!(
                "follower of {NEWS}: {} since {} muted={}",
                e.node, e.since, e.muted
            ));
        }
        steps.push(json!({"step": "followers", "target": NEWS, "result": to_json(&followers)?}));
        match followers.next_cursor {
            Some(cursor) => {
                lines.push(format!("next cursor: {cursor}"));
                page = PageRequest::after(cursor).with_limit(1);
            }
            None => break,
        }
    }
    for id in [NEWS, "alice", "bob"] {
        let counts = graph.counts(p, id).await?;
        lines.push(format!(
            "counts {id}: following={} followers={} mutual={}",
            counts.following, counts.followers, counts.mutual
        ));
        steps.push(json!({"step": "counts", "id": id, "result": to_json(&counts)?}));
    }
    let events = graph.events(p, None, Some(100)).await?;
    for event in &events {
        lines.push(format!(
            "event #{} {:?} {} -> {}",
            event.position, event.kind, event.follower, event.target
        ));
    }
    steps.push(json!({"step": "events", "result": to_json(&events)?}));
    Ok(Output {
        lines,
        json: json!({"steps": steps}),
    })
}
