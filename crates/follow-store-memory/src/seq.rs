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
use std::marker::PhantomData;

use follow_core::Error;

use crate::broken::broken;
use crate::paged::PAGE_BYTES;

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
    /// The long sequences; a freed one is left empty, its number in
    /// `big_free` for reuse.
    big: Vec<Chunks<T>>,
    big_free: Vec<u32>,
}

/// The blocks of one length, in pages of whole blocks (see
/// [`crate::paged`]: no reallocation, so no holes left on the heap). A page
/// holds a power of two of blocks, so finding one is a shift and a mask.
#[derive(Debug)]
struct Blocks<T> {
    pages: Vec<Vec<T>>,
    /// Blocks a page holds, as a power of two.
    shift: u32,
    /// Blocks handed out, free ones included.
    count: u32,
    free: Vec<u32>,
}

impl<T> Blocks<T> {
    /// The blocks of `len` entries.
    fn new(len: usize) -> Self {
        let per_page = (PAGE_BYTES / std::mem::size_of::<T>().max(1) / len.max(1)).max(1);
        Blocks {
            pages: Vec::new(),
            shift: per_page.ilog2(),
            count: 0,
            free: Vec::new(),
        }
    }

    /// Blocks a page holds.
    fn per_page(&self) -> usize {
        1 << self.shift
    }

    /// The page and the offset in it of block `block` of `len` entries.
    fn place(&self, len: usize, block: u32) -> (usize, usize) {
        let block = block as usize;
        (block >> self.shift, (block & (self.per_page() - 1)) * len)
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            by_len: Vec::new(),
            big: Vec::new(),
            big_free: Vec::new(),
        }
    }
}

impl<T: Copy> Pool<T> {
    /// The entries of block `block` of `len` entries (none for `len` 0).
    fn block(&self, len: u32, block: u32) -> Result<&[T], Error> {
        let Some(class) = (len as usize).checked_sub(1) else {
            return Ok(&[]);
        };
        let len = len as usize;
        self.by_len
            .get(class)
            .and_then(|blocks| {
                let (page, start) = blocks.place(len, block);
                blocks.pages.get(page)?.get(start..start + len)
            })
            .ok_or_else(|| broken(format_args!("list block {block} of {len} is missing")))
    }

    /// Stores `items` (1 to [`SMALL_MAX`] of them) in a block of their length.
    fn store(&mut self, items: &[T]) -> Result<u32, Error> {
        let len = items.len();
        let lengths = self.by_len.len() + 1..=len;
        self.by_len.extend(lengths.map(Blocks::new));
        let blocks = len
            .checked_sub(1)
            .and_then(|c| self.by_len.get_mut(c))
            .ok_or_else(|| broken("an empty list was given a block"))?;
        if let Some(block) = blocks.free.pop() {
            let (page, start) = blocks.place(len, block);
            blocks
                .pages
                .get_mut(page)
                .and_then(|page| page.get_mut(start..start + len))
                .ok_or_else(|| {
                    broken(format_args!("freed list block {block} of {len} is missing"))
                })?
                .copy_from_slice(items);
            return Ok(block);
        }
        let block = blocks.count;
        let (page, _) = blocks.place(len, block);
        let full = blocks.per_page() * len;
        if page == blocks.pages.len() {
            // The first page of a length starts small: most lengths have
            // few blocks. The others are allocated whole.
            let first = if page == 0 { len } else { full };
            blocks.pages.push(Vec::with_capacity(first));
        }
        let page = blocks
            .pages
            .get_mut(page)
            .ok_or_else(|| broken(format_args!("list blocks of {len} skip page {page}")))?;
        if page.len() == page.capacity() {
            let more = page
                .capacity()
                .clamp(len, full.saturating_sub(page.len()).max(len));
            page.reserve_exact(more);
        }
        page.extend_from_slice(items);
        blocks.count += 1;
        Ok(block)
    }

    /// Stores a long sequence; answers its number.
    fn store_big(&mut self, big: Chunks<T>) -> Result<u32, Error> {
        if let Some(at) = self.big_free.pop() {
            let slot = self
                .big
                .get_mut(at as usize)
                .ok_or_else(|| broken(format_args!("freed long list {at} is missing")))?;
            *slot = big;
            return Ok(at);
        }
        self.big.push(big);
        Ok((self.big.len() - 1) as u32)
    }

