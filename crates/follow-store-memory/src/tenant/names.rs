//! Interning: a tenant's ids, each after a length byte in one arena, and a
//! hash table of node numbers that finds an id's number by the id's hash.
//!
//! The table ([`super::table`]) holds each number with where its id sits in
//! the arena; the slot keeps the offset too, for number → id.
//!
//! The table hashes ids with std's SipHash-1-3 under keys drawn from the OS
//! at start-up: ids come from users, and a keyed hash keeps a crafted set of
//! ids from colliding on purpose (hash flooding).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use follow_core::{Error, MAX_ID_BYTES};

use super::table::IdTable;
use crate::broken::broken;

#[derive(Debug, Default)]
pub(crate) struct Names {
    arena: String,
    table: IdTable,
    hasher: RandomState,
}

impl Names {
    /// The id stored at arena offset `at`, if one is.
    pub(crate) fn at(&self, at: u32) -> Option<&str> {
        name_in(&self.arena, at)
    }

    /// The number of `id`, if it was ever interned.
    ///
    /// # Errors
    /// `internal` if the table points outside the arena.
    pub(crate) fn find(&self, id: &str) -> Result<Option<u32>, Error> {
        let hash = self.hasher.hash_one(id);
        self.table.find(hash, |at| is_at(&self.arena, at, id))
    }

    /// The numbers of two ids: both hashed first, so that the two lookups'
    /// memory reads overlap instead of running one after the other.
    ///
    /// # Errors
    /// `internal` if the table points outside the arena.
    pub(crate) fn find_two(&self, a: &str, b: &str) -> Result<(Option<u32>, Option<u32>), Error> {
        let (hash_a, hash_b) = (self.hasher.hash_one(a), self.hasher.hash_one(b));
        let arena = &self.arena;
        Ok((
            self.table.find(hash_a, |at| is_at(arena, at, a))?,
            self.table.find(hash_b, |at| is_at(arena, at, b))?,
        ))
    }

    /// Stores `id` (not interned yet) as number `node`; answers its arena
    /// offset.
    ///
    /// # Errors
    /// `unavailable` once the tenant's ids fill 4 GiB; `invalid_argument`
    /// for an id longer than ids may be.
    pub(crate) fn add(&mut self, id: &str, node: u32) -> Result<u32, Error> {
        let at = u32::try_from(self.arena.len())
            .ok()
            .filter(|at| at.checked_add(1 + MAX_ID_BYTES as u32).is_some())
            .ok_or_else(full)?;
        // Ids are at most 64 bytes, so the length is one ASCII byte and the
        // arena stays UTF-8.
        let len = u8::try_from(id.len())
            .ok()
            .filter(|len| usize::from(*len) <= MAX_ID_BYTES)
            .ok_or_else(|| Error::invalid_argument("id", "id too long"))?;
        self.arena.push(char::from(len));
        self.arena.push_str(id);
        let hash = self.hasher.hash_one(id);
        self.table.insert(hash, node, at);
        Ok(at)
    }
}

/// The id at offset `at` of `arena`: a length byte, then the id.
fn name_in(arena: &str, at: u32) -> Option<&str> {
    let start = at as usize + 1;
    let len = arena.as_bytes().get(start - 1)?;
    arena.get(start..start + usize::from(*len))
}

/// Whether the id at offset `at` of `arena` is `id` (comparing bytes: no
/// UTF-8 boundary checks).
///
/// # Errors
/// `internal` if `at` holds no id.
fn is_at(arena: &str, at: u32, id: &str) -> Result<bool, Error> {
    let bytes = arena.as_bytes();
    let start = at as usize + 1;
    bytes
        .get(start - 1)
        .and_then(|len| bytes.get(start..start + usize::from(*len)))
        .map(|stored| stored == id.as_bytes())
        .ok_or_else(|| broken(format_args!("the id table points past the ids, at {at}")))
}

/// The error for a tenant whose ids or numbers are exhausted.
pub(crate) fn full() -> Error {
    Error::unavailable("the memory store's id table for this tenant is full")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets resolve to the id stored there and nothing else; an offset
    /// past the arena is absent for names and an error for lookups.
    #[test]
    fn offsets_resolve_to_their_own_id_only() -> Result<(), Error> {
        let mut names = Names::default();
        let alice = names.add("alice", 0)?;
        let bob = names.add("bob", 1)?;
        assert_eq!((alice, bob), (0, 6));
        assert_eq!(
            (names.at(alice), names.at(bob)),
            (Some("alice"), Some("bob"))
        );
        assert_eq!(names.find_two("bob", "alice")?, (Some(1), Some(0)));
        assert_eq!(names.find_two("carol", "bob")?, (None, Some(1)));
        assert!(is_at(&names.arena, bob, "bob")?);
        assert!(!is_at(&names.arena, alice, "bob")?);
        assert!(!is_at(&names.arena, alice, "alic")?);
        let past = names.arena.len() as u32;
        assert_eq!(names.at(past), None);
        assert!(is_at(&names.arena, past, "bob").is_err());
        // A length byte whose id runs past the end.
        names.arena.push(char::from(9));
        names.arena.push_str("dan");
        assert_eq!(names.at(past), None);
        assert!(is_at(&names.arena, past, "dan").is_err());
        Ok(())
    }

    #[test]
    fn ids_longer_than_ids_may_be_are_refused() {
        let mut names = Names::default();
        let longest = "x".repeat(MAX_ID_BYTES);
        assert!(names.add(&longest, 0).is_ok());
        let longer = "x".repeat(MAX_ID_BYTES + 1);
        assert!(names.add(&longer, 1).is_err());
    }
}
