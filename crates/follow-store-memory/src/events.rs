//! A tenant's outbox, 24 bytes an event.
//!
//! Events are kept for the life of the store (the trait has no way to trim
//! them; docs/storage-memory.md), so they are stored with interned ids rather
//! than as [`Event`]s (72 bytes and two reference counts each) and rebuilt
//! when read.

use follow_core::{AccountId, Error, Event, EventKind, EventPosition, NodeId, TenantId};

use crate::intern::Interner;
use crate::state::{micros, timestamp};

/// The kind lives in the bits of `at` above any timestamp (2⁵⁸ µs is past
/// the year 9999).
const KIND_SHIFT: u32 = 58;

#[derive(Debug, Clone, Copy)]
struct Stored {
    position: u64,
    at_and_kind: u64,
    follower: u32,
    target: u32,
}

fn kind_code(kind: EventKind) -> u64 {
    match kind {
        EventKind::Followed => 0,
        EventKind::Unfollowed => 1,
        EventKind::Muted => 2,
        EventKind::Unmuted => 3,
        EventKind::FollowerRemoved => 4,
    }
}

fn kind_of(code: u64) -> Result<EventKind, Error> {
    Ok(match code {
        0 => EventKind::Followed,
        1 => EventKind::Unfollowed,
        2 => EventKind::Muted,
        3 => EventKind::Unmuted,
        4 => EventKind::FollowerRemoved,
        _ => return Err(Error::internal("memory store: corrupt event kind")),
    })
}

/// The events of one tenant in increasing position.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    items: Vec<Stored>,
}

impl EventLog {
    /// Appends an event whose ends are the interned `follower` and `target`.
    pub(crate) fn push(&mut self, event: &Event, follower: u32, target: u32) {
        self.items.push(Stored {
            position: event.position.0,
            at_and_kind: micros(event.at) | (kind_code(event.kind) << KIND_SHIFT),
            follower,
            target,
        });
    }

    /// Drops the newest event (a rolled-back batch).
    pub(crate) fn pop(&mut self) {
        self.items.pop();
    }

    /// At most `limit` events strictly after `after`, oldest first.
    pub(crate) fn after(
        &self,
        tenant: &TenantId,
        names: &Interner,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        let start = after.map_or(0, |after| {
            self.items
                .partition_point(|event| event.position <= after.0)
        });
        let corrupt =
            |cause: Error| Error::internal("memory store: bad stored id").with_source(cause);
        self.items
            .iter()
            .skip(start)
            .take(limit)
            .map(|stored| {
                Ok(Event {
                    position: EventPosition(stored.position),
                    tenant: tenant.clone(),
                    kind: kind_of(stored.at_and_kind >> KIND_SHIFT)?,
                    follower: AccountId::new(names.name(stored.follower)).map_err(corrupt)?,
                    target: NodeId::new(names.name(stored.target)).map_err(corrupt)?,
                    at: timestamp(stored.at_and_kind & ((1 << KIND_SHIFT) - 1)),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use follow_core::Timestamp;

    #[test]
    fn every_kind_and_the_latest_time_survive_the_packing() -> Result<(), Error> {
        let mut names = Interner::default();
        let alice = names.intern("alice")?;
        let bob = names.intern("bob")?;
        let tenant = TenantId::new("acme")?;
        let kinds = [
            EventKind::Followed,
            EventKind::Unfollowed,
            EventKind::Muted,
            EventKind::Unmuted,
            EventKind::FollowerRemoved,
        ];
        let mut log = EventLog::default();
        let mut written = Vec::new();
        for (n, kind) in (1..).zip(kinds) {
            let event = Event {
                position: EventPosition(n * 10),
                tenant: tenant.clone(),
                kind,
                follower: AccountId::new("alice")?,
                target: NodeId::new("bob")?,
                at: if n == 1 {
                    Timestamp::MAX
                } else {
                    Timestamp::EPOCH
                },
            };
            log.push(&event, alice, bob);
            written.push(event);
        }
        assert_eq!(log.after(&tenant, &names, None, 10)?, written);
        let tail = log.after(&tenant, &names, Some(EventPosition(25)), 2)?;
        assert_eq!(tail, written[2..4]);
        log.pop();
        assert_eq!(log.after(&tenant, &names, None, 10)?, written[..4]);
        Ok(())
    }
}
