//! The storage trait every adapter implements, and the values it reads.
//!
//! The trait is narrow on purpose: it persists and reads, and decides
//! nothing. Writes go load → decide → commit ([`crate::write`]): the store
//! loads the rows a batch names, core decides, the store commits; the facade ([`crate::FollowGraph`]) does authorisation,
//! validation, the clock, rate limits and cursors. There are no default
//! methods: each one is a contract the conformance suite checks.

use std::cmp::{Ordering, Reverse};
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::feed::{ConsumerName, ConsumerState, FeedState, PruneStep};
use crate::{
    AccountId, CommandResult, Counts, Edge, Error, Event, EventPosition, FollowOptions, Link,
    LinkKey, LinkKind, NodeId, TenantId, Timestamp, WriteBatch,
};

/// A registered node as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// The node.
    pub id: NodeId,
    /// When it was (last) registered.
    pub registered_at: Timestamp,
    /// Its latest recorded activity ([`crate::Command::Touch`]).
    pub last_active: Option<Timestamp>,
    /// Its counters, kept with every change.
    pub counts: Counts,
    /// Whether a follow of it makes a request (a locked account).
    #[serde(default)]
    pub locked: bool,
    /// How many links (blocks, mutes, requests, either way) touch it, kept
    /// with every change: a node is removed only once this is zero, and a
    /// batch need not look for links of a node that has none.
    #[serde(default)]
    pub links: u64,
}

impl NodeRecord {
    /// A freshly registered node: unlocked, no edges, no links.
    pub fn new(id: NodeId, registered_at: Timestamp) -> Self {
        NodeRecord {
            id,
            registered_at,
            last_active: None,
            counts: Counts::default(),
            locked: false,
            links: 0,
        }
    }

    /// Since when the node counts as inactive: its last activity, or its
    /// registration if it was never touched.
    pub fn active_at(&self) -> Timestamp {
        self.last_active.unwrap_or(self.registered_at)
    }
}

/// The edges between a subject and one other node, read in one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairFacts {
    /// Whether the other node is registered.
    pub exists: bool,
    /// subject → other.
    pub outgoing: Option<Edge>,
    /// Whether other → subject exists. Only its presence: when `outgoing`
    /// is there, its `mutual_since` already answers it
    /// ([`PairFacts::from_outgoing`]), so a store need not read the reverse.
    pub incoming: bool,
}

impl PairFacts {
    /// The facts when subject → other is present: both nodes exist (edges
    /// only join registered nodes), and the way back is there exactly when
    /// the edge carries a mutual mark, which the state machine sets on both
    /// edges when a follow is returned and clears on both when one goes.
    pub fn from_outgoing(edge: Edge) -> Self {
        PairFacts {
            exists: true,
            outgoing: Some(edge),
            incoming: edge.mutual_since.is_some(),
        }
    }
}

/// The three lists of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// Nodes the subject follows; `since` and `muted` of the subject's edge.
    Following,
    /// Accounts following the subject; `since` and `muted` of their edge
    /// (who receives the subject's posts, and whether without notification).
    Followers,
    /// Accounts the subject follows that follow back; `since` is when the
    /// relation became mutual, `muted` the subject's flag.
    Mutuals,
}

/// A place in a list: lists run newest `since` first, ties by node id
/// ascending. Keyset paging resumes strictly after a position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListPosition {
    /// The item's `since`.
    pub since: Timestamp,
    /// The item's node.
    pub node: NodeId,
}

impl ListPosition {
    /// The display order as a plain sort key: `(Reverse(since), node)`.
    pub fn sort_key(&self) -> (Reverse<Timestamp>, &NodeId) {
        (Reverse(self.since), &self.node)
    }
}

impl Ord for ListPosition {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for ListPosition {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A page read of one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// The tenant.
    pub tenant: TenantId,
    /// Which list.
    pub list: ListKind,
    /// Whose list.
    pub subject: NodeId,
    /// Resume strictly after this position; `None` from the start.
    pub after: Option<ListPosition>,
    /// At most this many items.
    pub limit: usize,
}

/// One item of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The other node.
    pub node: NodeId,
    /// When the follow began (for mutuals: when it became mutual).
    pub since: Timestamp,
    /// The mute flag of the edge the list is about.
    pub muted: bool,
    /// The options of the edge the list is about.
    #[serde(default)]
    pub options: FollowOptions,
}

