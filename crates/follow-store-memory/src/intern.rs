//! A tenant's id strings, interned to dense `u32` numbers.
//!
//! Every edge, index entry and event refers to a node by its number, so an id
//! string is stored once per tenant, in one byte arena. Numbers are never
//! freed or reused: events outlive the nodes they name and are kept forever
//! (see docs/storage-memory.md), so a name stays resolvable as long as the
//! store lives. A removed node keeps its number; registering it again reuses
//! it.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use follow_core::Error;
use hashbrown::HashTable;

/// The table hashes ids with std's SipHash-1-3 under keys drawn from the OS
/// at start-up: ids come from users, and a keyed hash keeps a crafted set of
/// ids from colliding on purpose (hash flooding). Its extra cost over an
/// unkeyed hash is a few nanoseconds per lookup (docs/storage-memory.md).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    /// The ids' bytes, back to back.
    arena: String,
    /// Where each id ends in `arena`; it starts where the previous one ends.
    ends: Vec<u32>,
    /// Numbers, found by the hash of the id they name.
    table: HashTable<u32>,
    hasher: RandomState,
}

fn name_of<'a>(arena: &'a str, ends: &[u32], number: u32) -> &'a str {
    let index = number as usize;
    let start = match index.checked_sub(1) {
        Some(previous) => ends.get(previous).copied().unwrap_or(0),
        None => 0,
    };
    let end = ends.get(index).copied().unwrap_or(start);
    arena.get(start as usize..end as usize).unwrap_or_default()
}

impl Interner {
    /// The id a number names (empty for a number never handed out).
    pub(crate) fn name(&self, number: u32) -> &str {
        name_of(&self.arena, &self.ends, number)
    }

    /// The number of `id`, if it was ever interned.
    pub(crate) fn get(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&number| self.name(number) == id)
            .copied()
    }

    /// The number of `id`, handing out the next one if it is new.
    ///
    /// # Errors
    /// `unavailable` once the tenant's ids fill 4 GiB of arena or 2³² numbers.
    pub(crate) fn intern(&mut self, id: &str) -> Result<u32, Error> {
        if let Some(number) = self.get(id) {
            return Ok(number);
        }
        let full = || Error::unavailable("the memory store's id table for this tenant is full");
        let number = u32::try_from(self.ends.len()).map_err(|_| full())?;
        let end = u32::try_from(self.arena.len() + id.len()).map_err(|_| full())?;
        self.arena.push_str(id);
        self.ends.push(end);
        let Interner {
            arena,
            ends,
            table,
            hasher,
        } = self;
        let hash = hasher.hash_one(id);
        table.insert_unique(hash, number, |&n| hasher.hash_one(name_of(arena, ends, n)));
        Ok(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_stable_and_resolve_back() -> Result<(), Error> {
        let mut names = Interner::default();
        assert_eq!(names.get("alice"), None);
        let alice = names.intern("alice")?;
        let bob = names.intern("bob")?;
        assert_eq!((alice, bob), (0, 1));
        assert_eq!(names.intern("alice")?, alice);
        assert_eq!(names.get("bob"), Some(bob));
        assert_eq!(names.name(alice), "alice");
        assert_eq!(names.name(bob), "bob");
        assert_eq!(names.name(7), "");
        for n in 0..10_000 {
            names.intern(&format!("u{n}"))?;
        }
        assert_eq!(names.get("u9999").map(|n| names.name(n)), Some("u9999"));
        assert_eq!(names.name(bob), "bob");
        Ok(())
    }
}
