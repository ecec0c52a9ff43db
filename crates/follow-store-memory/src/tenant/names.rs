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

#[derive(Debug, Default)]
pub(crate) struct Names {
    arena: String,
    table: IdTable,
    hasher: RandomState,
}

impl Names {
    /// The id stored at arena offset `at` (empty for a bad offset).
    pub(crate) fn at(&self, at: u32) -> &str {
        name_in(&self.arena, at)
    }

    /// The number of `id`, if it was ever interned.
    pub(crate) fn find(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |at| bytes_in(&self.arena, at) == id.as_bytes())
    }

    /// The numbers of two ids: both hashed first, so that the two lookups'
    /// memory reads overlap instead of running one after the other.
    pub(crate) fn find_two(&self, a: &str, b: &str) -> (Option<u32>, Option<u32>) {
        let (hash_a, hash_b) = (self.hasher.hash_one(a), self.hasher.hash_one(b));
        let arena = &self.arena;
        (
            self.table
                .find(hash_a, |at| bytes_in(arena, at) == a.as_bytes()),
            self.table
                .find(hash_b, |at| bytes_in(arena, at) == b.as_bytes()),
        )
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
fn name_in(arena: &str, at: u32) -> &str {
    let start = at as usize + 1;
    let len = arena.as_bytes().get(start - 1).copied().unwrap_or(0);
    arena
        .get(start..start + usize::from(len))
        .unwrap_or_default()
}

/// The bytes of the id at offset `at` of `arena` (no UTF-8 boundary
/// checks: a lookup only compares them).
fn bytes_in(arena: &str, at: u32) -> &[u8] {
    let bytes = arena.as_bytes();
    let start = at as usize + 1;
    let len = bytes.get(start - 1).copied().map_or(0, usize::from);
    bytes.get(start..start + len).unwrap_or_default()
}

/// The error for a tenant whose ids or numbers are exhausted.
pub(crate) fn full() -> Error {
    Error::unavailable("the memory store's id table for this tenant is full")
}
