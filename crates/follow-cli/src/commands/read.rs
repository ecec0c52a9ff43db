//! Commands that read: relations, lists, counts, events, the audit.

use follow_core::{Error, EventPosition, ListKind, Page, PageRequest, Timestamp};
use serde_json::json;

use super::links;
use crate::cli::ViewerArgs;
use crate::output::{Output, table, to_json, word, yes_no};
use crate::session::Session;

/// Which list of a node.
#[derive(Debug, Clone, Copy)]
pub enum List {
    /// Whom it follows.
    Following,
    /// Who follows it.
    Followers,
    /// Both ways.
    Mutuals,
}

/// How `a` relates to `b`.
pub async fn relation(s: &Session, a: &str, b: &str) -> Result<Output, Error> {
    let relation = s.graph.relation(&s.principal, a, b).await?;
    Ok(Output::line(
        format!("relation {a} {b}: {}", word(&relation)),
        json!({"a": a, "b": b, "relation": to_json(&relation)?}),
    ))
}

/// One page of a list, as a table, and how to get the next page; read as
/// the viewer sees it when one is named.
pub async fn list(
    s: &Session,
    list: List,
    subject: &str,
    page: &PageRequest,
    viewer: &ViewerArgs,
) -> Result<Output, Error> {
    if let Some(viewer_id) = &viewer.viewer {
        let kind = match list {
            List::Following => ListKind::Following,
            List::Followers => ListKind::Followers,
            List::Mutuals => ListKind::Mutuals,
        };
        let with = viewer.relationships;
        return links::viewed_list(s, kind, subject, viewer_id, with, page).await;
    }
    let (graph, p) = (&s.graph, &s.principal);
    let page = match list {
        List::Following => graph.following(p, subject, page).await?,
        List::Followers => graph.followers(p, subject, page).await?,
        List::Mutuals => graph.mutuals(p, subject, page).await?,
    };
    let rows: Vec<[String; 3]> = page
        .items
        .iter()
        .map(|e| [e.node.to_string(), e.since.to_string(), yes_no(e.muted)])
        .collect();
    paged(table(["NODE", "SINCE", "MUTED"], &rows), &page)
}

/// A table followed by the cursor of the next page and the option that
/// fetches it, if there is more.
pub(super) fn paged<T: serde::Serialize>(
    mut lines: Vec<String>,
    page: &Page<T>,
) -> Result<Output, Error> {
    if page.items.is_empty() {
        lines = vec!["(none)".to_owned()];
    }
    if let Some(cursor) = &page.next_cursor {
        lines.push(format!("next cursor: {cursor}"));
        lines.push(format!("more: repeat the command with --cursor {cursor}"));
    }
    Ok(Output::new(lines, to_json(page)?))
}

/// A node's counts.
pub async fn counts(s: &Session, id: &str) -> Result<Output, Error> {
    let counts = s.graph.counts(&s.principal, id).await?;
    Ok(Output::line(
        format!(
            "{id}: following={} followers={} mutual={}",
            counts.following, counts.followers, counts.mutual
        ),
        json!({"id": id, "counts": to_json(&counts)?}),
    ))
}

/// The change feed after a position, and the `--after` that goes on
/// from the last event shown when there are more.
pub async fn events(s: &Session, after: Option<u64>, limit: Option<u32>) -> Result<Output, Error> {
    let asked = limit.unwrap_or(follow_core::DEFAULT_PAGE_LIMIT);
    // One more than shown tells whether there are more; at the largest page
    // a full page counts as "maybe more".
    let fetch = limit.map_or(asked + 1, |l| {
        if (1..follow_core::MAX_EVENT_LIMIT).contains(&l) {
            l + 1
        } else {
            l
        }
    });
    let mut events = s
        .graph
        .events(&s.principal, after.map(EventPosition), Some(fetch))
        .await?;
    let more = events.len() >= asked as usize && (fetch == asked || events.len() > asked as usize);
    events.truncate(asked as usize);
    let rows: Vec<[String; 5]> = events
        .iter()
        .map(|e| {
            [
                e.position.to_string(),
                word(&e.kind),
                e.follower.to_string(),
                e.target.to_string(),
                e.at.to_string(),
            ]
        })
        .collect();
    let mut lines = if events.is_empty() {
        vec!["(none)".to_owned()]
    } else {
        table(["POSITION", "KIND", "FOLLOWER", "TARGET", "AT"], &rows)
    };
    if let Some(last) = events.last().filter(|_| more) {
        lines.push(format!(
            "more: repeat the command with --after {}",
            last.position
        ));
    }
    Ok(Output::new(lines, to_json(&events)?))
}

/// The inactive-follows audit.
pub async fn stale(
    s: &Session,
    actor: &str,
    since: &str,
    page: &PageRequest,
) -> Result<Output, Error> {
    let since = Timestamp::parse_rfc3339("since", since)?;
    let page = s
        .graph
        .stale_following(&s.principal, actor, since, page)
        .await?;
    let rows: Vec<[String; 4]> = page
        .items
        .iter()
        .map(|e| {
            [
                e.node.to_string(),
                e.since.to_string(),
                e.active_at.to_string(),
                yes_no(e.muted),
            ]
        })
        .collect();
    paged(table(["NODE", "SINCE", "ACTIVE AT", "MUTED"], &rows), &page)
}
