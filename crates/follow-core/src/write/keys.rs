//! The rows a batch needs, named before anything is read.

use std::fmt;

use super::summary::{NodeIndex, Summarised, sort_dedup};
use crate::{AccountId, Command, LinkKey, LinkKind, NodeId, NodeRecord, WriteBatch};

/// The key of one edge: `follower → target`, ordered by follower, then target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeKey {
    /// The account that follows.
    pub follower: AccountId,
    /// The node followed.
    pub target: NodeId,
}

impl EdgeKey {
    /// The edge `follower → target`.
    pub fn new(follower: AccountId, target: NodeId) -> Self {
        EdgeKey { follower, target }
    }

    /// The edge back (`target → follower`); a channel follows nothing.
    pub fn reverse(&self) -> Option<EdgeKey> {
        self.target
            .as_account()
            .map(|back| EdgeKey::new(back, NodeId::from(self.follower.clone())))
    }
}

impl fmt::Display for EdgeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.follower, self.target)
    }
}

/// Every node and edge a batch reads, each sorted and without duplicates,
/// so a store loads them in one pass (and, if it locks, locks them in this
/// order, which rules out deadlocks between batches).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// Nodes, by id.
    pub nodes: Vec<NodeId>,
    /// Edges, by follower then target. Every account → account command
    /// names its reverse edge too, whose mutual mark the decision reads and
    /// may rewrite.
    pub edges: Vec<EdgeKey>,
    /// Links, by kind, then `from`, then `to`.
    pub links: Vec<LinkKey>,
}

impl Keys {
    /// The keys `batch` reads.
    pub fn of(batch: &WriteBatch) -> Self {
        Keys::with_hints(batch).0
    }

    /// The keys `batch` reads, and where each command's first keys sit in
    /// them.
    pub(super) fn with_hints(batch: &WriteBatch) -> (Self, Hints) {
        let mut lists = KeyLists::default();
        if let Some(node) = &batch.requires {
            lists.nodes.push((node.clone(), NO_TAG));
        }
        for (index, command) in batch.commands.iter().enumerate() {
            lists.start(index);
            lists.add(command);
        }
        let mut hints = Hints {
            nodes: vec![[NO_TAG; 2]; batch.commands.len()],
            edges: vec![[NO_TAG; 2]; batch.commands.len()],
            node_index: NodeIndex::default(),
        };
        let node_index = &mut hints.node_index;
        let keys = Keys {
            nodes: sorted_with_hints(lists.nodes, &mut hints.nodes, |s| node_index.push(s)),
            edges: sorted_with_hints(lists.edges, &mut hints.edges, |_| {}),
            links: sort_dedup(lists.links, |_, _| {}, |_| {}),
        };
        (keys, hints)
    }

    /// The links worth loading once the nodes are loaded: those whose two
    /// accounts are both registered with links ([`NodeRecord::links`]). A
    /// node's count says no link touches it, so a store that loads nodes
    /// first may load only these, which for a batch of follows among
    /// accounts that never blocked, muted or asked is none. `nodes` is the
    /// loaded node rows, in any order.
    pub fn links_to_load(&self, nodes: &[NodeRecord]) -> Vec<&LinkKey> {
        let mut linked: Vec<&NodeId> = nodes
            .iter()
            .filter(|node| node.links > 0)
            .map(|node| &node.id)
            .collect();
        if linked.len() < 2 {
            return Vec::new();
        }
        linked.sort_unstable();
        let has_links = |account: &AccountId| {
            linked
                .binary_search_by(|id| id.as_str().cmp(account.as_str()))
                .is_ok()
        };
        self.links
            .iter()
            .filter(|key| has_links(&key.from) && has_links(&key.to))
            .collect()
    }
}

/// Where each command's first two nodes and first two edges sit in the
/// sorted [`Keys`] ([`NO_TAG`] where it names fewer): the rows its rule
/// reads first and most often, which the decision then finds without a
/// search (for an import of a hundred thousand edges, a binary search
/// through as many keys, comparing ids in memory scattered across the heap);
/// and the summaries of the nodes, kept from their sort, by which a store
/// finds any id among them ([`super::WritePlan::node_index`]).
#[derive(Debug, Default)]
pub(super) struct Hints {
    pub(super) nodes: Vec<[usize; 2]>,
    pub(super) edges: Vec<[usize; 2]>,
    /// Where every node sits, found by the summaries the sort computed.
    pub(super) node_index: NodeIndex,
}

