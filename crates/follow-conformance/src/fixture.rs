//! What every case starts from: a facade over a fresh store, a manual clock,
//! principals of two tenants, and small helpers for reading state back.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use follow_core::{
    AccountId, Capabilities, Command, CommandResult, Error, ErrorKind, Event, EventKind,
    EventPosition, FollowGraph, FollowOptions, FollowStore, Languages, Link, LinkDirection,
    LinkEntry, LinkKey, LinkKind, LinkQuery, ListEntry, ListKind, ListQuery, ManualClock, NodeId,
    NodeRecord, Outcome, PageRequest, Principal, TenantId, Timestamp, WriteBatch,
};

/// The most pages any walk of the suite reads before it fails: a store that
/// never advances must fail a case, not hang it.
pub const MAX_PAGES: usize = 10_000;

/// The tenant most cases use.
pub const TENANT: &str = "acme";
/// A second tenant, for isolation cases.
pub const OTHER_TENANT: &str = "globex";
/// A channel JID.
pub const CHANNEL: &str = "120363012345678901@newsletter";
/// The manual clock's start: 2027-01-15.
pub const START_SECONDS: i64 = 1_800_000_000;

/// The time `seconds` after [`START_SECONDS`].
pub fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(START_SECONDS + seconds).unwrap()
}

/// A node id, for ids the suite writes itself.
pub fn node(id: &str) -> NodeId {
    NodeId::new(id).unwrap()
}

/// The error kind of a result, if it failed.
pub fn kind<T>(result: Result<T, Error>) -> Option<ErrorKind> {
    result.err().map(|error| error.kind())
}

/// A facade over one store, with a manual clock and principals.
#[derive(Debug)]
pub struct Fixture {
    /// The store under test.
    pub store: Arc<dyn FollowStore>,
    /// The clock the facade reads; starts at [`at`]`(0)`.
    pub clock: Arc<ManualClock>,
    /// The facade.
    pub graph: FollowGraph,
    /// A principal of [`TENANT`] holding every capability, unbound.
    pub admin: Principal,
    /// A principal of [`OTHER_TENANT`] holding every capability, unbound.
    pub other: Principal,
}

impl Fixture {
    /// A fixture over `store` with default settings.
    pub fn new(store: Arc<dyn FollowStore>) -> Self {
        Fixture::with(store, |builder| builder)
    }

    /// A fixture whose facade is configured further by `configure`.
    pub fn with(
        store: Arc<dyn FollowStore>,
        configure: impl FnOnce(follow_core::FollowGraphBuilder) -> follow_core::FollowGraphBuilder,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(at(0)));
        let graph = configure(FollowGraph::builder(store.clone()).clock(clock.clone())).build();
        Fixture {
            store,
            clock,
            graph,
            admin: principal(TENANT, Capabilities::ALL),
            other: principal(OTHER_TENANT, Capabilities::ALL),
        }
    }

    /// The tenant of [`Fixture::admin`].
    pub fn tenant(&self) -> TenantId {
        TenantId::new(TENANT).unwrap()
    }

    /// Advances the clock by whole seconds.
    pub fn tick(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }

    /// Registers nodes in [`TENANT`].
    pub async fn register(&self, ids: &[&str]) {
        for id in ids {
            self.graph.register(&self.admin, id).await.unwrap();
        }
    }

    /// Registers nodes in [`OTHER_TENANT`].
    pub async fn register_other(&self, ids: &[&str]) {
        for id in ids {
            self.graph.register(&self.other, id).await.unwrap();
        }
    }

    /// `actor` follows `target` in [`TENANT`], asserting success.
    pub async fn follow(&self, actor: &str, target: &str) {
        self.graph.follow(&self.admin, actor, target).await.unwrap();
    }

    /// Every event of [`TENANT`], oldest first.
    pub async fn events(&self) -> Vec<Event> {
        events_of(&self.graph, &self.admin).await
    }

    /// A full walk of a list in [`TENANT`] with pages of `limit`.
    pub async fn walk(&self, list: ListKind, subject: &str, limit: u32) -> Vec<ListEntry> {
        walk(&self.graph, &self.admin, list, subject, limit).await
    }

    /// The first page (up to 100 items) of a list in [`TENANT`].
    pub async fn list(&self, list: ListKind, subject: &str) -> Vec<ListEntry> {
        self.walk(list, subject, 100).await
    }

    /// The node ids of a list in [`TENANT`].
    pub async fn ids(&self, list: ListKind, subject: &str) -> Vec<String> {
        self.list(list, subject)
            .await
            .into_iter()
            .map(|entry| entry.node.as_str().to_owned())
            .collect()
    }

    /// Asserts that each node's counts equal what its lists say.
    pub async fn assert_counts_match_lists(&self, nodes: &[&str]) {
        for node in nodes {
            let counts = self.graph.counts(&self.admin, node).await.unwrap();
            let following = self.list(ListKind::Following, node).await.len() as u64;
            let followers = self.list(ListKind::Followers, node).await.len() as u64;
            let mutuals = self.list(ListKind::Mutuals, node).await.len() as u64;
            assert_eq!(
                (counts.following, counts.followers, counts.mutual),
                (following, followers, mutuals),
                "counts of {node} disagree with its lists"
            );
        }
    }
}

