//! Finding a batch's node keys by where their ids live in memory.
//!
//! The ids of a change set are clones of the batch's own ids, and an id's
//! clone shares its bytes (`Arc<str>`). A store that resolves every id of a
//! change set among the keys (the memory store, several times an edge) can
//! then find each by the address and length of its bytes, without reading
//! them: in a large import the bytes are cold, and reading them to compare
//! was a cache miss per lookup. An id with bytes of its own is not found
//! here and is looked up by value.

/// An open-addressing table from (address, length) of each key's bytes to
/// the key's index. The keys hold those bytes alive and unchanged for as
/// long as the table is asked, so an equal address and length is the same
/// id: two live allocations never share an address.
#[derive(Debug, Default)]
pub(super) struct AddressTable {
    /// `(address, length, index + 1)`; index 0 is an empty slot. Sixteen
    /// bytes, so that the table of a large batch stays small in the cache.
    slots: Vec<(usize, u32, u32)>,
    /// Bits of the hash that pick a slot: the table has `1 << bits` slots.
    bits: u32,
}

impl AddressTable {
    /// The table of `ids`, each found at its index.
    pub(super) fn new<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> Self {
        // At most half full, so a probe sequence stays short.
        let bits = (2 * ids.len()).max(8).next_power_of_two().trailing_zeros();
        let mut table = AddressTable {
            slots: vec![(0, 0, 0); 1 << bits],
            bits,
        };
        for (index, id) in ids.enumerate() {
            // A key past what the slots hold is left to the search by value.
            let (Some(key), Ok(number)) = (key(id), u32::try_from(index + 1)) else {
                continue;
            };
            let mut at = table.home(key.0);
            while let Some(slot) = table.slots.get_mut(at) {
                if slot.2 == 0 {
                    *slot = (key.0, key.1, number);
                    break;
                }
                at = (at + 1) & table.mask();
            }
        }
        table
    }

    /// The index of the key whose id is `id`'s very bytes, if any.
    pub(super) fn find(&self, id: &str) -> Option<usize> {
        let key = key(id)?;
        let mut at = self.home(key.0);
        loop {
            let &(address, len, number) = self.slots.get(at)?;
            if number == 0 {
                return None;
            }
            if (address, len) == key {
                return Some(number as usize - 1);
            }
            at = (at + 1) & self.mask();
        }
    }

    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The first slot to probe for `address`: Fibonacci hashing, whose top
    /// bits mix every bit of the address (allocations are aligned, so
    /// their low bits are all alike).
    fn home(&self, address: usize) -> usize {
        let hash = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (hash >> (64 - self.bits)) as usize
    }
}

/// The address and length of `id`'s bytes, if the length fits a slot.
fn key(id: &str) -> Option<(usize, u32)> {
    Some((id.as_ptr() as usize, u32::try_from(id.len()).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A key is found by its own bytes or a clone's, never by equal bytes
    /// elsewhere or by a slice of its bytes.
    #[test]
    fn finds_a_key_by_its_bytes_address_only() {
        let ids: Vec<Arc<str>> = (0..1_000).map(|n| Arc::from(format!("u{n}"))).collect();
        let table = AddressTable::new(ids.iter().map(|id| &**id));
        for (index, id) in ids.iter().enumerate() {
            let clone = Arc::clone(id);
            assert_eq!(table.find(&clone), Some(index));
            let copy = String::from(&**id);
            assert_eq!(table.find(&copy), None, "equal bytes elsewhere");
        }
        let prefix = ids.get(123).and_then(|id| id.get(..2));
        assert_eq!(prefix.and_then(|prefix| table.find(prefix)), None);
        let empty = AddressTable::new(std::iter::empty());
        assert_eq!(empty.find("u1"), None);
    }

    /// Ids allocated one after another start their probes all over the
    /// table, so a lookup reads a slot or two, not a run.
    #[test]
    fn homes_spread_over_the_table() {
        let ids: Vec<Arc<str>> = (0..1_000).map(|n| Arc::from(format!("u{n}"))).collect();
        let table = AddressTable::new(ids.iter().map(|id| &**id));
        assert_eq!(table.slots.len(), 2_048);
        let homes: std::collections::HashSet<usize> = ids
            .iter()
            .map(|id| table.home(id.as_ptr() as usize))
            .collect();
        // Uniform hashing fills about 790 of 2,048 slots with 1,000 keys.
        assert!(homes.len() > 650, "{} distinct homes", homes.len());
    }
}
