//! A sorted sequence whose order the caller supplies at each call.
//!
//! The order of a list is (newest `since` first, then the id's bytes), and
//! entries hold interned `u32` ids, so only the tenant's name table can order
//! them: neither `Ord` nor a `BTreeSet` can reach it. Each operation takes a
//! probe instead, telling how an entry compares to the key sought.
//!
//! A short sequence is one exact-size boxed slice (no spare capacity: most
//! nodes have a handful of edges, and the header is 16 bytes). A long one is a
//! list of sorted chunks of at most [`CHUNK`] entries: an insert moves at most
//! one chunk, and a seek is a binary search over the chunks' last entries and
//! then inside one chunk, so a deep page costs what the first one does.

use std::cmp::Ordering;
use std::collections::HashMap;

/// The longest sequence kept as one boxed slice (rebuilt on every change).
const SMALL_MAX: usize = 32;
/// The most entries in one chunk of a long sequence; a full chunk splits.
const CHUNK: usize = 512;

/// An entry of a sequence: it names one node, at most once per sequence
/// among its [`Entry::indexed`] entries.
pub(crate) trait Entry: Copy {
    /// Whether a long sequence keeps a node → entry map beside its chunks,
    /// for [`Seq::find`] in O(1) (the lists read by every edge lookup).
    /// Lists only ever sought by their order key go without.
    const INDEXED: bool;
    /// The node the entry names.
    fn node(&self) -> u32;
    /// Whether [`Seq::find`] finds this entry (a sequence may mix entries
    /// of two lists, and index only one of them).
    fn indexed(&self) -> bool {
        Self::INDEXED
    }
}

impl Entry for u32 {
    const INDEXED: bool = false;
    fn node(&self) -> u32 {
        *self
    }
}

#[derive(Debug)]
pub(crate) struct Chunks<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
    index: Option<HashMap<u32, T>>,
}

/// A sequence sorted by an order only the caller can evaluate.
#[derive(Debug)]
pub(crate) enum Seq<T> {
    Small(Box<[T]>),
    Big(Box<Chunks<T>>),
}

impl<T> Default for Seq<T> {
    fn default() -> Self {
        Seq::Small(Box::default())
    }
}

/// The entries of a sequence from some point on, in order.
pub(crate) struct SeqIter<'a, T> {
    current: std::slice::Iter<'a, T>,
    rest: std::slice::Iter<'a, Vec<T>>,
}

impl<'a, T> Iterator for SeqIter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(item);
            }
            self.current = self.rest.next()?.iter();
        }
    }
}

impl<T: Entry> Seq<T> {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match self {
            Seq::Small(items) => items.len(),
            Seq::Big(big) => big.len,
        }
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The indexed entry naming `node`, if any.
    pub(crate) fn find(&self, node: u32) -> Option<T> {
        match self {
            Seq::Small(items) => items
                .iter()
                .find(|e| e.indexed() && e.node() == node)
                .copied(),
            Seq::Big(big) => match &big.index {
                Some(index) => index.get(&node).copied(),
                None => big
                    .chunks
                    .iter()
                    .flatten()
                    .find(|e| e.indexed() && e.node() == node)
                    .copied(),
            },
        }
    }

