//! Reads of relationships: the relationship object, lists of links, lists
//! as a viewer sees them, and the delivery list.
//!
//! A list read for a viewer is filtered after the store reads it, so a page
//! is refilled until it holds its limit: each round is one list read and
//! one read of the links between the viewer and the round's accounts. A
//! page costs one node read (the viewer), one round per `limit + 1` items
//! scanned, and one pairs read when relationships are asked for.

use std::collections::HashMap;

use super::FollowGraph;
use super::batch::{BatchPlan, ItemResult};
use super::commands::check_batch_len;
use crate::cursor::CursorScope;
use crate::{
    AccountId, Capability, Delivery, DeliveryEntry, Error, LinkDirection, LinkEntry, LinkKind,
    LinkPair, LinkQuery, ListEntry, ListKind, ListPosition, ListQuery, NodeId, Page, PageRequest,
    PairFacts, Principal, Relationship, TenantId, Timestamp, ViewedEntry,
};

impl FollowGraph {
    /// `actor`'s relationship to `target` (Mastodon's relationship object).
    /// Needs `read`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id or `actor == target`; `not_found`
    /// for an unknown node.
    pub async fn relationship<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
    ) -> Result<Relationship, Error> {
        let mut items = self.relationships(principal, actor, &[target]).await?;
        match items.pop() {
            Some(item) => item.result,
            None => Err(Error::internal("relationships answered no item")),
        }
    }

    /// `actor`'s relationship to each of `targets`, in request order, at
    /// most [`FollowGraph::read_batch_limit`] (default 30). Needs `read`.
    ///
    /// # Errors
    /// For the whole request: `invalid_argument` for a bad actor or an
    /// empty or over-limit list; `not_found` for an unknown actor. Each
    /// target's own error (`invalid_argument`, `not_found`) is its item's.
    pub async fn relationships<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        targets: &[&str],
    ) -> Result<Vec<ItemResult<Relationship>>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let actor = AccountId::parse_field("actor", actor)?;
        check_batch_len("targets", targets.len(), self.read_batch_limit)?;
        let (plan, valid) = BatchPlan::new(&actor, targets);
        let tenant = principal.tenant();
        let pairs = self
            .store
            .pairs(tenant, &NodeId::from(actor.clone()), &valid)
            .await?
            .ok_or_else(|| Error::node_not_found("actor", actor.as_str()))?;
        let links = self.link_pairs(tenant, &actor, &valid).await?;
        let results = pairs
            .iter()
            .zip(&valid)
            .map(|(pair, target)| {
                Some(if pair.exists {
                    Ok(relationship(target, pair, &links))
                } else {
                    Err(Error::node_not_found("target", target.as_str()))
                })
            })
            .collect();
        Ok(plan.merge(results))
    }

    /// The accounts `subject` blocks, newest first. Needs `read`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id, limit or cursor; `not_found` for an
    /// unknown subject.
    pub async fn blocks<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<LinkEntry>, Error> {
        let list = (LinkKind::Block, LinkDirection::Outgoing);
        self.link_list(principal.into(), list, subject, page).await
    }

    /// The accounts `subject` mutes, newest mute first; expired mutes are
    /// left out. Needs `read`; errors as [`FollowGraph::blocks`].
    pub async fn mutes<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<LinkEntry>, Error> {
        let list = (LinkKind::Mute, LinkDirection::Outgoing);
        self.link_list(principal.into(), list, subject, page).await
    }

    /// The pending requests to follow `subject`, newest first. Needs
    /// `read`; errors as [`FollowGraph::blocks`].
    pub async fn follow_requests<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<LinkEntry>, Error> {
        let list = (LinkKind::Request, LinkDirection::Incoming);
        self.link_list(principal.into(), list, subject, page).await
    }

    /// `subject`'s own pending requests, newest first. Needs `read`;
    /// errors as [`FollowGraph::blocks`].
    pub async fn requested<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<LinkEntry>, Error> {
        let list = (LinkKind::Request, LinkDirection::Outgoing);
        self.link_list(principal.into(), list, subject, page).await
    }

    /// A list of `subject` as `viewer` sees it (Mastodon's
    /// `follower_accounts` rules): accounts the viewer blocks or is blocked
    /// by are left out, and the list is empty when `subject` blocks the
    /// viewer. A page holds its limit unless it is the last; its cursor
    /// resumes exactly after its last item. With `relationships`, each item
    /// carries the viewer's relationship to it (Bluesky's `viewer` state).
    /// Needs `read`; the cost of a page is in the module docs.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id, limit or cursor (a cursor of the
    /// list read without a viewer is refused); `not_found` for an unknown
    /// subject or viewer.
    pub async fn list_as<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        viewer: &str,
        list: ListKind,
        subject: &str,
        page: &PageRequest,
        relationships: bool,
    ) -> Result<Page<ViewedEntry>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let viewer = AccountId::parse_field("viewer", viewer)?;
        let subject = NodeId::parse_field("subject", subject)?;
        let limit = page.checked_limit(self.page_limit)?;
        let tenant = principal.tenant();
        let scope = CursorScope::Viewed(list);
        let cursor_subject = format!("{subject} {viewer}");
        let mut after = self.decode_cursor(tenant, scope, &cursor_subject, page)?;
        let viewer_node = NodeId::from(viewer.clone());
        if self.store.node(tenant, &viewer_node).await?.is_none() {
            return Err(Error::node_not_found("viewer", viewer.as_str()));
        }
        let owner = subject.as_account();
        let mut kept: Vec<(ListEntry, LinkPair)> = Vec::new();
        let mut first = true;
        loop {
            let query = ListQuery {
                tenant: tenant.clone(),
                list,
                subject: subject.clone(),
                after: after.clone(),
                limit: limit + 1,
            };
            let items = self
                .store
                .list(query)
                .await?
                .ok_or_else(|| Error::node_not_found("subject", subject.as_str()))?;
            let exhausted = items.len() <= limit;
            after = advanced(after, items.last().map(ListEntry::position))?;
            let mut others: Vec<NodeId> = items.iter().map(|item| item.node.clone()).collect();
            if first && let Some(owner) = &owner {
                others.push(NodeId::from(owner.clone()));
            }
            let links = self.link_pairs(tenant, &viewer, &others).await?;
            if first
                && let Some(owner) = &owner
                && links
                    .get(owner)
                    .is_some_and(|pair| pair.blocked_by.is_some())
            {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
            first = false;
            for item in items {
                let pair = item
                    .node
                    .as_account()
                    .and_then(|account| links.get(&account).copied())
                    .unwrap_or_default();
                if !pair.blocked_either_way() {
                    kept.push((item, pair));
                }
            }
            if kept.len() > limit || exhausted {
                break;
            }
        }
        let more = kept.len() > limit;
        kept.truncate(limit);
        let next_cursor = match kept.last() {
            Some((last, _)) if more => {
                Some(
                    self.cursors
                        .encode(tenant, scope, &cursor_subject, &last.position()),
                )
            }
            _ => None,
        };
        let facts = if relationships && !kept.is_empty() {
            let nodes: Vec<NodeId> = kept.iter().map(|(item, _)| item.node.clone()).collect();
            self.store.pairs(tenant, &viewer_node, &nodes).await?
        } else {
            None
        };
        let items = kept
            .into_iter()
            .enumerate()
            .map(|(index, (entry, links))| {
                let viewer = facts.as_ref().map(|facts| {
                    let pair = facts.get(index).copied().unwrap_or_default();
                    Relationship::from_facts(entry.node.clone(), &pair, &links)
                });
                ViewedEntry { entry, viewer }
            })
            .collect();
        Ok(Page { items, next_cursor })
    }

    /// `subject`'s followers, newest first, each with how it receives a
    /// post of `subject` ([`Delivery::of`]: an account mute of the author
    /// withholds it, the follow's mute delivers it silently, else with
    /// notification) and its follow's options. Needs `read`; errors as
    /// [`FollowGraph::followers`].
    pub async fn delivery<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<DeliveryEntry>, Error> {
        let principal = principal.into();
        let followers = self.followers(principal, subject, page).await?;
        let mutes = match (principal, AccountId::new(subject)) {
            // `followers` admitted the principal; a channel mutes no one.
            (Some(principal), Ok(author)) if !followers.items.is_empty() => {
                let nodes: Vec<NodeId> = followers.items.iter().map(|i| i.node.clone()).collect();
                self.link_pairs(principal.tenant(), &author, &nodes).await?
            }
            _ => HashMap::new(),
        };
        let items = followers
            .items
            .into_iter()
            .map(|item| {
                let follower = item.node.as_account().ok_or_else(|| {
                    Error::internal(format!(
                        "the store listed channel {} as a follower",
                        item.node
                    ))
                })?;
                let muting_author = mutes
                    .get(&follower)
                    .is_some_and(|pair| pair.muted_by.is_some());
                Ok(DeliveryEntry {
                    follower,
                    since: item.since,
                    delivery: Delivery::of(item.muted, muting_author),
                    options: item.options,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Page {
            items,
            next_cursor: followers.next_cursor,
        })
    }

    /// The links between `subject` and the accounts among `others`, by the
    /// other account, as of now (expired mutes left out).
    async fn link_pairs(
        &self,
        tenant: &TenantId,
        subject: &AccountId,
        others: &[NodeId],
    ) -> Result<HashMap<AccountId, LinkPair>, Error> {
        let accounts: Vec<AccountId> = others.iter().filter_map(NodeId::as_account).collect();
        let mut pairs: HashMap<AccountId, LinkPair> = HashMap::new();
        if accounts.is_empty() {
            return Ok(pairs);
        }
        let now = self.now();
        for (key, link) in self.store.links_between(tenant, subject, &accounts).await? {
            let other = if key.from == *subject {
                &key.to
            } else {
                &key.from
            };
            pairs
                .entry(other.clone())
                .or_default()
                .add(subject, &key, link, now);
        }
        Ok(pairs)
    }

    async fn link_list(
        &self,
        principal: Option<&Principal>,
        (kind, direction): (LinkKind, LinkDirection),
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<LinkEntry>, Error> {
        let principal = self.admit_read(principal, Capability::Read)?;
        let subject = AccountId::parse_field("subject", subject)?;
        let limit = page.checked_limit(self.page_limit)?;
        let tenant = principal.tenant();
        let scope = CursorScope::Links(kind, direction);
        let mut after = self.decode_cursor(tenant, scope, subject.as_str(), page)?;
        let now: Timestamp = self.now();
        let mut kept = Vec::new();
        loop {
            let query = LinkQuery {
                tenant: tenant.clone(),
                kind,
                direction,
                subject: subject.clone(),
                after: after.clone(),
                limit: limit + 1,
            };
            let items = self
                .store
                .links(query)
                .await?
                .ok_or_else(|| Error::node_not_found("subject", subject.as_str()))?;
            let exhausted = items.len() <= limit;
            after = advanced(after, items.last().map(LinkEntry::position))?;
            kept.extend(items.into_iter().filter(|item| item.link.holds_at(now)));
            if kept.len() > limit || exhausted {
                break;
            }
        }
        Ok(self.paged(
            tenant,
            scope,
            subject.as_str(),
            kept,
            limit,
            LinkEntry::position,
        ))
    }
}

/// The position a refill round resumes after: the last item read, which
/// must lie beyond where the round began, or a store that ignored `after`
/// would keep the page filling forever.
fn advanced(
    before: Option<ListPosition>,
    last: Option<ListPosition>,
) -> Result<Option<ListPosition>, Error> {
    match (&before, &last) {
        (Some(before), Some(last)) if last <= before => Err(Error::internal(
            "the store answered a page that does not start after its cursor",
        )),
        _ => Ok(last),
    }
}

/// The relationship to `target` from its pair facts and the links read.
fn relationship(
    target: &NodeId,
    pair: &PairFacts,
    links: &HashMap<AccountId, LinkPair>,
) -> Relationship {
    let links = target
        .as_account()
        .and_then(|account| links.get(&account).copied())
        .unwrap_or_default();
    Relationship::from_facts(target.clone(), pair, &links)
}
