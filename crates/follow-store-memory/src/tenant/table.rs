//! The id table: node numbers by the hash of their ids, in open addressing
//! with linear probing.
//!
//! A bucket is 12 bytes: the high 32 bits of the id's hash (the tag), the
//! number plus one (0 marks an empty bucket) and where the id sits in the
//! arena. A lookup reads one bucket run (usually within one cache line);
//! from a matching tag it compares the id in the arena while the caller
//! reads the number's slot: two independent memory reads after the bucket,
//! not two in a row. With 32-bit tags a tag match is almost always the id.
//! A general-purpose table (hashbrown's) reads a control byte group first
//! and the buckets after: one dependent memory read more per lookup.
//!
//! The home bucket is the tag's low bits, so growing the table moves
//! buckets by their tags without hashing any id again. The table grows
//! (doubles) past 3/4 full; nothing is ever removed (numbers are never
//! freed).

/// Buckets of a table that holds nothing yet.
const FIRST: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct IdTable {
    /// [tag, number + 1, arena offset]; all 0 when empty.
    buckets: Vec<[u32; 3]>,
    len: usize,
}

/// The tag of a hash.
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

impl IdTable {
    /// The number whose tag matches `hash` and for whose arena offset
    /// `eq` holds; `eq`'s error (an offset that holds no id) ends the search.
    pub(crate) fn find<E>(
        &self,
        hash: u64,
        eq: impl Fn(u32) -> Result<bool, E>,
    ) -> Result<Option<u32>, E> {
        let Some(mask) = self.buckets.len().checked_sub(1) else {
            return Ok(None);
        };
        let tag = tag(hash);
        let mut at = tag as usize & mask;
        for _ in 0..self.buckets.len() {
            let Some(&[bucket_tag, number, name_at]) = self.buckets.get(at) else {
                return Ok(None);
            };
            if number == 0 {
                return Ok(None);
            }
            if bucket_tag == tag && eq(name_at)? {
                return Ok(Some(number - 1));
            }
            at = (at + 1) & mask;
        }
        Ok(None)
    }

    /// Adds `node` (below `u32::MAX`, not present) whose id is at arena
    /// offset `name_at`, under `hash`.
    pub(crate) fn insert(&mut self, hash: u64, node: u32, name_at: u32) {
        if (self.len + 1) * 4 > self.buckets.len() * 3 {
            self.grow();
        }
        if place(
            &mut self.buckets,
            [tag(hash), node.wrapping_add(1), name_at],
        ) {
            self.len += 1;
        }
    }

    fn grow(&mut self) {
        let size = (self.buckets.len() * 2).max(FIRST);
        let old = std::mem::replace(&mut self.buckets, vec![[0; 3]; size]);
        for bucket in old.into_iter().filter(|b| b[1] != 0) {
            place(&mut self.buckets, bucket);
        }
    }

    /// Bytes the buckets take.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.buckets.len() * 12
    }
}

/// Puts `bucket` in the first empty bucket from its home; false if none
/// (never, below 3/4 full).
fn place(buckets: &mut [[u32; 3]], bucket: [u32; 3]) -> bool {
    let Some(mask) = buckets.len().checked_sub(1) else {
        return false;
    };
    let mut at = bucket[0] as usize & mask;
    for _ in 0..buckets.len() {
        match buckets.get_mut(at) {
            Some(slot) if slot[1] == 0 => {
                *slot = bucket;
                return true;
            }
            Some(_) => at = (at + 1) & mask,
            None => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags that collide (the same tag for many numbers, and home buckets
    /// that wrap around the end) are told apart by `eq`.
    #[test]
    fn finds_every_number_through_growth_and_collisions() {
        // Enough to grow the table nine times, few enough that a table
        // whose tags all collide fails in moments instead of hanging.
        const COUNT: u32 = 8_000;
        let mut table = IdTable::default();
        let find = |table: &IdTable, hash: u64, eq: &dyn Fn(u32) -> bool| {
            table.find(hash, |at| Ok::<_, ()>(eq(at)))
        };
        assert_eq!(find(&table, 7, &|_| true), Ok(None));
        let hash = |n: u32| -> u64 {
            let tag = if n.is_multiple_of(80) {
                0xFFFF_FFFF
            } else {
                n.wrapping_mul(0x9E37_79B9)
            };
            u64::from(tag) << 32 | u64::from(n)
        };
        // The arena offset stands in for the id: n * 2.
        for n in 0..COUNT {
            table.insert(hash(n), n, n * 2);
        }
        for n in 0..COUNT {
            assert_eq!(find(&table, hash(n), &|at| at == n * 2), Ok(Some(n)));
        }
        assert_eq!(
            find(&table, hash(COUNT + 1), &|at| at == 2 * COUNT + 2),
            Ok(None)
        );
        assert_eq!(find(&table, hash(3), &|_| false), Ok(None));
        assert_eq!(
            table.find(hash(3), |_| Err("bad offset")),
            Err("bad offset")
        );
        assert!(table.bytes() <= COUNT as usize * 12 * 8 / 3);
    }

    /// Numbers whose hashes differ are found reading one id each: the
    /// tags tell them apart, so `eq` (an id comparison) runs once a lookup.
    #[test]
    fn a_lookup_compares_one_id_when_tags_differ() {
        let mut table = IdTable::default();
        let hash = |n: u32| u64::from(n.wrapping_mul(0x9E37_79B9) | 1) << 32;
        for n in 0..5_000u32 {
            table.insert(hash(n), n, n);
        }
        for n in 0..5_000u32 {
            let compared = std::cell::Cell::new(0);
            let found = table.find(hash(n), |at| {
                compared.set(compared.get() + 1);
                Ok::<_, ()>(at == n)
            });
            assert_eq!((found, compared.get()), (Ok(Some(n)), 1), "number {n}");
        }
    }

    /// The table doubles when an insert would take it past 3/4 full, and
    /// not before.
    #[test]
    fn the_table_doubles_past_three_quarters() {
        let mut table = IdTable::default();
        let mut buckets = Vec::new();
        for n in 0..49u32 {
            table.insert(u64::from(n) << 32, n, n);
            buckets.push(table.bytes() / 12);
        }
        // 12 of 16, 24 of 32 and 48 of 64 fit; the 13th and 25th double.
        assert_eq!(buckets.get(11..13), Some(&[16, 32][..]));
        assert_eq!(buckets.get(23..25), Some(&[32, 64][..]));
        assert_eq!(buckets.get(47..49), Some(&[64, 128][..]));
    }
}
