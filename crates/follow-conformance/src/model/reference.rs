//! The reference model: plain maps of nodes, edges and links, and the rules
//! of every command written out once more, from the product's rules rather
//! than from core's code, so a bug in either shows as a disagreement.

use std::collections::BTreeMap;

use follow_core::{ErrorKind, EventKind, FollowOptions, LinkKind, OptionsUpdate, Outcome};

use super::ops::{Expected, ExpectedEvent, ItemOutcome, Op};
use super::{CHANNEL_INDEX, NODES};

/// A registered node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeModel {
    /// Last activity (seconds), if touched.
    pub last_active: Option<i64>,
    /// A locked account: a follow of it makes a request.
    pub locked: bool,
}

/// A follow edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeModel {
    /// The follow's notification mute.
    pub muted: bool,
    /// When it began (seconds).
    pub since: i64,
    /// Its options.
    pub options: FollowOptions,
}

/// An account mute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MuteModel {
    /// When it was made (seconds); a rewrite keeps it.
    pub since: i64,
    /// Whether it hides notifications too.
    pub notifications: bool,
    /// When it ends (seconds), if it does.
    pub expires_at: Option<i64>,
}

impl MuteModel {
    /// Whether the mute still holds at `now`.
    pub fn holds_at(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|end| end > now)
    }
}

/// A pending follow request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestModel {
    /// When it was made (seconds).
    pub since: i64,
    /// The options the follow gets when authorised.
    pub options: FollowOptions,
}

/// One tenant of the reference model. Pairs are `(from, to)`: follower and
/// target, the account that blocks, mutes or asks and the other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantModel {
    /// Registered nodes.
    pub nodes: BTreeMap<usize, NodeModel>,
    /// Follow edges.
    pub edges: BTreeMap<(usize, usize), EdgeModel>,
    /// Blocks (since).
    pub blocks: BTreeMap<(usize, usize), i64>,
    /// Account mutes, expired ones included: an expired mute is absent from
    /// every read, but its row stays until a write cleans it up (a mute or
    /// unmute of the pair, a removal; other writes may too).
    pub mutes: BTreeMap<(usize, usize), MuteModel>,
    /// Pending follow requests.
    pub requests: BTreeMap<(usize, usize), RequestModel>,
}

/// The reference model: two tenants and the clock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Model {
    /// The tenants.
    pub tenants: [TenantModel; 2],
    /// The clock, in seconds after the fixture's start.
    pub now: i64,
}

fn is_account(node: usize) -> bool {
    node != CHANNEL_INDEX
}

