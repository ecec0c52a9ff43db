//! The entries of the per-node lists, packed at 4-byte alignment.
//!
//! An edge follower → target is stored once in full, in the follower's
//! following list (an [`Out`], 12 bytes), and once as a back reference in the
//! target's back list (a follower [`Back`], 12 bytes); a mutual edge also has
//! a mutual [`Back`] in the follower's back list, keyed by when it became
//! mutual.

use follow_core::{Edge, Timestamp};

use crate::seq::Entry;
use crate::time::{micros, timestamp};

/// A `u64` as two halves, so that entries pack at 4-byte alignment (an
/// entry is 12 bytes instead of 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Split64([u32; 2]);

impl Split64 {
    fn new(value: u64) -> Self {
        Split64([(value >> 32) as u32, value as u32])
    }

    fn get(self) -> u64 {
        (u64::from(self.0[0]) << 32) | u64::from(self.0[1])
    }
}

const MUTED: u64 = 1 << 63;
const MUTUAL: u64 = 1 << 62;
const FLAGS: u64 = MUTED | MUTUAL;

/// An entry of a list ordered by (`since` descending, the node's id).
pub(crate) trait Ordered: Entry {
    fn since(&self) -> u64;
}

/// An edge as its follower's following list holds it. A mutual edge's
/// `mutual_since` is in the follower's mutuals list, which holds it anyway:
/// the flag says to look there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    /// `since` in µs (below 2⁵⁸), with [`MUTED`] and [`MUTUAL`] above it.
    since_flags: Split64,
    pub(crate) target: u32,
}

impl Out {
    pub(crate) fn new(target: u32, edge: &Edge) -> Self {
        let muted = if edge.muted { MUTED } else { 0 };
        let mutual = if edge.mutual_since.is_some() {
            MUTUAL
        } else {
            0
        };
        Out {
            since_flags: Split64::new(micros(edge.since) | muted | mutual),
            target,
        }
    }

    pub(crate) fn muted(&self) -> bool {
        self.since_flags.get() & MUTED != 0
    }

    pub(crate) fn mutual(&self) -> bool {
        self.since_flags.get() & MUTUAL != 0
    }
}

impl Entry for Out {
    const INDEXED: bool = true;
    fn node(&self) -> u32 {
        self.target
    }
}

impl Ordered for Out {
    fn since(&self) -> u64 {
        self.since_flags.get() & !FLAGS
    }
}

/// Marks a [`Back`] entry as a follower (else it is a mutual target); it
/// is the top bit of the order key, so a node's followers sort before its
/// mutuals and each list is one run of the sequence.
pub(crate) const FOLLOWER: u64 = 1 << 63;

/// An entry of a node's back list, which holds two lists in one sequence
/// (one header a node, not two): its followers (the follower and the
/// edge's `since`) and its mutuals (the target and when the edge became
/// mutual). Only mutual entries are found by node, for every mutual edge
/// read; followers are only ever sought by their order key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Back {
    /// The time in µs, with [`FOLLOWER`] above it for a follower.
    key: Split64,
    pub(crate) node: u32,
}

/// The order key of a follower entry for an edge of `since` (µs).
pub(crate) fn follower_key(since: u64) -> u64 {
    since | FOLLOWER
}

impl Back {
    pub(crate) fn follower(since: u64, node: u32) -> Self {
        Back {
            key: Split64::new(follower_key(since)),
            node,
        }
    }

    pub(crate) fn mutual(since: u64, node: u32) -> Self {
        Back {
            key: Split64::new(since),
            node,
        }
    }

    pub(crate) fn is_follower(&self) -> bool {
        self.key.get() & FOLLOWER != 0
    }

    pub(crate) fn time(&self) -> Timestamp {
        timestamp(self.key.get() & !FOLLOWER)
    }
}

impl Entry for Back {
    const INDEXED: bool = true;
    fn node(&self) -> u32 {
        self.node
    }
    fn indexed(&self) -> bool {
        !self.is_follower()
    }
}

impl Ordered for Back {
    fn since(&self) -> u64 {
        self.key.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_pack_as_documented() {
        assert_eq!(std::mem::size_of::<Out>(), 12);
        assert_eq!(std::mem::size_of::<Back>(), 12);
    }
}
