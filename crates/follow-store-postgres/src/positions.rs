//! Event positions in commit order, without a row every writer locks.
//!
//! An event's position is `base + xid · 2^20 + ordinal`: the 64-bit id of
//! the transaction that writes it (`pg_current_xact_id()`, which never
//! wraps) and the event's place among that transaction's events. A reader
//! sees only positions below its horizon, `base + xmin · 2^20`, where `xmin`
//! is the oldest transaction still running when its statement's snapshot
//! was taken: every transaction below `xmin` has ended, and one that ends
//! later has an id of at least `xmin`, so its events land above every
//! position the reader could have seen. Writers share no row, so their
//! commits overlap and PostgreSQL flushes them together.
//!
//! The cost is on the reader: the horizon waits for the oldest transaction
//! of the whole cluster that has written anything, so a long transaction
//! (of this store or not) holds back every tenant's feed until it ends.
//!
//! The products are multiplications, not shifts, so that a transaction id
//! beyond 2^43 (8.8 trillion transactions) fails the statement as out of
//! range instead of wrapping.

/// Every writing transaction holds, until it ends, the advisory lock keyed
/// by its id with these bits flipped; a write that finds older ones still
/// running waits on their keys instead of asking again and again. The
/// flipped bits keep the keys out of the small numbers applications pick.
pub(crate) const WRITER_LOCK_BITS: i64 = 0x464F_4C57 << 32;

/// How many events one transaction may write: the ordinals' share of a
/// position.
pub(crate) const MAX_EVENTS_PER_TRANSACTION: usize = 1 << 20;

/// The position the first event written after the version-4 clock takes,
/// less the transaction's share: one above the clock's last position, so
/// positions continue above those handed out before (1 on a new store).
/// Read when the store opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventBase(pub(crate) i64);

/// SQL for the position of the event at 1-based `ordinal` of the current
/// transaction, the base bound at `base`.
pub(crate) fn position_sql(base: &str, ordinal: &str) -> String {
    format!(
        "({base}::bigint + pg_current_xact_id()::text::bigint * {MAX_EVENTS_PER_TRANSACTION} \
         + {ordinal} - 1)"
    )
}

/// SQL for the reader's horizon: every event below it has committed or
/// never will, and every event still to commit lands at or above it.
pub(crate) fn horizon_sql(base: &str) -> String {
    format!(
        "({base}::bigint + pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
         * {MAX_EVENTS_PER_TRANSACTION})"
    )
}
