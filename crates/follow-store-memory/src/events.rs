//! A tenant's outbox, about 8 bytes an event.
//!
//! Events are kept until retention prunes them, so they are stored compactly and rebuilt
//! as [`Event`]s (72 bytes and three reference counts each) when read. Each
//! event is four varints relative to the one before: the position step
//! (usually 1), the time step with the kind in its low bits (0 within a
//! batch), and the interned follower and target. Every [`BLOCK`] events a
//! mark records where the block starts and the state before it, so a read
//! seeks by binary search and decodes at most one block before its first
//! event.

use follow_core::feed::PrunedRange;
use follow_core::{AccountId, Error, Event, EventKind, EventPosition, NodeId, TenantId};

use crate::time::timestamp;

/// Events a mark.
const BLOCK: usize = 64;
/// The kind lives in the low bits of the time step.
const KIND_BITS: u32 = 4;

fn kind_code(kind: EventKind) -> u64 {
    // The kind's place in `EventKind::ALL`, which only ever grows at its
    // end; the log lives in memory only, so codes never outlive a process.
    EventKind::ALL
        .iter()
        .position(|known| *known == kind)
        .map_or(0, |index| index as u64)
}

fn kind_of(code: u64) -> Result<EventKind, Error> {
    usize::try_from(code)
        .ok()
        .and_then(|index| EventKind::ALL.get(index).copied())
        .ok_or_else(corrupt)
}

const _: () = assert!(EventKind::ALL.len() <= 1 << KIND_BITS);

fn corrupt() -> Error {
    Error::internal("memory store: corrupt event log")
}

/// Appends `value` as a varint: seven bits a byte, low bits first, the top
/// bit set on every byte but the last. At most ten bytes, so the loop is
/// bounded whatever the value.
fn put(bytes: &mut Vec<u8>, value: u64) {
    for shift in (0..64).step_by(7) {
        let rest = value >> shift;
        if rest < 0x80 {
            bytes.push(rest as u8);
            return;
        }
        bytes.push((rest as u8) | 0x80);
    }
}

fn get(bytes: &[u8], at: &mut usize) -> Result<u64, Error> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at).ok_or_else(corrupt)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(corrupt())
}

/// Where decoding stands: the position and time of the previous event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cursor {
    position: u64,
    at: i64,
}

/// A block's start: its byte offset, its first event's position, and the
/// state before it.
#[derive(Debug, Clone, Copy)]
struct Mark {
    offset: usize,
    first_position: u64,
    before: Cursor,
}

/// The log's length, to cut it back to when a batch rolls back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogMark {
    bytes: usize,
    events: usize,
    marks: usize,
    last: Cursor,
}

/// The events of one tenant in increasing position.
///
/// Retention removes a prefix: reads skip everything at or below the
/// pruned range, and the bytes of whole blocks below it are dropped once
/// they are half the log (so a long prune in small steps costs amortised
/// constant time per event).
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    bytes: Vec<u8>,
    marks: Vec<Mark>,
    events: usize,
    last: Cursor,
    pruned: Option<PrunedRange>,
}

/// One decoded event, before its ids are looked up.
struct Raw {
    position: u64,
    at: i64,
    kind: u64,
    follower: u32,
    target: u32,
}

impl EventLog {
    /// The current end, for [`EventLog::truncate`].
    pub(crate) fn mark(&self) -> LogMark {
        LogMark {
            bytes: self.bytes.len(),
            events: self.events,
            marks: self.marks.len(),
            last: self.last,
        }
    }

    /// Cuts the log back to `mark` (a rolled-back batch).
    pub(crate) fn truncate(&mut self, mark: LogMark) {
        self.bytes.truncate(mark.bytes);
        self.marks.truncate(mark.marks);
        self.events = mark.events;
        self.last = mark.last;
    }

    /// Appends an event whose ends are the interned `follower` and `target`.
    /// Positions increase, so the step is at least 1; time may step back.
    pub(crate) fn push(&mut self, event: &Event, follower: u32, target: u32) {
        let position = event.position.0;
        let at = event.at.as_unix_micros();
        if self.events.is_multiple_of(BLOCK) {
            self.marks.push(Mark {
                offset: self.bytes.len(),
                first_position: position,
                before: self.last,
            });
        }
        let step = at.wrapping_sub(self.last.at);
        let zigzag = ((step << 1) ^ (step >> 63)) as u64;
        put(&mut self.bytes, position.wrapping_sub(self.last.position));
        put(&mut self.bytes, zigzag << KIND_BITS | kind_code(event.kind));
        put(&mut self.bytes, u64::from(follower));
        put(&mut self.bytes, u64::from(target));
        self.events += 1;
        self.last = Cursor { position, at };
    }

    /// What retention removed, if anything.
    pub(crate) fn pruned(&self) -> Option<PrunedRange> {
        self.pruned
    }