/// No command's key, or no index.
const NO_TAG: usize = usize::MAX;

/// The keys of a batch as its commands name them, each node and edge with
/// its tag: `2 * command + n` for a command's `n`th key of that kind
/// (`n` < 2), [`NO_TAG`] for the rest.
#[derive(Default)]
struct KeyLists {
    nodes: Vec<(NodeId, usize)>,
    edges: Vec<(EdgeKey, usize)>,
    links: Vec<LinkKey>,
    command: usize,
    nodes_named: usize,
    edges_named: usize,
}

impl KeyLists {
    /// The keys named next are command `index`'s.
    fn start(&mut self, index: usize) {
        self.command = index;
        self.nodes_named = 0;
        self.edges_named = 0;
    }

    fn node(&mut self, id: NodeId) {
        let tag = tag(self.command, self.nodes_named);
        self.nodes_named += 1;
        self.nodes.push((id, tag));
    }

    fn edge(&mut self, key: EdgeKey) {
        let tag = tag(self.command, self.edges_named);
        self.edges_named += 1;
        self.edges.push((key, tag));
    }

    fn add(&mut self, command: &Command) {
        match command {
            Command::Register { node } | Command::Remove { node } | Command::Touch { node, .. } => {
                self.node(node.clone())
            }
            Command::SetLocked { node, .. } => self.node(NodeId::from(node.clone())),
            Command::Follow {
                follower, target, ..
            } => {
                self.edge_and_back(follower, target);
                if let Some(target) = target.as_account() {
                    self.link(LinkKind::Block, follower, &target);
                    self.link(LinkKind::Block, &target, follower);
                    self.link(LinkKind::Request, follower, &target);
                }
            }
            Command::Unfollow { follower, target } => {
                self.edge_and_back(follower, target);
                if let Some(target) = target.as_account() {
                    self.link(LinkKind::Request, follower, &target);
                }
            }
            Command::SetMute {
                follower, target, ..
            }
            | Command::RemoveFollower { target, follower } => {
                self.edge_and_back(follower, target);
            }
            Command::Block { actor, target } => {
                self.edge_and_back(actor, &NodeId::from(target.clone()));
                self.link(LinkKind::Block, actor, target);
                self.link(LinkKind::Request, actor, target);
                self.link(LinkKind::Request, target, actor);
            }
            Command::Unblock { actor, target } => {
                self.accounts(actor, target);
                self.link(LinkKind::Block, actor, target);
            }
            Command::MuteAccount { actor, target, .. }
            | Command::UnmuteAccount { actor, target } => {
                self.accounts(actor, target);
                self.link(LinkKind::Mute, actor, target);
            }
            Command::AuthorizeRequest { target, follower } => {
                self.edge_and_back(follower, &NodeId::from(target.clone()));
                self.link(LinkKind::Request, follower, target);
            }
            Command::RejectRequest { target, follower } => {
                self.accounts(follower, target);
                self.link(LinkKind::Request, follower, target);
            }
            Command::DropLink { key } => {
                self.accounts(&key.from, &key.to);
                self.link(key.kind, &key.from, &key.to);
            }
        }
    }

    /// The edge, its reverse, and both nodes.
    fn edge_and_back(&mut self, follower: &AccountId, target: &NodeId) {
        let key = EdgeKey::new(follower.clone(), target.clone());
        if let Some(back) = key.reverse() {
            self.edge(back);
        }
        self.edge(key);
        self.node(NodeId::from(follower.clone()));
        self.node(target.clone());
    }

    /// Both accounts of a command that names no edge.
    fn accounts(&mut self, a: &AccountId, b: &AccountId) {
        self.node(NodeId::from(a.clone()));
        self.node(NodeId::from(b.clone()));
    }

    /// The link alone: every command that names one names its two accounts
    /// too (through its edge, or [`Self::accounts`]), so a follow puts two
    /// nodes to sort, not eight.
    fn link(&mut self, kind: LinkKind, from: &AccountId, to: &AccountId) {
        self.links
            .push(LinkKey::new(kind, from.clone(), to.clone()));
    }
}

/// The tag of a command's `nth` key of a kind.
fn tag(command: usize, nth: usize) -> usize {
    if nth < 2 {
        command.saturating_mul(2).saturating_add(nth)
    } else {
        NO_TAG
    }
}