    /// Every entry, in order.
    pub(crate) fn iter(&self) -> SeqIter<'_, T> {
        self.after(|_| Ordering::Greater)
    }

    /// The entries strictly after the key, in order. `probe(e)` tells how
    /// entry `e` compares to the key.
    pub(crate) fn after(&self, probe: impl Fn(&T) -> Ordering) -> SeqIter<'_, T> {
        let past = |e: &T| probe(e) != Ordering::Greater;
        match self {
            Seq::Small(items) => {
                let start = items.partition_point(past);
                SeqIter {
                    current: items.get(start..).unwrap_or_default().iter(),
                    rest: [].iter(),
                }
            }
            Seq::Big(big) => {
                let chunk = big.chunks.partition_point(|c| c.last().is_none_or(&past));
                let Some(items) = big.chunks.get(chunk) else {
                    return SeqIter {
                        current: [].iter(),
                        rest: [].iter(),
                    };
                };
                let start = items.partition_point(past);
                SeqIter {
                    current: items.get(start..).unwrap_or_default().iter(),
                    rest: big.chunks.get(chunk + 1..).unwrap_or_default().iter(),
                }
            }
        }
    }

    /// Inserts `item` at its place; `probe(e)` tells how entry `e` compares
    /// to `item`. The caller guarantees `item`'s node is not present.
    pub(crate) fn insert(&mut self, item: T, probe: impl Fn(&T) -> Ordering) {
        let before = |e: &T| probe(e) == Ordering::Less;
        match self {
            Seq::Small(items) if items.len() < SMALL_MAX => {
                let at = items.partition_point(before);
                let mut next = Vec::with_capacity(items.len() + 1);
                next.extend_from_slice(items.get(..at).unwrap_or_default());
                next.push(item);
                next.extend_from_slice(items.get(at..).unwrap_or_default());
                *items = next.into_boxed_slice();
            }
            Seq::Small(items) => {
                let at = items.partition_point(before);
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.extend_from_slice(items);
                chunk.insert(at, item);
                let index = T::INDEXED.then(|| {
                    chunk
                        .iter()
                        .filter(|e| e.indexed())
                        .map(|e| (e.node(), *e))
                        .collect()
                });
                *self = Seq::Big(Box::new(Chunks {
                    len: chunk.len(),
                    chunks: vec![chunk],
                    index,
                }));
            }
            Seq::Big(big) => {
                // The first chunk whose last entry is not before the item,
                // or the last chunk when the item goes at the very end.
                let found = big.chunks.partition_point(|c| c.last().is_none_or(&before));
                let chunk_at = found.min(big.chunks.len().saturating_sub(1));
                let Some(chunk) = big.chunks.get_mut(chunk_at) else {
                    big.chunks.push(vec![item]);
                    big.len += 1;
                    if let Some(index) = big.index.as_mut().filter(|_| item.indexed()) {
                        index.insert(item.node(), item);
                    }
                    return;
                };
                let at = chunk.partition_point(before);
                chunk.insert(at, item);
                if chunk.len() >= CHUNK {
                    let mut tail = Vec::with_capacity(CHUNK);
                    tail.extend_from_slice(chunk.get(CHUNK / 2..).unwrap_or_default());
                    chunk.truncate(CHUNK / 2);
                    big.chunks.insert(chunk_at + 1, tail);
                }
                big.len += 1;
                if let Some(index) = big.index.as_mut().filter(|_| item.indexed()) {
                    index.insert(item.node(), item);
                }
            }
        }
    }

    /// Removes the entry equal to the key, if present; `probe(e)` tells how
    /// entry `e` compares to the key.
    pub(crate) fn remove(&mut self, probe: impl Fn(&T) -> Ordering) -> Option<T> {
        let before = |e: &T| probe(e) == Ordering::Less;
        match self {
            Seq::Small(items) => {
                let at = items.partition_point(before);
                let found = *items.get(at).filter(|e| probe(e) == Ordering::Equal)?;
                let mut next = Vec::with_capacity(items.len() - 1);
                next.extend_from_slice(items.get(..at).unwrap_or_default());
                next.extend_from_slice(items.get(at + 1..).unwrap_or_default());
                *items = next.into_boxed_slice();
                Some(found)
            }
            Seq::Big(big) => {
                let chunk_at = big.chunks.partition_point(|c| c.last().is_none_or(&before));
                let chunk = big.chunks.get_mut(chunk_at)?;
                let at = chunk.partition_point(before);
                chunk.get(at).filter(|e| probe(e) == Ordering::Equal)?;
                let found = chunk.remove(at);
                if chunk.is_empty() {
                    big.chunks.remove(chunk_at);
                }
                big.len -= 1;
                if let Some(index) = big.index.as_mut().filter(|_| found.indexed()) {
                    index.remove(&found.node());
                }
                if big.len <= SMALL_MAX / 2 {
                    let items: Vec<T> = big.chunks.iter().flatten().copied().collect();
                    *self = Seq::Small(items.into_boxed_slice());
                }
                Some(found)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Keyed(u32);

    impl Entry for Keyed {
        const INDEXED: bool = true;
        fn node(&self) -> u32 {
            self.0
        }
    }

    /// Deterministic pseudo-random order, so growth, splits, shrinking and
    /// seeks run through both shapes against a sorted `Vec`.
    #[test]
    fn matches_a_sorted_vec_through_growth_and_shrinking() {
        let mut seq: Seq<Keyed> = Seq::default();
        let mut model: Vec<u32> = Vec::new();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..6_000 {
            let key = (next() % 3_000) as u32;
            let insert = round < 4_000 || next() % 3 == 0;
            let present = model.binary_search(&key);
            match (insert, present) {
                (true, Err(at)) => {
                    model.insert(at, key);
                    seq.insert(Keyed(key), |e| e.0.cmp(&key));
                }
                (false, Ok(at)) => {
                    model.remove(at);
                    assert_eq!(seq.remove(|e| e.0.cmp(&key)), Some(Keyed(key)));
                }
                (false, Err(_)) => assert_eq!(seq.remove(|e| e.0.cmp(&key)), None),
                (true, Ok(_)) => {}
            }
            assert_eq!(seq.len(), model.len());
            if round % 97 == 0 {
                let all: Vec<u32> = seq.iter().map(|e| e.0).collect();
                assert_eq!(all, model);
                let probe = (next() % 3_100) as u32;
                let after: Vec<u32> = seq.after(|e| e.0.cmp(&probe)).map(|e| e.0).collect();
                let expected: Vec<u32> = model.iter().copied().filter(|k| *k > probe).collect();
                assert_eq!(after, expected);
                assert_eq!(seq.find(key).is_some(), model.binary_search(&key).is_ok());
            }
        }
        while let Some(&key) = model.last() {
            model.pop();
            assert_eq!(seq.remove(|e| e.0.cmp(&key)), Some(Keyed(key)));
        }
        assert!(seq.is_empty());
        assert!(matches!(seq, Seq::Small(_)));
    }
}