/// A principal of `tenant` with `capabilities`.
pub fn principal(tenant: &str, capabilities: impl Into<Capabilities>) -> Principal {
    Principal::new(TenantId::new(tenant).unwrap(), capabilities)
}

/// A principal of [`TENANT`] holding every capability, bound to `account`.
pub fn bound(account: &str) -> Principal {
    principal(TENANT, Capabilities::ALL).bound_to(AccountId::new(account).unwrap())
}

/// Every event visible to `principal`, oldest first.
pub async fn events_of(graph: &FollowGraph, principal: &Principal) -> Vec<Event> {
    events_of_after(graph, principal, None).await
}

/// A full walk of a list with pages of `limit`.
pub async fn walk(
    graph: &FollowGraph,
    principal: &Principal,
    list: ListKind,
    subject: &str,
    limit: u32,
) -> Vec<ListEntry> {
    let mut items = Vec::new();
    let mut request = PageRequest::first().with_limit(limit);
    loop {
        let page = match list {
            ListKind::Following => graph.following(principal, subject, &request).await,
            ListKind::Followers => graph.followers(principal, subject, &request).await,
            ListKind::Mutuals => graph.mutuals(principal, subject, &request).await,
        }
        .unwrap();
        assert!(
            page.items.len() <= limit as usize,
            "a page exceeds its limit"
        );
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor).with_limit(limit),
            None => return items,
        }
        assert!(
            items.len() <= MAX_PAGES,
            "list: a walk of {list:?} of {subject} does not end"
        );
    }
}

/// Every event visible to `principal` strictly after `after`, oldest first.
pub async fn events_of_after(
    graph: &FollowGraph,
    principal: &Principal,
    mut after: Option<follow_core::EventPosition>,
) -> Vec<Event> {
    let mut all: Vec<Event> = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = graph.events(principal, after, Some(1000)).await.unwrap();
        let Some(last) = page.last() else {
            return all;
        };
        for event in &page {
            let previous = all.last().map(|e| e.position).or(after);
            assert!(
                previous.is_none_or(|p| event.position > p),
                "events_after: position {} does not follow {previous:?}",
                event.position
            );
            all.push(event.clone());
        }
        after = Some(last.position);
    }
    panic!("events_after: a walk of the events does not end");
}

/// Everything a read can see of some nodes of [`TENANT`]: the nodes walk,
/// each node's record, lists and links, and the tenant's events. Two
/// snapshots are equal exactly when no read could tell the states apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    nodes: Vec<NodeRecord>,
    records: Vec<Option<NodeRecord>>,
    lists: Vec<Vec<ListEntry>>,
    links: Vec<BTreeMap<LinkKey, Link>>,
    events: Vec<Event>,
}

