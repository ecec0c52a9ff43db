//! Commands that change the graph one request at a time.

use follow_core::{Applied, Error, ItemResult, Timestamp};
use serde_json::{Value, json};

use crate::output::{Output, outcome, to_json};
use crate::session::Session;

/// Registers each id (accounts or channels: the kind follows from the id).
pub async fn register_all(s: &Session, ids: &[String]) -> Result<Output, Error> {
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for id in ids {
        let applied = s.graph.register(&s.principal, id).await?;
        lines.push(format!("register {id}: {}", outcome(&applied)));
        items.push(json!({"id": id, "result": to_json(&applied)?}));
    }
    Ok(Output {
        lines,
        json: Value::Array(items),
    })
}

/// Per-target lines of a batch: its outcome or its own error.
pub fn batch_lines(label: &str, items: &[ItemResult<Applied>]) -> Vec<String> {
    items
        .iter()
        .map(|item| match &item.result {
            Ok(applied) => format!("{label} {}: {}", item.target, outcome(applied)),
            Err(error) => format!(
                "{label} {}: error {}: {}",
                item.target,
                error.code(),
                error.message()
            ),
        })
        .collect()
}

/// Follows (or unfollows) one target, or a batch with per-target results.
pub async fn follow_or_unfollow(
    s: &Session,
    actor: &str,
    targets: &[String],
    follow: bool,
) -> Result<Output, Error> {
    let (graph, p) = (&s.graph, &s.principal);
    let label = if follow { "follow" } else { "unfollow" };
    if let [target] = targets {
        let applied = if follow {
            graph.follow(p, actor, target).await?
        } else {
            graph.unfollow(p, actor, target).await?
        };
        return Ok(Output::line(
            format!("{label} {actor} -> {target}: {}", outcome(&applied)),
            to_json(&applied)?,
        ));
    }
    let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
    let items = if follow {
        graph.follow_many(p, actor, &refs).await?
    } else {
        graph.unfollow_many(p, actor, &refs).await?
    };
    Ok(Output {
        lines: batch_lines(&format!("{label} {actor} ->"), &items),
        json: to_json(&items)?,
    })
}

/// Sets the mute flag of an existing follow.
pub async fn mute(s: &Session, actor: &str, target: &str, muted: bool) -> Result<Output, Error> {
    let applied = s.graph.set_mute(&s.principal, actor, target, muted).await?;
    let verb = if muted { "mute" } else { "unmute" };
    Ok(Output::line(
        format!("{verb} {actor} -> {target}: {}", outcome(&applied)),
        to_json(&applied)?,
    ))
}

/// Removes a node and every edge touching it.
pub async fn remove(s: &Session, id: &str) -> Result<Output, Error> {
    let applied = s.graph.remove(&s.principal, id).await?;
    Ok(Output::line(
        format!("remove {id}: {}", outcome(&applied)),
        to_json(&applied)?,
    ))
}

/// The target drops one follower.
pub async fn remove_follower(s: &Session, target: &str, follower: &str) -> Result<Output, Error> {
    let applied = s
        .graph
        .remove_follower(&s.principal, target, follower)
        .await?;
    Ok(Output::line(
        format!(
            "remove-follower {target} <- {follower}: {}",
            outcome(&applied)
        ),
        to_json(&applied)?,
    ))
}

/// Records activity of a node, now or at an RFC 3339 time.
pub async fn touch(s: &Session, target: &str, at: Option<&str>) -> Result<Output, Error> {
    let at = at.map(|t| Timestamp::parse_rfc3339("at", t)).transpose()?;
    let applied = s.graph.touch(&s.principal, target, at).await?;
    Ok(Output::line(
        format!("touch {target}: {}", outcome(&applied)),
        to_json(&applied)?,
    ))
}
