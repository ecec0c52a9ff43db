//! A tenant's outbox, 16 bytes an event.
//!
//! Events are kept for the life of the store (the trait has no way to trim
//! them; docs/storage-memory.md), so they are stored with interned ids rather
//! than as [`Event`]s (72 bytes and three reference counts each) and rebuilt
//! when read. Events sit in chunks of at most [`CHUNK`]; each chunk holds its
//! first event's position and time, and every event stores only its offsets
//! from them, so an event is four `u32`s. A chunk is closed early when an
//! offset would not fit (a clock step of more than 35 minutes, or 2²⁹
//! positions taken by other tenants in between).

use follow_core::{AccountId, Error, Event, EventKind, EventPosition, NodeId, TenantId};

use crate::state::{Tenant, timestamp};

const CHUNK: usize = 4096;
/// The kind lives in the bits of the position offset above [`OFFSET_BITS`].
const OFFSET_BITS: u32 = 29;

#[derive(Debug, Clone, Copy)]
struct Stored {
    offset_and_kind: u32,
    /// µs from the chunk's first event.
    at: i32,
    follower: u32,
    target: u32,
}

#[derive(Debug)]
struct Chunk {
    first_position: u64,
    first_at: i64,
    events: Vec<Stored>,
}

impl Chunk {
    fn position(&self, stored: &Stored) -> u64 {
        self.first_position + u64::from(stored.offset_and_kind & ((1 << OFFSET_BITS) - 1))
    }

    /// The event's place in this chunk, if it fits.
    fn encode(
        &self,
        position: u64,
        at: i64,
        kind: u32,
        follower: u32,
        target: u32,
    ) -> Option<Stored> {
        if self.events.len() >= CHUNK {
            return None;
        }
        let offset = u32::try_from(position.checked_sub(self.first_position)?)
            .ok()
            .filter(|offset| *offset < 1 << OFFSET_BITS)?;
        Some(Stored {
            offset_and_kind: offset | kind << OFFSET_BITS,
            at: i32::try_from(at.checked_sub(self.first_at)?).ok()?,
            follower,
            target,
        })
    }
}

fn kind_code(kind: EventKind) -> u32 {
    match kind {
        EventKind::Followed => 0,
        EventKind::Unfollowed => 1,
        EventKind::Muted => 2,
        EventKind::Unmuted => 3,
        EventKind::FollowerRemoved => 4,
    }
}

fn kind_of(code: u32) -> Result<EventKind, Error> {
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
    chunks: Vec<Chunk>,
}

impl EventLog {
    /// Appends an event whose ends are the interned `follower` and `target`.
    pub(crate) fn push(&mut self, event: &Event, follower: u32, target: u32) {
        let position = event.position.0;
        let at = event.at.as_unix_micros();
        let kind = kind_code(event.kind);
        let fits = self
            .chunks
            .last()
            .and_then(|chunk| chunk.encode(position, at, kind, follower, target));
        match (fits, self.chunks.last_mut()) {
            (Some(stored), Some(chunk)) => chunk.events.push(stored),
            _ => {
                // Grown by doubling, not reserved: a clock that keeps
                // stepping closes chunks after one event each.
                let events = vec![Stored {
                    offset_and_kind: kind << OFFSET_BITS,
                    at: 0,
                    follower,
                    target,
                }];
                self.chunks.push(Chunk {
                    first_position: position,
                    first_at: at,
                    events,
                });
            }
        }
    }

    /// Drops the newest event (a rolled-back batch).
    pub(crate) fn pop(&mut self) {
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.events.pop();
            if chunk.events.is_empty() {
                self.chunks.pop();
            }
        }
    }

    /// At most `limit` events strictly after `after`, oldest first.
    pub(crate) fn after(
        &self,
        tenant_id: &TenantId,
        tenant: &Tenant,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        let after = after.map_or(0, |p| p.0.saturating_add(1));
        // The first chunk holding a position at or past `after`, and where in it.
        let first = self.chunks.partition_point(|chunk| {
            chunk
                .events
                .last()
                .is_some_and(|last| chunk.position(last) < after)
        });
        let start = self.chunks.get(first).map_or(0, |chunk| {
            chunk
                .events
                .partition_point(|stored| chunk.position(stored) < after)
        });
        let corrupt =
            |cause: Error| Error::internal("memory store: bad stored id").with_source(cause);
        self.chunks
            .iter()
            .skip(first)
            .enumerate()
            .flat_map(|(n, chunk)| {
                let skip = if n == 0 { start } else { 0 };
                chunk
                    .events
                    .iter()
                    .skip(skip)
                    .map(move |stored| (chunk, stored))
            })
            .take(limit)
            .map(|(chunk, stored)| {
                Ok(Event {
                    position: EventPosition(chunk.position(stored)),
                    tenant: tenant_id.clone(),
                    kind: kind_of(stored.offset_and_kind >> OFFSET_BITS)?,
                    follower: AccountId::new(tenant.name(stored.follower)).map_err(corrupt)?,
                    target: NodeId::new(tenant.name(stored.target)).map_err(corrupt)?,
                    at: timestamp(
                        u64::try_from(chunk.first_at.saturating_add(i64::from(stored.at)))
                            .unwrap_or_default(),
                    ),
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
    fn events_survive_the_packing_across_chunks_and_clock_steps() -> Result<(), Error> {
        let mut tenant = Tenant::default();
        let alice = tenant.intern("alice")?;
        let bob = tenant.intern("bob")?;
        let tenant_id = TenantId::new("acme")?;
        let kinds = [
            EventKind::Followed,
            EventKind::Unfollowed,
            EventKind::Muted,
            EventKind::Unmuted,
            EventKind::FollowerRemoved,
        ];
        let mut log = EventLog::default();
        let mut written = Vec::new();
        let mut position = 0u64;
        for n in 0..10_000u64 {
            // Gaps (other tenants), a clock that jumps both ways, the extremes.
            position += 1 + (n % 7) * (n % 1_000 / 999) * (1 << 30);
            let at = match n % 5 {
                0 => Timestamp::MAX,
                1 => Timestamp::EPOCH,
                _ => Timestamp::from_unix_micros(1_700_000_000_000_000 + (n as i64) * 37)?,
            };
            let event = Event {
                position: EventPosition(position),
                tenant: tenant_id.clone(),
                kind: kinds[(n % 5) as usize],
                follower: AccountId::new("alice")?,
                target: NodeId::new("bob")?,
                at,
            };
            log.push(&event, alice, bob);
            written.push(event);
        }
        assert_eq!(log.after(&tenant_id, &tenant, None, usize::MAX)?, written);
        for cut in [0, 1, 4095, 4096, 4097, 9_000, 9_999] {
            let after = Some(written[cut].position);
            let tail = log.after(&tenant_id, &tenant, after, 3)?;
            let end = (cut + 4).min(written.len());
            assert_eq!(tail, written[cut + 1..end]);
        }
        // A position that names no event: inside the gap before event 999.
        let between = Some(EventPosition(written[998].position.0 + 1));
        assert_eq!(
            log.after(&tenant_id, &tenant, between, 1)?,
            written[999..1_000]
        );
        for _ in 0..5_000 {
            log.pop();
        }
        assert_eq!(
            log.after(&tenant_id, &tenant, None, usize::MAX)?,
            written[..5_000]
        );
        Ok(())
    }
}
