//! Sorting a batch's keys by summaries of their ids.
//!
//! An id lives behind an `Arc`, so comparing two keys reads two to four
//! heap blocks scattered across memory, and sorting the two million keys of
//! a million-edge import that way misses the cache on nearly every one of
//! its forty million comparisons. Each key is instead summarised once, as
//! integers that order as the ids do, and the summaries are sorted; only
//! keys whose summaries tie and whose ids run past what a summary holds are
//! compared in full.

use std::cmp::Ordering;
use std::sync::OnceLock;

use super::addresses::AddressTable;

use super::keys::EdgeKey;
use crate::{LinkKey, LinkKind, NodeId};

/// Bytes of an id a summary holds; its last byte holds the length.
const HELD: usize = 15;

/// A key that sorts by a summary of its ids.
pub(super) trait Summarised: Ord {
    /// Integers that order as the keys do: `a < b` whenever
    /// `summary(a) < summary(b)`.
    type Summary: Ord + Copy;
    /// The key's summary.
    fn summary(&self) -> Self::Summary;
    /// Whether keys with this summary are equal when their summaries are.
    fn whole(summary: &Self::Summary) -> bool;
}

impl Summarised for NodeId {
    type Summary = u128;
    fn summary(&self) -> u128 {
        id_summary(self.as_str())
    }
    fn whole(summary: &u128) -> bool {
        held_whole(*summary)
    }
}

impl Summarised for EdgeKey {
    type Summary = [u128; 2];
    fn summary(&self) -> [u128; 2] {
        pair_summary(self.follower.as_str(), self.target.as_str())
    }
    fn whole(summary: &[u128; 2]) -> bool {
        summary.iter().copied().all(held_whole)
    }
}

impl Summarised for LinkKey {
    type Summary = (LinkKind, [u128; 2]);
    fn summary(&self) -> Self::Summary {
        (
            self.kind,
            pair_summary(self.from.as_str(), self.to.as_str()),
        )
    }
    fn whole(summary: &Self::Summary) -> bool {
        EdgeKey::whole(&summary.1)
    }
}

/// The summary of a key ordered by two ids, `first` then `second`.
fn pair_summary(first: &str, second: &str) -> [u128; 2] {
    let first = id_summary(first);
    // A first id longer than a summary holds may tie with a different
    // one, and then the second ids say nothing of the keys' order: the
    // second summary stays 0, and such ties are compared in full.
    let second = if held_whole(first) {
        id_summary(second)
    } else {
        0
    };
    [first, second]
}

/// An id's first [`HELD`] bytes, zero-padded, then its length capped at
/// `HELD + 1`, as one big-endian integer. For ids `a < b` (byte order),
/// `id_summary(a) <= id_summary(b)`: where they first differ within the
/// held bytes the summary differs the same way (a shorter id's padding is
/// no greater than any byte), and a proper prefix is no longer.
fn id_summary(id: &str) -> u128 {
    let bytes = id.as_bytes();
    let mut buf = [0u8; 16];
    let held = bytes.len().min(HELD);
    if let (Some(to), Some(from)) = (buf.get_mut(..held), bytes.get(..held)) {
        to.copy_from_slice(from);
    }
    buf[HELD] = u8::try_from(bytes.len().min(HELD + 1)).unwrap_or(u8::MAX);
    u128::from_be_bytes(buf)
}

/// Whether an id summary holds its whole id.
fn held_whole(summary: u128) -> bool {
    summary & 0xFF <= HELD as u128
}

/// The fewest node keys a batch has for [`NodeIndex`] to find them by
/// address.
pub(super) const BY_ADDRESS_FROM: usize = 64;

/// Finds ids among a batch's sorted node keys: in a large batch by the
/// address of their bytes ([`AddressTable`], built at the first search) for
/// the batch's own ids and their clones, else by their summaries, a binary
/// search through integers beside each other in memory instead of through
/// ids behind pointers.
#[derive(Debug, Default)]
pub(super) struct NodeIndex {
    summaries: Vec<u128>,
    by_address: OnceLock<AddressTable>,
}

impl NodeIndex {
    /// Adds the summary of the next node of the sorted nodes.
    pub(super) fn push(&mut self, summary: u128) {
        self.summaries.push(summary);
    }

    /// Where `id` sits in `nodes` (the nodes this index was built from).
    pub(super) fn find(&self, nodes: &[NodeId], id: &str) -> Option<usize> {
        // A batch of live traffic names a few nodes, whose ids are hot: a
        // search of their summaries costs less than building the table.
        if nodes.len() >= BY_ADDRESS_FROM {
            let by_address = self
                .by_address
                .get_or_init(|| AddressTable::new(nodes.iter().map(NodeId::as_str)));
            if let Some(at) = by_address.find(id) {
                return Some(at);
            }
        }
        let summary = id_summary(id);
        let first = self.summaries.partition_point(|s| *s < summary);
        if held_whole(summary) {
            return (self.summaries.get(first) == Some(&summary)).then_some(first);
        }
        // Ids that tie on their held bytes, compared in full.
        let ties = self.summaries.get(first..)?;
        let ties = ties.iter().take_while(|s| **s == summary).count();
        (first..first + ties).find(|&at| nodes.get(at).is_some_and(|node| node.as_str() == id))
    }
}

