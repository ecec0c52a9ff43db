//! Times as the store keeps them: microseconds since the epoch in a `u64`.

use std::time::Duration;

use follow_core::Timestamp;

/// A timestamp as microseconds; timestamps are never negative.
pub(crate) fn micros(at: Timestamp) -> u64 {
    at.as_unix_micros().max(0).unsigned_abs()
}

/// The timestamp of stored microseconds (stored values come from
/// [`micros`], so the saturation never bites).
pub(crate) fn timestamp(micros: u64) -> Timestamp {
    Timestamp::EPOCH.saturating_add(Duration::from_micros(micros))
}