    fn release(&mut self, len: u32, block: u32) -> Result<(), Error> {
        let blocks = (len as usize)
            .checked_sub(1)
            .and_then(|c| self.by_len.get_mut(c))
            .ok_or_else(|| {
                broken(format_args!(
                    "released list block {block} of {len} is not in the pool"
                ))
            })?;
        blocks.free.push(block);
        Ok(())
    }
}

#[derive(Debug)]
pub(crate) struct Chunks<T> {
    chunks: Vec<Vec<T>>,
    /// A copy of each chunk's last entry, side by side: a seek's binary
    /// search over the chunks reads this one array instead of a cache line
    /// of every chunk it probes, which for a list of millions (a
    /// celebrity's followers, the id order) is a miss per probe.
    lasts: Vec<T>,
    len: usize,
    index: Option<HashMap<u32, T>>,
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks {
            chunks: Vec::new(),
            lasts: Vec::new(),
            len: 0,
            index: None,
        }
    }
}

/// `Seq::len` of a long sequence, whose `block` then indexes [`Pool::big`].
const BIG: u32 = u32::MAX;

/// A sequence sorted by an order only the caller can evaluate: 8 bytes, a
/// handle into the [`Pool`] that every call reading or changing it is given.
/// A short one is `len` entries (0: none, and no block) in block `block` of
/// the pool's blocks of that length; a long one (`len == BIG`) is the
/// pool's chunked sequence number `block`.
#[derive(Debug)]
pub(crate) struct Seq<T> {
    len: u32,
    block: u32,
    entries: PhantomData<fn() -> T>,
}

impl<T> Default for Seq<T> {
    fn default() -> Self {
        Seq::small(0, 0)
    }
}

impl<T> Seq<T> {
    fn small(len: u32, block: u32) -> Self {
        Seq {
            len,
            block,
            entries: PhantomData,
        }
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

/// What a sequence handle stands for, looked up in its pool.
enum Shape<'a, T> {
    Small(&'a [T]),
    Big(&'a Chunks<T>),
}

impl<T: Entry> Seq<T> {
    fn shape<'a>(&self, pool: &'a Pool<T>) -> Result<Shape<'a, T>, Error> {
        if self.len == BIG {
            pool.big
                .get(self.block as usize)
                .map(Shape::Big)
                .ok_or_else(|| broken(format_args!("long list {} is missing", self.block)))
        } else {
            pool.block(self.len, self.block).map(Shape::Small)
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self, pool: &Pool<T>) -> Result<usize, Error> {
        Ok(match self.shape(pool)? {
            Shape::Small(items) => items.len(),
            Shape::Big(big) => big.len,
        })
    }

    #[cfg(test)]
    pub(crate) fn is_big(&self) -> bool {
        self.len == BIG
    }

    /// The indexed entry naming `node`, if any.
    pub(crate) fn find(&self, pool: &Pool<T>, node: u32) -> Result<Option<T>, Error> {
        let hit = |e: &&T| e.indexed() && e.node() == node;
        Ok(match self.shape(pool)? {
            Shape::Small(items) => items.iter().find(hit).copied(),
            Shape::Big(big) => match &big.index {
                Some(index) => index.get(&node).copied(),
                None => big.chunks.iter().flatten().find(hit).copied(),
            },
        })
    }

    /// Every entry, in order.
    #[cfg(test)]
    pub(crate) fn iter<'a>(&self, pool: &'a Pool<T>) -> Result<SeqIter<'a, T>, Error> {
        self.after(pool, |_| Ordering::Greater)
    }