impl Fixture {
    /// A [`Snapshot`] of `ids` (and every registered node of the tenant).
    pub async fn snapshot(&self, ids: &[&str]) -> Snapshot {
        let tenant = self.tenant();
        let nodes = self.store.nodes(&tenant, None, 10_000).await.unwrap();
        let direct = Direct::new(self.store.clone());
        let mut records = Vec::new();
        let mut lists = Vec::new();
        let mut links = Vec::new();
        for id in ids {
            let record = self.store.node(&tenant, &node(id)).await.unwrap();
            if record.is_some() {
                for list in [ListKind::Following, ListKind::Followers, ListKind::Mutuals] {
                    lists.push(self.list(list, id).await);
                }
                if node(id).as_account().is_some() {
                    links.push(direct.links_of(id).await);
                }
            }
            records.push(record);
        }
        Snapshot {
            nodes,
            records,
            lists,
            links,
            events: self.events().await,
        }
    }
}

/// Builds a hub with 7 followers, 7 followees and 7 mutuals whose `since`
/// values tie in groups; answers the expected order (since desc, id asc).
pub async fn paging_graph(f: &Fixture) -> Vec<(String, Timestamp)> {
    f.register(&["hub"]).await;
    // Registered out of id order; times tie in groups of 3, 2 and 2.
    let plan = [
        ("p2", 0),
        ("p0", 0),
        ("p1", 0),
        ("p4", 1),
        ("p3", 1),
        ("p6", 2),
        ("p5", 2),
    ];
    for (id, _) in plan {
        f.register(&[id]).await;
    }
    for (id, seconds) in plan {
        f.clock.set(at(seconds));
        f.follow(id, "hub").await;
        f.follow("hub", id).await;
    }
    let mut expected: Vec<(String, Timestamp)> = plan
        .iter()
        .map(|(id, s)| ((*id).to_owned(), at(*s)))
        .collect();
    expected.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    expected
}

/// An event as the link cases compare it: kind, follower (the link's
/// `from`), target (its `to`).
pub type Seen = (EventKind, String, String);

/// The [`Seen`] form of `kind` about `follower → target`.
pub fn seen(kind: EventKind, follower: &str, target: &str) -> Seen {
    (kind, follower.to_owned(), target.to_owned())
}

/// A command's result as the link cases compare it: the outcome and its
/// event, or the error kind.
pub type Answer = Result<(Outcome, Option<Seen>), ErrorKind>;

/// `unchanged`, with no event.
pub const UNCHANGED: Answer = Ok((Outcome::Unchanged, None));

/// `changed`, with the event `kind` about `follower → target`.
pub fn changed(kind: EventKind, follower: &str, target: &str) -> Answer {
    Ok((Outcome::Changed, Some(seen(kind, follower, target))))
}

/// `requested`, with its `follow_requested` event.
pub fn requested(follower: &str, target: &str) -> Answer {
    Ok((
        Outcome::Requested,
        Some(seen(EventKind::FollowRequested, follower, target)),
    ))
}

/// An account id, for ids the suite writes itself.
pub fn account(id: &str) -> AccountId {
    AccountId::new(id).unwrap()
}

/// The key of the link `kind` from `from` to `to`.
pub fn link_key(kind: LinkKind, from: &str, to: &str) -> LinkKey {
    LinkKey::new(kind, account(from), account(to))
}

/// Follow options from their three values (languages as ISO 639-1 codes;
/// none for every language).
pub fn options(reblogs: bool, notify: bool, languages: &[&str]) -> FollowOptions {
    FollowOptions {
        reblogs,
        notify,
        languages: Languages::parse(languages.iter().copied()).unwrap(),
    }
}

/// Commands as the facade hands them to a store once it has validated a
/// request, for cases that drive a store directly ([`Direct`]).
pub mod commands {
    use follow_core::{Command, LinkKind, OptionsUpdate, Timestamp};

    use super::{account, link_key, node};

    /// Registers `id`.
    pub fn register(id: &str) -> Command {
        Command::Register { node: node(id) }
    }

    /// Removes `id` (refused while edges or links touch it).
    pub fn remove(id: &str) -> Command {
        Command::Remove { node: node(id) }
    }

