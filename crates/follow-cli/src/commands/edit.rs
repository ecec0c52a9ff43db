//! Commands that change the graph one request at a time.

use follow_core::{
    AccountId, Applied, ChannelId, Error, ItemResult, Languages, NodeKind, OptionsUpdate, Timestamp,
};
use serde_json::{Value, json};

use crate::cli::FollowOptionArgs;
use crate::output::{Output, Status, outcome, to_json};
use crate::session::Session;

/// Checks `id` is of `kind`; otherwise `invalid_argument` naming the id
/// and the kind it is.
fn check_kind(id: &str, kind: NodeKind) -> Result<(), Error> {
    let refused = |error: Error, expected: &str| {
        Error::invalid_argument(
            "id",
            format!("{id:?} is not {expected}: {}", error.message()),
        )
        .with_detail("id", id)
    };
    match kind {
        NodeKind::Account => AccountId::parse_field("id", id)
            .map(drop)
            .map_err(|e| refused(e, "an account id (a channel JID belongs to add-channel)")),
        NodeKind::Channel => ChannelId::parse_field("id", id)
            .map(drop)
            .map_err(|e| refused(e, "a channel JID (digits followed by @newsletter)")),
    }
}

/// Registers each id as a node of `kind`. Every id is checked first: a
/// call with one id of the wrong kind registers none.
pub async fn register_all(s: &Session, ids: &[String], kind: NodeKind) -> Result<Output, Error> {
    for id in ids {
        check_kind(id, kind)?;
    }
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for id in ids {
        let applied = s.graph.register(&s.principal, id).await?;
        lines.push(format!("register {id}: {}", outcome(&applied)));
        items.push(json!({"id": id, "result": to_json(&applied)?}));
    }
    Ok(Output::new(lines, Value::Array(items)))
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
    // Partial failure is not success: a script must be able to tell.
    let status = if items.iter().any(|item| item.result.is_err()) {
        Status::Partial
    } else {
        Status::Done
    };
    Ok(Output::new(
        batch_lines(&format!("{label} {actor} ->"), &items),
        to_json(&items)?,
    )
    .with_status(status))
}

/// The options named on the command line; `--languages all` (or an
/// empty value) shows every language.
fn options_update(args: &FollowOptionArgs) -> Result<OptionsUpdate, Error> {
    let languages = match args.languages.as_deref().map(str::trim) {
        None => None,
        Some("" | "all") => Some(Languages::ALL),
        Some(codes) => Some(Languages::parse(codes.split(',').map(str::trim))?),
    };
    Ok(OptionsUpdate {
        reblogs: args.reblogs,
        notify: args.notify,
        languages,
    })
}

/// Follows each target with options: one call per target, each its own
/// transaction, each with its own result. An error about the actor (a bad
/// or unknown id) fails the whole command, as for a batch.
pub async fn follow_with_options(
    s: &Session,
    actor: &str,
    targets: &[String],
    args: &FollowOptionArgs,
) -> Result<Output, Error> {
    let options = options_update(args)?;
    let mut items = Vec::with_capacity(targets.len());
    for target in targets {
        let result = s
            .graph
            .follow_with(&s.principal, actor, target, options)
            .await;
        if let Err(error) = &result
            && error.details().get("field").and_then(Value::as_str) == Some("actor")
        {
            return Err(error.clone());
        }
        items.push(ItemResult {
            target: target.clone(),
            result,
        });
    }
    if let [item] = items.as_slice() {
        let applied = item.result.clone()?;
        return Ok(Output::line(
            format!("follow {actor} -> {}: {}", item.target, outcome(&applied)),
            to_json(&applied)?,
        ));
    }
    let status = if items.iter().any(|item| item.result.is_err()) {
        Status::Partial
    } else {
        Status::Done
    };
    Ok(Output::new(
        batch_lines(&format!("follow {actor} ->"), &items),
        to_json(&items)?,
    )
    .with_status(status))
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

/// `actor` drops `follower`: the edge follower -> actor goes.
pub async fn remove_follower(s: &Session, actor: &str, follower: &str) -> Result<Output, Error> {
    let applied = s
        .graph
        .remove_follower(&s.principal, actor, follower)
        .await?;
    Ok(Output::line(
        format!(
            "remove-follower: {actor} dropped follower {follower} ({follower} -> {actor}): {}",
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