    /// The entries strictly after the key, in order. `probe(e)` tells how
    /// entry `e` compares to the key.
    pub(crate) fn after<'a>(
        &self,
        pool: &'a Pool<T>,
        probe: impl Fn(&T) -> Ordering,
    ) -> Result<SeqIter<'a, T>, Error> {
        let past = |e: &T| probe(e) != Ordering::Greater;
        Ok(match self.shape(pool)? {
            Shape::Small(items) => {
                let start = items.partition_point(past);
                SeqIter {
                    current: items.get(start..).unwrap_or_default().iter(),
                    rest: [].iter(),
                }
            }
            Shape::Big(big) => {
                let chunk = big.lasts.partition_point(past);
                let Some(items) = big.chunks.get(chunk) else {
                    return Ok(SeqIter {
                        current: [].iter(),
                        rest: [].iter(),
                    });
                };
                let start = items.partition_point(past);
                SeqIter {
                    current: items.get(start..).unwrap_or_default().iter(),
                    rest: big.chunks.get(chunk + 1..).unwrap_or_default().iter(),
                }
            }
        })
    }

    /// Inserts `item` at its place; `probe(e)` tells how entry `e` compares
    /// to `item`. The caller guarantees `item`'s node is not present.
    pub(crate) fn insert(
        &mut self,
        pool: &mut Pool<T>,
        item: T,
        probe: impl Fn(&T) -> Ordering,
    ) -> Result<(), Error> {
        self.insert_from(pool, item, probe, &mut 0)
    }

    /// [`Seq::insert`] for items that tend to arrive in order: `finger` is
    /// where the previous insert went, and the seek gallops on from there
    /// when the item is not before it (a full search when it is).
    pub(crate) fn insert_from(
        &mut self,
        pool: &mut Pool<T>,
        item: T,
        probe: impl Fn(&T) -> Ordering,
        finger: &mut usize,
    ) -> Result<(), Error> {
        let before = |e: &T| probe(e) == Ordering::Less;
        if self.len == BIG {
            pool.big
                .get_mut(self.block as usize)
                .ok_or_else(|| broken(format_args!("long list {} is missing", self.block)))?
                .insert(item, before, finger);
            return Ok(());
        }
        let items = pool.block(self.len, self.block)?;
        let at = items.partition_point(before);
        let mut next = Vec::with_capacity(items.len() + 1);
        next.extend_from_slice(items.get(..at).unwrap_or_default());
        next.push(item);
        next.extend_from_slice(items.get(at..).unwrap_or_default());
        if self.len > 0 {
            pool.release(self.len, self.block)?;
        }
        if next.len() <= SMALL_MAX {
            *self = Seq::small(next.len() as u32, pool.store(&next)?);
            return Ok(());
        }
        let index = T::INDEXED.then(|| {
            next.iter()
                .filter(|e| e.indexed())
                .map(|e| (e.node(), *e))
                .collect()
        });
        let big = Chunks {
            len: next.len(),
            lasts: next.last().copied().into_iter().collect(),
            chunks: vec![next],
            index,
        };
        *self = Seq {
            len: BIG,
            block: pool.store_big(big)?,
            entries: PhantomData,
        };
        Ok(())
    }

    /// Removes the entry equal to the key, if present; `probe(e)` tells how
    /// entry `e` compares to the key.
    pub(crate) fn remove(
        &mut self,
        pool: &mut Pool<T>,
        probe: impl Fn(&T) -> Ordering,
    ) -> Result<Option<T>, Error> {
        let before = |e: &T| probe(e) == Ordering::Less;
        let equal = |e: &T| probe(e) == Ordering::Equal;
        if self.len == BIG {
            let big = pool
                .big
                .get_mut(self.block as usize)
                .ok_or_else(|| broken(format_args!("long list {} is missing", self.block)))?;
            let Some(found) = big.remove(before, equal) else {
                return Ok(None);
            };
            if big.len <= SMALL_MAX / 2 {
                let items: Vec<T> = std::mem::take(big).chunks.into_iter().flatten().collect();
                pool.big_free.push(self.block);
                let block = if items.is_empty() {
                    0
                } else {
                    pool.store(&items)?
                };
                *self = Seq::small(items.len() as u32, block);
            }
            return Ok(Some(found));
        }
        let items = pool.block(self.len, self.block)?;
        let at = items.partition_point(before);
        let Some(&found) = items.get(at).filter(|e| equal(e)) else {
            return Ok(None);
        };
        let mut next = Vec::with_capacity(items.len());
        next.extend_from_slice(items.get(..at).unwrap_or_default());
        next.extend_from_slice(items.get(at + 1..).unwrap_or_default());
        pool.release(self.len, self.block)?;
        let block = if next.is_empty() {
            0
        } else {
            pool.store(&next)?
        };
        *self = Seq::small(next.len() as u32, block);
        Ok(Some(found))
    }
}

/// Makes room for one more entry in a chunk that is full: a quarter more
/// (at least 4), not double, so that a chunk's spare room stays within a
/// fifth of its entries.
fn grow<T>(chunk: &mut Vec<T>) {
    if chunk.len() == chunk.capacity() {
        let more = (chunk.len() / 4)
            .max(4)
            .min(CHUNK.saturating_sub(chunk.len()).max(1));
        chunk.reserve_exact(more);
    }
}

