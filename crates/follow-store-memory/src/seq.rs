//! A sorted sequence whose order the caller supplies at each call.
//!
//! The order of a list is (newest `since` first, then the id's bytes), and
//! entries hold interned `u32` ids, so only the tenant's name table can order
//! them: neither `Ord` nor a `BTreeSet` can reach it. Each operation takes a
//! probe instead, telling how an entry compares to the key sought.
//!
//! A short sequence is one exact-size block in a [`Pool`] shared by the
//! tenant's sequences of that entry type: most nodes have a handful of
//! edges, and a block of its own from the allocator would cost a header and
//! rounding (a 12-byte list takes 32 bytes from glibc; from the pool, 12).
//! A long one is a list of sorted chunks of at most [`CHUNK`] entries: an
//! insert moves at most one chunk, and a seek is a binary search over the
//! chunks' last entries and then inside one chunk, so a deep page costs what
//! the first one does.

use std::cmp::Ordering;
use std::collections::HashMap;

/// The longest sequence kept as one pooled block (moved on every change).
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

/// Blocks of every length from 1 to [`SMALL_MAX`], back to back per length,
/// with the indexes of freed blocks kept for reuse.
#[derive(Debug)]
pub(crate) struct Pool<T> {
    /// `by_len[n - 1]` holds the blocks of n entries.
    by_len: Vec<Blocks<T>>,
}

#[derive(Debug)]
struct Blocks<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool { by_len: Vec::new() }
    }
}

impl<T: Copy> Pool<T> {
    fn block(&self, len: u32, block: u32) -> &[T] {
        let len = len as usize;
        let start = block as usize * len;
        len.checked_sub(1)
            .and_then(|class| self.by_len.get(class))
            .and_then(|blocks| blocks.items.get(start..start + len))
            .unwrap_or_default()
    }

    /// Stores `items` (1 to [`SMALL_MAX`] of them) in a block of their length.
    fn store(&mut self, items: &[T]) -> u32 {
        let len = items.len();
        while self.by_len.len() < len {
            self.by_len.push(Blocks {
                items: Vec::new(),
                free: Vec::new(),
            });
        }
        let Some(blocks) = len.checked_sub(1).and_then(|c| self.by_len.get_mut(c)) else {
            return 0;
        };
        if let Some(block) = blocks.free.pop() {
            let start = block as usize * len;
            if let Some(slot) = blocks.items.get_mut(start..start + len) {
                slot.copy_from_slice(items);
            }
            return block;
        }
        let block = blocks.items.len() / len;
        blocks.items.extend_from_slice(items);
        block as u32
    }

    fn release(&mut self, len: u32, block: u32) {
        if let Some(blocks) = (len as usize)
            .checked_sub(1)
            .and_then(|c| self.by_len.get_mut(c))
        {
            blocks.free.push(block);
        }
    }
}

#[derive(Debug)]
pub(crate) struct Chunks<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
    index: Option<HashMap<u32, T>>,
}

/// A sequence sorted by an order only the caller can evaluate. A short one
/// lives in a [`Pool`], which every call that reads or changes it is given.
#[derive(Debug)]
pub(crate) enum Seq<T> {
    /// `len` entries (0: none, and no block) in block `block` of the pool.
    Small {
        len: u32,
        block: u32,
    },
    Big(Box<Chunks<T>>),
}

impl<T> Default for Seq<T> {
    fn default() -> Self {
        Seq::Small { len: 0, block: 0 }
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
            Seq::Small { len, .. } => *len as usize,
            Seq::Big(big) => big.len,
        }
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The indexed entry naming `node`, if any.
    pub(crate) fn find(&self, pool: &Pool<T>, node: u32) -> Option<T> {
        let hit = |e: &&T| e.indexed() && e.node() == node;
        match self {
            Seq::Small { len, block } => pool.block(*len, *block).iter().find(hit).copied(),
            Seq::Big(big) => match &big.index {
                Some(index) => index.get(&node).copied(),
                None => big.chunks.iter().flatten().find(hit).copied(),
            },
        }
    }

    /// Every entry, in order.
    pub(crate) fn iter<'a>(&'a self, pool: &'a Pool<T>) -> SeqIter<'a, T> {
        self.after(pool, |_| Ordering::Greater)
    }

