//! The change feed's consumers, retention and history.

use std::num::NonZeroUsize;
use std::time::Duration;

use follow_core::feed::{ConsumerStart, RetentionPolicy};
use follow_core::{Error, Event, EventPosition, PageRequest, Timestamp};
use serde_json::json;

use super::read::paged;
use crate::cli::{ConsumerCmd, Start};
use crate::output::{Output, table, to_json, word};
use crate::session::Session;

/// Runs one consumer command.
pub async fn consumer(s: &Session, command: &ConsumerCmd) -> Result<Output, Error> {
    match command {
        ConsumerCmd::Consumers => consumers(s).await,
        ConsumerCmd::Register { name, from } => register(s, name, *from).await,
        ConsumerCmd::Ack { name, position } => ack(s, name, *position).await,
        ConsumerCmd::Prune {
            keep,
            keep_unacknowledged,
            step,
        } => prune(s, keep, keep_unacknowledged.as_deref(), *step).await,
    }
}

async fn consumers(s: &Session) -> Result<Output, Error> {
    let lags = s.graph.consumers(&s.principal).await?;
    let now = s.graph.now();
    let rows: Vec<[String; 4]> = lags
        .iter()
        .map(|lag| {
            [
                lag.consumer.name.to_string(),
                lag.consumer.position.to_string(),
                lag.consumer.updated_at.to_string(),
                lag.describe(now),
            ]
        })
        .collect();
    let lines = if rows.is_empty() {
        vec!["(no consumers)".to_owned()]
    } else {
        table(["CONSUMER", "POSITION", "ACKNOWLEDGED AT", "LAG"], &rows)
    };
    let documents: Vec<serde_json::Value> = lags
        .iter()
        .map(|lag| {
            Ok(json!({
                "name": lag.consumer.name,
                "position": lag.consumer.position,
                "updated_at": lag.consumer.updated_at.to_string(),
                "unread": lag.unread,
                "more": lag.more,
                "oldest_unread_at": lag.oldest_unread_at.map(|at| at.to_string()),
                "lag_seconds": lag.oldest_unread_at.map(|at| now.since(at).as_secs()),
                "fell_behind": lag.fell_behind,
                "lag": lag.describe(now),
            }))
        })
        .collect::<Result<_, Error>>()?;
    Ok(Output::new(lines, json!({ "consumers": documents })))
}

async fn register(s: &Session, name: &str, from: Start) -> Result<Output, Error> {
    let start = match from {
        Start::Oldest => ConsumerStart::Oldest,
        Start::Latest => ConsumerStart::Latest,
    };
    let state = s.graph.register_consumer(&s.principal, name, start).await?;
    Ok(Output::line(
        format!("consumer {name}: at position {}", state.position),
        json!({"name": name, "position": state.position}),
    ))
}

async fn ack(s: &Session, name: &str, position: u64) -> Result<Output, Error> {
    let state = s
        .graph
        .acknowledge(&s.principal, name, EventPosition(position))
        .await?;
    Ok(Output::line(
        format!("consumer {name}: acknowledged up to {}", state.position),
        json!({"name": name, "position": state.position}),
    ))
}

fn duration(field: &str, text: &str) -> Result<Duration, Error> {
    humantime::parse_duration(text).map_err(|e| {
        Error::invalid_argument(field, format!("{field} {text:?} is not a duration: {e}"))
    })
}

async fn prune(
    s: &Session,
    keep: &str,
    keep_unacknowledged: Option<&str>,
    step: usize,
) -> Result<Output, Error> {
    let policy = RetentionPolicy {
        acknowledged: duration("keep", keep)?,
        unacknowledged: keep_unacknowledged
            .map(|text| duration("keep-unacknowledged", text))
            .transpose()?,
    };
    let step = NonZeroUsize::new(step)
        .ok_or_else(|| Error::invalid_argument("step", "step must be at least 1"))?;
    let report = s.graph.prune_events(&s.principal, &policy, step).await?;
    Ok(Output::line(
        format!(
            "prune: removed {} events in {} transactions",
            report.removed, report.steps
        ),
        to_json(&report)?,
    ))
}

/// Which history question.
#[derive(Debug, Clone, Copy)]
pub enum History {
    /// Who stopped following a node.
    LostFollowers,
    /// What an account followed or unfollowed.
    FollowChanges,
}

/// One page of a history question.
pub async fn history(
    s: &Session,
    question: History,
    subject: &str,
    since: &str,
    page: &PageRequest,
) -> Result<Output, Error> {
    let since = Timestamp::parse_rfc3339("since", since)?;
    let (graph, p) = (&s.graph, &s.principal);
    let page = match question {
        History::LostFollowers => graph.lost_followers(p, subject, since, page).await?,
        History::FollowChanges => graph.follow_changes(p, subject, since, page).await?,
    };
    let rows: Vec<[String; 5]> = page.items.iter().map(row).collect();
    paged(
        table(["POSITION", "KIND", "FOLLOWER", "TARGET", "AT"], &rows),
        &page,
    )
}

fn row(e: &Event) -> [String; 5] {
    [
        e.position.to_string(),
        word(&e.kind),
        e.follower.to_string(),
        e.target.to_string(),
        e.at.to_string(),
    ]
}