    /// Removes the oldest retained events, at most `limit`, stopping at the
    /// first above `through` or not before `before`; answers how many.
    pub(crate) fn prune(
        &mut self,
        through: EventPosition,
        before: i64,
        limit: usize,
    ) -> Result<u64, Error> {
        let mut removed = 0u64;
        let mut newest = None;
        self.decode(0, |raw| {
            if removed as usize >= limit || raw.position > through.0 || raw.at >= before {
                return Ok(false);
            }
            removed += 1;
            newest = Some((raw.position, raw.at));
            Ok(true)
        })?;
        if let Some((position, at)) = newest {
            let events = self.pruned.map_or(0, |p| p.events) + removed;
            self.pruned = Some(PrunedRange {
                through: EventPosition(position),
                last_at: timestamp(u64::try_from(at).map_err(|_| corrupt())?),
                events,
            });
            self.compact();
        }
        Ok(removed)
    }

    /// Drops the blocks wholly below the pruned range once they are at
    /// least half the log. A block is wholly pruned when the next one
    /// starts at or below the range's end (what is pruned is a prefix).
    fn compact(&mut self) {
        let Some(pruned) = self.pruned else { return };
        let dead = self
            .marks
            .windows(2)
            .take_while(|pair| pair[1].first_position <= pruned.through.0)
            .count();
        let Some(first_live) = self.marks.get(dead).copied() else {
            return;
        };
        if dead == 0 || first_live.offset * 2 < self.bytes.len() {
            return;
        }
        self.bytes.drain(..first_live.offset);
        self.marks.drain(..dead);
        for mark in &mut self.marks {
            mark.offset -= first_live.offset;
        }
    }

    /// Decodes the retained events strictly after `after` in order, handing
    /// each to `visit` until it answers `false`.
    fn decode(
        &self,
        after: u64,
        mut visit: impl FnMut(Raw) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        let after = after.max(self.pruned.map_or(0, |p| p.through.0));
        // The last block starting at or before `after`: the first event
        // past it is in that block or the next.
        let block = self
            .marks
            .partition_point(|mark| mark.first_position <= after)
            .saturating_sub(1);
        let Some(mark) = self.marks.get(block) else {
            return Ok(());
        };
        let (mut offset, mut state) = (mark.offset, mark.before);
        // One event a pass, so at most every event of the log: a decoding
        // slip that stops the offset moving cannot loop forever.
        for _ in 0..self.events {
            if offset >= self.bytes.len() {
                break;
            }
            let position = state.position.wrapping_add(get(&self.bytes, &mut offset)?);
            let step_kind = get(&self.bytes, &mut offset)?;
            let zigzag = step_kind >> KIND_BITS;
            let step = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
            let at = state.at.wrapping_add(step);
            let follower = u32::try_from(get(&self.bytes, &mut offset)?).map_err(|_| corrupt())?;
            let target = u32::try_from(get(&self.bytes, &mut offset)?).map_err(|_| corrupt())?;
            state = Cursor { position, at };
            if position <= after {
                continue;
            }
            let raw = Raw {
                position,
                at,
                kind: step_kind & ((1 << KIND_BITS) - 1),
                follower,
                target,
            };
            if !visit(raw)? {
                break;
            }
        }
        Ok(())
    }

