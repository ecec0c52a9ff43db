//! Writes: node registration, follow, unfollow, mute, remove follower,
//! touch, the batch commands and import.

use std::collections::HashSet;
use std::time::Duration;

use super::FollowGraph;
use super::batch::{BatchPlan, ImportEdge, ItemResult, slots};
use crate::{
    AccountId, Applied, Capability, Command, CommandResult, Error, NodeId, OptionsUpdate, Outcome,
    Principal, Timestamp, WriteBatch,
};

impl FollowGraph {
    /// Registers a node (idempotent upsert); its kind follows from the id.
    /// Needs `admin`; a bound principal may register only its own account.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id (field `id`); `forbidden` when a
    /// bound principal names another node.
    pub async fn register<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        id: &str,
    ) -> Result<Applied, Error> {
        self.node_command(principal.into(), id, |node| Command::Register { node })
            .await
    }

    /// `actor` follows `target` with the default options. Following again
    /// is `unchanged` and keeps the mute flag and options. A locked target
    /// gets a follow request instead: `requested`, and `unchanged` while it
    /// is pending. Needs `send`.
    ///
    /// # Errors
    /// `invalid_argument` for a bad id, a channel as actor or a self-follow;
    /// `forbidden` when a bound principal acts for another account, or a
    /// block stands between the two accounts (either way); `not_found` for
    /// an unknown actor or target.
    pub async fn follow<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
    ) -> Result<Applied, Error> {
        self.follow_with(principal, actor, target, OptionsUpdate::NONE)
            .await
    }

    /// [`FollowGraph::follow`] with options (Mastodon's `reblogs`, `notify`,
    /// `languages`). Following again updates only the options named:
    /// `changed` with a `follow_options_changed` event when one changed,
    /// `unchanged` otherwise. While a request is pending, the request's
    /// options are updated and the outcome is `unchanged`.
    ///
    /// # Errors
    /// As [`FollowGraph::follow`].
    pub async fn follow_with<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
        options: OptionsUpdate,
    ) -> Result<Applied, Error> {
        self.edge_command(principal.into(), actor, target, |follower, target| {
            Command::Follow {
                follower,
                target,
                since: None,
                options,
            }
        })
        .await
    }

    /// `actor` unfollows `target`. Unfollowing what is not followed is
    /// `unchanged` (success, safe to retry). Needs `send`.
    pub async fn unfollow<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
    ) -> Result<Applied, Error> {
        self.edge_command(principal.into(), actor, target, |follower, target| {
            Command::Unfollow { follower, target }
        })
        .await
    }

    /// Sets (never toggles) the mute flag of `actor`'s edge to `target`:
    /// the follow's notification mute, not an account mute
    /// ([`FollowGraph::mute_account`]). Unmuting an absent edge is
    /// `unchanged` (the state asked for holds). Needs `send`.
    ///
    /// # Errors
    /// `not_following` when muting an edge that does not exist.
    pub async fn set_mute<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
        muted: bool,
    ) -> Result<Applied, Error> {
        self.edge_command(principal.into(), actor, target, |follower, target| {
            Command::SetMute {
                follower,
                target,
                muted,
            }
        })
        .await
    }

    /// Mutes: [`FollowGraph::set_mute`] with the default `true` (the
    /// gateway's mute request with no body).
    pub async fn mute<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        target: &str,
    ) -> Result<Applied, Error> {
        self.set_mute(principal, actor, target, true).await
    }

    /// `actor` (the target of the edge) drops `follower`, who may follow
    /// again later. Needs `send`; a bound principal must be `actor`.
    pub async fn remove_follower<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        follower: &str,
    ) -> Result<Applied, Error> {
        let (principal, now) = self.admit(principal.into(), Capability::Send)?;
        let target = NodeId::parse_field("actor", actor)?;
        let follower = AccountId::parse_field("follower", follower)?;
        principal.require_acting_as(&target)?;
        let batch = WriteBatch::new(principal.tenant().clone(), now);
        self.write_one(batch.command(Command::RemoveFollower { target, follower }))
            .await
    }

    /// Records `target`'s activity at `at` (default: now), for the
    /// inactive-follows audit. A later activity already stored is kept.
    /// Needs `send`; a bound principal may touch only its own account.
    ///
    /// # Errors
    /// `invalid_argument` (field `at`) for a time more than
    /// [`MAX_ACTIVITY_AHEAD`] after the clock's now: a node active in the far
    /// future would never show in the audit, and the later time is kept.
    pub async fn touch<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        target: &str,
        at: Option<Timestamp>,
    ) -> Result<Applied, Error> {
        let (principal, now) = self.admit(principal.into(), Capability::Send)?;
        let node = NodeId::parse_field("target", target)?;
        let latest = now.saturating_add(MAX_ACTIVITY_AHEAD);
        if let Some(at) = at.filter(|at| *at > latest) {
            return Err(Error::invalid_argument(
                "at",
                format!(
                    "at {at} is in the future: activity may be recorded at most \
                     24 hours after now ({now})"
                ),
            )
            .with_detail("latest", latest.to_string()));
        }
        principal.require_acting_as(&node)?;
        let batch = WriteBatch::new(principal.tenant().clone(), now);
        let at = at.unwrap_or(now);
        self.write_one(batch.command(Command::Touch { node, at }))
            .await
    }

    /// `actor` follows each of `targets` (Tencent's `follow_add`), atomically.
    /// Needs `send`.
    ///
    /// # Errors
    /// For the whole request: `invalid_argument` for a bad actor, or an empty
    /// or over-limit list; `not_found` for an unknown actor. Each target's own
    /// error (`invalid_argument`, `not_found`) is its item's result.
    pub async fn follow_many<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        targets: &[&str],
    ) -> Result<Vec<ItemResult<Applied>>, Error> {
        self.edge_batch(principal.into(), actor, targets, |follower, target| {
            Command::Follow {
                follower,
                target,
                since: None,
                options: OptionsUpdate::NONE,
            }
        })
        .await
    }

    /// `actor` unfollows each of `targets` (Tencent's `follow_delete`),
    /// atomically. Needs `send`. Errors as [`FollowGraph::follow_many`].
    pub async fn unfollow_many<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        actor: &str,
        targets: &[&str],
    ) -> Result<Vec<ItemResult<Applied>>, Error> {
        self.edge_batch(principal.into(), actor, targets, |follower, target| {
            Command::Unfollow { follower, target }
        })
        .await
    }

    /// Loads edges in one atomic store batch, registering nodes as needed
    /// and keeping each edge's imported `since`, its options and, where
    /// given, its mute flag. Each edge is a follow by the rules of
    /// [`FollowGraph::follow_with`]: a locked target gets a request, a
    /// block refuses it. One result per edge, in order: `changed` when the
    /// edge, its options or its flag changed, `requested`, or `unchanged`
    /// when it was already so. Needs `admin`; a
    /// bound principal may import only its own account's follows.
    ///
    /// # Errors
    /// `invalid_argument` for an empty call or one over the import limit;
    /// `forbidden` for the whole call, nothing written, when a bound
    /// principal's call holds an edge of another follower.
    pub async fn import<'p>(
        &self,
        principal: impl Into<Option<&'p Principal>>,
        edges: &[ImportEdge],
    ) -> Result<Vec<CommandResult>, Error> {
        let (principal, now) = self.admit(principal.into(), Capability::Admin)?;
        check_batch_len("edges", edges.len(), self.import_limit)?;
        if principal.account().is_some() {
            for edge in edges {
                principal.require_acting_as(&NodeId::from(edge.follower.clone()))?;
            }
        }
        let mut batch = WriteBatch::new(principal.tenant().clone(), now);
        // Each id once, registered by the call's first mention of it; every
        // command names that one clone, so the change set's ids share their
        // bytes with the plan's keys (see `WritePlan::node_index`).
        let mut registered: HashSet<NodeId> = HashSet::new();
        let mut register = |node: NodeId, commands: &mut Vec<Command>| {
            if let Some(known) = registered.get(&node) {
                return known.clone();
            }
            registered.insert(node.clone());
            commands.push(Command::Register { node: node.clone() });
            node
        };
        // Per edge: the index of its follow, and of its mute if any.
        let mut slots_of = Vec::with_capacity(edges.len());
        for edge in edges {
            let follower = register(NodeId::from(edge.follower.clone()), &mut batch.commands)
                .as_account()
                .unwrap_or_else(|| edge.follower.clone());
            let target = register(edge.target.clone(), &mut batch.commands);
            let follow = batch.commands.len();
            batch.commands.push(Command::Follow {
                follower: follower.clone(),
                target: target.clone(),
                since: edge.since,
                options: edge.options,
            });
            let mute = edge.muted.map(|muted| {
                batch.commands.push(Command::SetMute {
                    follower,
                    target,
                    muted,
                });
                batch.commands.len() - 1
            });
            slots_of.push((follow, mute));
        }
        let mut results = slots(self.write(batch).await?);
        let mut take = |index: usize| {
            results
                .get_mut(index)
                .and_then(Option::take)
                .unwrap_or_else(|| Err(Error::internal("import result missing")))
        };
        Ok(slots_of
            .into_iter()
            .map(|(follow, mute)| {
                let followed = take(follow)?;
                let muted = mute.map(&mut take);
                // A request has no edge to mute yet: its mute answers
                // `not_following`, and the request is the edge's result.
                if followed.outcome == Outcome::Requested {
                    return Ok(followed);
                }
                match muted.transpose()? {
                    Some(muted) if !followed.is_changed() => Ok(muted),
                    _ => Ok(followed),
                }
            })
            .collect())
    }

    async fn node_command(
        &self,
        principal: Option<&Principal>,
        id: &str,
        command: impl FnOnce(NodeId) -> Command,
    ) -> Result<Applied, Error> {
        let (principal, now) = self.admit(principal, Capability::Admin)?;
        let node = NodeId::parse_field("id", id)?;
        // A bound principal acts only as its account, `admin` or not.
        principal.require_acting_as(&node)?;
        let batch = WriteBatch::new(principal.tenant().clone(), now);
        self.write_one(batch.command(command(node))).await
    }

    async fn edge_command(
        &self,
        principal: Option<&Principal>,
        actor: &str,
        target: &str,
        command: impl FnOnce(AccountId, NodeId) -> Command,
    ) -> Result<Applied, Error> {
        let (principal, now) = self.admit(principal, Capability::Send)?;
        let follower = AccountId::parse_field("actor", actor)?;
        let target = NodeId::parse_field("target", target)?;
        principal.require_acting_as(&NodeId::from(follower.clone()))?;
        let batch = WriteBatch::new(principal.tenant().clone(), now);
        self.write_one(batch.command(command(follower, target)))
            .await
    }

    async fn edge_batch(
        &self,
        principal: Option<&Principal>,
        actor: &str,
        targets: &[&str],
        command: impl Fn(AccountId, NodeId) -> Command,
    ) -> Result<Vec<ItemResult<Applied>>, Error> {
        let (principal, now) = self.admit(principal, Capability::Send)?;
        let follower = AccountId::parse_field("actor", actor)?;
        check_batch_len("targets", targets.len(), self.batch_limit)?;
        let actor_node = NodeId::from(follower.clone());
        principal.require_acting_as(&actor_node)?;
        let (plan, valid) = BatchPlan::new(&follower, targets);
        let mut batch = WriteBatch::new(principal.tenant().clone(), now).requiring(actor_node);
        batch.commands = valid
            .into_iter()
            .map(|target| command(follower.clone(), target))
            .collect();
        // A batch whose every target was invalid still checks the actor.
        let results = self.write(batch).await?;
        Ok(plan.merge(slots(results)))
    }
}

/// How far after the clock's now `touch` may record activity: room for the
/// clocks of the hosts reporting it to disagree, not for a date years ahead.
pub const MAX_ACTIVITY_AHEAD: Duration = Duration::from_secs(24 * 60 * 60);

/// A batch of 0 or more than `limit` items is refused as a whole.
pub(super) fn check_batch_len(field: &str, len: usize, limit: usize) -> Result<(), Error> {
    if len == 0 || len > limit {
        return Err(Error::invalid_argument(
            field,
            format!("{field} must hold 1 to {limit} items, not {len}"),
        )
        .with_detail("limit", limit));
    }
    Ok(())
}
