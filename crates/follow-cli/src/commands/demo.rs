//! `demo`: the scenarios of the three source APIs, step by step, each under
//! a heading naming the scenario and the API it plays.

use follow_core::{Error, PageRequest};
use serde_json::{Value, json};

use super::edit::batch_lines;
use crate::output::{Output, outcome, to_json, word};
use crate::session::Session;

const NEWS: &str = "120363012345678901@newsletter";

/// Lines for people and steps for scripts, grouped by scenario.
#[derive(Default)]
struct Script {
    lines: Vec<String>,
    steps: Vec<Value>,
    scenario: &'static str,
}

impl Script {
    fn heading(&mut self, scenario: &'static str) {
        if !self.lines.is_empty() {
            self.lines.push(String::new());
        }
        self.lines.push(format!("== {scenario} =="));
        self.scenario = scenario;
    }

    fn step(&mut self, line: String, step: Value) {
        self.lines.push(line);
        self.record(step);
    }

    /// A step for scripts, tagged with its scenario.
    fn record(&mut self, mut step: Value) {
        if let Value::Object(fields) = &mut step {
            fields.insert("scenario".to_owned(), self.scenario.into());
        }
        self.steps.push(step);
    }
}

/// Builds a small graph and walks through the scenarios, printing each
/// outcome: registration, following a channel (twice), accounts following
/// each other, mute, the relation check, a batch unfollow with a per-item
/// error, paging by cursor, counts and the change feed.
pub async fn demo(s: &Session) -> Result<Output, Error> {
    let (graph, p) = (&s.graph, &s.principal);
    let mut script = Script::default();

    script.heading("Setup: an operator registers four accounts and a channel");
    for id in ["alice", "bob", "carol", "dave", NEWS] {
        let applied = graph.register(p, id).await?;
        script.step(
            format!("register {id}: {}", outcome(&applied)),
            json!({"step": "register", "id": id, "result": to_json(&applied)?}),
        );
    }

    script.heading(
        "WhatsApp channels API, follow a channel: following again is unchanged, safe to retry",
    );
    for actor in ["alice", "alice", "bob", "carol"] {
        let applied = graph.follow(p, actor, NEWS).await?;
        script.step(
            format!("follow {actor} -> {NEWS}: {}", outcome(&applied)),
            json!({"step": "follow", "actor": actor, "target": NEWS, "result": to_json(&applied)?}),
        );
    }

    script.heading("Tencent IM follow_add: accounts follow each other");
    for (actor, target) in [("alice", "bob"), ("bob", "alice")] {
        let applied = graph.follow(p, actor, target).await?;
        script.step(
            format!("follow {actor} -> {target}: {}", outcome(&applied)),
            json!({"step": "follow", "actor": actor, "target": target,
                   "result": to_json(&applied)?}),
        );
    }

    script.heading("WhatsApp channels API, mute a channel: posts arrive without notification");
    let muted = graph.mute(p, "carol", NEWS).await?;
    script.step(
        format!("mute carol -> {NEWS}: {}", outcome(&muted)),
        json!({"step": "mute", "actor": "carol", "target": NEWS, "result": to_json(&muted)?}),
    );

    script.heading("Tencent IM follow_check: how alice and bob relate");
    let relation = graph.relation(p, "alice", "bob").await?;
    script.step(
        format!("relation alice bob: {}", word(&relation)),
        json!({"step": "relation", "a": "alice", "b": "bob", "result": to_json(&relation)?}),
    );

    script.heading(
        "Tencent IM follow_delete and the channels API's unfollow: \
         a batch unfollow, one result per target",
    );
    let batch = graph
        .unfollow_many(p, "alice", &[NEWS, "dave", "nobody"])
        .await?;
    script
        .lines
        .extend(batch_lines("unfollow alice ->", &batch));
    script.record(json!({"step": "unfollow_many", "actor": "alice", "result": to_json(&batch)?}));

    script.heading("Tencent IM follow_get: the channel's followers, one page at a time");
    let mut page = PageRequest::first().with_limit(1);
    loop {
        let followers = graph.followers(p, NEWS, &page).await?;
        for e in &followers.items {
            script.lines.push(format!(
                "follower of {NEWS}: {} since {} muted={}",
                e.node, e.since, e.muted
            ));
        }
        let next = followers.next_cursor.clone();
        script.step(
            match &next {
                Some(cursor) => format!("next cursor: {cursor}"),
                None => "(last page)".to_owned(),
            },
            json!({"step": "followers", "target": NEWS, "result": to_json(&followers)?}),
        );
        match next {
            Some(cursor) => page = PageRequest::after(cursor).with_limit(1),
            None => break,
        }
    }

    script.heading("Tencent IM follow_get_info: following, follower and mutual counts");
    for id in [NEWS, "alice", "bob"] {
        let counts = graph.counts(p, id).await?;
        script.step(
            format!(
                "counts {id}: following={} followers={} mutual={}",
                counts.following, counts.followers, counts.mutual
            ),
            json!({"step": "counts", "id": id, "result": to_json(&counts)?}),
        );
    }

    script.heading("The change feed: every change above as an event, in order");
    let events = graph.events(p, None, Some(100)).await?;
    for event in &events {
        script.lines.push(format!(
            "event #{} {} {} -> {}",
            event.position,
            word(&event.kind),
            event.follower,
            event.target
        ));
    }
    script.record(json!({"step": "events", "result": to_json(&events)?}));
    Ok(Output::new(script.lines, json!({"steps": script.steps})))
}