impl Model {
    /// Applies `op` to the model; answers the tenant written, the expected
    /// result, and the expected events (in order, except for a command that
    /// [cascades](Op::cascades)).
    pub fn step(&mut self, op: &Op) -> (usize, Expected, Vec<ExpectedEvent>) {
        let now = self.now;
        let mut events = Vec::new();
        if let Op::Tick { seconds } = op {
            self.now += i64::try_from(*seconds).unwrap_or(i64::MAX);
            return (0, Ok(vec![]), events);
        }
        let tenant = op.tenant();
        let t = &mut self.tenants[tenant];
        let expected = match op {
            Op::Tick { .. } => Ok(vec![]),
            Op::Register { node, .. } => {
                let changed = !t.nodes.contains_key(node);
                t.nodes.entry(*node).or_default();
                Ok(vec![Ok(outcome(changed))])
            }
            Op::Remove { node, .. } => Ok(vec![Ok(t.remove(*node, now, &mut events))]),
            Op::Touch { node, at, .. } => Ok(vec![match t.nodes.get_mut(node) {
                None => Err(ErrorKind::NotFound),
                Some(n) if n.last_active.is_some_and(|l| l >= *at) => Ok(Outcome::Unchanged),
                Some(n) => {
                    n.last_active = Some(*at);
                    Ok(Outcome::Changed)
                }
            }]),
            Op::Follow {
                actor,
                target,
                options,
                ..
            } => Ok(vec![t.follow(*actor, *target, *options, now, &mut events)]),
            Op::Unfollow { actor, target, .. } => {
                Ok(vec![t.unfollow(*actor, *target, &mut events)])
            }
            Op::SetMute {
                actor,
                target,
                muted,
                ..
            } => Ok(vec![t.set_mute(*actor, *target, *muted, &mut events)]),
            Op::RemoveFollower {
                actor, follower, ..
            } => Ok(vec![t.remove_follower(*actor, *follower, &mut events)]),
            Op::FollowMany { actor, targets, .. } | Op::UnfollowMany { actor, targets, .. } => {
                if !is_account(*actor) || targets.is_empty() {
                    Err(ErrorKind::InvalidArgument)
                } else if !t.nodes.contains_key(actor) {
                    Err(ErrorKind::NotFound)
                } else {
                    let follow = matches!(op, Op::FollowMany { .. });
                    Ok(targets
                        .iter()
                        .map(|target| {
                            if follow {
                                t.follow(*actor, *target, OptionsUpdate::NONE, now, &mut events)
                            } else {
                                t.unfollow(*actor, *target, &mut events)
                            }
                        })
                        .collect())
                }
            }
            Op::Block { actor, target, .. } => Ok(vec![t.block(*actor, *target, now, &mut events)]),
            Op::Unblock { actor, target, .. } => Ok(vec![t.unblock(*actor, *target, &mut events)]),
            Op::MuteAccount {
                actor,
                target,
                notifications,
                duration,
                ..
            } => {
                let expires_at =
                    duration.map(|d| now.saturating_add(i64::try_from(d).unwrap_or(i64::MAX)));
                let wanted = (notifications.unwrap_or(true), expires_at);
                Ok(vec![t.mute_account(
                    *actor,
                    *target,
                    wanted,
                    now,
                    &mut events,
                )])
            }
            Op::UnmuteAccount { actor, target, .. } => {
                Ok(vec![t.unmute_account(*actor, *target, now, &mut events)])
            }
            Op::SetLocked { node, locked, .. } => {
                Ok(vec![t.set_locked(*node, *locked, now, &mut events)])
            }
            Op::AuthorizeRequest {
                actor, follower, ..
            } => Ok(vec![t.answer_request(
                *actor,
                *follower,
                true,
                now,
                &mut events,
            )]),
            Op::RejectRequest {
                actor, follower, ..
            } => Ok(vec![t.answer_request(
                *actor,
                *follower,
                false,
                now,
                &mut events,
            )]),
            Op::DropLink { kind, from, to, .. } => {
                // No link joins an account to itself: a key naming one is
                // not a key.
                Ok(vec![if from == to {
                    Err(ErrorKind::InvalidArgument)
                } else {
                    Ok(t.drop_link(*kind, *from, *to, now, &mut events))
                }])
            }
        };
        (tenant, expected, events)
    }
}

fn outcome(changed: bool) -> Outcome {
    if changed {
        Outcome::Changed
    } else {
        Outcome::Unchanged
    }
}

impl TenantModel {
    /// Whether a mute `from → to` holds at `now`.
    pub fn mute_holds(&self, from: usize, to: usize, now: i64) -> bool {
        self.mutes.get(&(from, to)).is_some_and(|m| m.holds_at(now))
    }

    /// Whether either account blocks the other.
    pub fn blocked_either_way(&self, a: usize, b: usize) -> bool {
        self.blocks.contains_key(&(a, b)) || self.blocks.contains_key(&(b, a))
    }

    /// The checks every command between two nodes starts with: an account
    /// acts (`accounts_only`: both are accounts), not on itself, and both
    /// are registered.
    fn pair_check(&self, actor: usize, other: usize, accounts_only: bool) -> Result<(), ErrorKind> {
        if !is_account(actor) || (accounts_only && !is_account(other)) || actor == other {
            return Err(ErrorKind::InvalidArgument);
        }
        if !self.nodes.contains_key(&actor) || !self.nodes.contains_key(&other) {
            return Err(ErrorKind::NotFound);
        }
        Ok(())
    }

    /// A follow: the options of an edge that exists, a request to a locked
    /// account, else a new edge; refused across a block.
    fn follow(
        &mut self,
        follower: usize,
        target: usize,
        update: OptionsUpdate,
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        self.pair_check(follower, target, false)?;
        if self.blocked_either_way(follower, target) {
            return Err(ErrorKind::Forbidden);
        }
        let key = (follower, target);
        if let Some(edge) = self.edges.get_mut(&key) {
            let options = update.apply(edge.options);
            if options == edge.options {
                return Ok(Outcome::Unchanged);
            }
            edge.options = options;
            events.push((EventKind::OptionsChanged, follower, target));
            return Ok(Outcome::Changed);
        }
        if let Some(request) = self.requests.get_mut(&key) {
            // Asking again updates what the follow will be, quietly.
            request.options = update.apply(request.options);
            return Ok(Outcome::Unchanged);
        }
        let options = update.apply(FollowOptions::default());
        if self.nodes[&target].locked {
            self.requests.insert(
                key,
                RequestModel {
                    since: now,
                    options,
                },
            );
            events.push((EventKind::FollowRequested, follower, target));
            return Ok(Outcome::Requested);
        }
        self.edges.insert(
            key,
            EdgeModel {
                muted: false,
                since: now,
                options,
            },
        );
        events.push((EventKind::Followed, follower, target));
        Ok(Outcome::Changed)
    }