/// The keys sorted, without duplicates; each tagged key's index written to
/// its command's entry of `hints`, each key's summary handed to `kept`.
fn sorted_with_hints<K: Summarised>(
    tagged: Vec<(K, usize)>,
    hints: &mut [[usize; 2]],
    kept: impl FnMut(K::Summary),
) -> Vec<K> {
    let (keys, tags): (Vec<K>, Vec<usize>) = tagged.into_iter().unzip();
    let placed = |input: usize, at: usize| {
        if let Some(&tag) = tags.get(input)
            && tag != NO_TAG
            && let Some(hint) = hints.get_mut(tag / 2).and_then(|h| h.get_mut(tag % 2))
        {
            *hint = at;
        }
    };
    sort_dedup(keys, placed, kept)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{LinkKind, OptionsUpdate, TenantId, Timestamp};

    /// Every link a batch names has both its accounts among the batch's
    /// nodes, whichever command named it, and each node is named once.
    #[test]
    fn every_link_names_its_two_accounts() {
        let acct = |id: &str| AccountId::new(id).unwrap();
        let mut batch = WriteBatch::new(
            TenantId::new("t").unwrap(),
            Timestamp::from_unix_seconds(1).unwrap(),
        );
        let (a, b, c, d, e, g) = (
            acct("a"),
            acct("b"),
            acct("c"),
            acct("d"),
            acct("e"),
            acct("g"),
        );
        batch.commands = vec![
            Command::Follow {
                follower: a.clone(),
                target: NodeId::from(b.clone()),
                since: None,
                options: OptionsUpdate::NONE,
            },
            Command::Unblock {
                actor: c.clone(),
                target: d.clone(),
            },
            Command::MuteAccount {
                actor: d.clone(),
                target: e.clone(),
                notifications: true,
                expires_at: None,
            },
            Command::UnmuteAccount {
                actor: e.clone(),
                target: c.clone(),
            },
            Command::RejectRequest {
                target: g.clone(),
                follower: e.clone(),
            },
            Command::DropLink {
                key: LinkKey::new(LinkKind::Mute, g.clone(), a.clone()),
            },
        ];
        let keys = Keys::of(&batch);
        assert_eq!(keys.links.len(), 8);
        for link in &keys.links {
            for end in [&link.from, &link.to] {
                assert!(
                    keys.nodes.binary_search(&NodeId::from(end.clone())).is_ok(),
                    "{end} of {link}"
                );
            }
        }
        let names: Vec<&str> = keys.nodes.iter().map(NodeId::as_str).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e", "g"]);
    }

    /// Each command's hints point at its own first two nodes and edges in
    /// the sorted keys, whichever other commands named them too.
    #[test]
    fn hints_point_at_each_commands_own_keys() {
        let acct = |id: &str| AccountId::new(id).unwrap();
        let node = |id: &str| NodeId::new(id).unwrap();
        let mut batch = WriteBatch::new(
            TenantId::new("t").unwrap(),
            Timestamp::from_unix_seconds(1).unwrap(),
        );
        batch.requires = Some(node("z"));
        let follow = |a: &str, b: &str| Command::Follow {
            follower: acct(a),
            target: node(b),
            since: None,
            options: OptionsUpdate::NONE,
        };
        batch.commands = vec![
            Command::Register { node: node("m") },
            follow("m", "b"),
            follow("b", "m"),
            follow("a", "m"),
            Command::Register { node: node("a") },
        ];
        let (keys, hints) = Keys::with_hints(&batch);
        let nodes = |i: usize| hints.nodes[i].map(|at| keys.nodes.get(at).map(NodeId::as_str));
        let edges = |i: usize| {
            hints.edges[i].map(|at| {
                keys.edges
                    .get(at)
                    .map(|k| format!("{}>{}", k.follower, k.target))
            })
        };
        assert_eq!(nodes(0), [Some("m"), None]);
        assert_eq!(nodes(1), [Some("m"), Some("b")]);
        assert_eq!(nodes(2), [Some("b"), Some("m")]);
        assert_eq!(nodes(3), [Some("a"), Some("m")]);
        assert_eq!(nodes(4), [Some("a"), None]);
        let pair = |a: &str, b: &str| [Some(a.to_owned()), Some(b.to_owned())];
        assert_eq!(edges(1), pair("b>m", "m>b"));
        assert_eq!(edges(2), pair("m>b", "b>m"));
        assert_eq!(edges(3), pair("m>a", "a>m"));
        assert_eq!(edges(0), [None, None]);
    }
}