impl ListEntry {
    /// This item's place in its list.
    pub fn position(&self) -> ListPosition {
        ListPosition {
            since: self.since,
            node: self.node.clone(),
        }
    }
}

/// Which way a list of links runs from its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkDirection {
    /// Links the subject made (its blocks, its mutes, its requests).
    Outgoing,
    /// Links made to the subject (requests it was asked).
    Incoming,
}

/// A page read of one kind of link of an account, one way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkQuery {
    /// The tenant.
    pub tenant: TenantId,
    /// Which links.
    pub kind: LinkKind,
    /// From the subject, or to it.
    pub direction: LinkDirection,
    /// Whose links.
    pub subject: AccountId,
    /// Resume strictly after this position; `None` from the start.
    pub after: Option<ListPosition>,
    /// At most this many items.
    pub limit: usize,
}

/// One link of a list: the account at the other end, and the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkEntry {
    /// The other account.
    pub account: AccountId,
    /// The link, as stored (a list read through the facade leaves out
    /// expired mutes).
    pub link: Link,
}

impl LinkEntry {
    /// This item's place in its list: newest `since` first, as the edge
    /// lists.
    pub fn position(&self) -> ListPosition {
        ListPosition {
            since: self.link.since,
            node: NodeId::from(self.account.clone()),
        }
    }
}

/// The inactive-follows audit: an account's follows whose target has been
/// inactive since a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleQuery {
    /// The tenant.
    pub tenant: TenantId,
    /// Whose follows.
    pub actor: AccountId,
    /// Targets whose [`NodeRecord::active_at`] is before this are stale.
    pub inactive_since: Timestamp,
    /// Resume strictly after this position of the following list.
    pub after: Option<ListPosition>,
    /// At most this many items.
    pub limit: usize,
}

/// One stale follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleEntry {
    /// The inactive target.
    pub node: NodeId,
    /// When the actor followed it.
    pub since: Timestamp,
    /// The actor's mute flag on it.
    pub muted: bool,
    /// Its last activity (its registration if never touched).
    pub active_at: Timestamp,
}

impl StaleEntry {
    /// This item's place in the actor's following list.
    pub fn position(&self) -> ListPosition {
        ListPosition {
            since: self.since,
            node: self.node.clone(),
        }
    }
}

/// The storage of a follow graph. Object-safe: hosts hold `Arc<dyn FollowStore>`.
///
/// Every method is scoped to one tenant: nothing of another tenant is ever
/// read or written. Each bullet under `# Behavior` names the
/// `follow-conformance` case that checks it (`method::rule`). Storage errors
/// are `unavailable` (busy, timed out, connection lost: retryable, nothing
/// half-applied), `storage_failure` (the medium or the database failed) or
/// `internal` (a broken invariant), each with the engine's error as source,
/// mapped by the engine's code, never its message. `Display` names the
/// backend, so a failure says where it came from.
#[async_trait]
pub trait FollowStore: Send + Sync + fmt::Debug + fmt::Display {
    /// Applies a batch atomically: load → decide → commit ([`crate::write`]).
    ///
    /// # Behavior
    /// - Loads the rows of [`crate::write::WritePlan::keys`] in one
    ///   transaction, decides with [`crate::write::WritePlan::decide`],
    ///   commits exactly the [`crate::write::ChangeSet`] it answers, and
    ///   returns [`crate::write::Decision::into_results`] (one result per
    ///   command, in request order) (`write::write_answers_one_result_per_command_in_order`
    ///   and every other `write::` case).
    /// - All of the batch's changes, counts and events land, or none do
    ///   (`write::a_failing_decision_commits_nothing`,
    ///   `write::a_failed_commit_leaves_nothing_visible`,
    ///   `write::a_failed_commit_with_links_leaves_nothing_visible`).
    /// - Event positions are at least 1, unique in the store (not per
    ///   tenant), with gaps allowed, and readers see them in order: a reader
    ///   that has seen position `p` never later sees a new event at or
    ///   below `p`, and a batch that starts after another's answer gets
    ///   higher positions (the `events_after::` cases).
    /// - Concurrent batches are serialisable: each sees the others' effects
    ///   entirely or not at all (`write::concurrent_follows_keep_counts_equal_to_edges`,
    ///   `write::concurrent_follows_of_each_other_keep_mutual_marks`,
    ///   `write::concurrent_link_commands_keep_counts_and_blocks_consistent`).
    ///
    /// # Errors
    /// What `decide` answers as a whole (`not_found` for a missing required
    /// actor, `internal` for counters that disagree with the edges), or a
    /// storage failure; either way nothing changed.
    async fn write(&self, batch: WriteBatch) -> Result<Vec<CommandResult>, Error>;

