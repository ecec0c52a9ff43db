//! Commands that read relationships: lists of blocks, mutes and requests,
//! the relationship object, lists as a viewer sees them, and delivery.

use follow_core::{
    Error, FollowOptions, Languages, LinkEntry, ListKind, Page, PageRequest, Relationship,
};

use super::read::paged;
use crate::output::{Output, Status, table, to_json, word, yes_no};
use crate::session::Session;

/// The languages as the tables and the CSV write them: codes separated by
/// spaces, or `all`.
pub fn languages_text(languages: &Languages) -> String {
    if languages.is_all() {
        "all".to_owned()
    } else {
        languages.codes().collect::<Vec<_>>().join(" ")
    }
}

/// The REBLOGS, NOTIFY and LANGUAGES cells of a follow's options.
fn option_cells(options: &FollowOptions) -> [String; 3] {
    [
        yes_no(options.reblogs),
        yes_no(options.notify),
        languages_text(&options.languages),
    ]
}

/// The accounts `account` blocks.
pub async fn blocks(s: &Session, account: &str, page: &PageRequest) -> Result<Output, Error> {
    let page = s.graph.blocks(&s.principal, account, page).await?;
    let rows: Vec<[String; 2]> = page
        .items
        .iter()
        .map(|e| [e.account.to_string(), e.link.since.to_string()])
        .collect();
    paged(table(["ACCOUNT", "SINCE"], &rows), &page)
}

/// The accounts `account` mutes, with notifications and expiry.
pub async fn mutes(s: &Session, account: &str, page: &PageRequest) -> Result<Output, Error> {
    let page = s.graph.mutes(&s.principal, account, page).await?;
    let rows: Vec<[String; 4]> = page
        .items
        .iter()
        .map(|e| {
            [
                e.account.to_string(),
                e.link.since.to_string(),
                yes_no(e.link.notifications),
                e.link
                    .expires_at
                    .map_or_else(|| "never".to_owned(), |at| at.to_string()),
            ]
        })
        .collect();
    paged(
        table(["ACCOUNT", "SINCE", "NOTIFICATIONS", "EXPIRES"], &rows),
        &page,
    )
}

/// The pending requests to follow `account`, or its own.
pub async fn requests(
    s: &Session,
    account: &str,
    outgoing: bool,
    page: &PageRequest,
) -> Result<Output, Error> {
    let page: Page<LinkEntry> = if outgoing {
        s.graph.requested(&s.principal, account, page).await?
    } else {
        s.graph.follow_requests(&s.principal, account, page).await?
    };
    let rows: Vec<[String; 5]> = page
        .items
        .iter()
        .map(|e| {
            let [reblogs, notify, languages] = option_cells(&e.link.options);
            [
                e.account.to_string(),
                e.link.since.to_string(),
                reblogs,
                notify,
                languages,
            ]
        })
        .collect();
    let who = if outgoing { "TARGET" } else { "FOLLOWER" };
    paged(
        table([who, "SINCE", "REBLOGS", "NOTIFY", "LANGUAGES"], &rows),
        &page,
    )
}

/// The relationship flags that hold, by their JSON names (`following
/// muting …`), or `none`.
fn state_words(r: &Relationship) -> String {
    let mut words: Vec<String> = [
        (r.following, "following"),
        (r.followed_by, "followed_by"),
        (r.requested, "requested"),
        (r.requested_by, "requested_by"),
        (r.blocking, "blocking"),
        (r.blocked_by, "blocked_by"),
        (r.muting, "muting"),
        (r.muting_notifications, "muting_notifications"),
        (r.muted, "muted"),
    ]
    .into_iter()
    .filter(|(holds, _)| *holds)
    .map(|(_, name)| name.to_owned())
    .collect();
    if let Some(end) = r.muting_expires_at {
        words.push(format!("muting_expires_at={end}"));
    }
    if words.is_empty() {
        "none".to_owned()
    } else {
        words.join(" ")
    }
}

/// The REBLOGS, NOTIFY and LANGUAGES cells of the viewer's follow or
/// request, `-` when there is neither.
fn relationship_option_cells(r: &Relationship) -> [String; 3] {
    if !(r.following || r.requested) {
        return ["-", "-", "-"].map(str::to_owned);
    }
    [
        yes_no(r.showing_reblogs),
        yes_no(r.notifying),
        languages_text(&r.languages.unwrap_or(Languages::ALL)),
    ]
}

/// `actor`'s relationship to each target, in the order given.
pub async fn relationships(s: &Session, actor: &str, targets: &[String]) -> Result<Output, Error> {
    let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
    let items = s.graph.relationships(&s.principal, actor, &refs).await?;
    let rows: Vec<[String; 5]> = items
        .iter()
        .map(|item| match &item.result {
            Ok(r) => {
                let [reblogs, notify, languages] = relationship_option_cells(r);
                [
                    item.target.clone(),
                    state_words(r),
                    reblogs,
                    notify,
                    languages,
                ]
            }
            Err(error) => [
                item.target.clone(),
                format!("error {}: {}", error.code(), error.message()),
                String::new(),
                String::new(),
                String::new(),
            ],
        })
        .collect();
    let status = if items.iter().any(|item| item.result.is_err()) {
        Status::Partial
    } else {
        Status::Done
    };
    let lines = table(["TARGET", "STATE", "REBLOGS", "NOTIFY", "LANGUAGES"], &rows);
    Ok(Output::new(lines, to_json(&items)?).with_status(status))
}

/// A list of `subject` as `viewer` sees it, optionally with the viewer's
/// relationship to each item.
pub async fn viewed_list(
    s: &Session,
    list: ListKind,
    subject: &str,
    viewer: &str,
    relationships: bool,
    page: &PageRequest,
) -> Result<Output, Error> {
    let page = s
        .graph
        .list_as(&s.principal, viewer, list, subject, page, relationships)
        .await?;
    let lines = if relationships {
        let rows: Vec<[String; 4]> = page
            .items
            .iter()
            .map(|item| {
                let e = &item.entry;
                let state = item.viewer.as_ref().map_or_else(String::new, state_words);
                [
                    e.node.to_string(),
                    e.since.to_string(),
                    yes_no(e.muted),
                    state,
                ]
            })
            .collect();
        table(["NODE", "SINCE", "MUTED", "VIEWER"], &rows)
    } else {
        let rows: Vec<[String; 3]> = page
            .items
            .iter()
            .map(|item| {
                let e = &item.entry;
                [e.node.to_string(), e.since.to_string(), yes_no(e.muted)]
            })
            .collect();
        table(["NODE", "SINCE", "MUTED"], &rows)
    };
    paged(lines, &page)
}

/// `target`'s followers, each with how it receives `target`'s posts.
pub async fn delivery(s: &Session, target: &str, page: &PageRequest) -> Result<Output, Error> {
    let page = s.graph.delivery(&s.principal, target, page).await?;
    let rows: Vec<[String; 6]> = page
        .items
        .iter()
        .map(|e| {
            let [reblogs, notify, languages] = option_cells(&e.options);
            [
                e.follower.to_string(),
                e.since.to_string(),
                word(&e.delivery),
                reblogs,
                notify,
                languages,
            ]
        })
        .collect();
    paged(
        table(
            [
                "FOLLOWER",
                "SINCE",
                "DELIVERY",
                "REBLOGS",
                "NOTIFY",
                "LANGUAGES",
            ],
            &rows,
        ),
        &page,
    )
}