    /// An unfollow: removes the edge, or withdraws the pending request.
    fn unfollow(
        &mut self,
        follower: usize,
        target: usize,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        self.pair_check(follower, target, false)?;
        let key = (follower, target);
        if self.edges.remove(&key).is_some() {
            events.push((EventKind::Unfollowed, follower, target));
            return Ok(Outcome::Changed);
        }
        if self.requests.remove(&key).is_some() {
            events.push((EventKind::FollowRequestWithdrawn, follower, target));
            return Ok(Outcome::Changed);
        }
        Ok(Outcome::Unchanged)
    }

    /// The follow's notification mute: a set, not a toggle. Unmuting an
    /// absent edge asks for what already holds.
    fn set_mute(
        &mut self,
        follower: usize,
        target: usize,
        muted: bool,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        self.pair_check(follower, target, false)?;
        match self.edges.get_mut(&(follower, target)) {
            None if muted => Err(ErrorKind::NotFollowing),
            None => Ok(Outcome::Unchanged),
            Some(edge) if edge.muted == muted => Ok(Outcome::Unchanged),
            Some(edge) => {
                edge.muted = muted;
                let kind = if muted {
                    EventKind::Muted
                } else {
                    EventKind::Unmuted
                };
                events.push((kind, follower, target));
                Ok(Outcome::Changed)
            }
        }
    }

    /// `target` drops `follower`'s edge (a pending request is not a
    /// follower and stays).
    fn remove_follower(
        &mut self,
        target: usize,
        follower: usize,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        if !is_account(follower) || target == follower {
            return Err(ErrorKind::InvalidArgument);
        }
        if !self.nodes.contains_key(&target) || !self.nodes.contains_key(&follower) {
            return Err(ErrorKind::NotFound);
        }
        if self.edges.remove(&(follower, target)).is_some() {
            events.push((EventKind::FollowerRemoved, follower, target));
            return Ok(Outcome::Changed);
        }
        Ok(Outcome::Unchanged)
    }

    /// A block cuts the follows both ways and the requests both ways.
    fn block(
        &mut self,
        actor: usize,
        target: usize,
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        self.pair_check(actor, target, true)?;
        if self.blocks.contains_key(&(actor, target)) {
            return Ok(Outcome::Unchanged);
        }
        if self.edges.remove(&(actor, target)).is_some() {
            events.push((EventKind::Unfollowed, actor, target));
        }
        if self.edges.remove(&(target, actor)).is_some() {
            events.push((EventKind::FollowerRemoved, target, actor));
        }
        if self.requests.remove(&(actor, target)).is_some() {
            events.push((EventKind::FollowRequestWithdrawn, actor, target));
        }
        if self.requests.remove(&(target, actor)).is_some() {
            events.push((EventKind::FollowRequestRejected, target, actor));
        }
        self.blocks.insert((actor, target), now);
        events.push((EventKind::Blocked, actor, target));
        Ok(Outcome::Changed)
    }

    /// Unblocking restores nothing.
    fn unblock(
        &mut self,
        actor: usize,
        target: usize,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        self.pair_check(actor, target, true)?;
        if self.blocks.remove(&(actor, target)).is_some() {
            events.push((EventKind::Unblocked, actor, target));
            return Ok(Outcome::Changed);
        }
        Ok(Outcome::Unchanged)
    }

    /// An account mute is a set of both values: `changed` when they differ
    /// from the mute in force, or none holds.
    fn mute_account(
        &mut self,
        actor: usize,
        target: usize,
        (notifications, expires_at): (bool, Option<i64>),
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        self.pair_check(actor, target, true)?;
        let key = (actor, target);
        let holding = self.mutes.get(&key).filter(|m| m.holds_at(now));
        if holding.is_some_and(|m| (m.notifications, m.expires_at) == (notifications, expires_at)) {
            return Ok(Outcome::Unchanged);
        }
        // A mute rewritten keeps when it began (Mastodon updates the row);
        // one where none holds begins now.
        let since = holding.map_or(now, |m| m.since);
        self.mutes.insert(
            key,
            MuteModel {
                since,
                notifications,
                expires_at,
            },
        );
        events.push((EventKind::AccountMuted, actor, target));
        Ok(Outcome::Changed)
    }