    /// Reads one node with its counts.
    ///
    /// # Behavior
    /// - `None` when the node is not registered in `tenant`, was removed,
    ///   or is another tenant's (`node::node_of_another_tenant_or_unknown_is_none`).
    /// - Its registration time, last activity, counts, locked flag and link
    ///   count as the writes left them; counts equal what the edges say and
    ///   the link count the links touching it, read in O(1)
    ///   (`node::node_answers_registration_activity_and_counts`,
    ///   `node::node_answers_locked_and_links`,
    ///   `write::counts_equal_edges_after_operations`,
    ///   `write::link_counts_equal_links`).
    ///
    /// # Errors
    /// A storage failure only: `unavailable` (busy, timed out, connection
    /// lost), `storage_failure` (the medium or the database failed) or
    /// `internal` (a stored value that does not decode).
    async fn node(&self, tenant: &TenantId, id: &NodeId) -> Result<Option<NodeRecord>, Error>;

    /// Reads the edges between `subject` and each of `others`, in one snapshot.
    ///
    /// # Behavior
    /// - `None` when `subject` is not registered
    ///   (`pairs::pairs_of_an_unknown_subject_is_none`).
    /// - One [`PairFacts`] per item of `others`, in order (duplicates
    ///   repeat): registered or not, the edge subject → other, whether other
    ///   → subject exists (`pairs::pairs_answer_each_other_in_order_with_duplicates`,
    ///   `pairs::relation_is_consistent_both_ways`).
    ///
    /// # Errors
    /// A storage failure only: `unavailable` (busy, timed out, connection
    /// lost), `storage_failure` (the medium or the database failed) or
    /// `internal` (a stored value that does not decode).
    async fn pairs(
        &self,
        tenant: &TenantId,
        subject: &NodeId,
        others: &[NodeId],
    ) -> Result<Option<Vec<PairFacts>>, Error>;

    /// Reads a page of a list.
    ///
    /// # Behavior
    /// - `None` when the subject is not registered
    ///   (`list::list_of_an_unknown_subject_is_none`).
    /// - Items in display order ([`ListPosition`]), strictly after
    ///   `query.after`, at most `query.limit`; the cost of a page does not grow
    ///   with its depth (`list::list_answers_at_most_limit_items`,
    ///   `list::cursor_is_exclusive`, `list::full_walk_returns_every_item_once_in_order`).
    /// - Each item carries the mute flag and options of the edge the list
    ///   is about: the subject's own for following and mutuals, the
    ///   follower's for followers
    ///   (`list::mutuals_carry_the_subjects_own_mute_flag`,
    ///   `list::items_carry_the_options_of_the_edge_the_list_is_about`).
    /// - `after` need not name an existing item (it may have been removed)
    ///   (`list::walk_survives_changes_between_pages`).
    ///
    /// # Errors
    /// A storage failure only: `unavailable` (busy, timed out, connection
    /// lost), `storage_failure` (the medium or the database failed) or
    /// `internal` (a stored value that does not decode).
    async fn list(&self, query: ListQuery) -> Result<Option<Vec<ListEntry>>, Error>;

