//! The change feed through the facade: consumers, retention, history.
//!
//! A consumer reads the events after its acknowledged position and
//! acknowledges once it has processed them: after a restart it resumes
//! exactly after its last acknowledgement (at-least-once). Retention removes
//! a prefix of a tenant's feed; a reader whose next event was removed gets
//! `fell_behind` saying what it lost, never a silent gap. History reaches
//! back only as far as retention keeps events.

use std::num::NonZeroUsize;

use super::FollowGraph;
use crate::cursor::CursorScope;
use crate::feed::{
    self, ConsumerLag, ConsumerName, ConsumerStart, ConsumerState, FeedState, HistoryKind,
    PruneReport, PruneStep, RetentionPolicy,
};
use crate::page::{DEFAULT_PAGE_LIMIT, MAX_EVENT_LIMIT, checked_limit};
use crate::{
    AccountId, Capability, Error, Event, EventPosition, NodeId, Page, PageRequest, Principal,
    TenantId, Timestamp,
};

/// The most events one history page reads before it answers (with fewer
/// items, and a cursor to go on): the cost of a page stays bounded however
/// sparse the matches are.
pub const HISTORY_SCAN_LIMIT: usize = 10_000;

impl FollowGraph {
    /// Registers a consumer of the tenant's feed, starting at the oldest
    /// retained event or after the newest; a consumer that exists already
    /// is answered unchanged. Needs `admin`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad name; a storage failure.
    pub async fn register_consumer<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        name: &str,
        start: ConsumerStart,
    ) -> Result<ConsumerState, Error> {
        let (principal, now) = self.admit(principal.into(), Capability::Admin)?;
        let name = ConsumerName::new(name)?;
        let tenant = principal.tenant();
        if let Some(existing) = self.store.consumer(tenant, &name).await? {
            return Ok(existing);
        }
        let feed = self.store.feed_state(tenant).await?;
        let position = match start {
            ConsumerStart::Oldest => feed
                .pruned
                .map_or(EventPosition(0), |pruned| pruned.through),
            ConsumerStart::Latest => feed.last_position,
        };
        self.store.acknowledge(tenant, &name, position, now).await
    }

    /// One consumer's acknowledged position. Needs `read`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad name; `not_found` for an unregistered one.
    pub async fn consumer<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        name: &str,
    ) -> Result<ConsumerState, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let name = ConsumerName::new(name)?;
        self.registered(principal.tenant(), &name).await
    }

    /// Every consumer of the tenant's feed with its lag, in name order.
    /// Needs `read`.
    pub async fn consumers<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
    ) -> Result<Vec<ConsumerLag>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let tenant = principal.tenant();
        let consumers = self.store.consumers(tenant).await?;
        let feed = self.store.feed_state(tenant).await?;
        let mut lags = Vec::with_capacity(consumers.len());
        for consumer in consumers {
            let unread = self
                .store
                .events_after(
                    tenant,
                    Some(consumer.position),
                    ConsumerLag::COUNT_LIMIT + 1,
                )
                .await?;
            lags.push(feed::lag(consumer, &unread, &feed));
        }
        Ok(lags)
    }

    /// The events after a consumer's acknowledged position, oldest first;
    /// at most `limit` (1..=1000, default 20). Reading does not move the
    /// position: [`FollowGraph::acknowledge`] does. Needs `read`.
    ///
    /// # Errors
    /// `not_found` for an unregistered consumer; `fell_behind` when
    /// retention removed events the consumer had not acknowledged.
    pub async fn consumer_events<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        name: &str,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let name = ConsumerName::new(name)?;
        let limit = checked_limit(limit, MAX_EVENT_LIMIT, DEFAULT_PAGE_LIMIT)?;
        let tenant = principal.tenant();
        let consumer = self.registered(tenant, &name).await?;
        self.read_after(tenant, name.as_str(), consumer.position, limit)
            .await
    }

    /// Acknowledges every event up to `position` for a consumer: it will
    /// not be handed them again. Monotonic: an older position changes
    /// nothing. Needs `admin`.
    ///
    /// # Errors
    /// `not_found` for an unregistered consumer; `invalid_argument` for a
    /// position beyond the last event.
    pub async fn acknowledge<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        name: &str,
        position: EventPosition,
    ) -> Result<ConsumerState, Error> {
        let (principal, now) = self.admit(principal.into(), Capability::Admin)?;
        let name = ConsumerName::new(name)?;
        let tenant = principal.tenant();
        self.registered(tenant, &name).await?;
        self.store.acknowledge(tenant, &name, position, now).await
    }

    /// Removes old events of the tenant's feed in steps of at most `step`
    /// events, each its own short transaction, until nothing more is due.
    /// Events every consumer acknowledged go once older than
    /// `policy.acknowledged`; any event goes once older than
    /// `policy.unacknowledged`, if set. Needs `admin`.
    ///
    /// A consumer registered while a prune runs may find the oldest events
    /// already gone (`fell_behind`), never a silent gap.
    ///
    /// # Errors
    /// A storage failure; the steps before it stay done.
    pub async fn prune_events<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        policy: &RetentionPolicy,
        step: NonZeroUsize,
    ) -> Result<PruneReport, Error> {
        let (principal, now) = self.admit(principal.into(), Capability::Admin)?;
        let tenant = principal.tenant();
        let mut report = PruneReport::default();
        if let Some(unacknowledged) = policy.unacknowledged {
            let before = now.saturating_sub(unacknowledged);
            self.prune_while(tenant, before, step, &mut report, |feed, _| {
                feed.last_position
            })
            .await?;
        }
        let before = now.saturating_sub(policy.acknowledged);
        self.prune_while(tenant, before, step, &mut report, feed::prune_bound)
            .await?;
        Ok(report)
    }

    /// Who stopped following `subject` since `since` (unfollowed it, or
    /// were removed as its followers), oldest first, paged. Needs `read`.
    /// Reaches back only as far as retention keeps events.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id, limit or cursor; `fell_behind` when
    /// retention removed events between two pages.
    pub async fn lost_followers<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        subject: &str,
        since: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Event>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let subject = NodeId::parse_field("subject", subject)?;
        self.history(principal, HistoryKind::LostFollowers, &subject, since, page)
            .await
    }

    /// What `actor` followed or unfollowed since `since`, oldest first,
    /// paged. Needs `read`. Errors as [`FollowGraph::lost_followers`].
    pub async fn follow_changes<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        since: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Event>, Error> {
        let principal = self.admit_read(principal.into(), Capability::Read)?;
        let actor = NodeId::from(AccountId::parse_field("actor", actor)?);
        self.history(principal, HistoryKind::FollowChanges, &actor, since, page)
            .await
    }

    async fn history(
        &self,
        principal: &Principal,
        kind: HistoryKind,
        subject: &NodeId,
        since: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Event>, Error> {
        let limit = page.checked_limit(self.page_limit)?;
        let tenant = principal.tenant();
        let scope = CursorScope::History(kind);
        // The time is part of what a cursor was issued for.
        let bound = format!("{}\u{0}{}", subject.as_str(), since.as_unix_micros());
        let after = page
            .cursor
            .as_deref()
            .map(|cursor| self.cursors.decode_position(tenant, scope, &bound, cursor))
            .transpose()?;
        let mut items = Vec::new();
        let mut scanned_to = after;
        let mut scanned = 0;
        let mut exhausted = false;
        while items.len() <= limit && scanned < HISTORY_SCAN_LIMIT {
            let chunk = self
                .store
                .events_after(tenant, scanned_to, MAX_EVENT_LIMIT as usize)
                .await?;
            let Some(last) = chunk.last() else {
                exhausted = true;
                break;
            };
            scanned_to = Some(last.position);
            scanned += chunk.len();
            let short = chunk.len() < MAX_EVENT_LIMIT as usize;
            for event in chunk {
                if event.at >= since && kind.matches(subject.as_str(), &event) {
                    items.push(event);
                    if items.len() > limit {
                        break;
                    }
                }
            }
            if short && items.len() <= limit {
                exhausted = true;
                break;
            }
        }
        if let Some(after) = after {
            let feed = self.store.feed_state(tenant).await?;
            feed::check_not_behind("this history cursor", after, &feed)?;
        }
        let resume = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|event| event.position)
        } else if exhausted {
            None
        } else {
            scanned_to
        };
        let next_cursor = resume.map(|position| {
            self.cursors
                .encode_position(tenant, scope, &bound, position)
        });
        Ok(Page { items, next_cursor })
    }

    async fn registered(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
    ) -> Result<ConsumerState, Error> {
        self.store.consumer(tenant, name).await?.ok_or_else(|| {
            Error::new(
                crate::ErrorKind::NotFound,
                format!("consumer {:?} not found", name.as_str()),
            )
            .with_detail("field", "consumer")
            .with_detail("id", name.as_str())
        })
    }

    /// Events after `position`, checked afterwards against the pruned
    /// range: a prune is committed with its removal, so if none reached past
    /// `position` by the time of the check, the read missed nothing.
    pub(super) async fn read_after(
        &self,
        tenant: &TenantId,
        reader: &str,
        position: EventPosition,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        let events = self
            .store
            .events_after(tenant, Some(position), limit)
            .await?;
        let feed = self.store.feed_state(tenant).await?;
        feed::check_not_behind(reader, position, &feed)?;
        Ok(events)
    }

    async fn prune_while(
        &self,
        tenant: &TenantId,
        before: Timestamp,
        step: NonZeroUsize,
        report: &mut PruneReport,
        through: impl Fn(&FeedState, &[ConsumerState]) -> EventPosition,
    ) -> Result<(), Error> {
        loop {
            let feed = self.store.feed_state(tenant).await?;
            let consumers = self.store.consumers(tenant).await?;
            let removed = self
                .store
                .prune_events(PruneStep {
                    tenant: tenant.clone(),
                    through: through(&feed, &consumers),
                    before,
                    limit: step.get(),
                })
                .await?;
            report.steps += 1;
            report.removed += removed;
            if removed < step.get() as u64 {
                return Ok(());
            }
        }
    }
}