    /// The entries strictly after the key, in order. `probe(e)` tells how
    /// entry `e` compares to the key.
    pub(crate) fn after<'a>(
        &'a self,
        pool: &'a Pool<T>,
        probe: impl Fn(&T) -> Ordering,
    ) -> SeqIter<'a, T> {
        let past = |e: &T| probe(e) != Ordering::Greater;
        match self {
            Seq::Small { len, block } => {
                let items = pool.block(*len, *block);
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
    pub(crate) fn insert(&mut self, pool: &mut Pool<T>, item: T, probe: impl Fn(&T) -> Ordering) {
        let before = |e: &T| probe(e) == Ordering::Less;
        match self {
            Seq::Small { len, block } => {
                let items = pool.block(*len, *block);
                let at = items.partition_point(before);
                let mut next = Vec::with_capacity(items.len() + 1);
                next.extend_from_slice(items.get(..at).unwrap_or_default());
                next.push(item);
                next.extend_from_slice(items.get(at..).unwrap_or_default());
                if *len > 0 {
                    pool.release(*len, *block);
                }
                if next.len() <= SMALL_MAX {
                    *block = pool.store(&next);
                    *len = next.len() as u32;
                    return;
                }
                let index = T::INDEXED.then(|| {
                    next.iter()
                        .filter(|e| e.indexed())
                        .map(|e| (e.node(), *e))
                        .collect()
                });
                next.reserve_exact(CHUNK - next.len());
                *self = Seq::Big(Box::new(Chunks {
                    len: next.len(),
                    chunks: vec![next],
                    index,
                }));
            }
            Seq::Big(big) => {
                // The first chunk whose last entry is not before the item,
                // or the last chunk when the item goes at the very end.
                let found = big.chunks.partition_point(|c| c.last().is_none_or(&before));
                let chunk_at = found.min(big.chunks.len().saturating_sub(1));
                match big.chunks.get_mut(chunk_at) {
                    Some(chunk) => {
                        let at = chunk.partition_point(before);
                        chunk.insert(at, item);
                        if chunk.len() >= CHUNK {
                            let mut tail = Vec::with_capacity(CHUNK);
                            tail.extend_from_slice(chunk.get(CHUNK / 2..).unwrap_or_default());
                            chunk.truncate(CHUNK / 2);
                            big.chunks.insert(chunk_at + 1, tail);
                        }
                    }
                    None => big.chunks.push(vec![item]),
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
    pub(crate) fn remove(
        &mut self,
        pool: &mut Pool<T>,
        probe: impl Fn(&T) -> Ordering,
    ) -> Option<T> {
        let before = |e: &T| probe(e) == Ordering::Less;
        match self {
            Seq::Small { len, block } => {
                let items = pool.block(*len, *block);
                let at = items.partition_point(before);
                let found = *items.get(at).filter(|e| probe(e) == Ordering::Equal)?;
                let mut next = Vec::with_capacity(items.len());
                next.extend_from_slice(items.get(..at).unwrap_or_default());
                next.extend_from_slice(items.get(at + 1..).unwrap_or_default());
                pool.release(*len, *block);
                *len = next.len() as u32;
                *block = if next.is_empty() {
                    0
                } else {
                    pool.store(&next)
                };
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
                    let len = items.len() as u32;
                    let block = if items.is_empty() {
                        0
                    } else {
                        pool.store(&items)
                    };
                    *self = Seq::Small { len, block };
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
    /// seeks run through both shapes against sorted `Vec`s; five sequences
    /// share one pool, so a block reused wrongly shows in another sequence.
    #[test]
    fn matches_sorted_vecs_through_growth_and_shrinking() {
        let mut pool = Pool::default();
        let mut seqs: Vec<Seq<Keyed>> = (0..5).map(|_| Seq::default()).collect();
        let mut models: Vec<Vec<u32>> = vec![Vec::new(); 5];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..12_000 {
            // Sequence 0 grows long; the others stay around the small limit.
            let which = (next() % 5) as usize;
            let range = if which == 0 { 3_000 } else { 40 };
            let key = (next() % range) as u32;
            let insert = round < 6_000 || next() % 3 == 0;
            let (seq, model) = (&mut seqs[which], &mut models[which]);
            match (insert, model.binary_search(&key)) {
                (true, Err(at)) => {
                    model.insert(at, key);
                    seq.insert(&mut pool, Keyed(key), |e| e.0.cmp(&key));
                }
                (false, Ok(at)) => {
                    model.remove(at);
                    assert_eq!(seq.remove(&mut pool, |e| e.0.cmp(&key)), Some(Keyed(key)));
                }
                (false, Err(_)) => assert_eq!(seq.remove(&mut pool, |e| e.0.cmp(&key)), None),
                (true, Ok(_)) => {}
            }
            assert_eq!(seq.len(), model.len());
            if round % 97 == 0 {
                for (seq, model) in seqs.iter().zip(&models) {
                    let all: Vec<u32> = seq.iter(&pool).map(|e| e.0).collect();
                    assert_eq!(&all, model);
                    let probe = (next() % 3_100) as u32;
                    let after: Vec<u32> =
                        seq.after(&pool, |e| e.0.cmp(&probe)).map(|e| e.0).collect();
                    let expected: Vec<u32> = model.iter().copied().filter(|k| *k > probe).collect();
                    assert_eq!(after, expected);
                    for key in [probe, probe % 40] {
                        assert_eq!(
                            seq.find(&pool, key).is_some(),
                            model.binary_search(&key).is_ok()
                        );
                    }
                }
            }
        }
        for (seq, model) in seqs.iter_mut().zip(&mut models) {
            while let Some(&key) = model.last() {
                model.pop();
                assert_eq!(seq.remove(&mut pool, |e| e.0.cmp(&key)), Some(Keyed(key)));
            }
            assert!(seq.is_empty());
            assert!(matches!(seq, Seq::Small { len: 0, .. }));
        }
    }
}