    /// Reads the links between `subject` and each of `others`, both ways,
    /// in one snapshot.
    ///
    /// # Behavior
    /// - Every stored link (of any kind, expired mutes included) whose one
    ///   end is `subject` and other end is in `others`, each once, in any
    ///   order; none when `subject` or the other is unregistered
    ///   (`links::links_between_answers_both_ways_once`).
    ///
    /// # Errors
    /// A storage failure only: `unavailable` (busy, timed out, connection
    /// lost), `storage_failure` (the medium or the database failed) or
    /// `internal` (a stored value that does not decode).
    async fn links_between(
        &self,
        tenant: &TenantId,
        subject: &AccountId,
        others: &[AccountId],
    ) -> Result<Vec<(LinkKey, Link)>, Error>;

    /// Reads a page of one kind of link of an account, one way.
    ///
    /// # Behavior
    /// - `None` when the subject is not registered
    ///   (`links::links_of_an_unknown_subject_is_none`).
    /// - Items newest `since` first, ties by account id ascending
    ///   ([`ListPosition`]), strictly after `query.after`, at most
    ///   `query.limit`, expired mutes included; the cost of a page does not
    ///   grow with its depth (`links::links_walk_in_order_exclusive_and_limited`).
    ///
    /// # Errors
    /// A storage failure only: `unavailable` (busy, timed out, connection
    /// lost), `storage_failure` (the medium or the database failed) or
    /// `internal` (a stored value that does not decode).
    async fn links(&self, query: LinkQuery) -> Result<Option<Vec<LinkEntry>>, Error>;

    /// Reads a page of the inactive-follows audit.
    ///
    /// # Behavior
    /// - `None` when the actor is not registered.
    /// - Walks the actor's following list in display order strictly after
    ///   `query.after` and answers the follows whose target's
    ///   [`NodeRecord::active_at`] is before `query.inactive_since`, at most
    ///   `query.limit` (`stale_following::touch_and_stale_following_audit`,
    ///   `stale_following::stale_following_pages_are_exclusive_and_limited`).
    ///
    /// # Errors
    /// A storage failure only: `unavailable` (busy, timed out, connection
    /// lost), `storage_failure` (the medium or the database failed) or
    /// `internal` (a stored value that does not decode).
    async fn stale_following(&self, query: StaleQuery) -> Result<Option<Vec<StaleEntry>>, Error>;