/// The keys sorted, without duplicates. `placed(input, output)` is called
/// for each input key with the index of its key in the output, and
/// `kept(summary)` for each output key in order, with its summary.
pub(super) fn sort_dedup<K: Summarised>(
    keys: Vec<K>,
    mut placed: impl FnMut(usize, usize),
    mut kept: impl FnMut(K::Summary),
) -> Vec<K> {
    let mut order: Vec<(K::Summary, usize)> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| (key.summary(), index))
        .collect();
    let full = |a: usize, b: usize| match (keys.get(a), keys.get(b)) {
        (Some(a), Some(b)) => a.cmp(b),
        _ => Ordering::Equal,
    };
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            if K::whole(&a.0) {
                Ordering::Equal
            } else {
                full(a.1, b.1)
            }
        })
    });
    let mut slots: Vec<Option<K>> = keys.into_iter().map(Some).collect();
    let mut sorted: Vec<K> = Vec::with_capacity(order.len());
    let mut last: Option<K::Summary> = None;
    for (summary, index) in order {
        let Some(key) = slots.get_mut(index).and_then(Option::take) else {
            continue;
        };
        let repeat = last == Some(summary) && (K::whole(&summary) || sorted.last() == Some(&key));
        if !repeat {
            sorted.push(key);
            kept(summary);
        }
        last = Some(summary);
        placed(index, sorted.len() - 1);
    }
    sorted
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::AccountId;
    use proptest::prelude::*;

    /// Ids that tie on their held bytes, and ids around the held length.
    fn id() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c]{1,3}",
            "[ab]{14,17}",
            "aaaaaaaaaaaaaaa[a-c]{0,3}",
            "[a-z0-9]{1,40}",
        ]
    }

    proptest! {
        /// Whatever the ids, nodes, edges and links come out as `sort` +
        /// `dedup` leave them, and each input edge's index names an equal key.
        #[test]
        fn sorts_as_the_ids_do(pairs in proptest::collection::vec((id(), id()), 0..60)) {
            let keys: Vec<EdgeKey> = pairs
                .iter()
                .map(|(a, b)| EdgeKey::new(AccountId::new(a).unwrap(), NodeId::new(b).unwrap()))
                .collect();
            let mut expected = keys.clone();
            expected.sort();
            expected.dedup();
            let mut placed = vec![usize::MAX; keys.len()];
            let sorted = sort_dedup(keys.clone(), |from, to| placed[from] = to, |_| {});
            prop_assert_eq!(&sorted, &expected);
            for (key, at) in keys.iter().zip(&placed) {
                prop_assert_eq!(sorted.get(*at), Some(key));
            }
            let links: Vec<LinkKey> = pairs
                .iter()
                .enumerate()
                .map(|(n, (a, b))| {
                    let kind = LinkKind::ALL[n % LinkKind::ALL.len()];
                    LinkKey::new(kind, AccountId::new(a).unwrap(), AccountId::new(b).unwrap())
                })
                .collect();
            let mut expected = links.clone();
            expected.sort();
            expected.dedup();
            prop_assert_eq!(sort_dedup(links, |_, _| {}, |_| {}), expected);
            let nodes: Vec<NodeId> = pairs.iter().map(|(a, _)| NodeId::new(a).unwrap()).collect();
            let mut expected = nodes.clone();
            expected.sort();
            expected.dedup();
            let mut index = NodeIndex::default();
            let sorted = sort_dedup(nodes, |_, _| {}, |summary| index.push(summary));
            for (at, node) in sorted.iter().enumerate() {
                prop_assert_eq!(index.find(&sorted, node.as_str()), Some(at));
            }
            prop_assert_eq!(sorted, expected);
        }
    }

    /// Every id of the nodes is found where it sits, short or long and
    /// among ties; an id not among them is not found.
    #[test]
    fn the_node_index_finds_each_id_where_it_sits() {
        let nodes: Vec<NodeId> = [
            "a",
            "b",
            "aaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaab",
            "aaaaaaaaaaaaaaac",
            "zzzzzzzzzzzzzzzzzz",
        ]
        .into_iter()
        .map(|id| NodeId::new(id).unwrap())
        .collect();
        let mut index = NodeIndex::default();
        let nodes = sort_dedup(nodes, |_, _| {}, |summary| index.push(summary));
        for (at, node) in nodes.iter().enumerate() {
            assert_eq!(index.find(&nodes, node.as_str()), Some(at), "{node}");
        }
        for absent in ["", "aa", "aaaaaaaaaaaaaaad", "aaaaaaaaaaaaaaaab", "c"] {
            assert_eq!(index.find(&nodes, absent), None, "{absent}");
        }
        assert_eq!(NodeIndex::default().find(&[], "a"), None);
    }

    /// The summary orders ids as their bytes do, and holds the short ones
    /// whole.
    #[test]
    fn summaries_order_as_ids() {
        let ids = [
            "a",
            "a\u{1}",
            "aa",
            "aaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaab",
            "aaaaaaaaaaaaaab",
            "b",
        ];
        for pair in ids.windows(2) {
            let (a, b) = (id_summary(pair[0]), id_summary(pair[1]));
            assert!(a <= b, "{pair:?}");
        }
        assert!(held_whole(id_summary("aaaaaaaaaaaaaaa")));
        assert!(!held_whole(id_summary("aaaaaaaaaaaaaaaa")));
        assert_eq!(
            id_summary("aaaaaaaaaaaaaaaa"),
            id_summary("aaaaaaaaaaaaaaab")
        );
        assert_ne!(id_summary("a"), id_summary("a\u{1}"));
    }
}