    /// Locks or unlocks `id`.
    pub fn set_locked(id: &str, locked: bool) -> Command {
        Command::SetLocked {
            node: account(id),
            locked,
        }
    }

    /// `follower` follows `target`, naming no option.
    pub fn follow(follower: &str, target: &str) -> Command {
        follow_with(follower, target, OptionsUpdate::NONE)
    }

    /// `follower` follows `target`, naming `options`.
    pub fn follow_with(follower: &str, target: &str, options: OptionsUpdate) -> Command {
        Command::Follow {
            follower: account(follower),
            target: node(target),
            since: None,
            options,
        }
    }

    /// `follower` follows `target` since an imported time.
    pub fn follow_since(follower: &str, target: &str, since: Timestamp) -> Command {
        Command::Follow {
            follower: account(follower),
            target: node(target),
            since: Some(since),
            options: OptionsUpdate::NONE,
        }
    }

    /// `follower` unfollows `target` (or withdraws its request).
    pub fn unfollow(follower: &str, target: &str) -> Command {
        Command::Unfollow {
            follower: account(follower),
            target: node(target),
        }
    }

    /// Sets the mute flag of `follower → target`.
    pub fn set_mute(follower: &str, target: &str, muted: bool) -> Command {
        Command::SetMute {
            follower: account(follower),
            target: node(target),
            muted,
        }
    }

    /// `target` drops its follower `follower`.
    pub fn remove_follower(target: &str, follower: &str) -> Command {
        Command::RemoveFollower {
            target: node(target),
            follower: account(follower),
        }
    }

    /// `actor` blocks `target`.
    pub fn block(actor: &str, target: &str) -> Command {
        Command::Block {
            actor: account(actor),
            target: account(target),
        }
    }

    /// `actor` lifts its block of `target`.
    pub fn unblock(actor: &str, target: &str) -> Command {
        Command::Unblock {
            actor: account(actor),
            target: account(target),
        }
    }

    /// `actor` mutes `target` as an account.
    pub fn mute_account(
        actor: &str,
        target: &str,
        notifications: bool,
        expires_at: Option<Timestamp>,
    ) -> Command {
        Command::MuteAccount {
            actor: account(actor),
            target: account(target),
            notifications,
            expires_at,
        }
    }

    /// `actor` ends its account mute of `target`.
    pub fn unmute_account(actor: &str, target: &str) -> Command {
        Command::UnmuteAccount {
            actor: account(actor),
            target: account(target),
        }
    }

    /// `target` authorises `follower`'s request.
    pub fn authorize(target: &str, follower: &str) -> Command {
        Command::AuthorizeRequest {
            target: account(target),
            follower: account(follower),
        }
    }

    /// `target` rejects `follower`'s request.
    pub fn reject(target: &str, follower: &str) -> Command {
        Command::RejectRequest {
            target: account(target),
            follower: account(follower),
        }
    }

    /// Deletes the link `kind` from `from` to `to`, whatever it is.
    pub fn drop_link(kind: LinkKind, from: &str, to: &str) -> Command {
        Command::DropLink {
            key: link_key(kind, from, to),
        }
    }
}

/// Drives a store directly with [`Command`]s (as the facade does once it
/// has validated a request) at the times a case chooses, and reads back
/// with the store's own methods, in [`TENANT`] unless made otherwise.
#[derive(Debug)]
pub struct Direct {
    /// The store under test.
    pub store: Arc<dyn FollowStore>,
    /// The tenant every batch and read names.
    pub tenant: TenantId,
    /// The last event position [`Direct::new_events`] answered.
    read_up_to: Mutex<Option<EventPosition>>,
}

impl Direct {
    /// Drives `store` in [`TENANT`].
    pub fn new(store: Arc<dyn FollowStore>) -> Self {
        Direct::in_tenant(store, TENANT)
    }

    /// Drives `store` in `tenant`.
    pub fn in_tenant(store: Arc<dyn FollowStore>, tenant: &str) -> Self {
        Direct {
            store,
            tenant: TenantId::new(tenant).unwrap(),
            read_up_to: Mutex::new(None),
        }
    }