impl<T: Entry> Chunks<T> {
    /// The first chunk whose last entry is not before the key. `from` is a
    /// guess of a chunk at or before it: taken when the chunk before the
    /// guess ends before the key, and galloped on from (1, 2, 4... chunks
    /// ahead), so a run of keys in order costs a few probes each.
    fn seek_chunk(&self, before: &impl Fn(&T) -> bool, from: usize) -> usize {
        let lasts = &self.lasts;
        let ahead = from
            .checked_sub(1)
            .and_then(|previous| lasts.get(previous))
            .is_some_and(before);
        if !ahead {
            return lasts.partition_point(before);
        }
        let (mut low, mut step) = (from, 1);
        loop {
            let probe = low + step - 1;
            match lasts.get(probe) {
                Some(last) if before(last) => {
                    low = probe + 1;
                    step *= 2;
                }
                _ => {
                    let end = probe.min(lasts.len());
                    let rest = lasts.get(low..end).unwrap_or_default();
                    return low + rest.partition_point(before);
                }
            }
        }
    }

    fn insert(&mut self, item: T, before: impl Fn(&T) -> bool, finger: &mut usize) {
        // The first chunk whose last entry is not before the item, or the
        // last chunk when the item goes at the very end.
        let found = self.seek_chunk(&before, *finger);
        let chunk_at = found.min(self.chunks.len().saturating_sub(1));
        *finger = chunk_at;
        match self.chunks.get_mut(chunk_at) {
            Some(chunk) => {
                let at = chunk.partition_point(&before);
                grow(chunk);
                chunk.insert(at, item);
                if chunk.len() >= CHUNK {
                    let tail = chunk.split_off(CHUNK / 2);
                    chunk.shrink_to_fit();
                    let tail_last = tail.last().copied();
                    self.chunks.insert(chunk_at + 1, tail);
                    if let Some(last) = tail_last {
                        self.lasts.insert(chunk_at + 1, last);
                    }
                }
                self.keep_last(chunk_at);
            }
            None => {
                self.chunks.push(vec![item]);
                self.lasts.push(item);
            }
        }
        self.len += 1;
        if let Some(index) = self.index.as_mut().filter(|_| item.indexed()) {
            index.insert(item.node(), item);
        }
    }

    /// Copies chunk `at`'s last entry into [`Chunks::lasts`].
    fn keep_last(&mut self, at: usize) {
        let last = self.chunks.get(at).and_then(|chunk| chunk.last());
        if let (Some(last), Some(kept)) = (last, self.lasts.get_mut(at)) {
            *kept = *last;
        }
    }