    /// Ending a mute that holds. An expired one is already absent: the
    /// unmute is `unchanged` and cleans its row up.
    fn unmute_account(
        &mut self,
        actor: usize,
        target: usize,
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        self.pair_check(actor, target, true)?;
        let holds = self.mute_holds(actor, target, now);
        self.mutes.remove(&(actor, target));
        if !holds {
            return Ok(Outcome::Unchanged);
        }
        events.push((EventKind::AccountUnmuted, actor, target));
        Ok(Outcome::Changed)
    }

    /// Locking; unlocking authorises every pending request (Mastodon).
    fn set_locked(
        &mut self,
        node: usize,
        locked: bool,
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        if !is_account(node) {
            return Err(ErrorKind::InvalidArgument);
        }
        let state = self.nodes.get_mut(&node).ok_or(ErrorKind::NotFound)?;
        let changed = state.locked != locked;
        state.locked = locked;
        if !locked {
            let pending: Vec<usize> = self
                .requests
                .keys()
                .filter(|(_, to)| *to == node)
                .map(|(from, _)| *from)
                .collect();
            for follower in pending {
                self.authorize(follower, node, now, events);
            }
        }
        Ok(outcome(changed))
    }

    /// `target` answers `follower`'s request: the follow is made with the
    /// request's options, or nothing is.
    fn answer_request(
        &mut self,
        target: usize,
        follower: usize,
        authorize: bool,
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) -> ItemOutcome {
        self.pair_check(target, follower, true)?;
        if !self.requests.contains_key(&(follower, target)) {
            return Ok(Outcome::Unchanged);
        }
        if authorize {
            self.authorize(follower, target, now, events);
        } else {
            self.requests.remove(&(follower, target));
            events.push((EventKind::FollowRequestRejected, follower, target));
        }
        Ok(Outcome::Changed)
    }

    fn authorize(
        &mut self,
        follower: usize,
        target: usize,
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) {
        if let Some(request) = self.requests.remove(&(follower, target)) {
            self.edges.insert(
                (follower, target),
                EdgeModel {
                    muted: false,
                    since: now,
                    options: request.options,
                },
            );
            events.push((EventKind::FollowRequestAuthorized, follower, target));
            events.push((EventKind::Followed, follower, target));
        }
    }

    /// Deletes a link that holds, with the event that ends it. An expired
    /// mute is absent already: nothing to end.
    fn drop_link(
        &mut self,
        kind: LinkKind,
        from: usize,
        to: usize,
        now: i64,
        events: &mut Vec<ExpectedEvent>,
    ) -> Outcome {
        let key = (from, to);
        let event = match kind {
            LinkKind::Block => self.blocks.remove(&key).map(|_| EventKind::Unblocked),
            LinkKind::Mute if self.mute_holds(from, to, now) => {
                self.mutes.remove(&key).map(|_| EventKind::AccountUnmuted)
            }
            LinkKind::Mute => None,
            LinkKind::Request => self
                .requests
                .remove(&key)
                .map(|_| EventKind::FollowRequestWithdrawn),
        };
        match event {
            Some(kind) => {
                events.push((kind, from, to));
                Outcome::Changed
            }
            None => Outcome::Unchanged,
        }
    }

    /// Removes a node with every edge and link touching it.
    fn remove(&mut self, node: usize, now: i64, events: &mut Vec<ExpectedEvent>) -> Outcome {
        if self.nodes.remove(&node).is_none() {
            return Outcome::Unchanged;
        }
        let touches = |(a, b): &(usize, usize)| *a == node || *b == node;
        let touching = |keys: Vec<(usize, usize)>| -> Vec<(usize, usize)> {
            keys.into_iter().filter(|k| touches(k)).collect()
        };
        for key in touching(self.edges.keys().copied().collect()) {
            self.edges.remove(&key);
            events.push((EventKind::Unfollowed, key.0, key.1));
        }
        for key in touching(self.blocks.keys().copied().collect()) {
            self.blocks.remove(&key);
            events.push((EventKind::Unblocked, key.0, key.1));
        }
        for key in touching(self.mutes.keys().copied().collect()) {
            if self.mutes.remove(&key).is_some_and(|m| m.holds_at(now)) {
                events.push((EventKind::AccountUnmuted, key.0, key.1));
            }
        }
        for key in touching(self.requests.keys().copied().collect()) {
            self.requests.remove(&key);
            events.push((EventKind::FollowRequestWithdrawn, key.0, key.1));
        }
        Outcome::Changed
    }
}

/// The index of a node id of the universe.
pub fn index_of(id: &str) -> usize {
    NODES
        .iter()
        .position(|n| *n == id)
        .unwrap_or_else(|| panic!("{id} is not a node of the model's universe"))
}
