//! Reads: relations, lists, counts, the interaction guard, the audit, events.

use super::FollowGraph;
use super::batch::{BatchPlan, ItemResult};
use super::commands::check_batch_len;
use crate::cursor::CursorScope;
use crate::page::{DEFAULT_PAGE_LIMIT, MAX_EVENT_LIMIT, checked_limit};
use crate::{
    AccountId, Capability, Counts, Error, Event, EventPosition, ListEntry, ListKind, ListPosition,
    ListQuery, NodeId, NodeRecord, Page, PageRequest, Principal, Relation, StaleEntry, StaleQuery,
    TenantId, Timestamp,
};

impl FollowGraph {
    /// How `a` relates to `b`. Needs `read`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id or `a == b`; `not_found` for an
    /// unknown node.
    pub async fn relation<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        a: &str,
        b: &str,
    ) -> Result<Relation, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let a = NodeId::parse_field("a", a)?;
        let b = NodeId::parse_field("b", b)?;
        if a == b {
            return Err(Error::invalid_argument(
                "b",
                "a node has no relation to itself",
            ));
        }
        let pairs = self
            .store
            .pairs(principal.tenant(), &a, std::slice::from_ref(&b))
            .await?
            .ok_or_else(|| Error::node_not_found("a", a.as_str()))?;
        match pairs.first() {
            Some(pair) if pair.exists => {
                Ok(Relation::from_edges(pair.outgoing.is_some(), pair.incoming))
            }
            _ => Err(Error::node_not_found("b", b.as_str())),
        }
    }

    /// `actor`'s relation to each of `targets` (Tencent's `follow_check`).
    /// Needs `read`. Errors as [`FollowGraph::follow_many`].
    pub async fn check_many<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        targets: &[&str],
    ) -> Result<Vec<ItemResult<Relation>>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let actor = AccountId::parse_field("actor", actor)?;
        check_batch_len("targets", targets.len(), self.batch_limit)?;
        let (plan, valid) = BatchPlan::new(&actor, targets);
        let actor = NodeId::from(actor);
        let pairs = self
            .store
            .pairs(principal.tenant(), &actor, &valid)
            .await?
            .ok_or_else(|| Error::node_not_found("actor", actor.as_str()))?;
        let results = pairs
            .iter()
            .zip(&valid)
            .map(|(pair, target)| {
                Some(if pair.exists {
                    Ok(Relation::from_edges(pair.outgoing.is_some(), pair.incoming))
                } else {
                    Err(Error::node_not_found("target", target.as_str()))
                })
            })
            .collect();
        Ok(plan.merge(results))
    }

    /// A node with its registration, last activity and counts. Needs `read`.
    pub async fn node<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        id: &str,
    ) -> Result<NodeRecord, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let id = NodeId::parse_field("id", id)?;
        self.store
            .node(principal.tenant(), &id)
            .await?
            .ok_or_else(|| Error::node_not_found("id", id.as_str()))
    }

    /// A node's following, followers and mutual counts, read in O(1).
    /// Needs `read`.
    pub async fn counts<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        id: &str,
    ) -> Result<Counts, Error> {
        Ok(self.node(principal, id).await?.counts)
    }

    /// The nodes `subject` follows, newest first. Needs `read`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id, a limit outside 1..=100, or a cursor
    /// that was altered or issued for another tenant, list or subject;
    /// `not_found` for an unknown subject.
    pub async fn following<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<ListEntry>, Error> {
        self.list(principal.into(), ListKind::Following, subject, page)
            .await
    }

    /// The accounts following `subject`, newest first: who receives its posts
    /// (the muted ones without notification). Needs `read`.
    pub async fn followers<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<ListEntry>, Error> {
        self.list(principal.into(), ListKind::Followers, subject, page)
            .await
    }

    /// The accounts `subject` follows that follow back, newest mutual
    /// first. Needs `read`.
    pub async fn mutuals<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<ListEntry>, Error> {
        self.list(principal.into(), ListKind::Mutuals, subject, page)
            .await
    }

    /// The interaction guard: `Ok` only if `actor` follows `target`. Reacting
    /// or sending to a channel the account does not follow is `forbidden`
    /// (the channels API's "zombie state"). Needs `send`; a bound principal must be
    /// `actor`.
    pub async fn ensure_can_interact<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
    ) -> Result<(), Error> {
        let principal = self.admit_read(principal.into(), Capability::Send)?;
        let actor = AccountId::parse_field("actor", actor)?;
        let target = NodeId::parse_field("target", target)?;
        let actor = NodeId::from(actor);
        principal.require_acting_as(&actor)?;
        let pairs = self
            .store
            .pairs(principal.tenant(), &actor, std::slice::from_ref(&target))
            .await?
            .ok_or_else(|| Error::node_not_found("actor", actor.as_str()))?;
        match pairs.first() {
            Some(pair) if !pair.exists => Err(Error::node_not_found("target", target.as_str())),
            Some(pair) if pair.outgoing.is_some() => Ok(()),
            _ => Err(Error::forbidden("the actor does not follow the target")
                .with_detail("target", target.as_str())),
        }
    }

    /// The inactive-follows audit: `actor`'s follows whose target has had no
    /// activity since `inactive_since`, in following order. Needs `read`.
    pub async fn stale_following<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        inactive_since: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<StaleEntry>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let actor = AccountId::parse_field("actor", actor)?;
        let limit = page.checked_limit(self.page_limit)?;
        let subject = NodeId::from(actor.clone());
        let tenant = principal.tenant();
        let after = self.decode_cursor(tenant, CursorScope::Stale, subject.as_str(), page)?;
        let query = StaleQuery {
            tenant: tenant.clone(),
            actor,
            inactive_since,
            after,
            limit: limit + 1,
        };
        let items = self
            .store
            .stale_following(query)
            .await?
            .ok_or_else(|| Error::node_not_found("actor", subject.as_str()))?;
        Ok(self.paged(
            tenant,
            CursorScope::Stale,
            subject.as_str(),
            items,
            limit,
            StaleEntry::position,
        ))
    }

    /// The tenant's events strictly after `after`, oldest first; at most
    /// `limit` (1..=1000, default 20). Needs `read`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad limit; `fell_behind` when retention
    /// removed events after `after` (from the start: the oldest retained).
    pub async fn events<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        after: Option<EventPosition>,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let limit = checked_limit(limit, MAX_EVENT_LIMIT, DEFAULT_PAGE_LIMIT)?;
        match after {
            Some(after) => {
                self.read_after(principal.tenant(), "this reader", after, limit)
                    .await
            }
            None => {
                self.store
                    .events_after(principal.tenant(), None, limit)
                    .await
            }
        }
    }

    /// The tenant's registered nodes in id order, with their counts: the
    /// walk an export or an audit makes. Needs `read`.
    ///
    /// # Errors
    /// `invalid_argument` for a limit outside 1..=100 or a cursor that was
    /// altered or issued for another tenant or walk.
    pub async fn nodes<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        page: &PageRequest,
    ) -> Result<Page<NodeRecord>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let limit = page.checked_limit(self.page_limit)?;
        let tenant = principal.tenant();
        let after = self.decode_cursor(tenant, CursorScope::Nodes, "", page)?;
        let after = after.map(|position| position.node);
        let items = self.store.nodes(tenant, after.as_ref(), limit + 1).await?;
        // A node's place in the walk is its id alone; the time is unused.
        Ok(
            self.paged(tenant, CursorScope::Nodes, "", items, limit, |node| {
                ListPosition {
                    since: node.registered_at,
                    node: node.id.clone(),
                }
            }),
        )
    }

    async fn list(
        &self,
        principal: Option<&Principal>,
        list: ListKind,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Page<ListEntry>, Error> {
        let principal = self.admit_read(principal, Capability::Read)?;
        let subject = NodeId::parse_field("subject", subject)?;
        let limit = page.checked_limit(self.page_limit)?;
        let tenant = principal.tenant();
        let scope = CursorScope::List(list);
        let after = self.decode_cursor(tenant, scope, subject.as_str(), page)?;
        let query = ListQuery {
            tenant: tenant.clone(),
            list,
            subject: subject.clone(),
            after,
            limit: limit + 1,
        };
        let items = self
            .store
            .list(query)
            .await?
            .ok_or_else(|| Error::node_not_found("subject", subject.as_str()))?;
        Ok(self.paged(
            tenant,
            scope,
            subject.as_str(),
            items,
            limit,
            ListEntry::position,
        ))
    }

    pub(super) fn decode_cursor(
        &self,
        tenant: &TenantId,
        scope: CursorScope,
        subject: &str,
        page: &PageRequest,
    ) -> Result<Option<ListPosition>, Error> {
        page.cursor
            .as_deref()
            .map(|cursor| self.cursors.decode(tenant, scope, subject, cursor))
            .transpose()
    }

    /// Cuts the one extra item read and turns the last kept one into the
    /// next cursor: `None` exactly when the list has nothing more.
    pub(super) fn paged<T>(
        &self,
        tenant: &TenantId,
        scope: CursorScope,
        subject: &str,
        mut items: Vec<T>,
        limit: usize,
        position: impl Fn(&T) -> ListPosition,
    ) -> Page<T> {
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = match items.last() {
            Some(last) if more => {
                Some(self.cursors.encode(tenant, scope, subject, &position(last)))
            }
            _ => None,
        };
        Page { items, next_cursor }
    }
}