    fn remove(&mut self, before: impl Fn(&T) -> bool, equal: impl Fn(&T) -> bool) -> Option<T> {
        let chunk_at = self.lasts.partition_point(&before);
        let chunk = self.chunks.get_mut(chunk_at)?;
        let at = chunk.partition_point(&before);
        chunk.get(at).filter(|e| equal(e))?;
        let found = chunk.remove(at);
        if chunk.is_empty() {
            self.chunks.remove(chunk_at);
            self.lasts.remove(chunk_at);
        } else {
            if chunk.capacity() > 2 * chunk.len() + 8 {
                // Removals give the room back, as growth takes it: a quarter.
                chunk.shrink_to(chunk.len() + chunk.len() / 4);
            }
            self.keep_last(chunk_at);
        }
        self.len -= 1;
        if let Some(index) = self.index.as_mut().filter(|_| found.indexed()) {
            index.remove(&found.node());
        }
        Some(found)
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

    /// Many short sequences of a few lengths: their blocks span many pages,
    /// the first page of each length grows, freed blocks are reused, and no
    /// sequence sees another's entries.
    #[test]
    fn pooled_blocks_span_pages_and_are_reused() -> Result<(), Error> {
        let mut pool = Pool::default();
        let count = 3 * Blocks::<Keyed>::new(3).per_page() + 7;
        let mut seqs: Vec<Seq<Keyed>> = (0..count).map(|_| Seq::default()).collect();
        for (n, seq) in seqs.iter_mut().enumerate() {
            for k in 0..(n % 3 + 1) as u32 {
                let key = n as u32 * 10 + k;
                seq.insert(&mut pool, Keyed(key), |e| e.0.cmp(&key))?;
            }
        }
        // Every other sequence shrinks by one: its block goes back to the
        // pool and the next one of that length takes it.
        for (n, seq) in seqs.iter_mut().enumerate().step_by(2) {
            let key = n as u32 * 10;
            assert_eq!(seq.remove(&mut pool, |e| e.0.cmp(&key))?, Some(Keyed(key)));
        }
        let blocks_before: u32 = pool.by_len.iter().map(|b| b.count).sum();
        for (n, seq) in seqs.iter_mut().enumerate().step_by(2) {
            let key = n as u32 * 10;
            seq.insert(&mut pool, Keyed(key), |e| e.0.cmp(&key))?;
        }
        let blocks_after: u32 = pool.by_len.iter().map(|b| b.count).sum();
        assert!(
            blocks_after <= blocks_before + 3,
            "{blocks_before} -> {blocks_after}"
        );
        for (n, seq) in seqs.iter().enumerate() {
            let keys: Vec<u32> = seq.iter(&pool)?.map(|e| e.0).collect();
            let expected: Vec<u32> = (0..(n % 3 + 1) as u32).map(|k| n as u32 * 10 + k).collect();
            assert_eq!(keys, expected, "sequence {n}");
        }
        assert!(pool.by_len.iter().all(|b| b.pages.len() <= 4));
        Ok(())
    }

    /// Long sequences that shrink back to blocks give their place in the
    /// pool to the next one to grow long; none sees another's entries.
    #[test]
    fn long_sequences_reuse_freed_places() -> Result<(), Error> {
        let mut pool = Pool::default();
        let mut seqs: Vec<Seq<Keyed>> = (0..3).map(|_| Seq::default()).collect();
        for round in 0..4u32 {
            for (n, seq) in seqs.iter_mut().enumerate() {
                let base = n as u32 * 10_000;
                for k in 0..600 {
                    let key = base + k;
                    seq.insert(&mut pool, Keyed(key), |e| e.0.cmp(&key))?;
                }
                assert!(seq.is_big());
                assert_eq!(seq.find(&pool, base + 599)?, Some(Keyed(base + 599)));
                let keys: Vec<u32> = seq.iter(&pool)?.map(|e| e.0).collect();
                assert_eq!(
                    keys,
                    (base..base + 600).collect::<Vec<_>>(),
                    "round {round}"
                );
                for k in 0..600 {
                    let key = base + k;
                    assert_eq!(seq.remove(&mut pool, |e| e.0.cmp(&key))?, Some(Keyed(key)));
                }
                assert!(!seq.is_big());
                assert_eq!(seq.len(&pool)?, 0);
            }
        }
        // One long sequence at a time: one place, reused.
        assert_eq!(pool.big.len(), 1);
        Ok(())
    }

    /// Deterministic pseudo-random order, so growth, splits, shrinking and
    /// seeks run through both shapes against sorted `Vec`s; five sequences
    /// share one pool, so a block reused wrongly shows in another sequence.
    #[test]
    fn matches_sorted_vecs_through_growth_and_shrinking() -> Result<(), Error> {
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
                    seq.insert(&mut pool, Keyed(key), |e| e.0.cmp(&key))?;
                }
                (false, Ok(at)) => {
                    model.remove(at);
                    assert_eq!(seq.remove(&mut pool, |e| e.0.cmp(&key))?, Some(Keyed(key)));
                }
                (false, Err(_)) => assert_eq!(seq.remove(&mut pool, |e| e.0.cmp(&key))?, None),
                (true, Ok(_)) => {}
            }
            assert_eq!(seq.len(&pool)?, model.len());
            if round % 97 == 0 {
                for (seq, model) in seqs.iter().zip(&models) {
                    let all: Vec<u32> = seq.iter(&pool)?.map(|e| e.0).collect();
                    assert_eq!(&all, model);
                    let probe = (next() % 3_100) as u32;
                    let after: Vec<u32> = seq
                        .after(&pool, |e| e.0.cmp(&probe))?
                        .map(|e| e.0)
                        .collect();
                    let expected: Vec<u32> = model.iter().copied().filter(|k| *k > probe).collect();
                    assert_eq!(after, expected);
                    for key in [probe, probe % 40] {
                        assert_eq!(
                            seq.find(&pool, key)?.is_some(),
                            model.binary_search(&key).is_ok()
                        );
                    }
                }
            }
        }
        for (seq, model) in seqs.iter_mut().zip(&mut models) {
            while let Some(&key) = model.last() {
                model.pop();
                assert_eq!(seq.remove(&mut pool, |e| e.0.cmp(&key))?, Some(Keyed(key)));
            }
            assert_eq!(seq.len(&pool)?, 0);
            assert!(!seq.is_big());
        }
        Ok(())
    }

    fn insert(seq: &mut Seq<Keyed>, pool: &mut Pool<Keyed>, key: u32) -> Result<(), Error> {
        seq.insert(pool, Keyed(key), |e| e.0.cmp(&key))
    }

    fn remove(
        seq: &mut Seq<Keyed>,
        pool: &mut Pool<Keyed>,
        key: u32,
    ) -> Result<Option<Keyed>, Error> {
        seq.remove(pool, |e| e.0.cmp(&key))
    }

    fn chunks<'a>(seq: &Seq<Keyed>, pool: &'a Pool<Keyed>) -> &'a Chunks<Keyed> {
        match seq.shape(pool) {
            Ok(Shape::Big(big)) => big,
            _ => panic!("not a long sequence"),
        }
    }

    /// The keys 0..n in a scrambled order (n and the step are coprime).
    fn scrambled(n: u32) -> impl Iterator<Item = u32> {
        (0..n).map(move |k| (k * 7_919 + 13) % n)
    }

    /// A seek from any guess, right or wrong, lands where a search of every
    /// chunk does; inserts from a finger, in runs that ascend and jump back,
    /// keep the sequence sorted.
    #[test]
    fn a_seek_from_a_finger_lands_where_a_full_search_does() -> Result<(), Error> {
        let mut pool = Pool::default();
        let mut seq = Seq::<Keyed>::default();
        let mut finger = 0;
        let mut keys = Vec::new();
        // Ten ascending runs of even keys over the same range, interleaved:
        // each run starts back at the bottom, so the finger is right within
        // a run and too far on at the start of the next.
        for run in 0..10u32 {
            for step in 0..800u32 {
                let key = 2 * (10 * step + run);
                seq.insert_from(&mut pool, Keyed(key), |e| e.0.cmp(&key), &mut finger)?;
                keys.push(key);
            }
        }
        keys.sort_unstable();
        let stored: Vec<u32> = seq.iter(&pool)?.map(|e| e.0).collect();
        assert_eq!(stored, keys);
        let big = chunks(&seq, &pool);
        assert!(big.chunks.len() > 10, "{} chunks", big.chunks.len());
        assert_eq!(big.lasts, last_entries(big));
        let top = keys.last().copied().unwrap_or_default() + 3;
        for key in (0..top).step_by(7) {
            let before = |e: &Keyed| e.0 < key;
            let full = big.lasts.partition_point(before);
            for from in 0..=big.lasts.len() + 1 {
                assert_eq!(big.seek_chunk(&before, from), full, "{key} from {from}");
            }
        }
        Ok(())
    }

    /// The point of a finger: a seek from the right chunk reads two of the
    /// chunks' last entries, from `d` chunks behind it about 2·log2(d),
    /// where a search of every chunk reads log2 of their number.
    #[test]
    fn a_seek_from_a_finger_reads_few_chunks() -> Result<(), Error> {
        let mut pool = Pool::default();
        let mut seq = Seq::<Keyed>::default();
        let mut finger = 0;
        for key in 0..150_000u32 {
            seq.insert_from(&mut pool, Keyed(key), |e| e.0.cmp(&key), &mut finger)?;
            // Appending splits the last chunk at its new last entry.
            if key < 3_000 && seq.is_big() {
                let big = chunks(&seq, &pool);
                assert_eq!(big.lasts, last_entries(big), "after {key}");
            }
        }
        let big = chunks(&seq, &pool);
        let count = big.lasts.len();
        assert!(count > 500, "{count} chunks");
        let probes = |key: u32, from: usize| {
            let read = std::cell::Cell::new(0);
            let before = |e: &Keyed| {
                read.set(read.get() + 1);
                e.0 < key
            };
            let at = big.seek_chunk(&before, from);
            (at, read.get())
        };
        let full = |key: u32| probes(key, 0);
        for key in (1_000..149_000).step_by(997) {
            let (at, searched) = full(key);
            assert!(searched <= count.ilog2() + 2, "{searched} probes");
            assert_eq!(probes(key, at), (at, 2), "from the right chunk");
            for behind in [1, 5, 40, 200] {
                let Some(from) = at.checked_sub(behind) else {
                    continue;
                };
                let (found, read) = probes(key, from);
                assert_eq!(found, at);
                let bound = 2 * (behind as u32 + 1).ilog2() + 4;
                assert!(read <= bound, "{read} probes from {behind} behind");
            }
        }
        Ok(())
    }

    /// The long shape as documented: chunks split in halves at [`CHUNK`],
    /// none empty; a full chunk grows by a quarter (at least 4), so its
    /// spare room stays within a quarter of its entries; a removal gives
    /// room back only from a chunk more than half empty, down to a quarter
    /// spare, and the shape goes back to one block at [`SMALL_MAX`] / 2.
    #[test]
    fn long_sequences_keep_chunks_and_room_in_bounds() -> Result<(), Error> {
        let mut pool = Pool::default();
        let mut seq = Seq::<Keyed>::default();
        let n = 6 * CHUNK as u32 + 77;
        for key in scrambled(n) {
            insert(&mut seq, &mut pool, key)?;
            if !seq.is_big() {
                continue;
            }
            let big = chunks(&seq, &pool);
            assert_eq!(big.len, big.chunks.iter().map(Vec::len).sum::<usize>());
            assert_eq!(big.lasts, last_entries(big));
            for chunk in &big.chunks {
                let len = chunk.len();
                assert!((1..CHUNK).contains(&len), "a chunk of {len}");
                let spare = chunk.capacity() - len;
                assert!(spare <= (len / 4).max(4), "{spare} spare beside {len}");
            }
        }
        let big = chunks(&seq, &pool);
        assert_eq!(big.len, n as usize);
        // Splits in halves: at least half full on average.
        assert!(
            big.chunks.len() <= 2 * big.len / CHUNK + 1,
            "{} chunks",
            big.chunks.len()
        );
        assert!(big.chunks.iter().all(|c| c.len() >= CHUNK / 4));

        for key in scrambled(n) {
            let big = chunks(&seq, &pool);
            let (at, before) = big
                .chunks
                .iter()
                .enumerate()
                .find(|(_, c)| c.contains(&Keyed(key)))
                .map(|(at, c)| (at, (c.len(), c.capacity())))
                .ok_or_else(|| Error::internal(format!("{key} is missing")))?;
            let count = big.chunks.len();
            assert_eq!(remove(&mut seq, &mut pool, key)?, Some(Keyed(key)));
            if !seq.is_big() {
                break;
            }
            let big = chunks(&seq, &pool);
            assert_eq!(big.lasts, last_entries(big));
            let Some(chunk) = big.chunks.get(at).filter(|_| big.chunks.len() == count) else {
                assert_eq!(
                    (before.0, big.chunks.len()),
                    (1, count - 1),
                    "only an empty chunk goes"
                );
                continue;
            };
            let (len, capacity) = (chunk.len(), chunk.capacity());
            assert_eq!(len, before.0 - 1);
            if before.1 > 2 * len + 8 {
                assert!(
                    (len + len / 4..=2 * len + 8).contains(&capacity),
                    "{capacity} for {len} after shrinking from {}",
                    before.1
                );
            } else {
                assert_eq!(capacity, before.1, "no shrinking at {len}");
            }
        }
        assert!(!seq.is_big());
        assert_eq!(seq.len(&pool)?, SMALL_MAX / 2);
        Ok(())
    }

    /// A full chunk grows by a quarter of its entries (at least 4, at most
    /// up to [`CHUNK`]): few reallocations, little spare room.
    #[test]
    fn a_full_chunk_grows_by_a_quarter() -> Result<(), Error> {
        let mut pool = Pool::default();
        let mut seq = Seq::<Keyed>::default();
        let mut grown = 0;
        for key in 0..2 * CHUNK as u32 {
            let before = seq
                .is_big()
                .then(|| {
                    chunks(&seq, &pool)
                        .chunks
                        .last()
                        .map(|c| (c.len(), c.capacity()))
                })
                .flatten();
            let count = seq.is_big().then(|| chunks(&seq, &pool).chunks.len());
            insert(&mut seq, &mut pool, key)?;
            let big = chunks_or_none(&seq, &pool);
            let (Some((len, capacity)), Some(big)) = (before, big) else {
                continue;
            };
            let last = big.chunks.last().map(Vec::capacity);
            if Some(big.chunks.len()) == count && last != Some(capacity) {
                let quarter = (len / 4).max(4).min(CHUNK - len);
                assert_eq!(last, Some(len + quarter), "a chunk of {len} grew");
                grown += 1;
            }
        }
        assert!(grown >= 8, "{grown} growths");
        Ok(())
    }

    fn last_entries(big: &Chunks<Keyed>) -> Vec<Keyed> {
        big.chunks
            .iter()
            .filter_map(|c| c.last().copied())
            .collect()
    }

    fn chunks_or_none<'a>(seq: &Seq<Keyed>, pool: &'a Pool<Keyed>) -> Option<&'a Chunks<Keyed>> {
        seq.is_big().then(|| chunks(seq, pool))
    }

    /// A length's first page starts at one block and doubles up to a whole
    /// page; later pages are whole from the start; none outgrows a page.
    #[test]
    fn pages_of_blocks_grow_to_one_page_and_no_more() -> Result<(), Error> {
        let mut pool = Pool::<Keyed>::default();
        let len = 5;
        let items: Vec<Keyed> = (0..len as u32).map(Keyed).collect();
        let per_page = Blocks::<Keyed>::new(len).per_page();
        let full = per_page * len;
        assert!(per_page > 1 && full * std::mem::size_of::<Keyed>() <= PAGE_BYTES);
        assert!(2 * full * std::mem::size_of::<Keyed>() > PAGE_BYTES);
        assert_eq!(pool.store(&items)?, 0);
        let blocks = pool
            .by_len
            .get(len - 1)
            .ok_or_else(|| Error::internal("no blocks"))?;
        assert_eq!(blocks.pages.first().map(Vec::capacity), Some(len));
        assert_eq!(pool.by_len.len(), len);
        for n in 1..2 * per_page + 1 {
            assert_eq!(pool.store(&items)?, n as u32);
            let blocks = pool
                .by_len
                .get(len - 1)
                .ok_or_else(|| Error::internal("no blocks"))?;
            assert_eq!(blocks.pages.len(), n / per_page + 1);
            assert!(blocks.pages.iter().all(|p| p.capacity() <= full));
            // The first page doubles: a power of two of blocks.
            let first = blocks.pages.first().map_or(0, Vec::capacity);
            assert!(
                first % len == 0 && (first / len).is_power_of_two(),
                "{first}"
            );
            assert!(blocks.pages.iter().skip(1).all(|p| p.capacity() == full));
        }
        for n in [0, per_page - 1, per_page, 2 * per_page] {
            assert_eq!(pool.block(len as u32, n as u32)?, items.as_slice());
        }
        assert!(pool.block(len as u32, 2 * per_page as u32 + 1).is_err());
        Ok(())
    }

    /// A handle whose block or long list is not in the pool is an error
    /// for every operation, never an empty sequence.
    #[test]
    fn a_handle_outside_its_pool_is_an_error() -> Result<(), Error> {
        let mut pool = Pool::default();
        let mut other = Seq::default();
        insert(&mut other, &mut pool, 1)?;
        let broken_handles = [
            Seq::<Keyed>::small(3, 0),
            Seq::small(1, 5),
            Seq::small(BIG, 0),
        ];
        for mut seq in broken_handles {
            assert!(seq.find(&pool, 1).is_err());
            assert!(seq.after(&pool, |_| Ordering::Greater).is_err());
            assert!(remove(&mut seq, &mut pool, 1).is_err());
            assert!(insert(&mut seq, &mut pool, 2).is_err());
        }
        assert!(pool.release(7, 0).is_err());
        pool.big_free.push(3);
        assert!(pool.store_big(Chunks::default()).is_err());
        // The good sequence is untouched.
        assert_eq!(other.iter(&pool)?.copied().collect::<Vec<_>>(), [Keyed(1)]);
        Ok(())
    }

    /// Entries a type does not index are never found by node, however
    /// long the sequence.
    #[test]
    fn unindexed_entries_are_not_found_by_node() -> Result<(), Error> {
        let mut pool = Pool::<u32>::default();
        let mut seq = Seq::<u32>::default();
        for n in 0..100u32 {
            assert_eq!(seq.find(&pool, n)?, None);
            seq.insert(&mut pool, n, |e| e.cmp(&n))?;
            assert_eq!(seq.find(&pool, n)?, None);
        }
        assert_eq!(seq.iter(&pool)?.count(), 100);
        // An unindexed number still names its node.
        assert_eq!((Entry::node(&7u32), Entry::node(&0u32)), (7, 0));
        Ok(())
    }
}
