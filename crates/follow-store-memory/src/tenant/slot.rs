//! A node number's slot: its record (registration, last activity, counts),
//! where its id sits in the arena, and the headers of its two lists.

use follow_core::{Counts, Error, Timestamp};

use crate::seq::Seq;
use crate::tenant::entries::{Back, Out};
use crate::time::{micros, timestamp};

/// Marks a time that is not set (a number whose node is not registered, a
/// node never active).
const NONE: u64 = u64::MAX;

/// A node's own record, as the undo log keeps it. `registered_at == NONE`
/// marks a number whose node is not registered (never was, or was removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeInfo {
    registered_at: u64,
    last_active: u64,
    /// following, followers, mutual. 32 bits each: a count past 2³² would
    /// need more edges than memory holds; it is refused, not wrapped.
    counts: [u32; 3],
}

impl NodeInfo {
    pub(crate) const ABSENT: NodeInfo = NodeInfo {
        registered_at: NONE,
        last_active: NONE,
        counts: [0; 3],
    };

    pub(crate) fn new(registered_at: Timestamp) -> Self {
        NodeInfo {
            registered_at: micros(registered_at),
            ..NodeInfo::ABSENT
        }
    }

    pub(crate) fn is_registered(&self) -> bool {
        self.registered_at != NONE
    }

    pub(crate) fn registered_at(&self) -> Timestamp {
        timestamp(self.registered_at)
    }

    pub(crate) fn counts(&self) -> Counts {
        let [following, followers, mutual] = self.counts.map(u64::from);
        Counts {
            following,
            followers,
            mutual,
        }
    }

    pub(crate) fn set_counts(&mut self, counts: Counts) -> Result<(), Error> {
        let narrow = |count: u64| {
            u32::try_from(count)
                .map_err(|_| Error::unavailable("the memory store counts at most 2³² edges a node"))
        };
        self.counts = [
            narrow(counts.following)?,
            narrow(counts.followers)?,
            narrow(counts.mutual)?,
        ];
        Ok(())
    }

    pub(crate) fn last_active(&self) -> Option<Timestamp> {
        (self.last_active != NONE).then(|| timestamp(self.last_active))
    }

    pub(crate) fn set_last_active(&mut self, at: Timestamp) {
        self.last_active = micros(at);
    }

    /// Since when the node counts as inactive.
    pub(crate) fn active_at(&self) -> Timestamp {
        timestamp(if self.last_active == NONE {
            self.registered_at
        } else {
            self.last_active
        })
    }
}

/// Everything of one node number, 48 bytes. The record's fields are laid out flat
/// (not as a [`NodeInfo`]) so that `name_at` fills what would be padding.
#[derive(Debug)]
pub(crate) struct Slot {
    registered_at: u64,
    last_active: u64,
    counts: [u32; 3],
    /// Where the node's id sits in the arena: a length byte, then the id
    /// (number → id; the id table keeps its own copy for id → number).
    pub(crate) name_at: u32,
    pub(crate) following: Seq<Out>,
    pub(crate) back: Seq<Back>,
}

impl Slot {
    pub(crate) fn new(name_at: u32) -> Self {
        let NodeInfo {
            registered_at,
            last_active,
            counts,
        } = NodeInfo::ABSENT;
        Slot {
            registered_at,
            last_active,
            counts,
            name_at,
            following: Seq::default(),
            back: Seq::default(),
        }
    }

    pub(crate) fn is_registered(&self) -> bool {
        self.registered_at != NONE
    }

    pub(crate) fn info(&self) -> NodeInfo {
        NodeInfo {
            registered_at: self.registered_at,
            last_active: self.last_active,
            counts: self.counts,
        }
    }

    pub(crate) fn set_info(&mut self, info: NodeInfo) {
        self.registered_at = info.registered_at;
        self.last_active = info.last_active;
        self.counts = info.counts;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_48_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 48);
    }
}