    /// Reads a page of the tenant's registered nodes, for export and audit.
    ///
    /// # Behavior
    /// - Nodes in ascending id order (byte order of the id), strictly after
    ///   `after`, at most `limit`, each with its counts
    ///   (`nodes::nodes_answers_at_most_limit_in_id_order`).
    /// - `after` need not name an existing node (it may have been removed);
    ///   the cost of a page does not grow with its depth
    ///   (`nodes::nodes_walk_lists_every_node_once_in_order`).
    ///
    /// # Errors
    /// A storage failure only: `unavailable` (busy, timed out, connection
    /// lost), `storage_failure` (the medium or the database failed) or
    /// `internal` (a stored value that does not decode).
    async fn nodes(
        &self,
        tenant: &TenantId,
        after: Option<&NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeRecord>, Error>;

    /// Reads the tenant's events strictly after a position, oldest first.
    ///
    /// # Behavior
    /// - At most `limit` events, strictly after `after`, in increasing
    ///   position (`events_after::events_after_answers_at_most_limit`,
    ///   `events_after::events_after_position_is_exclusive`).
    /// - Every event of a committed change appears, and no other, with the
    ///   position its write answered
    ///   (`events_after::events_read_back_in_order_equal_the_changes`). A
    ///   store may hold an event back until the writes that were in flight
    ///   when it committed have ended.
    /// - Positions are at least 1 and global to the store: a tenant sees
    ///   gaps (`events_after::positions_are_positive_and_global_to_the_store`).
    /// - A reader tailing while writers commit never skips a position that
    ///   later becomes visible, and never sees one twice
    ///   (`events_after::a_tailing_reader_never_skips_or_repeats_a_position`).
    ///
    /// # Errors
    /// A storage failure only: `unavailable` (busy, timed out, connection
    /// lost), `storage_failure` (the medium or the database failed) or
    /// `internal` (a stored value that does not decode).
    async fn events_after(
        &self,
        tenant: &TenantId,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error>;

    /// The secret key the facade signs this store's cursors with, unless
    /// the host sets one ([`crate::FollowGraphBuilder::cursor_key`]).
    ///
    /// # Behavior
    /// - Random, from the operating system's generator, made when the
    ///   store's data is created and kept with it: the same on every call and
    ///   after a restart for as long as the data lives (a database file keeps
    ///   it in the file), and different for every other store's data.
    /// - Answered without I/O: a store reads it when it opens.
    /// - Never the facade's fallback constant, and never all zeros.
    fn cursor_secret(&self) -> [u8; 16];

    /// Reads one consumer of the tenant's feed.
    ///
    /// # Behavior
    /// - `None` when no consumer of that name was registered in `tenant`
    ///   (`consumers::consumers_read_and_acknowledge_independently`).
    ///
    /// # Errors
    /// A storage failure only.
    async fn consumer(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
    ) -> Result<Option<ConsumerState>, Error>;

    /// Reads every consumer of the tenant's feed, in name order, each with
    /// its own position (`consumers::consumers_read_and_acknowledge_independently`).
    ///
    /// # Errors
    /// A storage failure only.
    async fn consumers(&self, tenant: &TenantId) -> Result<Vec<ConsumerState>, Error>;

    /// Acknowledges everything up to `position` for a consumer, registering
    /// it when it is new; answers the consumer as stored.
    ///
    /// # Behavior
    /// - Atomic, against concurrent acknowledgements and writes: the stored
    ///   position becomes `max(stored, position)` (a new consumer starts at
    ///   `position`), and `updated_at` becomes `at` when the position moved
    ///   or the consumer is new. An older position changes nothing, so a
    ///   retried acknowledgement is harmless
    ///   (`consumers::acknowledge_is_monotonic_and_bounded_by_the_last_event`,
    ///   `consumers::concurrent_acknowledgements_keep_the_highest`).
    /// - Kept until the data is gone (survives a restart;
    ///   `consumers::a_consumer_resumes_exactly_after_its_last_acknowledgement`).
    ///
    /// # Errors
    /// `invalid_argument` when `position` is beyond the feed's
    /// [`FeedState::last_position`] ([`crate::feed::check_acknowledgeable`], checked in
    /// the same transaction); otherwise a storage failure. Either way
    /// nothing changed.
    async fn acknowledge(
        &self,
        tenant: &TenantId,
        name: &ConsumerName,
        position: EventPosition,
        at: Timestamp,
    ) -> Result<ConsumerState, Error>;

    /// Reads the bounds of the tenant's feed.
    ///
    /// # Behavior
    /// - `last_position`: a position at or above every event of the tenant
    ///   that [`Self::events_after`] can answer, removed events included,
    ///   and below every event that commits later (0 when there is none):
    ///   the last position handed out to any tenant qualifies, and so does
    ///   the tenant's own last readable one.
    /// - `pruned`: what [`Self::prune_events`] removed of this tenant, if
    ///   anything, committed together with the removal
    ///   (`consumers::a_consumer_behind_a_time_limit_is_told_what_it_lost`).
    ///
    /// # Errors
    /// A storage failure only.
    async fn feed_state(&self, tenant: &TenantId) -> Result<FeedState, Error>;

    /// Removes the oldest of the tenant's events, in one short transaction,
    /// and answers how many it removed.
    ///
    /// # Behavior
    /// - Walks the tenant's retained events in increasing position and
    ///   removes them until it has removed `step.limit`, or reaches one
    ///   above `step.through` or with `at` not before `step.before` (which
    ///   it keeps, with everything after it): what is removed is always a
    ///   prefix of the tenant's feed
    ///   (`consumers::prune_is_bounded_and_removes_a_prefix`,
    ///   `consumers::prune_never_removes_unacknowledged_or_recent_events`).
    /// - Records, in the same transaction, the tenant's pruned range
    ///   ([`FeedState::pruned`]): the highest removed position, its time,
    ///   and the running count of removed events.
    /// - Nothing else changes: no other tenant's events, no positions, no
    ///   consumer, no edge; later events keep their positions
    ///   (`consumers::prune_leaves_positions_and_other_data_unchanged`).
    ///
    /// # Errors
    /// A storage failure only; nothing changed.
    async fn prune_events(&self, step: PruneStep) -> Result<u64, Error>;
}