    /// Writes `commands` as one batch at `at` and answers one result per
    /// command; panics when the batch fails as a whole.
    pub async fn write(&self, at: Timestamp, commands: Vec<Command>) -> Vec<CommandResult> {
        let mut batch = WriteBatch::new(self.tenant.clone(), at);
        batch.commands = commands;
        let count = batch.commands.len();
        let results = self.store.write(batch).await.unwrap();
        assert_eq!(results.len(), count, "write: one result per command");
        results
    }

    /// Applies one command at `at` and answers its [`Answer`], checking
    /// that an event it answers is the one stored at its position.
    pub async fn run(&self, at: Timestamp, command: Command) -> Answer {
        let result = self.write(at, vec![command]).await.remove(0);
        let applied = result.map_err(|error| error.kind())?;
        if let Some(event) = &applied.event {
            assert_eq!((event.at, &event.tenant), (at, &self.tenant));
            let before = event.position.0.checked_sub(1).map(EventPosition);
            let stored = self.store.events_after(&self.tenant, before, 1).await;
            assert_eq!(
                stored.unwrap().first(),
                Some(event),
                "write: the answered event is the one stored at its position"
            );
        }
        Ok((applied.outcome, applied.event.as_ref().map(seen_of)))
    }

    /// Applies commands one batch each at `at`, asserting each succeeds.
    pub async fn setup(&self, at: Timestamp, commands: Vec<Command>) {
        for command in commands {
            let shown = format!("{command:?}");
            let answer = self.run(at, command).await;
            assert!(answer.is_ok(), "setup {shown}: {answer:?}");
        }
    }

    /// Registers nodes at [`at`]`(0)`, one batch each.
    pub async fn register(&self, ids: &[&str]) {
        let commands = ids.iter().map(|id| commands::register(id)).collect();
        self.setup(at(0), commands).await;
    }

    /// The events written since the last call (since the start, the first
    /// time), oldest first.
    pub async fn new_events(&self) -> Vec<Seen> {
        let after = *self.read_up_to.lock().unwrap();
        let events = self.events_after(after).await;
        if let Some(last) = events.last() {
            *self.read_up_to.lock().unwrap() = Some(last.position);
        }
        events.iter().map(seen_of).collect()
    }