    /// At most `limit` events strictly after `after`, oldest first.
    /// `name` gives the id of an interned number.
    pub(crate) fn after<'n>(
        &self,
        tenant_id: &TenantId,
        name: impl Fn(u32) -> Result<&'n str, Error>,
        after: Option<EventPosition>,
        limit: usize,
    ) -> Result<Vec<Event>, Error> {
        let mut events = Vec::new();
        if limit == 0 {
            return Ok(events);
        }
        let ids = |cause: Error| Error::internal("memory store: bad stored id").with_source(cause);
        self.decode(after.map_or(0, |p| p.0), |raw| {
            events.push(Event {
                position: EventPosition(raw.position),
                tenant: tenant_id.clone(),
                kind: kind_of(raw.kind)?,
                follower: AccountId::new(name(raw.follower)?).map_err(ids)?,
                target: NodeId::new(name(raw.target)?).map_err(ids)?,
                at: timestamp(u64::try_from(raw.at).map_err(|_| corrupt())?),
            });
            Ok(events.len() < limit)
        })?;
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use follow_core::Timestamp;

    #[test]
    fn events_survive_the_encoding_across_blocks_gaps_and_clock_steps() -> Result<(), Error> {
        let ids = ["alice", "bob"];
        let numbers = [0, 1];
        let name = |node: u32| {
            ids.get(node as usize)
                .copied()
                .ok_or_else(|| Error::internal("no such number"))
        };
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
        let mut marks = Vec::new();
        let mut position = 0u64;
        for n in 0..1_000u64 {
            // Gaps (other tenants' events), a clock that jumps both ways,
            // the extremes of time.
            position += 1 + (n % 7) * (n % 100 / 99) * (1 << 40);
            let at = match n % 5 {
                0 => Timestamp::MAX,
                1 => Timestamp::EPOCH,
                _ => Timestamp::from_unix_micros(1_700_000_000_000_000 + (n as i64) * 37)?,
            };
            let (follower, target) = if n % 2 == 0 {
                ("alice", "bob")
            } else {
                ("bob", "alice")
            };
            let event = Event {
                position: EventPosition(position),
                tenant: tenant_id.clone(),
                kind: kinds[(n % 5) as usize],
                follower: AccountId::new(follower)?,
                target: NodeId::new(target)?,
                at,
            };
            marks.push(log.mark());
            let ends = (numbers[(n % 2) as usize], numbers[1 - (n % 2) as usize]);
            log.push(&event, ends.0, ends.1);
            written.push(event);
        }
        assert_eq!(log.after(&tenant_id, name, None, usize::MAX)?, written);
        // A mark every BLOCK events, from the first.
        assert_eq!(log.marks.len(), written.len().div_ceil(BLOCK));
        for cut in [0, 1, 62, 63, 64, 65, 500, 998, 999] {
            let after = Some(written[cut].position);
            let tail = log.after(&tenant_id, name, after, 3)?;
            let end = (cut + 4).min(written.len());
            assert_eq!(tail, written[cut + 1..end], "after event {cut}");
        }
        // A position that names no event: inside the gap before event 99.
        let between = Some(EventPosition(written[98].position.0 + 1));
        assert_eq!(log.after(&tenant_id, name, between, 1)?, written[99..100]);
        log.truncate(marks[700]);
        assert_eq!(
            log.after(&tenant_id, name, None, usize::MAX)?,
            written[..700]
        );
        let again = written[700].clone();
        log.push(&again, numbers[0], numbers[1]);
        assert_eq!(
            log.after(&tenant_id, name, Some(written[699].position), 5)?,
            [again]
        );
        Ok(())
    }

    #[test]
    fn pruning_in_small_steps_drops_a_prefix_and_compacts() -> Result<(), Error> {
        let (alice, bob) = (0, 1);
        let name = |node: u32| match node {
            0 => Ok("alice"),
            1 => Ok("bob"),
            _ => Err(Error::internal(format!("number {node}"))),
        };
        let tenant_id = TenantId::new("acme")?;
        let mut log = EventLog::default();
        let mut written = Vec::new();
        for n in 1..=1_000u64 {
            let event = Event {
                position: EventPosition(n * 2),
                tenant: tenant_id.clone(),
                kind: EventKind::Followed,
                follower: AccountId::new("alice")?,
                target: NodeId::new("bob")?,
                at: Timestamp::from_unix_micros(n as i64)?,
            };
            log.push(&event, alice, bob);
            written.push(event);
        }
        let full = log.bytes.len();
        let mut removed = 0;
        while removed < 900 {
            removed += log.prune(written[899].position, i64::MAX, 7)?;
        }
        assert_eq!(removed, 900);
        assert_eq!(log.prune(written[899].position, i64::MAX, 7)?, 0);
        assert!(log.bytes.len() < full / 2, "whole dead blocks were dropped");
        assert_eq!(
            log.after(&tenant_id, name, None, usize::MAX)?,
            written[900..]
        );
        assert_eq!(
            log.after(&tenant_id, name, Some(written[949].position), 2)?,
            written[950..952]
        );
        let pruned = log.pruned().ok_or_else(corrupt)?;
        assert_eq!(
            (pruned.through, pruned.events),
            (written[899].position, 900)
        );
        // Time bounds the prune too: events at 951 µs and later stay.
        assert_eq!(log.prune(EventPosition(u64::MAX), 951, 100)?, 50);
        assert_eq!(log.after(&tenant_id, name, None, 1)?, written[950..951]);
        Ok(())
    }

    /// Varints take seven bits a byte and read back whole, at every length.
    #[test]
    fn varints_take_seven_bits_a_byte() -> Result<(), Error> {
        let cases = [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (1 << 56, 9),
            ((1 << 63) - 1, 9),
            (1 << 63, 10),
            (u64::MAX, 10),
        ];
        let mut bytes = Vec::new();
        for (value, len) in cases {
            let start = bytes.len();
            put(&mut bytes, value);
            assert_eq!(bytes.len() - start, len, "{value}");
        }
        let mut at = 0;
        for (value, _) in cases {
            assert_eq!(get(&bytes, &mut at)?, value);
        }
        assert_eq!(at, bytes.len());
        // Eleven continuation bytes are no varint; a cut one is corrupt.
        assert!(get(&[0xff; 11], &mut 0).is_err());
        assert!(get(&[0x80], &mut 0).is_err());
        Ok(())
    }

    /// A number the names cannot resolve fails the read, naming what broke.
    #[test]
    fn an_unresolvable_number_is_an_error() -> Result<(), Error> {
        let tenant_id = TenantId::new("acme")?;
        let event = Event {
            position: EventPosition(1),
            tenant: tenant_id.clone(),
            kind: EventKind::Followed,
            follower: AccountId::new("alice")?,
            target: NodeId::new("bob")?,
            at: Timestamp::EPOCH,
        };
        let mut log = EventLog::default();
        log.push(&event, 0, 7);
        let name = |node: u32| match node {
            0 => Ok("alice"),
            _ => Err(Error::internal(format!("number {node}"))),
        };
        let read = log.after(&tenant_id, name, None, 10);
        assert_eq!(
            read.map_err(|e| e.to_string()),
            Err("internal: number 7".to_owned())
        );
        Ok(())
    }
}
