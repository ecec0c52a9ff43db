//! Commands that change the links between accounts: blocks, account mutes,
//! locking, and answering follow requests.

use follow_core::{Applied, Error, MAX_PAGE_LIMIT, PageRequest};
use serde_json::json;

use super::links;
use crate::cli::RelationCmd;
use crate::output::{Output, outcome, to_json, yes_no};
use crate::session::Session;

/// Runs a relationship command.
pub async fn run(s: &Session, command: &RelationCmd) -> Result<Output, Error> {
    let (graph, p) = (&s.graph, &s.principal);
    match command {
        RelationCmd::Block { actor, target } => {
            let applied = graph.block(p, actor, target).await?;
            pair_line("block", actor, target, &applied)
        }
        RelationCmd::Unblock { actor, target } => {
            let applied = graph.unblock(p, actor, target).await?;
            pair_line("unblock", actor, target, &applied)
        }
        RelationCmd::MuteAccount {
            actor,
            target,
            notifications,
            duration,
        } => mute_account(s, actor, target, *notifications, duration.as_deref()).await,
        RelationCmd::UnmuteAccount { actor, target } => {
            let applied = graph.unmute_account(p, actor, target).await?;
            pair_line("unmute-account", actor, target, &applied)
        }
        RelationCmd::Lock { account } => {
            let applied = graph.set_locked(p, account, true).await?;
            Ok(Output::line(
                format!("lock {account}: {}", outcome(&applied)),
                json!({"account": account, "result": to_json(&applied)?}),
            ))
        }
        RelationCmd::Unlock { account } => unlock(s, account).await,
        RelationCmd::Authorize { actor, follower } => {
            let applied = graph.authorize_request(p, actor, follower).await?;
            answer_line("authorize", "authorises", actor, follower, &applied)
        }
        RelationCmd::Reject { actor, follower } => {
            let applied = graph.reject_request(p, actor, follower).await?;
            answer_line("reject", "rejects", actor, follower, &applied)
        }
        RelationCmd::Blocks { account, page } => links::blocks(s, account, &page.request()).await,
        RelationCmd::Mutes { account, page } => links::mutes(s, account, &page.request()).await,
        RelationCmd::Requests {
            account,
            outgoing,
            page,
        } => links::requests(s, account, *outgoing, &page.request()).await,
        RelationCmd::Relationship { actor, targets } => {
            links::relationships(s, actor, targets).await
        }
        RelationCmd::Delivery { target, page } => links::delivery(s, target, &page.request()).await,
    }
}

/// `VERB ACTOR -> TARGET: outcome`, and the outcome as JSON.
fn pair_line(verb: &str, actor: &str, target: &str, applied: &Applied) -> Result<Output, Error> {
    Ok(Output::line(
        format!("{verb} {actor} -> {target}: {}", outcome(applied)),
        to_json(applied)?,
    ))
}

/// The answer to FOLLOWER's request to follow ACTOR.
fn answer_line(
    verb: &str,
    third_person: &str,
    actor: &str,
    follower: &str,
    applied: &Applied,
) -> Result<Output, Error> {
    Ok(Output::line(
        format!(
            "{verb}: {actor} {third_person} {follower}'s request ({follower} -> {actor}): {}",
            outcome(applied)
        ),
        to_json(applied)?,
    ))
}

/// Mutes an account, for a while or without end.
async fn mute_account(
    s: &Session,
    actor: &str,
    target: &str,
    notifications: Option<bool>,
    duration: Option<&str>,
) -> Result<Output, Error> {
    let length = duration
        .map(|text| {
            humantime::parse_duration(text).map_err(|e| {
                Error::invalid_argument(
                    "duration",
                    format!("--for {text:?} is not a duration (such as 7d or 12h): {e}"),
                )
            })
        })
        .transpose()?;
    let applied = s
        .graph
        .mute_account(&s.principal, actor, target, notifications, length)
        .await?;
    let until = duration.map_or_else(|| "without end".to_owned(), |text| format!("for {text}"));
    Ok(Output::line(
        format!(
            "mute-account {actor} -> {target} (notifications: {}, {until}): {}",
            yes_no(notifications.unwrap_or(true)),
            outcome(&applied)
        ),
        to_json(&applied)?,
    ))
}

/// Unlocks an account, and says how many pending requests that authorised
/// (those pending just before the unlock; the library authorises them all).
async fn unlock(s: &Session, account: &str) -> Result<Output, Error> {
    let pending = count_requests(s, account).await?;
    let applied = s.graph.set_locked(&s.principal, account, false).await?;
    let left = count_requests(s, account).await?;
    let authorized = pending.saturating_sub(left);
    Ok(Output::line(
        format!(
            "unlock {account}: {}; pending requests authorised: {authorized}",
            outcome(&applied)
        ),
        json!({
            "account": account,
            "result": to_json(&applied)?,
            "requests_authorized": authorized,
        }),
    ))
}

/// How many requests to follow `account` are pending.
async fn count_requests(s: &Session, account: &str) -> Result<u64, Error> {
    let mut page = PageRequest::first().with_limit(MAX_PAGE_LIMIT);
    let mut count = 0;
    loop {
        let items = s
            .graph
            .follow_requests(&s.principal, account, &page)
            .await?;
        count += items.items.len() as u64;
        match items.next_cursor {
            Some(cursor) => page = PageRequest::after(cursor).with_limit(MAX_PAGE_LIMIT),
            None => return Ok(count),
        }
    }
}