    /// Every event of the tenant strictly after `after`, oldest first.
    pub async fn events_after(&self, mut after: Option<EventPosition>) -> Vec<Event> {
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self
                .store
                .events_after(&self.tenant, after, 100)
                .await
                .unwrap();
            let Some(last) = page.last() else {
                return all;
            };
            after = Some(last.position);
            all.extend(page);
        }
        panic!("events_after: a walk of the events does not end");
    }

    /// The node as stored, if registered.
    pub async fn node(&self, id: &str) -> Option<NodeRecord> {
        self.store.node(&self.tenant, &node(id)).await.unwrap()
    }

    /// The node as stored; panics when it is not registered.
    pub async fn record(&self, id: &str) -> NodeRecord {
        self.node(id)
            .await
            .unwrap_or_else(|| panic!("node: {id} is not registered"))
    }

    /// `(following, followers, mutual, links)` of a registered node.
    pub async fn counts(&self, id: &str) -> (u64, u64, u64, u64) {
        let record = self.record(id).await;
        let counts = record.counts;
        (
            counts.following,
            counts.followers,
            counts.mutual,
            record.links,
        )
    }

    /// A whole list, read in pages of 100 straight from the store.
    pub async fn list(&self, list: ListKind, subject: &str) -> Vec<ListEntry> {
        let mut items: Vec<ListEntry> = Vec::new();
        for _ in 0..MAX_PAGES {
            let query = ListQuery {
                tenant: self.tenant.clone(),
                list,
                subject: node(subject),
                after: items.last().map(ListEntry::position),
                limit: 100,
            };
            let page = self.store.list(query).await.unwrap();
            let page = page.unwrap_or_else(|| panic!("list: {subject} is not registered"));
            if page.is_empty() {
                return items;
            }
            items.extend(page);
        }
        panic!("list: a walk of {list:?} of {subject} does not end");
    }

    /// The ids of a list, in its order.
    pub async fn ids(&self, list: ListKind, subject: &str) -> Vec<String> {
        let items = self.list(list, subject).await;
        items.iter().map(|e| e.node.as_str().to_owned()).collect()
    }

    /// A whole list of links, read in pages of `limit`, checking that no
    /// page exceeds it; `None` when the subject is not registered.
    pub async fn walk_links(
        &self,
        kind: LinkKind,
        direction: LinkDirection,
        subject: &str,
        limit: usize,
    ) -> Option<Vec<LinkEntry>> {
        let mut items: Vec<LinkEntry> = Vec::new();
        for _ in 0..MAX_PAGES {
            let query = LinkQuery {
                tenant: self.tenant.clone(),
                kind,
                direction,
                subject: account(subject),
                after: items.last().map(LinkEntry::position),
                limit,
            };
            let page = self.store.links(query).await.unwrap()?;
            assert!(
                page.len() <= limit,
                "links: a page of {} exceeds its limit {limit}",
                page.len()
            );
            if page.is_empty() {
                return Some(items);
            }
            items.extend(page);
        }
        panic!("links: a walk of {kind} {direction:?} of {subject} does not end");
    }

    /// A whole list of links of a registered account.
    pub async fn links(
        &self,
        kind: LinkKind,
        direction: LinkDirection,
        subject: &str,
    ) -> Vec<LinkEntry> {
        self.walk_links(kind, direction, subject, 100)
            .await
            .unwrap_or_else(|| panic!("links: {subject} is not registered"))
    }

    /// Every link touching a registered account, by key, from its lists of
    /// every kind both ways.
    pub async fn links_of(&self, subject: &str) -> BTreeMap<LinkKey, Link> {
        let mut all = BTreeMap::new();
        for kind in LinkKind::ALL {
            for direction in [LinkDirection::Outgoing, LinkDirection::Incoming] {
                for entry in self.links(kind, direction, subject).await {
                    let key = match direction {
                        LinkDirection::Outgoing => {
                            LinkKey::new(kind, account(subject), entry.account)
                        }
                        LinkDirection::Incoming => {
                            LinkKey::new(kind, entry.account, account(subject))
                        }
                    };
                    assert!(
                        all.insert(key.clone(), entry.link).is_none(),
                        "links: {key} listed twice"
                    );
                }
            }
        }
        all
    }

    /// `links_between`, by key, asserting that no link is answered twice.
    pub async fn links_between(&self, subject: &str, others: &[&str]) -> BTreeMap<LinkKey, Link> {
        let others: Vec<AccountId> = others.iter().map(|id| account(id)).collect();
        let answered = self
            .store
            .links_between(&self.tenant, &account(subject), &others)
            .await
            .unwrap();
        let count = answered.len();
        let by_key: BTreeMap<LinkKey, Link> = answered.into_iter().collect();
        assert_eq!(
            by_key.len(),
            count,
            "links_between: a link answered twice for {subject}"
        );
        by_key
    }

    /// Asserts, for each account (not channel), that its counts equal its lists: edges
    /// both ways, mutuals, and the links of every kind both ways.
    pub async fn assert_counts_match(&self, ids: &[&str]) {
        for id in ids {
            let following = self.list(ListKind::Following, id).await.len() as u64;
            let followers = self.list(ListKind::Followers, id).await.len() as u64;
            let mutuals = self.list(ListKind::Mutuals, id).await.len() as u64;
            let links = self.links_of(id).await.len() as u64;
            assert_eq!(
                self.counts(id).await,
                (following, followers, mutuals, links),
                "counts (following, followers, mutual, links) of {id} disagree with its lists"
            );
        }
    }
}

fn seen_of(event: &Event) -> Seen {
    (
        event.kind,
        event.follower.as_str().to_owned(),
        event.target.as_str().to_owned(),
    )
}
