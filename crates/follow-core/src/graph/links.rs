//! Writes of links: blocks, account mutes, follow requests, locking.

use std::time::Duration;

use super::FollowGraph;
use super::removal::REMOVAL_CHUNK;
use crate::{
    AccountId, Applied, Capability, Command, Error, LinkDirection, LinkKind, LinkQuery, NodeId,
    Principal, Timestamp, WriteBatch,
};

impl FollowGraph {
    /// `actor` blocks `target` (Mastodon's block). In the same transaction
    /// the follows both ways are cut (`unfollowed`, `follower_removed`) and
    /// pending requests both ways go (`follow_request_withdrawn`,
    /// `follow_request_rejected`); the block's event is `blocked`. Blocking
    /// again is `unchanged`. While the block stands, follows and requests
    /// either way are `forbidden`. Needs `send`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id, a channel on either side, or
    /// `actor == target`; `forbidden` when a bound principal acts for
    /// another account; `not_found` for an unknown account.
    pub async fn block<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
    ) -> Result<Applied, Error> {
        self.link_command(
            principal.into(),
            actor,
            ("target", target),
            |actor, target, _| Ok(Command::Block { actor, target }),
        )
        .await
    }

    /// `actor` lifts its block of `target`: `unchanged` when there is none.
    /// Nothing the block cut comes back. Needs `send`; errors as
    /// [`FollowGraph::block`].
    pub async fn unblock<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
    ) -> Result<Applied, Error> {
        self.link_command(
            principal.into(),
            actor,
            ("target", target),
            |actor, target, _| Ok(Command::Unblock { actor, target }),
        )
        .await
    }

    /// `actor` mutes `target` as an account, followed or not (Mastodon's
    /// and Bluesky's mute; the follow's own notification mute is
    /// [`FollowGraph::set_mute`]). `notifications` left out is `true`;
    /// `duration` left out mutes without end. Muting again sets both values
    /// as given (so again with no `notifications` sets it back to `true`):
    /// `changed` with an `account_muted` event when one differs. An expired
    /// mute is absent from every read at once. Muting does not unfollow.
    /// Needs `send`.
    ///
    /// # Errors
    /// As [`FollowGraph::block`], and `invalid_argument` (field `duration`)
    /// for a zero duration or one past the clock's range.
    pub async fn mute_account<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
        notifications: Option<bool>,
        duration: Option<Duration>,
    ) -> Result<Applied, Error> {
        self.link_command(
            principal.into(),
            actor,
            ("target", target),
            |actor, target, now| {
                let expires_at = duration
                    .map(|duration| {
                        let end = now.saturating_add(duration);
                        if duration.is_zero() || end == Timestamp::MAX {
                            return Err(Error::invalid_argument(
                                "duration",
                                "a mute's duration must be positive and within the clock's \
                             range; leave it out to mute without end",
                            ));
                        }
                        Ok(end)
                    })
                    .transpose()?;
                Ok(Command::MuteAccount {
                    actor,
                    target,
                    notifications: notifications.unwrap_or(true),
                    expires_at,
                })
            },
        )
        .await
    }

    /// `actor` ends its account mute of `target`: `unchanged` when there is
    /// none (or it expired). Needs `send`; errors as [`FollowGraph::block`].
    pub async fn unmute_account<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
    ) -> Result<Applied, Error> {
        self.link_command(
            principal.into(),
            actor,
            ("target", target),
            |actor, target, _| Ok(Command::UnmuteAccount { actor, target }),
        )
        .await
    }

    /// `actor`, a locked account, authorises `follower`'s pending request:
    /// the follow is made with the request's options (events
    /// `follow_request_authorized` and `followed`). `unchanged` when no
    /// request is pending. Needs `send`; a bound principal must be `actor`.
    ///
    /// # Errors
    /// As [`FollowGraph::block`].
    pub async fn authorize_request<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        follower: &str,
    ) -> Result<Applied, Error> {
        self.link_command(
            principal.into(),
            actor,
            ("follower", follower),
            |target, follower, _| Ok(Command::AuthorizeRequest { target, follower }),
        )
        .await
    }

    /// `actor` rejects `follower`'s pending request: it goes, nothing is
    /// made (`follow_request_rejected`). `unchanged` when none is pending.
    /// Needs `send`; errors as [`FollowGraph::authorize_request`].
    pub async fn reject_request<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        follower: &str,
    ) -> Result<Applied, Error> {
        self.link_command(
            principal.into(),
            actor,
            ("follower", follower),
            |target, follower, _| Ok(Command::RejectRequest { target, follower }),
        )
        .await
    }

    /// Locks or unlocks an account. While locked, a follow of it makes a
    /// request. Unlocking authorises every pending request (Mastodon's
    /// rule), in batches of at most [`REMOVAL_CHUNK`]: the unlock commits
    /// first, so no request can be made after it, then the requests made
    /// before it are authorised. If the call fails part-way, unlocking
    /// again finishes the job (and meanwhile a follow again by an asker
    /// makes the follow). Needs `admin`, or a principal bound to the
    /// account.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id or a channel; `forbidden` when the
    /// principal is neither `admin` nor bound to the account; `not_found`
    /// for an unknown account.
    pub async fn set_locked<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        account: &str,
        locked: bool,
    ) -> Result<Applied, Error> {
        let principal = principal.into();
        let bound = principal
            .and_then(Principal::account)
            .map(AccountId::as_str);
        // The account itself may lock and unlock; anyone else needs admin.
        let capability = if bound == Some(account) {
            Capability::Send
        } else {
            Capability::Admin
        };
        let (principal, now) = self.admit(principal, capability)?;
        let node = AccountId::parse_field("account", account)?;
        principal.require_acting_as(&NodeId::from(node.clone()))?;
        let tenant = principal.tenant();
        let batch = WriteBatch::new(tenant.clone(), now);
        let applied = self
            .write_one(batch.command(Command::SetLocked {
                node: node.clone(),
                locked,
            }))
            .await?;
        if locked {
            return Ok(applied);
        }
        // Each round authorises what it lists; a round that changes nothing
        // twice in a row means the store lists requests it does not hold.
        let mut idle_rounds = 0;
        loop {
            let query = LinkQuery {
                tenant: tenant.clone(),
                kind: LinkKind::Request,
                direction: LinkDirection::Incoming,
                subject: node.clone(),
                after: None,
                limit: REMOVAL_CHUNK,
            };
            let pending = self.store.links(query).await?.unwrap_or_default();
            if pending.is_empty() {
                return Ok(applied);
            }
            let mut batch = WriteBatch::new(tenant.clone(), self.now());
            batch.commands = pending
                .into_iter()
                .map(|entry| Command::AuthorizeRequest {
                    target: node.clone(),
                    follower: entry.account,
                })
                .collect();
            let results = self.write(batch).await?;
            if results
                .iter()
                .any(|result| result.as_ref().is_ok_and(Applied::is_changed))
            {
                idle_rounds = 0;
            } else {
                idle_rounds += 1;
                if idle_rounds > 1 {
                    return Err(Error::internal(format!(
                        "{} lists follow requests to {node} that its writes do not find",
                        self.store
                    )));
                }
            }
        }
    }

    /// A command between the actor and another account (named `field`).
    async fn link_command(
        &self,
        principal: Option<&Principal>,
        actor: &str,
        (field, other): (&str, &str),
        command: impl FnOnce(AccountId, AccountId, Timestamp) -> Result<Command, Error>,
    ) -> Result<Applied, Error> {
        let (principal, now) = self.admit(principal, Capability::Send)?;
        let actor = AccountId::parse_field("actor", actor)?;
        let target = AccountId::parse_field(field, other)?;
        let command = command(actor.clone(), target, now)?;
        principal.require_acting_as(&NodeId::from(actor))?;
        let batch = WriteBatch::new(principal.tenant().clone(), now);
        self.write_one(batch.command(command)).await
    }
}
